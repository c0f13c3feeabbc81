// unbound 1.17 as the validating resolver of interop tests: trust anchors given as DS RRs, stub zones pointing at
// loopback authoritatives, a root stub to a dead port (nothing leaves the machine), remote control on loopback.
// Each setting below answers a failure recorded in the shared lab notes.
import { createSocket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig, type DigResult } from './dig.js';
import { freePort, orRemove, runChecked, runCommand, spawnDaemon, startDaemonWithRetry, waitFor } from './procs.js';
import { addrString, dsToText, parseDs, type ServerAddr } from './validate.js';

export interface StubZone {
  zone: string;
  /** `"127.0.0.1@PORT"` each. */
  addrs: string[];
}

export interface UnboundOptions {
  /** DS RRs in presentation form (`zone. [ttl] [IN] DS tag alg digesttype hex`). */
  trustAnchors: string[];
  stubs: StubZone[];
  /** Extra `server:` lines, e.g. `aggressive-nsec: no`. */
  serverOptions?: string[];
  startTimeoutMs?: number;
}

export interface UnboundInstance {
  host: string;
  port: number;
  dir: string;
  conf: string;
  pid: number;
  /** `unbound-control -c CONF <cmd...>`; rejects on a non-zero exit or an "error" reply. */
  control(cmd: string[]): Promise<string>;
  /** `dig @unbound +dnssec NAME TYPE` (recursion desired), parsed. */
  query(name: string, type: string): Promise<DigResult>;
  /**
   * Makes the resolver validate answers from `dataFrom` with the DNSKEY RRset it fetched from `dnskeyFrom`
   * (lab notes: random mixing hides broken set-ups). Flushes everything it knows about the zone, points the
   * stub at dnskeyFrom only, asks DNSKEY (returned, so the caller can check AD), then points the stub at
   * dataFrom only. Queries asked afterwards get their data from dataFrom alone.
   */
  pinProviders(zone: string, dnskeyFrom: ServerAddr, dataFrom: ServerAddr): Promise<DigResult>;
  logs(): string;
  stop(): Promise<void>;
}

const withDot = (z: string): string => (z.endsWith('.') ? z : `${z}.`);

/** The top-level label of a zone ("test." for "example.test."). */
function tld(zone: string): string {
  const labels = withDot(zone).split('.').filter(Boolean);
  return labels.length ? `${labels[labels.length - 1]}.` : '.';
}

function unboundConf(p: { dir: string; port: number; cport: string; deadPort: number; opts: UnboundOptions }): string {
  const anchors = p.opts.trustAnchors.map((a) => `  trust-anchor: "${dsToText(parseDs(a))}"`);
  // Names like .test are default local zones (RFC 6761): unbound would answer NXDOMAIN itself.
  const nodefault = [...new Set(p.opts.stubs.flatMap((s) => [withDot(s.zone), tld(s.zone)]))].map((z) => `  local-zone: "${z}" nodefault`);
  const stubs = p.opts.stubs.map((s) => `stub-zone:\n  name: "${withDot(s.zone)}"\n${s.addrs.map((a) => `  stub-addr: ${a}`).join('\n')}\n`);
  return `server:
  interface: 127.0.0.1@${p.port}
  port: ${p.port}
  outgoing-interface: 127.0.0.1
  do-ip4: yes
  do-ip6: no
  do-udp: yes
  do-tcp: yes
  do-daemonize: no
  do-not-query-localhost: no
  use-syslog: no
  logfile: ""
  log-servfail: yes
  verbosity: 1
  val-log-level: 2
  username: ""
  chroot: ""
  directory: "${p.dir}"
  pidfile: "${p.dir}/unbound.pid"
  trust-anchor-signaling: no
  root-key-sentinel: no
  qname-minimisation: no
  access-control: 127.0.0.0/8 allow
  num-threads: 1
  ede: yes
${nodefault.join('\n')}
${anchors.join('\n')}
${(p.opts.serverOptions ?? []).map((l) => `  ${l}`).join('\n')}

remote-control:
  control-enable: yes
  control-interface: 127.0.0.1
  control-port: ${p.cport}
  control-use-cert: no

stub-zone:
  name: "."
  stub-addr: 127.0.0.1@${p.deadPort}

${stubs.join('\n')}`;
}

export async function startUnbound(opts: UnboundOptions): Promise<UnboundInstance> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-unbound-'));
  const conf = join(dir, 'unbound.conf');
  let port = 0;
  const control = async (cmd: string[]): Promise<string> => {
    const out = await runChecked('unbound-control', ['-c', conf, ...cmd], { timeoutMs: 10_000 });
    if (/^error/m.test(out)) throw new Error(`unbound-control ${cmd.join(' ')}: ${out.trim()}`);
    return out;
  };
  const d = await orRemove(dir, async () => {
    return startDaemonWithRetry({
      name: 'unbound',
      busy: /address already in use|could not open ports|can't bind/i,
      start: async (attempt) => {
        port = await freePort();
        const cport = String(await freePort());
        // Nothing listens here (we bound and closed it): the root stub never leaves the machine.
        const deadPort = await freePort();
        await writeFile(conf, unboundConf({ dir, port, cport, deadPort, opts }));
        if (attempt === 0) await runChecked('unbound-checkconf', [conf], { timeoutMs: 10_000 });
        return spawnDaemon('unbound', ['-d', '-c', conf], { name: 'unbound' });
      },
      ready: (d) => waitFor(async () => (await runCommand('unbound-control', ['-c', conf, 'status'], { timeoutMs: 5000 })).code === 0 || undefined,
        opts.startTimeoutMs ?? 10_000,
        { what: 'unbound control', intervalMs: 100, abort: () => (d.exited() ? `unbound exited:\n${d.logs()}` : undefined) }),
    });
  });
  const target = { host: '127.0.0.1', port };
  const query = (name: string, type: string) => dig(target, ['+dnssec', name, type]);
  return {
    host: '127.0.0.1',
    port,
    dir,
    conf,
    pid: d.pid,
    control,
    query,
    logs: () => d.logs(),
    async pinProviders(zone, dnskeyFrom, dataFrom) {
      const z = withDot(zone);
      await control(['flush_zone', z]);
      await control(['flush_bogus']);
      await control(['flush_negative']);
      await control(['flush_infra', 'all']);
      await control(['stub_remove', z]);
      await control(['stub_add', z, addrString(dnskeyFrom)]);
      const keys = await query(z, 'DNSKEY');
      await control(['stub_add', z, addrString(dataFrom)]);
      return keys;
    },
    async stop() {
      await d.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A loopback address with port 53 free, for a child zone's nameserver that unbound follows a referral to (it asks
 * the glue address on port 53); undefined when port 53 cannot be bound (not root).
 */
export async function port53Address(): Promise<string | undefined> {
  for (let i = 0; i < 10; i++) {
    const host = `127.${10 + Math.floor(Math.random() * 200)}.${Math.floor(Math.random() * 250)}.53`;
    const code = await new Promise<string | undefined>((resolve) => {
      const sock = createSocket('udp4');
      sock.once('error', (e: NodeJS.ErrnoException) => { sock.close(); resolve(e.code ?? 'error'); });
      sock.bind(53, host, () => sock.close(() => resolve(undefined)));
    });
    if (code === undefined) return host;
    if (code === 'EACCES') return undefined;
  }
  return undefined;
}
