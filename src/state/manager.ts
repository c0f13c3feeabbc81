// The zone manager: the one owner of what is served. It loads the zones folder, answers the admin API and
// the CLI, and applies every accepted change in one order: validate by building the new zone (nothing is
// written if that fails), write the admin state and then the zone's YAML (atomic, fsync), swap the served
// set. Changes are serialised through one queue, so concurrent requests never lose an update.
//
// One story for admin changes and zone files: the YAML file stays the source of records and settings; the API
// edits it through the yaml document API (comments and untouched entries survive) and SIGHUP re-reads it.
// What YAML cannot hold lives in `<state>/zones/<zone>.json`: record ids and timestamps, the DNSSEC state
// machine (Cloudflare's pending/active/pending-disabled/disabled), NS1 external key set names.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { LoadedZone } from '../config/zonefile.js';
import type { Rr } from '../dns/rr.js';
import { unpackLoadedZone, type PackedZone } from '../config/packed.js';
import { editZoneFileAsync, loadZoneFileAsync } from './offthread.js';
import { ZoneFileError } from '../config/errors.js';
import { unreadFiles, zoneFolder, type ZoneDefaults } from '../config/masterzone.js';
import { Name } from '../dns/name.js';
import { RRType, typeName, isMetaType } from '../dns/types.js';
import { canonicalRdata, formatRdata, rdataEquals } from '../dns/rdata.js';
import { dsRdata, keyTag, parseDnskeyRdata } from '../dnssec/keys.js';
import { checkImportedKey, ImportError } from '../dnssec/imported.js';
import type { ZoneSigning } from '../dnssec/types.js';
import { ZoneSet } from '../zone/zoneset.js';
import type { Zone } from '../zone/types.js';
import { writeFileAtomic, ensureDir } from './atomic.js';
import { prepareZone, type Prepared, type ZoneLoaderDeps } from './prepare.js';
import type { ZoneEdit } from './yamledit.js';
import {
  AdminError, type BatchInput, type BatchResult, type DnsSettingsView, type DnssecStatus, type DnssecView, type KeyView,
  type RecordInput, type RecordView, type ZoneManager, type ZoneView,
} from './types.js';

/** What the query handler serves; swapped as one object, so no query sees half a change. */
export interface Served {
  zones: ZoneSet;
  /** Signing material per zone origin key, for zones with DNSSEC on. */
  signing: Map<string, ZoneSigning>;
}

interface RecordMeta {
  id: string;
  createdOn: string;
  modifiedOn: string;
  comment?: string;
}

interface AdminFile {
  version: 1;
  createdOn: string;
  modifiedOn: string;
  dnssec: {
    /** null: never enabled or deleted (Cloudflare's "deleted" state). */
    modifiedOn: string | null;
    /** Whether our DS is at the parent (from the parent check or the lab override); null = unknown. */
    parentDs: boolean | null;
    /** DNSSEC is being turned off: still signing, CDS/CDNSKEY delete published (RFC 8078 §4). */
    disabling: boolean;
  };
  /** Content key -> record metadata. */
  records: Record<string, RecordMeta>;
  /** NS1 external key sets: name -> TTL and base64 DNSKEY RDATA. */
  keySets: Record<string, { ttl: number; keys: string[] }>;
}

interface Entry {
  file: string;
  id: string;
  loaded: LoadedZone;
  prepared: Prepared;
  admin: AdminFile;
  /** Records of the zone data (not SOA, not generated DNSSEC records) as the API shows them; made on first use. */
  views?: RecordView[];
}

/** The API's view of a zone's records, built when first asked for (large zones pay nothing at load). */
function recordsOf(e: Entry): RecordView[] {
  if (e.views) return e.views;
  const views: RecordView[] = [];
  for (const rr of e.loaded.input.records) if (rr.type !== RRType.SOA) views.push(viewOf(e, rr, contentKey(rr)));
  e.views = views;
  return views;
}

/** One record's view; `key` is its contentKey. */
function viewOf(e: Entry, rr: Rr, key: string): RecordView {
  const meta = e.admin.records[key] ?? {
    id: createHash('sha256').update(`${e.id}|${key}`).digest().toString('hex', 0, 16),
    createdOn: e.admin.createdOn,
    modifiedOn: e.admin.createdOn,
  };
  return { id: meta.id, zoneId: e.id, name: rr.name, type: rr.type, ttl: rr.ttl, rdata: rr.rdata, comment: meta.comment, createdOn: meta.createdOn, modifiedOn: meta.modifiedOn };
}

const now = (deps: ZoneLoaderDeps) => new Date(deps.clock.now() * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Zone ids are 32 hex digits derived from the name: stable across restarts and machines. */
export function zoneId(origin: Name): string {
  return createHash('sha256').update(`tandem-zone:${origin.key}`).digest('hex').slice(0, 32);
}

function contentKey(rr: { name: Name; type: number; rdata: Uint8Array }): string {
  return `${rr.name.key}|${rr.type}|${Buffer.from(canonicalRdata(rr.type, rr.rdata)).toString('hex')}`;
}

function adminPath(stateDir: string, origin: Name): string {
  return join(stateDir, 'zones', `${origin.key === '.' ? '.root' : origin.key.slice(0, -1)}.json`);
}

function freshAdmin(ts: string): AdminFile {
  return { version: 1, createdOn: ts, modifiedOn: ts, dnssec: { modifiedOn: null, parentDs: null, disabling: false }, records: {}, keySets: {} };
}

async function readAdmin(path: string, ts: string): Promise<AdminFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return freshAdmin(ts);
    throw err;
  }
  try {
    const a = JSON.parse(text) as AdminFile;
    if (a.version !== 1) throw new Error(`unknown version ${String(a.version)}`);
    return { ...freshAdmin(ts), ...a, dnssec: { ...freshAdmin(ts).dnssec, ...a.dnssec } };
  } catch (err) {
    throw new Error(`${path}: admin state does not parse (${(err as Error).message}); fix or remove it`);
  }
}

export interface ManagerOptions extends ZoneLoaderDeps {
  /** The server config's `zone-defaults:` for master-file zones (config/masterzone.ts). */
  zoneDefaults?: ZoneDefaults;
  /**
   * Called after a change is durable and served here, before the change is acknowledged: other processes
   * serving the same zones (workers) reload the zone's file then, so every answer reflects it at once.
   */
  afterChange?: (file: string, packed?: PackedZone) => Promise<void>;
}

export class TandemZoneManager implements ZoneManager {
  private entries = new Map<string, Entry>();
  private current: Served = { zones: new ZoneSet([]), signing: new Map() };
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly deps: ManagerOptions) {}

  /** Loads every zone file; returns the manager and the files that failed (they are not served). */
  static async open(deps: ManagerOptions): Promise<{ manager: TandemZoneManager; errors: Error[] }> {
    const m = new TandemZoneManager(deps);
    await ensureDir(join(deps.stateDir, 'zones'));
    const errors = await m.loadAll();
    return { manager: m, errors };
  }

  served(): Served {
    return this.current;
  }

  /** Re-reads the zones folder (SIGHUP). A file that fails keeps its last good zone; removed files are dropped. */
  reload(): Promise<Error[]> {
    return this.serial(() => this.loadAll());
  }

  /** Re-reads one zone file (a worker told that the primary changed it). */
  reloadFile(file: string): Promise<void> {
    return this.serial(async () => {
      const entry = await this.loadEntry(await loadZoneFileAsync(file, { zoneDefaults: this.deps.zoneDefaults }));
      this.entries.set(entry.prepared.zone.origin.key, entry);
      this.publish();
    });
  }

  /**
   * Serves a zone parsed elsewhere (the primary's parse after an admin change, packed.ts): the same records
   * without parsing the file again, which for a large zone is most of the work.
   */
  reloadPacked(packed: PackedZone): Promise<void> {
    return this.serial(async () => {
      const entry = await this.loadEntry(unpackLoadedZone(packed));
      this.entries.set(entry.prepared.zone.origin.key, entry);
      this.publish();
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async loadAll(): Promise<Error[]> {
    const errors: Error[] = [];
    const next = new Map<string, Entry>();
    const byFile = new Map([...this.entries.values()].map((e) => [e.file, e]));
    const folder = await zoneFolder(this.deps.zonesDir);
    for (const file of folder.files) {
      try {
        const entry = await this.loadEntry(await loadZoneFileAsync(file, { zoneDefaults: this.deps.zoneDefaults }));
        const other = next.get(entry.prepared.zone.origin.key);
        if (other) throw new ZoneFileError({ file, reason: `zone ${entry.prepared.zone.origin} is already served from ${other.file}` });
        next.set(entry.prepared.zone.origin.key, entry);
        for (const w of entry.loaded.warnings) this.deps.logger.warn({ file }, w);
      } catch (err) {
        errors.push(err as Error);
        const old = byFile.get(file);
        if (old && !next.has(old.prepared.zone.origin.key)) next.set(old.prepared.zone.origin.key, old);
      }
    }
    // What tandem does not read in the folder is logged at warn once per load, never skipped silently.
    for (const u of unreadFiles(folder, [...next.values()].map((e) => e.loaded))) this.deps.logger.warn({ file: u.file }, u.reason);
    this.entries = next;
    this.publish();
    return errors;
  }

  private async loadEntry(loaded: LoadedZone, admin?: AdminFile): Promise<Entry> {
    const origin = loaded.input.origin;
    const ts = now(this.deps);
    admin ??= await readAdmin(adminPath(this.deps.stateDir, origin), ts);
    if (loaded.config.dnssec.enabled && admin.dnssec.modifiedOn === null) {
      // Enabled in the zone file (not through the API): count it as enabled when the file was written.
      admin.dnssec.modifiedOn = await stat(loaded.file).then((s) => s.mtime.toISOString().replace(/\.\d{3}Z$/, 'Z'), () => ts);
    }
    const prepared = await prepareZone(loaded, this.deps, { cds: admin.dnssec.disabling ? 'delete' : 'publish' });
    // Line numbers only serve errors while building; a later change or reload parses the file anew.
    loaded.locations = { owners: new Map(), records: new Map(), soa: loaded.locations.soa, nameservers: loaded.locations.nameservers };
    return { file: loaded.file, id: zoneId(origin), loaded, prepared, admin };
  }

  private publish(): void {
    const zones: Zone[] = [];
    const signing = new Map<string, ZoneSigning>();
    for (const e of this.entries.values()) {
      zones.push(e.prepared.zone);
      if (e.prepared.signing) signing.set(e.prepared.zone.origin.key, e.prepared.signing);
    }
    this.current = { zones: new ZoneSet(zones), signing };
  }

  private entry(zoneId: string): Entry {
    for (const e of this.entries.values()) if (e.id === zoneId) return e;
    throw new AdminError(7003, 404, `Could not route to /zones/${zoneId}, perhaps your object identifier is invalid?`);
  }

  // ---- one change: validate, persist, swap --------------------------------------------------------

  /**
   * Applies a change to one zone. `edit` gets the zone's records and a YAML document to change, and returns the
   * new record list (or undefined when records did not change) plus the admin-state changes.
   */
  private change<T>(zoneId: string, edit: (ctx: ChangeContext) => () => T): Promise<T> {
    return this.serial(async () => {
      const e = this.entry(zoneId);
      const text = await readFile(e.file, 'utf8');
      const ts = now(this.deps);
      const admin: AdminFile = structuredClone(e.admin);
      const ctx = new ChangeContext(e, admin, ts);
      const result = edit(ctx);
      if (!ctx.changed) return result();
      const edits: ZoneEdit[] = [...ctx.edits];
      const owners = new Set(recordsOf(e).map((r) => r.name.key)); // before the change
      for (const [owner, type] of ctx.touched()) {
        const set = ctx.records.filter((r) => r.name.equals(owner) && r.type === type);
        edits.push({
          op: 'rrset', owner: owner.toString(), type, ttl: set.length ? Math.min(...set.map((r) => r.ttl)) : 0, rdatas: set.map((r) => r.rdata),
          isNew: !owners.has(owner.key),
        });
      }
      if (ctx.touched().length) edits.push({ op: 'serial' });
      let newText: string;
      let next: Entry;
      let edited: Awaited<ReturnType<typeof editZoneFileAsync>>;
      try {
        // Edited and parsed again as a whole (on a worker thread for a large file): the new zone must build.
        edited = await editZoneFileAsync(e.file, text, e.loaded.input.origin.toString(), edits, { mtime: new Date(this.deps.clock.now() * 1000), zoneDefaults: this.deps.zoneDefaults });
        newText = edited.text;
        next = await this.loadEntry(edited.loaded, admin);
      } catch (err) {
        if (err instanceof AdminError) throw err;
        // The new zone does not build: refuse the change; nothing has been written.
        const reason = err instanceof ZoneFileError ? err.reason : (err as Error).message;
        throw new AdminError(1004, 400, `DNS Validation Error: ${reason}`);
      }
      admin.modifiedOn = ts;
      await writeFileAtomic(adminPath(this.deps.stateDir, e.loaded.input.origin), JSON.stringify(admin, null, 2) + '\n');
      if (newText !== text) await writeFileAtomic(e.file, newText);
      for (const o of edited.others ?? []) await writeFileAtomic(o.file, o.text); // a master file's includes and settings
      next.loaded.warnings.forEach((w) => this.deps.logger.warn({ file: e.file }, w));
      this.entries.set(next.prepared.zone.origin.key, next);
      this.publish();
      await this.deps.afterChange?.(e.file, edited.packed);
      this.deps.logger.info({ zone: e.loaded.input.origin.toString(), change: ctx.what }, 'zone changed');
      return result();
    });
  }

  // ---- zones -------------------------------------------------------------------------------------

  private view(e: Entry): ZoneView {
    return {
      id: e.id, name: e.loaded.input.origin, nameservers: e.loaded.input.settings.nameservers.length
        ? e.loaded.input.settings.nameservers
        : [...(e.prepared.zone.apexNs.rdatas.map((r) => Name.read(r, 0).name))],
      defaultTtl: e.loaded.defaultTtl,
      createdOn: e.admin.createdOn, modifiedOn: e.admin.modifiedOn,
    };
  }

  zones(): ZoneView[] {
    return [...this.entries.values()].map((e) => this.view(e)).sort((a, b) => a.name.compare(b.name));
  }

  zone(id: string): ZoneView | undefined {
    const e = [...this.entries.values()].find((x) => x.id === id);
    return e && this.view(e);
  }

  zoneByName(name: Name): ZoneView | undefined {
    const e = this.entries.get(name.key);
    return e && this.view(e);
  }

  // ---- records -----------------------------------------------------------------------------------

  records(zoneId: string): RecordView[] {
    return recordsOf(this.entry(zoneId));
  }

  record(zoneId: string, id: string): RecordView | undefined {
    return recordsOf(this.entry(zoneId)).find((r) => r.id === id);
  }

  private found(zoneId: string, id: string): RecordView {
    const r = this.record(zoneId, id);
    if (!r) throw new AdminError(81044, 404, 'Record does not exist.');
    return r;
  }

  createRecord(zoneId: string, rec: RecordInput): Promise<RecordView> {
    return this.change(zoneId, (ctx) => {
      const key = ctx.add(rec);
      return () => this.byKey(zoneId, key);
    });
  }

  updateRecord(zoneId: string, id: string, rec: RecordInput): Promise<RecordView> {
    return this.change(zoneId, (ctx) => {
      const old = this.found(zoneId, id);
      const key = ctx.replace(old, rec);
      return () => this.byKey(zoneId, key);
    });
  }

  deleteRecord(zoneId: string, id: string): Promise<RecordView> {
    return this.change(zoneId, (ctx) => {
      const old = this.found(zoneId, id);
      ctx.remove(old);
      return () => old;
    });
  }

  batch(zoneId: string, ops: BatchInput): Promise<BatchResult> {
    return this.change(zoneId, (ctx) => {
      const deletes = ops.deletes.map((id) => {
        const old = this.found(zoneId, id);
        ctx.remove(old);
        return old;
      });
      const patchKeys = ops.patches.map((p) => {
        const old = this.found(zoneId, p.id);
        return ctx.replace(old, { name: old.name, type: old.type, ttl: old.ttl, rdata: old.rdata, comment: old.comment, ...p.patch });
      });
      const putKeys = ops.puts.map((p) => ctx.replace(this.found(zoneId, p.id), p.record));
      const postKeys = ops.posts.map((r) => ctx.add(r));
      return () => ({
        deletes,
        patches: patchKeys.map((k) => this.byKey(zoneId, k)),
        puts: putKeys.map((k) => this.byKey(zoneId, k)),
        posts: postKeys.map((k) => this.byKey(zoneId, k)),
      });
    });
  }

  /** The view of the record with content `key`, without making every view of a zone that has none yet. */
  private byKey(zoneId: string, key: string): RecordView {
    const e = this.entry(zoneId);
    const found = (x: { type: number; name: Name; rdata: Uint8Array }) => x.type !== RRType.SOA && contentKey(x) === key;
    const view = e.views?.find(found);
    if (view) return view;
    const rr = e.views ? undefined : e.loaded.input.records.find(found);
    if (!rr) throw new AdminError(81044, 404, 'Record does not exist.');
    return viewOf(e, rr, key);
  }

  // ---- DNSSEC ------------------------------------------------------------------------------------

  private status(e: Entry): DnssecStatus {
    const d = e.admin.dnssec;
    if (!e.loaded.config.dnssec.enabled) return 'disabled';
    if (d.disabling) return d.parentDs ? 'pending-disabled' : 'disabled';
    return d.parentDs ? 'active' : 'pending';
  }

  dnssec(zoneId: string): DnssecView {
    const e = this.entry(zoneId);
    const cfg = e.loaded.config.dnssec;
    const origin = e.loaded.input.origin;
    const view: DnssecView = {
      status: this.status(e),
      modifiedOn: cfg.enabled ? e.admin.dnssec.modifiedOn : null,
      multiSigner: cfg.multiSigner,
      presigned: false,
      useNsec3: cfg.denial === 'nsec3',
      keys: [],
    };
    const keys = e.prepared.keys;
    if (!keys) return view;
    const ttl = cfg.dnskeyTtl;
    const kv = (rdata: Uint8Array, source: KeyView['source'], recordId?: string): KeyView => {
      const f = parseDnskeyRdata(rdata);
      return { keyTag: keyTag(rdata), flags: f.flags, algorithm: f.algorithm, publicKey: Buffer.from(f.publicKey).toString('base64'), dnskey: rdata, ttl, source, recordId };
    };
    view.ksk = kv(keys.ksk.dnskey, 'own');
    const ds = dsRdata(origin, keys.ksk.dnskey, 2);
    view.ds = { rdata: ds, text: `${origin.toString()} ${ttl} IN DS ${formatRdata(RRType.DS, ds)}`, digestHex: Buffer.from(ds.subarray(4)).toString('hex').toUpperCase() };
    view.keys = [view.ksk, kv(keys.zsk.dnskey, 'own')];
    for (const rdata of e.prepared.imported) {
      const rec = recordsOf(e).find((r) => r.type === RRType.DNSKEY && rdataEquals(r.rdata, rdata));
      view.keys.push({ ...kv(rdata, 'external', rec?.id), ttl: rec?.ttl ?? ttl });
    }
    return view;
  }

  patchDnssec(zoneId: string, patch: { status?: 'active' | 'disabled'; multiSigner?: boolean; presigned?: boolean; useNsec3?: boolean }): Promise<DnssecView> {
    return this.change(zoneId, (ctx) => {
      const cfg = ctx.entry.loaded.config.dnssec;
      if (patch.presigned === true) {
        throw new AdminError(1004, 400, 'dnssec_presigned applies to secondary zones that receive signed data by zone transfer; tandem serves primary zones and signs them itself');
      }
      if (patch.status === 'active' && (!cfg.enabled || ctx.admin.dnssec.disabling)) {
        ctx.setting(['dnssec', 'enabled'], true);
        ctx.admin.dnssec.disabling = false;
        ctx.admin.dnssec.modifiedOn = ctx.ts;
        ctx.what.push('dnssec active');
      }
      if (patch.status === 'disabled' && cfg.enabled && !ctx.admin.dnssec.disabling) {
        // Cloudflare's pending-disabled: keep signing, publish the RFC 8078 delete CDS/CDNSKEY.
        ctx.admin.dnssec.disabling = true;
        ctx.admin.dnssec.modifiedOn = ctx.ts;
        ctx.changed = true;
        ctx.what.push('dnssec disabling');
      }
      if (patch.multiSigner !== undefined && patch.multiSigner !== cfg.multiSigner) {
        const external = ctx.records.filter((r) => r.type === RRType.DNSKEY);
        if (!patch.multiSigner && external.length) {
          throw new AdminError(1004, 400, `remove the ${external.length} DNSKEY record(s) of other providers before turning dnssec_multi_signer off`);
        }
        ctx.setting(['dnssec', 'multi_signer'], patch.multiSigner);
        ctx.what.push(`multi_signer ${patch.multiSigner}`);
      }
      if (patch.useNsec3 !== undefined && patch.useNsec3 !== (cfg.denial === 'nsec3')) {
        ctx.setting(['dnssec', 'denial'], patch.useNsec3 ? 'nsec3' : 'compact');
        ctx.what.push(`denial ${patch.useNsec3 ? 'nsec3' : 'compact'}`);
      }
      return () => this.dnssec(zoneId);
    });
  }

  deleteDnssec(zoneId: string): Promise<void> {
    return this.change(zoneId, (ctx) => {
      const status = this.status(ctx.entry);
      if (ctx.entry.loaded.config.dnssec.enabled && status !== 'disabled') {
        throw new AdminError(1004, 400, `DNSSEC is ${status}: disable it first (PATCH status "disabled") and wait until the DS is gone from the parent`);
      }
      if (ctx.entry.loaded.config.dnssec.enabled) {
        ctx.setting(['dnssec', 'enabled'], false);
        ctx.admin.dnssec = { modifiedOn: null, parentDs: null, disabling: false };
        ctx.what.push('dnssec deleted');
      }
      return () => undefined;
    });
  }

  setParentDs(zoneId: string, present: boolean): Promise<DnssecView> {
    return this.change(zoneId, (ctx) => {
      if (ctx.admin.dnssec.parentDs !== present) {
        ctx.admin.dnssec.parentDs = present;
        ctx.changed = true;
        ctx.what.push(`parent DS ${present ? 'present' : 'absent'}`);
      }
      return () => this.dnssec(zoneId);
    });
  }

  /** DS RDATAs of our KSK (SHA-256 and SHA-384), for the parent check; undefined when the zone is unsigned. */
  ourDs(zoneId: string): Uint8Array[] | undefined {
    const e = this.entry(zoneId);
    const ksk = e.prepared.keys?.ksk.dnskey;
    return ksk && [dsRdata(e.loaded.input.origin, ksk, 2), dsRdata(e.loaded.input.origin, ksk, 4)];
  }

  /** Zones waiting for the parent (pending: DS to appear; pending-disabled: DS to go). */
  awaitingParent(): { id: string; name: Name; want: boolean }[] {
    return [...this.entries.values()]
      .filter((e) => ['pending', 'pending-disabled'].includes(this.status(e)) || (this.status(e) === 'disabled' && e.admin.dnssec.disabling && e.admin.dnssec.parentDs === null))
      .map((e) => ({ id: e.id, name: e.loaded.input.origin, want: !e.admin.dnssec.disabling }));
  }

  // ---- DNS settings -----------------------------------------------------------------------------

  dnsSettings(zoneId: string): DnsSettingsView {
    const e = this.entry(zoneId);
    return { multiProvider: e.loaded.input.settings.multiProvider, nsTtl: e.loaded.input.settings.nsTtl };
  }

  patchDnsSettings(zoneId: string, patch: { multiProvider?: boolean }): Promise<DnsSettingsView> {
    return this.change(zoneId, (ctx) => {
      if (patch.multiProvider !== undefined && patch.multiProvider !== ctx.entry.loaded.input.settings.multiProvider) {
        ctx.setting(['multi_provider'], patch.multiProvider);
        ctx.what.push(`multi_provider ${patch.multiProvider}`);
      }
      return () => this.dnsSettings(zoneId);
    });
  }

  // ---- NS1 external key sets ---------------------------------------------------------------------

  externalKeySets(zoneId: string): { name: string; ttl: number; keys: KeyView[] }[] {
    const e = this.entry(zoneId);
    const all = this.dnssec(zoneId).keys.filter((k) => k.source === 'external');
    return Object.entries(e.admin.keySets).map(([name, set]) => ({
      name,
      ttl: set.ttl,
      keys: set.keys.map((b64) => all.find((k) => Buffer.from(k.dnskey).toString('base64') === b64)).filter((k): k is KeyView => !!k),
    }));
  }

  putExternalKeySet(zoneId: string, set: string, ttl: number, keys: { flags: number; protocol: number; algorithm: number; publicKey: string }[]): Promise<{ name: string; ttl: number; keys: KeyView[] }> {
    return this.change(zoneId, (ctx) => {
      const origin = ctx.entry.loaded.input.origin;
      const old = new Set(ctx.admin.keySets[set]?.keys ?? []);
      const fresh = keys.map((k) => {
        const pub = Buffer.from(k.publicKey, 'base64');
        const rdata = new Uint8Array(4 + pub.length);
        rdata[0] = k.flags >> 8; rdata[1] = k.flags & 0xff; rdata[2] = k.protocol; rdata[3] = k.algorithm;
        rdata.set(pub, 4);
        return rdata;
      });
      for (const r of ctx.records.filter((x) => x.type === RRType.DNSKEY && old.has(Buffer.from(x.rdata).toString('base64')))) ctx.remove(r);
      // NS1 has no multi-signer switch: adding external keys turns it on.
      if (!ctx.entry.loaded.config.dnssec.multiSigner) ctx.setting(['dnssec', 'multi_signer'], true);
      for (const rdata of fresh) {
        if (!ctx.records.some((x) => x.type === RRType.DNSKEY && rdataEquals(x.rdata, rdata))) {
          ctx.add({ name: origin, type: RRType.DNSKEY, ttl, rdata });
        }
      }
      ctx.admin.keySets[set] = { ttl, keys: fresh.map((r) => Buffer.from(r).toString('base64')) };
      ctx.changed = true;
      ctx.what.push(`external key set ${set}`);
      return () => this.externalKeySets(zoneId).find((s) => s.name === set)!;
    });
  }

  deleteExternalKeySet(zoneId: string, set: string): Promise<void> {
    return this.change(zoneId, (ctx) => {
      const old = ctx.admin.keySets[set];
      if (!old) throw new AdminError(404, 404, `external key set ${set} not found`);
      const keys = new Set(old.keys);
      for (const r of ctx.records.filter((x) => x.type === RRType.DNSKEY && keys.has(Buffer.from(x.rdata).toString('base64')))) ctx.remove(r);
      delete ctx.admin.keySets[set];
      ctx.changed = true;
      ctx.what.push(`external key set ${set} removed`);
      return () => undefined;
    });
  }
}

/** The working copy of one zone during a change. */
class ChangeContext {
  changed = false;
  readonly what: string[] = [];
  readonly records: RecordView[];
  private readonly touchedSets = new Map<string, [Name, number]>();

  /** Changes to the zone file other than records (those follow from `touched`). */
  readonly edits: ZoneEdit[] = [];

  constructor(readonly entry: Entry, readonly admin: AdminFile, readonly ts: string) {
    this.records = [...recordsOf(entry)];
  }

  touched(): [Name, number][] {
    return [...this.touchedSets.values()];
  }

  setting(path: string[], value: unknown): void {
    this.edits.push({ op: 'setting', path, value });
    this.changed = true;
  }

  private touch(name: Name, type: number): void {
    this.touchedSets.set(`${name.key}|${type}`, [name, type]);
    this.changed = true;
  }

  private check(rec: RecordInput): RecordInput {
    const origin = this.entry.loaded.input.origin;
    if (!rec.name.isSubdomainOf(origin)) throw new AdminError(1004, 400, `DNS Validation Error: ${rec.name} is not in the zone ${origin}`);
    if (rec.type === RRType.SOA) throw new AdminError(1004, 400, 'DNS Validation Error: the SOA record is managed by tandem (zone.soa in the zone file)');
    if ([RRType.RRSIG, RRType.NSEC, RRType.NSEC3, RRType.NSEC3PARAM, RRType.CDS, RRType.CDNSKEY].includes(rec.type as never) || isMetaType(rec.type)) {
      throw new AdminError(1004, 400, `DNS Validation Error: ${typeName(rec.type)} records are generated by the signer and cannot be added`);
    }
    if (!Number.isInteger(rec.ttl) || rec.ttl < 0 || rec.ttl > 2147483647) throw new AdminError(1004, 400, `DNS Validation Error: ttl ${rec.ttl} is outside 0..2147483647 (RFC 2181 §8)`);
    if (rec.type === RRType.DNSKEY) {
      if (!this.entry.loaded.config.dnssec.multiSigner) {
        throw new AdminError(1004, 400, 'DNS Validation Error: DNSKEY records can only be added with DNSSEC multi-signer on (PATCH /zones/{zone_id}/dnssec {"dnssec_multi_signer": true})');
      }
      if (!rec.name.equals(origin)) throw new AdminError(1004, 400, 'DNS Validation Error: DNSKEY records belong at the zone apex');
      const keys = this.entry.prepared.keys;
      try {
        checkImportedKey(rec.rdata, { zoneAlgorithm: 13, force: this.entry.loaded.config.dnssec.allowForeignAlgorithms, own: keys ? [keys.ksk.dnskey, keys.zsk.dnskey] : [] });
      } catch (err) {
        if (err instanceof ImportError) throw new AdminError(1004, 400, `DNS Validation Error: DNSKEY ${keyTag(rec.rdata)}: ${err.message}`);
        throw err;
      }
    }
    return rec;
  }

  private meta(key: string, base: Partial<RecordMeta> & { id?: string }, comment?: string): void {
    const prev = this.admin.records[key];
    this.admin.records[key] = {
      id: base.id ?? prev?.id ?? createHash('sha256').update(`${this.entry.id}|${key}`).digest().toString('hex', 0, 16),
      createdOn: base.createdOn ?? prev?.createdOn ?? this.ts,
      modifiedOn: this.ts,
      ...(comment !== undefined ? { comment } : prev?.comment !== undefined ? { comment: prev.comment } : {}),
    };
  }

  add(input: RecordInput): string {
    const rec = this.check(input);
    const key = contentKey(rec);
    if (this.records.some((r) => contentKey(r) === key)) throw new AdminError(81058, 400, 'An identical record already exists.');
    // One TTL per RRset (RFC 2181 §5.2): a new record's TTL becomes the RRset's.
    this.setTtl(rec.name, rec.type, rec.ttl);
    this.records.push({ ...rec, id: '', zoneId: this.entry.id, createdOn: this.ts, modifiedOn: this.ts });
    this.meta(key, {}, rec.comment);
    this.touch(rec.name, rec.type);
    this.what.push(`+${rec.name} ${typeName(rec.type)}`);
    return key;
  }

  remove(old: RecordView): void {
    const i = this.records.findIndex((r) => r.id === old.id);
    if (i < 0) throw new AdminError(81044, 404, 'Record does not exist.');
    this.records.splice(i, 1);
    delete this.admin.records[contentKey(old)];
    this.touch(old.name, old.type);
    this.what.push(`-${old.name} ${typeName(old.type)}`);
  }

  /**
   * Gives every record of an RRset `ttl`. The views are replaced, not changed: they are the served entry's
   * (recordsOf), and a change that is refused later must leave them as they were.
   */
  private setTtl(name: Name, type: number, ttl: number): void {
    this.records.forEach((r, i) => {
      if (r.type === type && r.ttl !== ttl && r.name.equals(name)) this.records[i] = { ...r, ttl };
    });
  }

  /** PUT/PATCH: the record keeps its id and creation time. */
  replace(old: RecordView, input: RecordInput): string {
    const rec = this.check(input);
    const key = contentKey(rec);
    const oldKey = contentKey(old);
    if (key !== oldKey && this.records.some((r) => contentKey(r) === key)) throw new AdminError(81058, 400, 'An identical record already exists.');
    this.remove(old);
    this.records.push({ ...rec, id: old.id, zoneId: this.entry.id, createdOn: old.createdOn, modifiedOn: this.ts });
    this.setTtl(rec.name, rec.type, rec.ttl);
    this.meta(key, { id: old.id, createdOn: old.createdOn }, rec.comment ?? old.comment);
    this.touch(rec.name, rec.type);
    return key;
  }
}

