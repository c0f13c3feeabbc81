// Zone transfer plumbing for tests: a TCP exchange that reads a multi-message answer (RFC 5936 §2.2, RFC 7766
// framing) until the caller says it is complete, and Knot as a TSIG-protected AXFR primary (the recipe of the
// shared transfer notes, part 2a).
import net from 'node:net';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig } from './dig.js';
import { knotBaseConf } from './knot.js';
import { freePort, orRemove, runChecked, spawnDaemon, startDaemonWithRetry, waitFor, type Daemon } from './procs.js';

/**
 * Sends `query` over TCP and collects answer messages until `done(msg, all)` is true, the server closes, or
 * `timeoutMs` passes (then it rejects, quoting how many messages came).
 */
export function tcpStream(host: string, port: number, query: Uint8Array, done: (msg: Uint8Array, all: Uint8Array[]) => boolean, timeoutMs = 20_000): Promise<Uint8Array[]> {
  return new Promise((resolve, reject) => {
    const out: Uint8Array[] = [];
    const sock = net.connect(port, host);
    let buf = Buffer.alloc(0);
    let finished = false;
    const finish = (err?: Error) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err); else resolve(out);
    };
    const timer = setTimeout(() => finish(new Error(`tcpStream: no end after ${timeoutMs} ms (${out.length} messages)`)), timeoutMs);
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      sock.write(Buffer.concat([len, query]));
    });
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = new Uint8Array(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + msg.length);
        out.push(msg);
        if (done(msg, out)) return finish();
      }
    });
    sock.on('close', () => finish());
    sock.on('error', (e) => finish(e));
  });
}

export interface KnotPrimary {
  host: string;
  port: number;
  dir: string;
  conf: string;
  logs(): string;
  /** Stops knotd by its PID and removes its folder. */
  stop(): Promise<void>;
}

/**
 * knotd serving `zone` from `zoneText` (RFC 1035, unsigned), allowing AXFR/IXFR to anyone holding the key in
 * `keySection` (Knot's `key:` section, e.g. from `tandem tsig-keygen`) whose id is `keyId`.
 */
export async function startKnotPrimary(opts: { zone: string; zoneText: string; keySection: string; keyId: string; startTimeoutMs?: number }): Promise<KnotPrimary> {
  const zone = opts.zone.endsWith('.') ? opts.zone : `${opts.zone}.`;
  const dir = await mkdtemp(join(tmpdir(), 'tandem-knot-xfr-'));
  const conf = join(dir, 'knot.conf');
  const zoneFile = join(dir, 'zone.db');
  let port = 0;
  const d: Daemon = await orRemove(dir, async () => {
    for (const sub of ['run', 'db']) await mkdir(join(dir, sub), { recursive: true });
    await writeFile(zoneFile, `$ORIGIN ${zone}\n${opts.zoneText}\n`);
    return startDaemonWithRetry({
      name: 'knotd',
      busy: /address already in use|failed to bind/i,
      start: async (attempt) => {
        port = await freePort();
        await writeFile(conf, `${knotBaseConf(dir, port)}
${opts.keySection}

acl:
  - id: xfr
    key: ${opts.keyId}
    action: transfer

template:
  - id: default
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none

zone:
  - domain: ${zone}
    file: "${zoneFile}"
    acl: [ xfr ]
`);
        if (attempt === 0) await runChecked('knotc', ['-c', conf, 'conf-check'], { timeoutMs: 10_000 });
        return spawnDaemon('knotd', ['-c', conf], { name: 'knotd' });
      },
      ready: (daemon) => waitFor(
        async () => (await dig({ host: '127.0.0.1', port }, ['+norec', zone, 'SOA'])).answer.some((rr) => rr.type === 'SOA') || undefined,
        opts.startTimeoutMs ?? 15_000,
        { what: `knotd serving ${zone}`, intervalMs: 150, abort: () => (daemon.exited() ? 'knotd exited' : undefined) },
      ),
    });
  });
  return {
    host: '127.0.0.1', port, dir, conf, logs: () => d.logs(),
    async stop() {
      await d.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
