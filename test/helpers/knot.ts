// Knot DNS 3.2 as "provider B" in multi-signer interop tests (RFC 8901 model 2): its own ECDSA P-256 KSK + ZSK,
// automatic signing, CDS/CDNSKEY always published. Runs on a free loopback port from a temp dir, stopped by PID.
// Knot facts used here (keymgr import-pub, incremental DNSKEY management, ...) are in the shared lab notes.
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig } from './dig.js';
import { freePort, orRemove, runChecked, spawnDaemon, startDaemonWithRetry, waitFor } from './procs.js';
import { parseRrText, rdataKey } from './validate.js';
import { knotBaseConf, knotConf } from '../../src/lab/knot-conf.js';

export { knotBaseConf };

export interface KnotOptions {
  /** Zone name, with or without the final dot. */
  zone: string;
  /** RFC 1035 zone file content, unsigned; $ORIGIN defaults to the zone. */
  zoneText: string;
  /** Authenticated denial (default nsec). NSEC3 uses 0 iterations and no salt (RFC 9276 §3.1). */
  denial?: 'nsec' | 'nsec3';
  /**
   * Foreign apex DNSKEY/CDS/CDNSKEY RRs (presentation form) kept next to Knot's own, each type one RRset signed
   * by Knot's KSK. Setting this (even to []) selects `dnskey-management: incremental` ("way 2" in the lab notes),
   * which also makes `setForeignApexRecords` usable.
   */
  foreignApexRecords?: string[];
  /** Bound on start-up, ms (default 15 s). */
  startTimeoutMs?: number;
  /**
   * A TSIG key that may UPDATE the zone (RFC 2136; an acl with `action: update`); Knot also answers questions
   * signed with it. With `foreignApexRecords` (incremental DNSKEY management) the DNSKEY/CDS/CDNSKEY it takes
   * by UPDATE are kept beside its own.
   */
  updateKey?: { name: string; algorithm: string; secret: string };
}

export interface KnotKey {
  /** keymgr's key id (hex). */
  id: string;
  tag: number;
  algorithm: number;
  ksk: boolean;
  zsk: boolean;
  publicOnly: boolean;
  /** `ZONE. DNSKEY flags 3 alg base64` from `keymgr ZONE dnskey ID`. */
  dnskey: string;
  /** The DNSKEY's public key field (base64, no spaces). */
  publicKey: string;
}

export interface KnotInstance {
  host: string;
  port: number;
  zone: string;
  dir: string;
  conf: string;
  zoneFile: string;
  /** Knot's keys and the public-only keys imported into it. */
  keys(): Promise<KnotKey[]>;
  /** DS RRs for Knot's KSK(s) from `keymgr ZONE ds` (SHA-256 and SHA-384), as `ZONE. 3600 IN DS ...`. */
  ds(): Promise<string[]>;
  /** Imports a BIND `.key` file's DNSKEY as a public-only key ("way 1"); resolves once Knot serves it. */
  importPublicKey(keyFileContent: string): Promise<KnotKey>;
  /** Deletes the imported key with this tag; resolves once Knot no longer serves it. */
  removePublicKey(tag: number): Promise<void>;
  /** Rewrites the foreign apex RRs (way 2), reloads the zone and waits until every one of them is served. */
  setForeignApexRecords(records: string[]): Promise<void>;
  /** The signed zone by AXFR, final SOA removed (input for ldns-verify-zone). */
  axfr(): Promise<string>;
  knotc(args: string[]): Promise<string>;
  keymgr(args: string[]): Promise<string>;
  logs(): string;
  pid: number;
  stop(): Promise<void>;
}

const withDot = (z: string): string => (z.endsWith('.') ? z : `${z}.`);

function zoneFileText(zone: string, zoneText: string, foreign: string[]): string {
  const head = /^\s*\$ORIGIN/m.test(zoneText) ? '' : `$ORIGIN ${zone}\n`;
  const tail = foreign.length ? `\n$ORIGIN ${zone}\n; foreign apex records (multi-signer peers)\n${foreign.join('\n')}\n` : '';
  return `${head}${zoneText}\n${tail}`;
}

/** `dig +dnssec ZONE TYPE` record data (whitespace-normalized RDATA keys), for "is it served yet" checks. */
async function served(t: { host: string; port: number }, zone: string, type: string): Promise<Set<string>> {
  const r = await dig(t, ['+dnssec', '+norec', '+nosplit', zone, type]);
  return new Set(r.answer.filter((rr) => rr.type === type).map((rr) => rdataKey(type, rr.data.split(/\s+/))));
}

function keyOf(rr: string): { type: string; key: string } {
  const p = parseRrText(rr);
  return { type: p.type, key: rdataKey(p.type, p.rdata) };
}

export async function startKnot(opts: KnotOptions): Promise<KnotInstance> {
  const zone = withDot(opts.zone);
  const incremental = opts.foreignApexRecords !== undefined;
  const dir = await mkdtemp(join(tmpdir(), 'tandem-knot-'));
  const conf = join(dir, 'knot.conf');
  const zoneFile = join(dir, 'zone.db');
  let port = 0;
  const zoneText = opts.zoneText;
  let foreign = opts.foreignApexRecords ?? [];
  const d = await orRemove(dir, async () => {
    for (const sub of ['run', 'db', 'keys']) await mkdir(join(dir, sub), { recursive: true });
    await writeFile(zoneFile, zoneFileText(zone, zoneText, foreign));
    return startDaemonWithRetry({
      name: 'knotd',
      busy: /address already in use|failed to bind/i,
      start: async (attempt) => {
        port = await freePort();
        await writeFile(conf, knotConf({ dir, port, zone, zoneFile, nsec3: opts.denial === 'nsec3', incremental, updateKey: opts.updateKey }));
        if (attempt === 0) await runChecked('knotc', ['-c', conf, 'conf-check'], { timeoutMs: 10_000 });
        return spawnDaemon('knotd', ['-c', conf], { name: 'knotd' });
      },
      ready: (d) => waitFor(
        async () => {
          const r = await dig({ host: '127.0.0.1', port }, ['+dnssec', '+norec', zone, 'SOA']);
          return r.answer.some((rr) => rr.type === 'RRSIG' && rr.data.startsWith('SOA ')) || undefined;
        },
        opts.startTimeoutMs ?? 15_000,
        { what: `knotd signing ${zone}`, intervalMs: 150, abort: () => {
          if (d.exited()) return 'knotd exited';
          // A zone error does not stop knotd; give up at once instead of waiting for the timeout.
          if (/zone event 'load' failed|failed to load zone/.test(d.logs())) return 'Knot could not load the zone';
          return undefined;
        } },
      ),
    });
  });
  const target = { host: '127.0.0.1', port };
  const keymgr = (args: string[]) => runChecked('keymgr', ['-c', conf, ...args], { timeoutMs: 15_000 });
  const knotc = (args: string[]) => runChecked('knotc', ['-c', conf, '-t', '10', ...args], { timeoutMs: 15_000 });

  async function keys(): Promise<KnotKey[]> {
    const list = JSON.parse(await keymgr(['-j', zone, 'list'])) as {
      id: string; tag: number; algorithm: number; ksk: boolean; zsk: boolean; 'public-only': boolean;
    }[];
    const out: KnotKey[] = [];
    for (const k of list) {
      const dnskey = (await keymgr([zone, 'dnskey', k.id])).trim();
      const publicKey = parseRrText(dnskey).rdata.slice(3).join('');
      out.push({ id: k.id, tag: k.tag, algorithm: k.algorithm, ksk: k.ksk, zsk: k.zsk, publicOnly: k['public-only'], dnskey, publicKey });
    }
    return out;
  }

  async function waitServed(type: string, wanted: string[], present: boolean, what: string): Promise<void> {
    await waitFor(
      async () => {
        const have = await served(target, zone, type);
        return wanted.every((k) => have.has(k) === present) || undefined;
      },
      10_000,
      { what, intervalMs: 150, abort: () => (d.exited() ? 'knotd exited' : undefined) },
    );
  }

  return {
    host: '127.0.0.1',
    port,
    zone,
    dir,
    conf,
    zoneFile,
    pid: d.pid,
    keys,
    logs: () => d.logs(),
    knotc,
    keymgr,
    async ds() {
      const out = await keymgr([zone, 'ds']);
      return out.split('\n').map((l) => l.trim()).filter((l) => / DS /.test(l)).map((l) => {
        const rr = parseRrText(l);
        return `${withDot(rr.owner)} 3600 IN DS ${rr.rdata[0]} ${rr.rdata[1]} ${rr.rdata[2]} ${rr.rdata.slice(3).join('').toLowerCase()}`;
      });
    },
    async importPublicKey(keyFileContent) {
      const rrLine = keyFileContent.split('\n').find((l) => /\sDNSKEY\s/i.test(l) && !l.trim().startsWith(';'));
      if (!rrLine) throw new Error('importPublicKey: no DNSKEY RR in the key file');
      const { key } = keyOf(rrLine);
      const before = new Set((await keys()).map((k) => k.id));
      const file = join(dir, `import-${Date.now()}-${Math.random().toString(16).slice(2)}.key`);
      await writeFile(file, keyFileContent);
      await keymgr([zone, 'import-pub', file]);
      await knotc(['zone-keys-load', zone]);
      const added = (await keys()).find((k) => !before.has(k.id));
      if (!added) throw new Error('importPublicKey: keymgr listed no new key');
      await waitServed('DNSKEY', [key], true, `Knot serving imported key ${added.tag}`);
      return added;
    },
    async removePublicKey(tag) {
      const k = (await keys()).find((x) => x.tag === tag && x.publicOnly);
      if (!k) throw new Error(`removePublicKey: no public-only key with tag ${tag}`);
      await keymgr([zone, 'delete', k.id]);
      await knotc(['zone-keys-load', zone]);
      await waitServed('DNSKEY', [keyOf(k.dnskey).key], false, `Knot dropping key ${tag}`);
    },
    async setForeignApexRecords(records) {
      if (!incremental) throw new Error('setForeignApexRecords needs startKnot({foreignApexRecords: [...]}) (dnskey-management: incremental)');
      const removed = foreign.filter((r) => !records.includes(r));
      foreign = records;
      await writeFile(zoneFile, zoneFileText(zone, zoneText, foreign));
      await knotc(['-b', 'zone-reload', zone]);
      const byType = (list: string[]) => {
        const m = new Map<string, string[]>();
        for (const r of list) {
          const { type, key } = keyOf(r);
          m.set(type, [...(m.get(type) ?? []), key]);
        }
        return m;
      };
      for (const [type, ks] of byType(records)) await waitServed(type, ks, true, `Knot serving foreign ${type}`);
      // A removed record may still equal one of Knot's own (e.g. the same CDS); only wait for the others.
      const kept = new Set(records.map((r) => keyOf(r).key));
      for (const [type, ks] of byType(removed)) {
        const gone = ks.filter((k) => !kept.has(k));
        if (gone.length) await waitServed(type, gone, false, `Knot dropping foreign ${type}`);
      }
    },
    async axfr() {
      const out = await runChecked('dig', [`@127.0.0.1`, '-p', String(port), '+tries=1', '+time=5', '+nocmd', '+nostats', '+noall', '+answer', '+onesoa', zone, 'AXFR'], { timeoutMs: 15_000 });
      return out;
    },
    async stop() {
      await d.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
