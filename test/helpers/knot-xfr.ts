// Knot DNS as a plain zone-transfer peer (no signing of its own): a secondary that takes a zone from
// tandem, or a primary that tandem takes a zone from, with TSIG keys. Runs on a free loopback port from a
// temp dir and is stopped by PID (procs.ts). Knot facts (NOTIFY over TCP only, knotc zone-begin/commit) are
// in the shared transfer notes.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, orRemove, runChecked, spawnDaemon, startDaemonWithRetry, waitFor, type Daemon } from './procs.js';
import { dig } from './dig.js';
import { knotBaseConf } from './knot.js';

export interface XfrKey {
  name: string;
  algorithm: string;
  secret: string;
}

export interface Remote {
  host: string;
  port: number;
  key?: string;
}

export type KnotZone =
  | { domain: string; role: 'secondary'; primary: Remote }
  /** `allow.key`: transfers need that key (default: any 127/8 address); `allow.update`: UPDATE signed with that key is applied. */
  | { domain: string; role: 'primary'; zoneText: string; notify?: Remote[]; allow?: { key?: string; update?: string } };

export interface KnotXfr {
  host: string;
  port: number;
  dir: string;
  knotc(args: string[]): Promise<string>;
  /** The SOA serial Knot serves for `zone`, or undefined when it serves none. */
  serial(zone: string): Promise<number | undefined>;
  /** Waits until Knot serves `zone` with a serial of at least `serial` (RFC 1982 is not needed in tests). */
  waitSerial(zone: string, serial: number, timeoutMs?: number): Promise<void>;
  /** One change on a primary zone: knotc zone-begin, the set/unset lines, zone-commit (serial + 1, NOTIFY). */
  edit(zone: string, lines: { set?: string[]; unset?: string[] }): Promise<void>;
  logs(): string;
  daemon: Daemon;
  stop(): Promise<void>;
}

const dot = (z: string) => (z.endsWith('.') ? z : `${z}.`);

function conf(dir: string, port: number, keys: XfrKey[], keySections: string[], zones: KnotZone[]): string {
  const remotes: string[] = [];
  const acls: string[] = [];
  const zoneLines: string[] = [];
  zones.forEach((z, i) => {
    if (z.role === 'secondary') {
      remotes.push(`  - id: primary${i}\n    address: ${z.primary.host}@${z.primary.port}\n${z.primary.key ? `    key: ${z.primary.key}\n` : ''}`);
      acls.push(`  - id: notify${i}\n    address: [ ${z.primary.host} ]\n${z.primary.key ? `    key: ${z.primary.key}\n` : ''}    action: notify\n`);
      zoneLines.push(`  - domain: ${dot(z.domain)}\n    master: primary${i}\n    acl: [ notify${i} ]\n    file: "${dir}/zones/${dot(z.domain)}zone"\n`);
    } else {
      const notify = (z.notify ?? []).map((n, j) => {
        remotes.push(`  - id: sec${i}_${j}\n    address: ${n.host}@${n.port}\n${n.key ? `    key: ${n.key}\n` : ''}`);
        return `sec${i}_${j}`;
      });
      acls.push(`  - id: xfr${i}\n${z.allow?.key ? `    key: ${z.allow.key}\n` : '    address: [ 127.0.0.0/8 ]\n'}    action: transfer\n`);
      if (z.allow?.update) acls.push(`  - id: upd${i}\n    key: ${z.allow.update}\n    action: update\n`);
      zoneLines.push(`  - domain: ${dot(z.domain)}\n    file: "${dir}/zones/${dot(z.domain)}zone"\n    acl: [ xfr${i}${z.allow?.update ? `, upd${i}` : ''} ]\n${notify.length ? `    notify: [ ${notify.join(', ')} ]\n` : ''}`);
    }
  });
  return `${knotBaseConf(dir, port)}
${keys.length ? `\nkey:\n${keys.map((k) => `  - id: ${k.name}\n    algorithm: ${k.algorithm}\n    secret: ${k.secret}\n`).join('')}` : ''}
${keySections.join('\n')}
${remotes.length ? `remote:\n${remotes.join('')}` : ''}
${acls.length ? `acl:\n${acls.join('')}` : ''}
template:
  - id: default
    zonefile-sync: 0
    journal-content: changes
    semantic-checks: off

zone:
${zoneLines.join('')}`;
}

/**
 * `port`: listen there (e.g. a port tandem already sends NOTIFY to); default a free one. `keySections`: Knot
 * `key:` sections as text (what `tandem tsig-keygen` prints), beside `keys`.
 */
export async function startKnotXfr(opts: { keys?: XfrKey[]; keySections?: string[]; zones: KnotZone[]; port?: number; startTimeoutMs?: number }): Promise<KnotXfr> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-knotxfr-'));
  const confFile = join(dir, 'knot.conf');
  let port = 0;
  const daemon = await orRemove(dir, async () => {
    for (const sub of ['run', 'db', 'zones']) await mkdir(join(dir, sub), { recursive: true });
    for (const z of opts.zones) if (z.role === 'primary') await writeFile(join(dir, 'zones', `${dot(z.domain)}zone`), z.zoneText);
    return startDaemonWithRetry({
      name: 'knotd',
      busy: /address already in use|failed to bind/i,
      start: async (attempt) => {
        port = attempt === 0 && opts.port ? opts.port : await freePort();
        await writeFile(confFile, conf(dir, port, opts.keys ?? [], opts.keySections ?? [], opts.zones));
        if (attempt === 0) await runChecked('knotc', ['-c', confFile, 'conf-check'], { timeoutMs: 10_000 });
        return spawnDaemon('knotd', ['-c', confFile], { name: 'knotd' });
      },
      // Up, and serving every zone it is the primary of (a secondary zone comes later, by transfer).
      ready: (d) => waitFor(async () => {
        await runChecked('knotc', ['-c', confFile, '-t', '5', 'status'], { timeoutMs: 6000 });
        for (const z of opts.zones) {
          if (z.role !== 'primary') continue;
          const r = await dig({ host: '127.0.0.1', port }, ['+norec', dot(z.domain), 'SOA']);
          if (!r.answer.some((rr) => rr.type === 'SOA')) return false;
        }
        return true;
      }, opts.startTimeoutMs ?? 15_000, { what: 'knotd up', intervalMs: 150, abort: () => (d.exited() ? 'knotd exited' : undefined) }),
    });
  });
  const knotc = (args: string[]) => runChecked('knotc', ['-c', confFile, '-t', '10', ...args], { timeoutMs: 15_000 });
  const target = { host: '127.0.0.1', port };
  const serial = async (zone: string): Promise<number | undefined> => {
    const r = await dig(target, ['+norec', dot(zone), 'SOA']);
    const soa = r.answer.find((rr) => rr.type === 'SOA');
    return soa ? Number(soa.data.split(/\s+/)[2]) : undefined;
  };
  return {
    host: '127.0.0.1', port, dir, knotc, serial, daemon,
    async waitSerial(zone, want, timeoutMs = 15_000) {
      await waitFor(async () => { const s = await serial(zone); return s !== undefined && s >= want; }, timeoutMs, {
        what: `knot serving ${zone} serial >= ${want}`, intervalMs: 150, abort: () => (daemon.exited() ? 'knotd exited' : undefined),
      });
    },
    async edit(zone, lines) {
      await knotc(['zone-begin', dot(zone)]);
      for (const l of lines.unset ?? []) await knotc(['zone-unset', dot(zone), ...l.split(/\s+/)]);
      for (const l of lines.set ?? []) await knotc(['zone-set', dot(zone), ...l.split(/\s+/)]);
      await knotc(['zone-commit', dot(zone)]);
    },
    logs: () => daemon.logs(),
    async stop() {
      await daemon.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
