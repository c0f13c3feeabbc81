// The lab's validating resolver: unbound 1.17 trusting the lab's parent zone (its DS as the trust anchor), with
// stub zones pointing at the parent and at every provider, so a validated answer proves the whole chain: the DS
// set the parent serves, each provider's DNSKEY RRset and signatures. The settings are the lab notes' (each one
// answers a failure seen there); nothing leaves the machine (the root stub points at a port where nothing listens).
import { writeFileAtomic } from '../state/atomic.js';
import { join } from 'node:path';
import { Name } from '../dns/name.js';
import { RRType } from '../dns/types.js';
import { ask } from './ask.js';
import { freePort, runTool, spawnDetached, startDaemon } from './lab-procs.js';
import { dsRdataText, type LabState } from './lab-state.js';

export function unboundConf(s: LabState, dir: string, port: number, controlPort: number, deadPort: number, parentDs: readonly string[]): string {
  const tld = `${s.parentZone.split('.').filter(Boolean).pop()}.`;
  const nodefault = [...new Set([s.zone, s.parentZone, tld])].map((z) => `  local-zone: "${z}" nodefault`);
  const stub = (name: string, addrs: string[]) => `stub-zone:\n  name: "${name}"\n${addrs.map((a) => `  stub-addr: ${a}`).join('\n')}\n`;
  return `# written by tandem lab: a validating resolver for ${s.zone} (trust anchor: the lab's parent ${s.parentZone})
server:
  interface: 127.0.0.1@${port}
  port: ${port}
  outgoing-interface: 127.0.0.1
  do-ip6: no
  do-daemonize: no
  do-not-query-localhost: no
  use-syslog: no
  logfile: ""
  verbosity: 1
  val-log-level: 2
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: "${join(dir, 'unbound.pid')}"
  trust-anchor-signaling: no
  root-key-sentinel: no
  qname-minimisation: no
  access-control: 127.0.0.0/8 allow
  num-threads: 1
  cache-max-ttl: ${s.ttl}
  cache-max-negative-ttl: ${s.ttl}
${nodefault.join('\n')}
${parentDs.map((d) => `  trust-anchor: "${s.parentZone} ${s.ttl} IN DS ${dsRdataText(d)}"`).join('\n')}

remote-control:
  control-enable: yes
  control-interface: 127.0.0.1
  control-port: ${controlPort}
  control-use-cert: no

${stub('.', [`127.0.0.1@${deadPort}`])}
${stub(s.parentZone, [`127.0.0.1@${s.parent.port}`])}
${stub(s.zone, s.providers.map((p) => `${p.address}@${p.port}`))}`;
}

/** Starts unbound for the lab (detached); resolves once it answers the zone's SOA with AD. */
export async function startUnbound(s: LabState, dir: string, mark: string, parentDs: readonly string[], timeoutMs: number, port?: number, onSpawn?: (pid: number) => Promise<void>): Promise<{ pid: number; port: number; controlPort: number; conf: string }> {
  const conf = join(dir, 'unbound.conf');
  const log = join(dir, 'unbound.log');
  return startDaemon({
    what: `unbound validating ${s.zone}`, log, mark, timeoutMs, busy: /address already in use|could not open ports|can't bind/i, onSpawn,
    async spawn(attempt) {
      const p = port !== undefined && attempt === 0 ? port : await freePort();
      const controlPort = await freePort();
      // Nothing listens there (bound and closed): the root stub never leaves the machine.
      const deadPort = await freePort();
      await writeFileAtomic(conf, unboundConf(s, dir, p, controlPort, deadPort, parentDs));
      await runTool('unbound-checkconf', [conf]);
      return { pid: await spawnDetached('unbound', ['-d', '-c', conf], log), port: p, controlPort, conf };
    },
    async ready(u) {
      const r = await ask({ host: '127.0.0.1', port: u.port }, Name.fromText(s.zone), RRType.SOA, { rd: true, timeoutMs: 2000, tries: 1 });
      return r.ok && r.message.rcode === 0 && r.message.ad;
    },
  });
}
