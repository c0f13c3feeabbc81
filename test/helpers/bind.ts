// BIND 9.18 named as a signing provider in tests: a dynamic zone under a `dnssec-policy` (ECDSA P-256 KSK + ZSK,
// NSEC or NSEC3), signed in place, whose DNSKEY, CDS and CDNSKEY RRsets take other providers' records by
// dynamic update (RFC 2136; named keeps them and signs each RRset with its own KSK: RFC 8901 model 2). TTLs and
// policy timings are seconds, so the KSK reaches "omnipresent" and named publishes its CDS/CDNSKEY within
// seconds of the start. Runs on a free loopback port from a temp dir, stopped by PID (procs.ts).
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig } from './dig.js';
import { freePort, orRemove, runChecked, spawnDaemon, startDaemonWithRetry, waitFor } from './procs.js';
import { bindConf } from '../../src/lab/lab-bind.js';

export interface BindOptions {
  /** Zone name with the final dot. */
  zone: string;
  /** RFC 1035 zone text (unsigned); every TTL at most `ttl`. */
  zoneText: string;
  denial?: 'nsec' | 'nsec3';
  /** The policy's dnskey-ttl and max-zone-ttl (default 2 s: the key states advance at once). */
  ttl?: number;
  /** A TSIG key that may also UPDATE the zone (besides unsigned updates from 127.0.0.1); named answers questions signed with it. */
  updateKey?: { name: string; algorithm: string; secret: string };
}

export interface BindInstance {
  host: string;
  port: number;
  dir: string;
  pid: number;
  /** named's own keys as DNSKEY RRs (`zone. TTL IN DNSKEY ...`), from its key files. */
  keys(): Promise<string[]>;
  /** DS RRs (SHA-256) of named's KSK(s). */
  ds(): Promise<string[]>;
  /** Sends `update add`/`update delete` lines (nsupdate syntax) as one UPDATE; resolves once named served it. */
  update(lines: string[]): Promise<void>;
  logs(): string;
  stop(): Promise<void>;
}

export async function startBind(opts: BindOptions): Promise<BindInstance> {
  const zone = opts.zone;
  const dir = await mkdtemp(join(tmpdir(), 'tandem-bind-'));
  let port = 0;
  const target = () => ({ host: '127.0.0.1', port });
  const d = await orRemove(dir, async () => {
    await mkdir(join(dir, 'keys'));
    return startDaemonWithRetry({
      name: 'named',
      busy: /address in use|could not listen/i,
      start: async () => {
        port = await freePort();
        await rm(join(dir, 'keys'), { recursive: true, force: true });
        await mkdir(join(dir, 'keys'));
        await writeFile(join(dir, 'zone.db'), opts.zoneText);
        await writeFile(join(dir, 'named.conf'), bindConf(dir, port, zone, opts.denial === 'nsec3', opts.ttl ?? 2, opts.updateKey));
        await runChecked('named-checkconf', [join(dir, 'named.conf')], { timeoutMs: 10_000 });
        return spawnDaemon('named', ['-g', '-c', join(dir, 'named.conf')], { name: 'named' });
      },
      // Ready: signed, the NSEC/NSEC3 chain complete (every TYPE65534 signing record ends in 01, lab notes), and
      // the KSK's CDS published (its DNSKEY is omnipresent).
      ready: (daemon) => waitFor(async () => {
        const soa = await dig(target(), ['+dnssec', '+norec', zone, 'SOA']);
        if (!soa.answer.some((r) => r.type === 'RRSIG')) return undefined;
        const signing = await dig(target(), ['+norec', zone, 'TYPE65534']);
        if (signing.answer.some((r) => !/01$/.test(r.data.replace(/\s+/g, '')))) return undefined;
        const cds = await dig(target(), ['+norec', zone, 'CDS']);
        return cds.answer.some((r) => r.type === 'CDS') || undefined;
      }, 30_000, { what: `named signing ${zone}`, intervalMs: 200, abort: () => (daemon.exited() ? 'named exited' : undefined) }),
    });
  });

  async function keyFiles(): Promise<string[]> {
    const files = (await readdir(join(dir, 'keys'))).filter((f) => f.endsWith('.key'));
    return Promise.all(files.map((f) => readFile(join(dir, 'keys', f), 'utf8')));
  }

  return {
    host: '127.0.0.1', port, dir, pid: d.pid, logs: () => d.logs(),
    async keys() {
      return (await keyFiles()).map((t) => t.split('\n').find((l) => /\sDNSKEY\s/.test(l) && !l.startsWith(';'))!.trim());
    },
    async ds() {
      const ksk = (await readdir(join(dir, 'keys'))).filter((f) => f.endsWith('.key'));
      const out: string[] = [];
      for (const f of ksk) {
        const text = await readFile(join(dir, 'keys', f), 'utf8');
        if (!/\sDNSKEY\s+257\s/.test(text)) continue;
        out.push(...(await runChecked('dnssec-dsfromkey', ['-2', join(dir, 'keys', f)])).split('\n').filter((l) => /\sDS\s/.test(l)));
      }
      return out;
    },
    async update(lines) {
      await runChecked('nsupdate', [], { input: `server 127.0.0.1 ${port}\nzone ${zone}\n${lines.join('\n')}\nsend\n`, timeoutMs: 15_000 });
      // The update is answered once applied; wait until the signed RRsets show it.
      const adds = lines.filter((l) => /^update add /.test(l)).map((l) => l.replace(/^update add\s+\S+\s+\d+\s+(IN\s+)?/, '').split(/\s+/));
      await waitFor(async () => {
        for (const [type, ...rd] of adds) {
          const r = await dig(target(), ['+norec', '+dnssec', zone, type]);
          const want = rd.join('').toLowerCase();
          if (!r.answer.some((x) => x.type === type && x.data.replace(/\s+/g, '').toLowerCase() === want)) return undefined;
          if (!r.answer.some((x) => x.type === 'RRSIG')) return undefined;
        }
        return true;
      }, 10_000, { what: 'named serving the update', intervalMs: 100 });
    },
    async stop() {
      await d.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
