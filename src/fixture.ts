// The test fixture: a real tandem server in the test's own process, on ephemeral loopback ports, serving zones
// given as YAML text or objects, with a temporary state folder and a silent logger. Every change it offers goes
// through the zone manager's admin interface (state/types.ts ZoneManager), exactly as an API call would: there
// is no second way to change a served zone.
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { stringify } from 'yaml';
import { defaults, formatEndpoint, parseEndpoint, type Endpoint, type ServerConfig } from './config/server.js';
import { toPresentation } from './config/octodns.js';
import type { Plain } from './config/yaml-nodes.js';
import { Name } from './dns/name.js';
import { formatRdata, parseRdata } from './dns/rdata.js';
import { RRType, typeFromName, typeName } from './dns/types.js';
import type { Clock } from './dnssec/types.js';
import { startServer } from './server/server.js';
import type { DnssecStatus, KeyView, RecordInput, RecordView, ZoneManager } from './state/types.js';

/** One record value: zone-file presentation text (`'10 mail'`), or octoDNS's structured form (`{preference, exchange}`). */
export type RecordValue = string | number | { [field: string]: unknown };

/** Records of one owner and type, as in a zone file's `records:` (names relative to the zone; '' or '@' = apex). */
export interface RecordSpec {
  name: string;
  type: string;
  /** Default: the zone's `zone.ttl`. */
  ttl?: number;
  value?: RecordValue;
  values?: RecordValue[];
}

export interface FixtureRecord {
  /** Stable record id (the admin API's). */
  id: string;
  /** Absolute owner name with the trailing dot. */
  name: string;
  type: string;
  ttl: number;
  /** RDATA in presentation form. */
  data: string;
}

export interface FixtureKey {
  tag: number;
  flags: number;
  algorithm: number;
  role: 'KSK' | 'ZSK';
  /** 'own': tandem holds the private key; 'external': imported (another signer's). */
  source: 'own' | 'external';
  /** The DNSKEY RR in presentation form. */
  dnskey: string;
}

export interface FixtureZone {
  /** The zone's name with the trailing dot. */
  readonly name: string;
  /** The admin API's zone id. */
  readonly id: string;
  /** DS RR(s) of our KSK, SHA-256 (`<zone> 3600 IN DS <tag> 13 2 <hex>`): for a parent zone or a trust anchor. Empty when unsigned. */
  ds(): string[];
  /** The served DNSKEY RRset (our KSK and ZSK and every imported key), one RR per line. Empty when unsigned. */
  dnskeys(): string[];
  keys(): FixtureKey[];
  /** Cloudflare's DNSSEC state: 'pending' until our DS is at the parent, then 'active'; 'disabled', 'pending-disabled'. */
  dnssecStatus(): DnssecStatus;
  /** The zone's records (no SOA, no generated DNSSEC records), optionally only those of one owner and/or type. */
  records(filter?: { name?: string; type?: string }): FixtureRecord[];
  /** Adds records (all or nothing); resolves once they are durable and served. */
  addRecords(spec: RecordSpec): Promise<FixtureRecord[]>;
  /** Replaces the RRset `spec.name`/`spec.type` with `spec`'s values (none: removes it); all or nothing. */
  setRecords(spec: RecordSpec): Promise<FixtureRecord[]>;
  /** Removes every record of `name` (of `type`, if given); returns how many. */
  deleteRecords(name: string, type?: string): Promise<number>;
  /** Turns DNSSEC on or off, multi-signer mode (needed to import keys), NSEC3 denial. */
  setDnssec(patch: { enabled?: boolean; multiSigner?: boolean; nsec3?: boolean }): Promise<void>;
  /** Tells the DNSSEC state machine whether our DS is at the parent (pending -> active). */
  setParentDs(present: boolean): Promise<void>;
  /** Imports another signer's key: `'FLAGS 3 ALGORITHM BASE64'` or a DNSKEY RR line. Needs multi-signer mode. */
  importKey(dnskey: string, ttl?: number): Promise<FixtureKey>;
  /** Removes an imported key by its key tag. */
  removeKey(tag: number): Promise<void>;
}

export interface FixtureOptions {
  /**
   * The zones: zone name -> zone file (YAML text, or the same as an object, see docs/zone-format.md), or the
   * path of a folder of zone files, which is copied (the fixture never writes into your files).
   */
  zones: string | Record<string, string | object>;
  /** Keys and admin state. Default: a temporary folder that close() removes. Give a folder to keep the keys (and the DS) across runs. */
  state?: string;
  /** DNS listeners, `HOST:PORT` (default `127.0.0.1:0`: a free port, the same for UDP and TCP). */
  listen?: string[];
  /** Admin API address (default `127.0.0.1:0`). */
  api?: string;
  /** The admin API token (default: random). */
  apiToken?: string;
  /** Default: silent. */
  logger?: Logger;
  clock?: Clock;
  /** Resolver asked for our DS at the parent (HOST:PORT, e.g. a parent fixture); default: none, use setParentDs. */
  parentResolver?: string;
}

export interface Fixture {
  /** The first DNS address: where to send queries (UDP and TCP). */
  readonly host: string;
  readonly port: number;
  /** Every DNS address bound. */
  readonly addresses: Endpoint[];
  /** The admin API (Cloudflare's v4 routes under `${url}/client/v4`, NS1's under `${url}/v1`) and its token. */
  readonly api: { url: string; token: string };
  readonly zonesDir: string;
  readonly stateDir: string;
  /** A served zone by name (with or without the trailing dot); throws if it is not served. */
  zone(name: string): FixtureZone;
  zones(): FixtureZone[];
  /** Re-reads the zones folder (what SIGHUP does), after a test changed its files; rejects with the errors. */
  reload(): Promise<void>;
  /** Stops the server and removes the temporary folders. */
  close(): Promise<void>;
}

/** Starts tandem for a test: resolves once every zone is loaded and served; rejects if one fails to load. */
export async function startFixture(opts: FixtureOptions): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-fixture-'));
  try {
    const zonesDir = join(dir, 'zones');
    const stateDir = opts.state ?? join(dir, 'state');
    if (typeof opts.zones === 'string') await cp(opts.zones, zonesDir, { recursive: true });
    else {
      await mkdir(zonesDir);
      for (const [zone, file] of Object.entries(opts.zones)) {
        const base = zone === '.' ? 'root' : zone.replace(/\.$/, '');
        await writeFile(join(zonesDir, `${base}.yaml`), typeof file === 'string' ? file : stringify(file));
      }
    }
    const token = opts.apiToken ?? randomBytes(16).toString('hex');
    const config: ServerConfig = {
      ...defaults,
      zones: zonesDir,
      state: stateDir,
      listen: (opts.listen ?? ['127.0.0.1:0']).map(parseEndpoint),
      api: parseEndpoint(opts.api ?? '127.0.0.1:0'),
      workers: 1,
      apiToken: token,
      parentResolver: opts.parentResolver === undefined ? undefined : parseEndpoint(opts.parentResolver),
      // No parent checks unless a resolver is named: a test never asks the network on its own.
      parentCheckInterval: opts.parentResolver === undefined ? 0 : 10,
      parentNotify: opts.parentResolver !== undefined,
    };
    const server = await startServer({ config, logger: opts.logger ?? pino({ level: 'silent' }), clock: opts.clock, env: {} });
    const manager: ZoneManager = server.manager;
    const fixture: Fixture = {
      host: server.addresses[0].host,
      port: server.addresses[0].port,
      addresses: server.addresses,
      api: { url: `http://${formatEndpoint(server.api!)}`, token }, // the fixture always has its API
      zonesDir,
      stateDir,
      zone(name) {
        const origin = Name.fromText(name.endsWith('.') ? name : `${name}.`);
        const view = manager.zoneByName(origin);
        if (!view) throw new Error(`zone ${origin} is not served (served: ${manager.zones().map((z) => z.name.toString()).join(', ') || 'none'})`);
        return zoneHandle(manager, view.id, origin);
      },
      zones: () => manager.zones().map((z) => zoneHandle(manager, z.id, z.name)),
      async reload() {
        const errors = await server.reload();
        if (errors.length) throw new Error(`zones not reloaded:\n${errors.map((e) => e.message).join('\n')}`);
      },
      async close() {
        await server.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
    // startServer serves the zones that load and logs the others; a fixture fails instead, saying why.
    const files = (await readdir(zonesDir)).filter((f) => /\.ya?ml$/.test(f));
    if (manager.zones().length < files.length) {
      const errors = await server.reload();
      await server.stop();
      throw new Error(`tandem fixture: zones not loaded:\n${errors.map((e) => e.message).join('\n')}`);
    }
    return fixture;
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

function zoneHandle(manager: ZoneManager, id: string, origin: Name): FixtureZone {
  const owner = (text: string) => (text === '' ? origin : Name.fromText(text, origin));
  const typeOf = (text: string) => {
    const t = typeFromName(text);
    if (t === undefined) throw new Error(`unknown record type ${JSON.stringify(text)}`);
    return t;
  };
  const rr = (rdata: Uint8Array, type: number, ttl: number) => `${origin} ${ttl} IN ${typeName(type)} ${formatRdata(type, rdata)}`;
  const keyOf = (k: KeyView): FixtureKey => ({
    tag: k.keyTag, flags: k.flags, algorithm: k.algorithm, role: k.flags & 1 ? 'KSK' : 'ZSK', source: k.source, dnskey: rr(k.dnskey, RRType.DNSKEY, k.ttl),
  });
  const recordOf = (r: RecordView): FixtureRecord => ({ id: r.id, name: r.name.toString(), type: typeName(r.type), ttl: r.ttl, data: formatRdata(r.type, r.rdata) });
  const select = (name?: string, type?: string) => {
    const n = name === undefined ? undefined : owner(name);
    const t = type === undefined ? undefined : typeOf(type);
    return manager.records(id).filter((r) => (!n || r.name.equals(n)) && (t === undefined || r.type === t));
  };
  const inputs = (spec: RecordSpec): RecordInput[] => {
    const type = typeOf(spec.type);
    const name = owner(spec.name);
    const ttl = spec.ttl ?? manager.zone(id)!.defaultTtl;
    const values = spec.values ?? (spec.value === undefined ? [] : [spec.value]);
    return values.map((v) => ({ name, type, ttl, rdata: parseRdata(type, toPresentation(type, spec.type.toUpperCase(), plain(v)).text, origin) }));
  };
  return {
    name: origin.toString(),
    id,
    ds: () => {
      const ds = manager.dnssec(id).ds;
      return ds ? [ds.text] : [];
    },
    dnskeys: () => manager.dnssec(id).keys.map((k) => keyOf(k).dnskey),
    keys: () => manager.dnssec(id).keys.map(keyOf),
    dnssecStatus: () => manager.dnssec(id).status,
    records: (filter = {}) => select(filter.name, filter.type).map(recordOf),
    async addRecords(spec) {
      const r = await manager.batch(id, { deletes: [], patches: [], puts: [], posts: inputs(spec) });
      return r.posts.map(recordOf);
    },
    async setRecords(spec) {
      const deletes = select(spec.name, spec.type).map((r) => r.id);
      const r = await manager.batch(id, { deletes, patches: [], puts: [], posts: inputs(spec) });
      return r.posts.map(recordOf);
    },
    async deleteRecords(name, type) {
      const deletes = select(name, type).map((r) => r.id);
      if (deletes.length) await manager.batch(id, { deletes, patches: [], puts: [], posts: [] });
      return deletes.length;
    },
    async setDnssec(patch) {
      await manager.patchDnssec(id, {
        status: patch.enabled === undefined ? undefined : patch.enabled ? 'active' : 'disabled',
        multiSigner: patch.multiSigner,
        useNsec3: patch.nsec3,
      });
    },
    async setParentDs(present) {
      await manager.setParentDs(id, present);
    },
    async importKey(dnskey, ttl = 3600) {
      const tokens = dnskey.trim().split(/\s+/);
      const at = tokens.findIndex((t) => t.toUpperCase() === 'DNSKEY');
      const rdata = parseRdata(RRType.DNSKEY, (at >= 0 ? tokens.slice(at + 1) : tokens).join(' '), origin);
      const rec = await manager.createRecord(id, { name: origin, type: RRType.DNSKEY, ttl, rdata });
      const key = manager.dnssec(id).keys.find((k) => k.recordId === rec.id);
      if (!key) throw new Error(`key ${formatRdata(RRType.DNSKEY, rdata)} was stored but is not served`);
      return keyOf(key);
    },
    async removeKey(tag) {
      const keys = manager.dnssec(id).keys.filter((k) => k.keyTag === tag && k.source === 'external');
      if (!keys.length) throw new Error(`no imported key with tag ${tag} in ${origin}`);
      for (const k of keys) {
        if (!k.recordId) throw new Error(`key ${tag} in ${origin} came from an NS1 key set; remove the set through the API`);
        await manager.deleteRecord(id, k.recordId);
      }
    },
  };
}

/** A JavaScript value as the zone-file reader's plain form (scalars are their text). */
function plain(v: unknown): Plain {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return String(v);
}
