// The zone manager: the one owner of what is served. It loads the zones folder, answers the admin API and
// the CLI, and applies every accepted change in one order: validate by building the new zone (nothing is
// written if that fails), write the admin state and then the zone's YAML (atomic, fsync), swap the served
// set. Changes are serialised through one queue, so concurrent requests never lose an update.
//
// One story for admin changes and zone files: the YAML file stays the source of records and settings; the API
// edits it through the yaml document API (comments and untouched entries survive) and SIGHUP re-reads it.
// What YAML cannot hold lives in `<state>/zones/<zone>.json`: record ids and timestamps, the DNSSEC state
// machine (Cloudflare's pending/active/pending-disabled/disabled), NS1 external key set names (admin-file.ts).
// The change context (change-context.ts) is the working copy a change edits; record-views.ts makes the API's views.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { buildLoadedZone, type LoadedZone } from '../config/zonefile.js';
import { unpackLoadedZone, type PackedZone } from '../config/packed.js';
import { editZoneFileAsync, loadZoneFileAsync, loadZoneFilePacked, parseZoneFileAsync } from './offthread.js';
import { ZoneFileError } from '../config/errors.js';
import { unreadFiles, zoneFolder, ZonesFolderError, type ZoneDefaults, type ZoneFolder } from '../config/masterzone.js';
import { Name } from '../dns/name.js';
import type { Rr } from '../dns/rr.js';
import { RRType } from '../dns/types.js';
import { formatRdata, rdataEquals } from '../dns/rdata.js';
import { dsRdata, keyTag, parseDnskeyRdata } from '../dnssec/keys.js';
import type { ZoneSigning } from '../dnssec/types.js';
import { ZoneSet } from '../zone/zoneset.js';
import type { DenialMode, Zone } from '../zone/types.js';
import { writeFileAtomic, writeFilesAtomic, ensureDir, WriteError } from './atomic.js';
import { adminPath, readAdmin, type AdminFile } from './admin-file.js';
import { ChangeContext } from './change-context.js';
import { claimsAtLoad, holders, keyId, ns1Source } from './claims.js';
import { contentKey, ownerOfKey, ownerRecords, recordById, recordsOf, rrsAt, viewOf, type Entry } from './record-views.js';
import { prepareZone, type ZoneLoaderDeps } from './prepare.js';
import { decideSerial } from './version.js';
import { periodStart } from '../dnssec/window.js';
import { loadSecondary } from './secondary.js';
import { appendCopyChange, foldCopy, JOURNAL_FOLD_ENTRIES, JOURNAL_FOLD_MIN_BYTES, writeCopy, writeMeta, type SecondaryMeta } from './secondary-store.js';
import { ixfrDelta } from './ixfr-delta.js';
import type { Change } from '../transfer/journal.js';
import { transfersSigned, versionOf, type VersionListener, type ZoneVersion } from './zone-version.js';
import type { ZoneEdit } from './yamledit.js';
import { applyUpdateOps, UpdateRefused, type UpdateOp } from './update-apply.js';
import { applyZoneDelta, deltaApplies, deltaChange, type DeltaStats, type ZoneDelta } from './delta.js';
import { expectedOrigin, loadedSummary, loadOrder, progressLogger, sweepAbandoned, type ZoneLoaded } from './loading.js';
import {
  AdminError, type BatchInput, type BatchResult, type DnsSettingsView, type DnssecStatus, type DnssecView, type KeySource, type KeyView,
  type RecordInput, type RecordView, type SourceOptions, type ZoneManager, type ZoneView,
} from './types.js';

/** What the query handler serves; swapped as one object, so no query sees half a change. */
export interface Served {
  zones: ZoneSet;
  /** Signing material per zone origin key, for zones with DNSSEC on. */
  signing: Map<string, ZoneSigning>;
  /**
   * Zones we are authoritative for but cannot serve, by Name.key: a secondary not transferred yet or expired, a
   * zone not loaded yet at start-up. Answered SERVFAIL.
   */
  failing?: ReadonlyMap<string, Name>;
}

export { transfersSigned, type VersionListener, type ZoneVersion } from './zone-version.js';
export type { UpdateOp } from './update-apply.js';

/** TandemZoneManager.applyUpdate: how the update's prerequisites are checked against the served zone. */
export interface UpdateOptions {
  /** RFC 2136 §3.2 on the zone as served when the change runs: the failing RCODE and why, or undefined. */
  prerequisite?: (zone: Zone) => { rcode: number; reason: string } | undefined;
}

export type UpdateResult =
  /** Applied (or nothing to change: `changes` empty, serial kept); `ignored` names the RRs RFC 2136 skips. */
  | { ok: true; serial: number; changes: string[]; ignored: string[] }
  /** A prerequisite failed (RFC 2136 §3.2), or the update was refused (REFUSED, 5): nothing changed. */
  | { ok: false; rcode: number; reason: string };

class PrerequisiteFailed extends Error {
  constructor(readonly rcode: number, message: string) {
    super(message);
  }
}

/** What the API's `dnssec_use_nsec3` reads: the zone denies with NSEC3, made per answer or from its chain. */
function usesNsec3(denial: DenialMode): boolean {
  return denial === 'nsec3' || denial === 'nsec3-chain';
}

/** Zone ids are 32 hex digits derived from the name: stable across restarts and machines. */
export function zoneId(origin: Name): string {
  return createHash('sha256').update(`tandem-zone:${origin.key}`).digest('hex').slice(0, 32);
}

const now = (deps: ZoneLoaderDeps) => new Date(deps.clock.now() * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

export interface ManagerOptions extends ZoneLoaderDeps {
  /** The server config's `zone-defaults:` for master-file zones (config/masterzone.ts). */
  zoneDefaults?: ZoneDefaults;
  /**
   * Called after a change is durable and served here, before the change is acknowledged: other processes
   * serving the same zones (workers) reload the zone's file then, so every answer reflects it at once.
   */
  afterChange?: (file: string, packed?: PackedZone, delta?: ZoneDelta) => Promise<void>;
  /** Called each time a new served set is published (any zone changed, came or went): the cluster's workers drop their cached answers. */
  onPublish?: () => void;
  /**
   * 'primary' (default) decides serials and persists them; 'replica' (a cluster worker) serves what the
   * primary decided and writes nothing.
   */
  role?: 'primary' | 'replica';
  /** Whether a TSIG key of this name is defined (server config `tsig:`); zones naming another are not loaded. */
  knownKey?: (name: string) => boolean;
  /** Zone files from this size on are edited and read back slice by slice (tests; default zonefile.ts SLICE_FROM_BYTES). */
  sliceFromBytes?: number;
  /** Lines per slice of such files (tests; default zonefile.ts SLICE_LINES). */
  sliceLines?: number;
  /** A change of a zone file from this size on is edited on a worker thread (tests; default offthread.ts OFF_THREAD_FROM_BYTES). */
  offThreadFromBytes?: number;
  /** Told how long each zone file took to load from the zones folder (start-up, SIGHUP), or that it failed. */
  onLoad?: (load: { file: string; zone?: Name; seconds: number; error?: Error }) => void;
}

/** ManagerOptions.loadZones: what happens as each zone of the first read is served. */
export interface FirstLoadOptions {
  /** Told the files about to be loaded, in order, before the first (a cluster primary tells its workers). */
  order?: (files: string[]) => Promise<void> | void;
  /**
   * Called in the manager's queue once a zone is served here, with the records as parsed off-thread (large
   * files); the next zone is loaded once it resolves (a cluster primary waits for its workers here).
   */
  inService?: (z: ZoneLoaded, file: string, packed?: PackedZone) => Promise<void> | void;
}

export class TandemZoneManager implements ZoneManager {
  private entries = new Map<string, Entry>();
  private current: Served = { zones: new ZoneSet([]), signing: new Map(), failing: new Map() };
  private queue: Promise<unknown> = Promise.resolve();
  private listeners: VersionListener[] = [];
  /** Files of the first read not loaded yet, with the zone each is expected to hold (answered SERVFAIL). */
  private pending = new Map<string, Name>();
  private first?: Promise<Error[]>;
  private firstDone = false;
  /** Files of a reload that serve no zone yet, and files that failed with no zone served (readiness, /ready). */
  private loading = new Set<string>();
  private failed = new Map<string, string>();
  /** Each zone file's size, mtime and inode when it was last read or written here (a delta change needs it unchanged). */
  private stamps = new Map<string, string>();
  /** What delta changes did (tests). */
  readonly deltaStats: DeltaStats = { recordsParsed: 0, recordsHashed: 0, rrsets: 0, nodes: 0 };

  private constructor(private readonly deps: ManagerOptions) {}

  /** A manager serving nothing yet: loadZones reads the folder (listeners can be bound before). */
  static async create(deps: ManagerOptions): Promise<TandemZoneManager> {
    const m = new TandemZoneManager(deps);
    await ensureDir(join(deps.stateDir, 'zones'));
    if (deps.role !== 'replica') await sweepAbandoned(deps.zonesDir, deps.stateDir, deps.logger);
    return m;
  }

  /** Loads every zone file; returns the manager and the files that failed (they are not served). */
  static async open(deps: ManagerOptions): Promise<{ manager: TandemZoneManager; errors: Error[] }> {
    const m = await TandemZoneManager.create(deps);
    const errors = await m.loadZones();
    return { manager: m, errors };
  }

  /**
   * The first read of the zones folder: smallest file first, each zone served as soon as it is built (not
   * swapped in with the rest, as a reload does), so a large zone never delays the others. Until its file
   * is read, a zone's name (from the file name) is answered SERVFAIL. Resolves with the files that failed;
   * throws ZonesFolderError when the folder cannot be read. Called once; later calls return the same promise.
   */
  loadZones(opts: FirstLoadOptions = {}): Promise<Error[]> {
    this.first ??= this.loadFirst(opts).finally(() => { this.firstDone = true; });
    return this.first;
  }

  /** Whether the first read of the zones folder has ended (every file served or failed). */
  loaded(): boolean {
    return this.firstDone;
  }

  /**
   * Cluster workers: the primary names the files it is about to load (each zone answered SERVFAIL until
   * reloadFile/reloadPacked brings it), then says it is done (`expectNone`: what did not come failed).
   */
  expect(files: readonly string[]): void {
    for (const f of files) {
      const origin = expectedOrigin(f);
      if (origin) this.pending.set(f, origin);
    }
    this.publish();
  }

  expectNone(): void {
    this.pending.clear();
    this.publish();
  }

  served(): Served {
    return this.current;
  }

  /** Zone files being read that serve nothing yet, and files that failed to load and serve nothing (`/ready`). */
  loadState(): { loading: string[]; failed: { file: string; error: string }[] } {
    return { loading: [...new Set([...this.pending.keys(), ...this.loading])], failed: [...this.failed].map(([file, error]) => ({ file, error })) };
  }

  /** Calls `listener` after every new version of a zone is served (transfer/: journal, NOTIFY). */
  onVersion(listener: VersionListener): void {
    this.listeners.push(listener);
  }

  /** The version of each zone served now. */
  versions(): ZoneVersion[] {
    return [...this.entries.values()].map(versionOf);
  }

  version(origin: Name): ZoneVersion | undefined {
    const e = this.entries.get(origin.key);
    return e && versionOf(e);
  }

  /** Tells the listeners of the zones whose serial moved (or that are new) between two sets of entries. */
  private announce(before: ReadonlyMap<string, Entry>, after: Iterable<Entry>): void {
    if (this.deps.role === 'replica' || this.listeners.length === 0) return;
    for (const e of after) {
      const prev = before.get(e.prepared.zone.origin.key);
      if (e.unavailable !== undefined || (prev && prev.serial === e.serial && prev.unavailable === undefined)) continue;
      const next = versionOf(e);
      const old = prev && prev.unavailable === undefined ? versionOf(prev) : undefined;
      for (const l of this.listeners) {
        try {
          l(next, old);
        } catch (err) {
          this.deps.logger.error({ err, zone: next.origin.toString() }, 'version listener failed');
        }
      }
    }
  }

  /**
   * Re-prepares a zone from the data already parsed (no file read): a zone transferred signed gets a new
   * version when its signature period turns (transfersSigned), so secondaries receive the fresh RRSIGs.
   */
  resign(zoneId: string): Promise<void> {
    return this.serial(async () => {
      const e = this.entry(zoneId);
      const next = await this.loadEntry(e.loaded, structuredClone(e.admin));
      if (next.serial === e.serial) return;
      await this.persistVersion(next);
      await this.swapIn(next, e.file);
    });
  }

  /**
   * A key rollover step (rollover/): `edit` changes the zone's key store (a new key, key times) inside the change
   * queue, then the zone is prepared again from the data already parsed and served through the same swap as every
   * change: written (admin state), re-signed, served here and in the workers, a new serial announced (NOTIFY) when
   * what is served changed. Resolves with what `edit` returned, once the zone is served.
   */
  rekey<T>(zoneId: string, edit: (origin: Name) => Promise<T>): Promise<T> {
    return this.serial(async () => {
      const e = this.entry(zoneId);
      if (e.loaded.config.secondary) throw new AdminError(1004, 400, `${e.loaded.input.origin} is a secondary zone: tandem does not roll its keys`);
      const result = await edit(e.loaded.input.origin);
      const next = await this.loadEntry(e.loaded, structuredClone(e.admin));
      await this.persistVersion(next);
      await this.swapIn(next, e.file);
      this.deps.logger.info({ zone: e.loaded.input.origin.toString(), serial: next.serial }, 'zone keys changed');
      return result;
    });
  }

  /** Every TSIG key a zone's transfer and update settings name must be defined in the server config. */
  private checkKeys(loaded: LoadedZone): void {
    const known = this.deps.knownKey;
    if (!known) return;
    const c = loaded.config;
    const named: [string, string | undefined][] = [
      ...(c.transfer?.allow ?? []).map((a): [string, string | undefined] => ['zone.transfer.allow', a.key]),
      ...(c.transfer?.notify ?? []).map((n): [string, string | undefined] => ['zone.transfer.notify', n.key]),
      ...(c.secondary?.primaries ?? []).map((p): [string, string | undefined] => ['zone.secondary.primaries', p.key]),
      ...(c.update ?? []).map((g): [string, string | undefined] => ['zone.update', g.key]),
      ...(c.sync ?? []).map((p): [string, string | undefined] => [`zone.sync ${p.name}`, p.key]),
    ];
    for (const [where, key] of named) {
      if (key !== undefined && !known(key)) {
        throw new ZoneFileError({ file: loaded.file, reason: `${where}: TSIG key ${JSON.stringify(key)} is not defined in the server config (tsig:); \`tandem tsig-keygen ${key}\` makes one` });
      }
    }
  }

  /**
   * Serves `next` in place of the entry of its zone: published here, then other processes (workers, told to
   * read `file` again or given `packed`), then the version listeners (journal, NOTIFY).
   */
  private async swapIn(next: Entry, file: string, packed?: PackedZone, delta?: ZoneDelta): Promise<void> {
    const before = new Map(this.entries);
    this.entries.set(next.prepared.zone.origin.key, next);
    this.publish();
    await this.deps.afterChange?.(file, packed, delta);
    this.announce(before, [next]);
  }

  private async persistVersion(e: Entry): Promise<void> {
    if (this.deps.role === 'replica' || !e.versionChanged) return;
    await writeFileAtomic(adminPath(this.deps.stateDir, e.loaded.input.origin), JSON.stringify(e.admin, null, 2) + '\n');
    e.versionChanged = false;
  }

  /**
   * Re-reads the zones folder (SIGHUP), after the first read has ended. A file that fails keeps its last good
   * zone; removed files are dropped; every zone is swapped in at once. A folder that cannot be read changes
   * nothing and is returned as the error.
   */
  async reload(): Promise<Error[]> {
    await this.first?.catch(() => undefined);
    return this.serial(async () => {
      try {
        return await this.loadAll();
      } catch (err) {
        if (err instanceof ZonesFolderError) return [err];
        throw err;
      }
    });
  }

  /** Re-reads one zone file (a worker told that the primary changed it). */
  reloadFile(file: string): Promise<void> {
    return this.serial(async () => {
      this.serve(await this.loadEntry(await loadZoneFileAsync(file, { zoneDefaults: this.deps.zoneDefaults })));
    });
  }

  /**
   * Serves a zone parsed elsewhere (the primary's parse after an admin change, packed.ts): the same records
   * without parsing the file again, which for a large zone is most of the work.
   */
  reloadPacked(packed: PackedZone): Promise<void> {
    return this.serial(async () => {
      this.serve(await this.loadEntry(unpackLoadedZone(packed)));
    });
  }

  /**
   * Applies a change the primary made as a delta (a worker told by afterChange): this copy is patched the
   * same way, with the admin state the primary wrote; a copy of another serial reads the file instead.
   */
  applyDelta(file: string, delta: ZoneDelta): Promise<void> {
    return this.serial(async () => {
      const e = this.entries.get(Name.fromText(delta.origin).key);
      let next: Entry | undefined;
      if (e && e.serial === delta.from) {
        const admin = await readAdmin(adminPath(this.deps.stateDir, e.loaded.input.origin), now(this.deps));
        next = await applyZoneDelta(e, delta, admin, this.deps).catch((err: unknown) => {
          this.deps.logger.debug({ file, err: (err as Error).message }, 'delta not applied here: the file is read again');
          return undefined;
        });
      }
      this.serve(next ?? await this.loadEntry(await loadZoneFileAsync(file, { zoneDefaults: this.deps.zoneDefaults })));
    });
  }

  /** Serves one zone's new entry now (the others stay as they are). */
  private serve(entry: Entry): void {
    this.entries.set(entry.prepared.zone.origin.key, entry);
    this.pending.delete(entry.file);
    this.publish();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async loadFirst(opts: FirstLoadOptions): Promise<Error[]> {
    const folder = await this.serial(() => zoneFolder(this.deps.zonesDir));
    this.noZonesWarning(folder);
    const files = await loadOrder(folder.files);
    this.expect(files);
    await opts.order?.(files);
    const errors: Error[] = [];
    for (const file of files) {
      // One queue item per zone: an admin change to a zone already served need not wait for the others.
      await this.serial(async () => {
        const started = performance.now();
        let entry: Entry;
        let packed: PackedZone | undefined;
        try {
          let loaded: LoadedZone;
          const st = await this.stampOf(file);
          ({ loaded, packed } = await loadZoneFilePacked(file, { zoneDefaults: this.deps.zoneDefaults, onProgress: progressLogger(this.deps.logger, file, this.pending.get(file)) }));
          entry = await this.loadEntry(loaded);
          const other = this.entries.get(entry.prepared.zone.origin.key);
          if (other) throw new ZoneFileError({ file, reason: `zone ${entry.prepared.zone.origin} is already served from ${other.file}` });
          await this.persistVersion(entry);
          await this.stamp(file, st);
        } catch (err) {
          errors.push(err as Error);
          this.failed.set(file, (err as Error).message);
          this.deps.onLoad?.({ file, seconds: (performance.now() - started) / 1000, error: err as Error });
          this.pending.delete(file);
          this.publish();
          return;
        }
        this.deps.onLoad?.({ file, zone: entry.prepared.zone.origin, seconds: (performance.now() - started) / 1000 });
        for (const w of entry.loaded.warnings) this.deps.logger.warn({ file }, w);
        const key = entry.prepared.zone.origin.key;
        const prev = this.entries.get(key);
        this.serve(entry);
        this.announce(new Map(prev ? [[key, prev]] : []), [entry]);
        await opts.inService?.(loadedSummary(entry, performance.now() - started), file, packed);
      });
    }
    this.unreadWarnings(folder);
    return errors;
  }

  /** An empty zones folder is allowed (zones may come later, then SIGHUP) but worth a warning. */
  private noZonesWarning(folder: ZoneFolder): void {
    if (folder.files.length > 0) return;
    this.deps.logger.warn({ zones: this.deps.zonesDir }, 'no zone files in the zones folder (<zone>.yaml, <zone>.zone): every query is answered REFUSED until zone files are added (then SIGHUP)');
  }

  /** What tandem does not read in the folder is logged at warn once per load, never skipped silently. */
  private unreadWarnings(folder: ZoneFolder): void {
    for (const u of unreadFiles(folder, [...this.entries.values()].map((e) => e.loaded))) this.deps.logger.warn({ file: u.file }, u.reason);
  }

  private async loadAll(): Promise<Error[]> {
    const errors: Error[] = [];
    const next = new Map<string, Entry>();
    const byFile = new Map([...this.entries.values()].map((e) => [e.file, e]));
    const folder = await zoneFolder(this.deps.zonesDir);
    this.noZonesWarning(folder);
    const failed = new Map<string, string>();
    this.loading = new Set(folder.files.filter((f) => !byFile.has(f)));
    for (const file of folder.files) {
      const started = performance.now();
      try {
        const old = byFile.get(file)?.prepared.zone.origin;
        this.stamps.delete(file); // until it is read whole again
        const st = await this.stampOf(file);
        const entry = await this.loadEntry(await loadZoneFileAsync(file, { zoneDefaults: this.deps.zoneDefaults, onProgress: progressLogger(this.deps.logger, file, old) }));
        const other = next.get(entry.prepared.zone.origin.key);
        if (other) throw new ZoneFileError({ file, reason: `zone ${entry.prepared.zone.origin} is already served from ${other.file}` });
        next.set(entry.prepared.zone.origin.key, entry);
        await this.persistVersion(entry);
        await this.stamp(file, st);
        for (const w of entry.loaded.warnings) this.deps.logger.warn({ file }, w);
        this.deps.onLoad?.({ file, zone: entry.prepared.zone.origin, seconds: (performance.now() - started) / 1000 });
      } catch (err) {
        errors.push(err as Error);
        this.deps.onLoad?.({ file, seconds: (performance.now() - started) / 1000, error: err as Error });
        const old = byFile.get(file);
        if (old && !next.has(old.prepared.zone.origin.key)) next.set(old.prepared.zone.origin.key, old);
        else failed.set(file, (err as Error).message);
      } finally {
        this.loading.delete(file);
      }
    }
    this.failed = failed;
    const before = this.entries;
    this.entries = next;
    this.publish();
    this.unreadWarnings(folder);
    this.announce(before, next.values());
    return errors;
  }

  private async loadEntry(loaded: LoadedZone, admin?: AdminFile, transferred?: readonly Rr[]): Promise<Entry> {
    const origin = loaded.input.origin;
    const ts = now(this.deps);
    this.checkKeys(loaded);
    let unavailable: string | undefined;
    const secondary = loaded.config.secondary !== undefined;
    if (secondary) ({ loaded, unavailable } = await loadSecondary(loaded, this.deps.stateDir, this.deps.clock.now(), this.deps.logger, transferred));
    admin ??= await readAdmin(adminPath(this.deps.stateDir, origin), ts);
    if (loaded.config.dnssec.enabled && admin.dnssec.modifiedOn === null) {
      // Enabled in the zone file (not through the API): count it as enabled when the file was written.
      admin.dnssec.modifiedOn = await stat(loaded.file).then((s) => s.mtime.toISOString().replace(/\.\d{3}Z$/, 'Z'), () => ts);
    }
    claimsAtLoad(admin, loaded.input.records.filter((r) => r.type === RRType.DNSKEY && r.name.equals(origin)).map((r) => r.rdata), secondary);
    let serial = 0;
    let versionChanged = false;
    const version = (digest: string, fileSerial: number, legacyDigest: () => string): number => {
      // A secondary serves its primary's serial; replicas serve what the primary process decided.
      if (secondary) return (serial = fileSerial);
      if (this.deps.role === 'replica') return (serial = admin!.served?.serial ?? fileSerial);
      const d = decideSerial({
        policy: loaded.config.serialPolicy, fileSerial, explicit: !loaded.mtimeSerial, digest, stored: admin!.served, legacyDigest, now: this.deps.clock.now(),
      });
      if (d.behind !== undefined) {
        this.deps.logger.warn({ zone: origin.toString(), file: loaded.file, fileSerial: d.behind, serial: d.serial }, 'zone.soa.serial is behind the serial already served; serving a newer one (RFC 1982: serials never go back)');
      }
      if (d.changed) {
        admin!.served = { serial: d.serial, digest };
        versionChanged = true;
      }
      return (serial = d.serial);
    };
    const digestExtra = transfersSigned(loaded.config)
      ? `signed:${periodStart(this.deps.clock.now(), loaded.config.dnssec.signatureValidity)}`
      : undefined;
    // The version served now (if any) lends its denial chain and the RRSIGs of the links that stay (dnssec/chain.ts).
    const previous = this.entries.get(origin.key)?.prepared;
    const prepared = await prepareZone(loaded, this.deps, { cds: admin.dnssec.disabling ? 'delete' : 'publish', version, digestExtra, previous });
    // Line numbers only serve errors while building; a later change or reload parses the file anew.
    loaded.locations = { owners: new Map(), records: new Map(), soa: loaded.locations.soa, nameservers: loaded.locations.nameservers };
    return { file: loaded.file, id: zoneId(origin), loaded, prepared, admin, serial, versionChanged, ...(unavailable !== undefined ? { unavailable } : {}) };
  }

  private publish(): void {
    const zones: Zone[] = [];
    const signing = new Map<string, ZoneSigning>();
    const failing = new Map<string, Name>();
    for (const n of this.pending.values()) failing.set(n.key, n);
    for (const e of this.entries.values()) {
      if (e.unavailable !== undefined) {
        failing.set(e.prepared.zone.origin.key, e.prepared.zone.origin);
        continue;
      }
      zones.push(e.prepared.zone);
      if (e.prepared.signing) signing.set(e.prepared.zone.origin.key, e.prepared.signing);
    }
    this.current = { zones: new ZoneSet(zones), signing, failing };
    this.deps.onPublish?.();
  }

  // ---- secondary zones -------------------------------------------------------------------------

  /** The secondary zones (served or not), for the transfer scheduler. */
  secondaries(): ZoneVersion[] {
    return [...this.entries.values()].filter((e) => e.loaded.config.secondary).map(versionOf);
  }

  /**
   * Serves a transfer's records for a secondary zone, the way every change goes: validated by building the
   * zone (a transfer that does not build changes nothing and throws), written to the state folder, swapped
   * in, then workers and listeners (journal, NOTIFY to our own secondaries) are told.
   */
  applyTransfer(origin: Name, records: readonly Rr[], meta?: SecondaryMeta): Promise<ZoneVersion> {
    return this.serial(async () => {
      const e = this.entries.get(origin.key);
      if (!e?.loaded.config.secondary) throw new Error(`${origin} is not a secondary zone here`);
      const next = await this.loadEntry(await loadZoneFileAsync(e.file), structuredClone(e.admin), records);
      for (const w of next.loaded.warnings) this.deps.logger.warn({ zone: origin.toString() }, w);
      await writeCopy(this.deps.stateDir, origin, records);
      // The refresh state is written before workers re-read the zone: they must not see an old expiry.
      if (meta) await writeMeta(this.deps.stateDir, origin, meta);
      await this.persistVersion(next);
      await this.swapIn(next, e.file);
      return versionOf(next);
    });
  }

  /**
   * An IXFR for a secondary zone applied to the version served as a delta (ixfr-delta.ts): validated by patching the
   * zone (a change that does not build changes nothing), journaled beside the stored copy (secondary-store.ts), the
   * refresh state written, swapped in and announced, as applyTransfer does for a whole zone. Undefined when the IXFR
   * cannot be taken this way (nothing done: the caller applies it to the stored copy and calls applyTransfer).
   */
  applyIxfr(origin: Name, soa: Rr, changes: readonly Change[], meta?: SecondaryMeta): Promise<ZoneVersion | undefined> {
    return this.serial(async () => {
      const e = this.entries.get(origin.key);
      if (!e) return undefined;
      const delta = ixfrDelta(e, soa, changes);
      if (!delta) return undefined;
      let next: Entry;
      try {
        next = await applyZoneDelta(e, delta, e.admin, this.deps);
      } catch (err) {
        this.deps.logger.debug({ zone: origin.toString(), err: (err as Error).message }, 'IXFR not applied as a delta: the whole zone is built again');
        return undefined;
      }
      // The journal continues the stored copy only if that is of the version served (else the whole way writes it).
      const journal = await appendCopyChange(this.deps.stateDir, origin, { from: e.serial, soa, changes: [...changes] });
      if (!journal) return undefined;
      if (meta) await writeMeta(this.deps.stateDir, origin, meta);
      await this.swapIn(next, e.file);
      // A long journal is folded into the copy now and then (the whole copy written: O(zone), once per many changes).
      if (journal.entries >= JOURNAL_FOLD_ENTRIES || journal.bytes > Math.max(JOURNAL_FOLD_MIN_BYTES, journal.copyBytes / 4)) {
        await foldCopy(this.deps.stateDir, origin).catch((err: unknown) => this.deps.logger.warn({ zone: origin.toString(), err: (err as Error).message }, 'secondary copy journal not folded into the copy (tried again after the next IXFR)'));
      }
      return versionOf(next);
    });
  }

  /** Loads a secondary zone again from its files (after its refresh state changed: expired, or refreshed). */
  reloadSecondary(origin: Name): Promise<ZoneVersion | undefined> {
    return this.serial(async () => {
      const e = this.entries.get(origin.key);
      if (!e?.loaded.config.secondary) return undefined;
      const next = await this.loadEntry(await loadZoneFileAsync(e.file), structuredClone(e.admin));
      if (next.unavailable === e.unavailable && next.serial === e.serial) return versionOf(e);
      await this.swapIn(next, e.file);
      return versionOf(next);
    });
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
      const ts = now(this.deps);
      const admin: AdminFile = structuredClone(e.admin);
      const ctx = new ChangeContext(e, admin, ts);
      const result = edit(ctx);
      if (!ctx.changed) return result();
      if (e.loaded.config.secondary && ctx.touched().length) {
        throw new AdminError(1004, 400, `DNS Validation Error: ${e.loaded.input.origin} is a secondary zone: its records come by zone transfer from ${e.loaded.config.secondary.primaries.map((p) => `${p.host}:${p.port}`).join(', ')}; change them at the primary`);
      }
      let next: Entry;
      let edited: Awaited<ReturnType<typeof editZoneFileAsync>> | undefined;
      let write: Parameters<typeof writeFilesAtomic>[0] = [];
      // A few records below the apex of a file unchanged since it was read: applied as a delta (delta.ts); the
      // file's text is read, edited and encoded off this heap.
      const delta = deltaApplies(e, ctx, admin) && (await this.unchangedOnDisk(e.file))
        ? await deltaChange(e, ctx, admin, this.deps, this.deltaStats).catch((err: unknown) => {
          this.deps.logger.debug({ zone: e.loaded.input.origin.toString(), err: (err as Error).message }, 'change not applied as a delta: the whole zone is read again');
          return undefined;
        })
        : undefined;
      if (delta) {
        next = delta.next;
        write = [{ file: e.file, tmp: delta.tmp }];
      } else {
        const text = await readFile(e.file, 'utf8');
        const edits: ZoneEdit[] = [...ctx.edits, ...ctx.rrsetEdits()];
        if (ctx.touched().length && !ctx.serialSet) edits.push({ op: 'serial' });
        try {
          // Edited and parsed again as a whole (on a worker thread for a large file): the new zone must build.
          edited = await editZoneFileAsync(e.file, text, e.loaded.input.origin.toString(), edits, { mtime: new Date(this.deps.clock.now() * 1000), zoneDefaults: this.deps.zoneDefaults });
          ctx.checkReadBack(edited.loaded.input.records);
          next = await this.loadEntry(edited.loaded, admin);
          write = [
            ...(edited.text !== text ? [{ file: e.file, text: edited.text, old: text }] : []),
            ...(edited.others ?? []), // a master file's includes and settings
          ];
        } catch (err) {
          if (err instanceof AdminError) throw err;
          // The file as it is on disk may be what fails (edited by hand since it was loaded): say which line.
          const broken = await this.brokenOnDisk(e.file, text);
          if (broken) {
            throw new AdminError(1004, 400, `DNS Validation Error: the zone file on disk does not load, so no change can be written into it: ${broken.message}; fix the file (SIGHUP reloads it) and retry`);
          }
          // The new zone does not build: refuse the change; nothing has been written.
          const reason = err instanceof ZoneFileError ? err.reason : (err as Error).message;
          throw new AdminError(1004, 400, `DNS Validation Error: ${reason}`);
        }
      }
      admin.modifiedOn = ts;
      try {
        await writeFilesAtomic([
          { file: adminPath(this.deps.stateDir, e.loaded.input.origin), text: JSON.stringify(admin, null, 2) + '\n' },
          ...write,
        ]);
        await this.stamp(e.file);
      } catch (err) {
        if (!(err instanceof WriteError)) throw err;
        // Refused, every file as it was (writeFilesAtomic): a full disk is the operator's to fix, then a retry works.
        this.deps.logger.error({ zone: e.loaded.input.origin.toString(), file: err.file, err: err.message }, 'zone change not written: refused');
        const full = err.code === 'ENOSPC' || err.code === 'EDQUOT';
        throw new AdminError(1001, full ? 507 : 500, `the change could not be written: ${err.message}; nothing was changed and the zone is served as before${full ? '; free some space and retry' : ''}`);
      }
      next.loaded.warnings.forEach((w) => this.deps.logger.warn({ file: e.file }, w));
      next.versionChanged = false; // written with the admin state above
      await this.swapIn(next, e.file, edited?.packed, delta?.delta);
      this.deps.logger.info({ zone: e.loaded.input.origin.toString(), change: ctx.what, ...(delta ? { delta: true } : {}) }, 'zone changed');
      return result();
    });
  }

  /** The file's size, mtime and inode now, or undefined. */
  private async stampOf(file: string): Promise<string | undefined> {
    const st = await stat(file).catch(() => undefined);
    return st && `${st.size}:${st.mtimeMs}:${st.ino}`;
  }

  /** Notes the file as served now: `st` taken before it was read, or (after a write) now. */
  private async stamp(file: string, st?: string): Promise<void> {
    st ??= await this.stampOf(file);
    if (st) this.stamps.set(file, st);
    else this.stamps.delete(file);
  }

  /** Whether the file is as it was when last read or written here (not edited by hand since). */
  private async unchangedOnDisk(file: string): Promise<boolean> {
    const st = await this.stampOf(file);
    return st !== undefined && this.stamps.get(file) === st;
  }

  /** The error (with file and line) of a zone file's text as it is on disk, or undefined when it loads. */
  private async brokenOnDisk(file: string, text: string): Promise<ZoneFileError | undefined> {
    try {
      const loaded = await parseZoneFileAsync(file, text, { zoneDefaults: this.deps.zoneDefaults });
      if (!loaded.config.secondary) buildLoadedZone(loaded); // a secondary's records come by transfer
      return undefined;
    } catch (err) {
      return err instanceof ZoneFileError ? err : undefined;
    }
  }

  // ---- zones -------------------------------------------------------------------------------------

  private view(e: Entry): ZoneView {
    return {
      id: e.id, name: e.loaded.input.origin, nameservers: e.loaded.input.settings.nameservers.length
        ? e.loaded.input.settings.nameservers
        : [...(e.prepared.zone.apexNs.rdatas.map((r) => Name.read(r, 0).name))],
      defaultTtl: e.loaded.defaultTtl, serial: e.serial,
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
    return recordById(this.entry(zoneId), id);
  }

  recordsAt(zoneId: string, name: Name, type?: number): RecordView[] {
    const list = ownerRecords(this.entry(zoneId), name);
    return type === undefined ? [...list] : list.filter((r) => r.type === type);
  }

  private found(zoneId: string, id: string): RecordView {
    const r = this.record(zoneId, id);
    if (!r) throw new AdminError(81044, 404, 'Record does not exist.');
    return r;
  }

  createRecord(zoneId: string, rec: RecordInput, opts: SourceOptions = {}): Promise<RecordView> {
    return this.change(zoneId, (ctx) => {
      const key = ctx.isKey(rec) ? ctx.claimKey(rec.rdata, opts.source ?? 'records', rec.ttl, rec.comment) : ctx.add(rec);
      return () => this.byKey(zoneId, key);
    });
  }

  updateRecord(zoneId: string, id: string, rec: RecordInput, opts: SourceOptions = {}): Promise<RecordView> {
    return this.change(zoneId, (ctx) => {
      const old = this.found(zoneId, id);
      const key = ctx.replace(old, rec, opts.source);
      return () => this.byKey(zoneId, key);
    });
  }

  deleteRecord(zoneId: string, id: string, opts: SourceOptions = {}): Promise<RecordView> {
    return this.change(zoneId, (ctx) => {
      const old = this.found(zoneId, id);
      if (!ctx.isKey(old)) {
        ctx.remove(old);
        return () => old;
      }
      // An imported key: only the caller's claim goes; the record stays while another source holds the key.
      const left = ctx.releaseKeyAs(old.rdata, opts);
      return () => ({ ...old, keySources: left });
    });
  }

  batch(zoneId: string, ops: BatchInput, opts: SourceOptions = {}): Promise<BatchResult> {
    return this.change(zoneId, (ctx) => {
      const deletes = ops.deletes.map((id) => {
        const old = this.found(zoneId, id);
        if (!ctx.isKey(old)) ctx.remove(old);
        else return { ...old, keySources: ctx.releaseKeyAs(old.rdata, opts) };
        return old;
      });
      const patchKeys = ops.patches.map((p) => {
        const old = this.found(zoneId, p.id);
        return ctx.replace(old, { name: old.name, type: old.type, ttl: old.ttl, rdata: old.rdata, comment: old.comment, ...p.patch }, opts.source);
      });
      const putKeys = ops.puts.map((p) => ctx.replace(this.found(zoneId, p.id), p.record, opts.source));
      const postKeys = ops.posts.map((r) => (ctx.isKey(r) ? ctx.claimKey(r.rdata, opts.source ?? 'records', r.ttl, r.comment) : ctx.add(r)));
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
    const owner = ownerOfKey(key) ?? '';
    const found = (x: { type: number; name: Name; rdata: Uint8Array }) => x.name.key === owner && x.type !== RRType.SOA && contentKey(x) === key;
    const view = e.views?.find(found);
    if (view) return view;
    const rr = e.views ? undefined : rrsAt(e, owner).find(found);
    if (!rr) throw new AdminError(81044, 404, 'Record does not exist.');
    return viewOf(e, rr, key);
  }

  // ---- RFC 2136 UPDATE ---------------------------------------------------------------------------

  /**
   * One UPDATE message's update section as one change (update/ parses the message, checks TSIG and the policy):
   * inside the change queue, `prerequisite` is evaluated against the zone as served at that moment (RFC 2136
   * §3.2), then `ops` are applied in order (update-apply.ts) and the result goes the way of every change:
   * validated by building, written, re-signed, served, NOTIFY sent. Resolves once the change is durable (the
   * answer comes after the commit): ok with the serial (unchanged when nothing changed), or a prerequisite's
   * RCODE, or REFUSED (5) with the reason, nothing changed.
   */
  applyUpdate(zoneId: string, ops: readonly UpdateOp[], opts: UpdateOptions = {}): Promise<UpdateResult> {
    const origin = this.entry(zoneId).loaded.input.origin;
    return this.change(zoneId, (ctx) => {
      const failed = opts.prerequisite?.(ctx.entry.prepared.zone);
      if (failed) throw new PrerequisiteFailed(failed.rcode, failed.reason);
      if (ctx.entry.loaded.config.secondary) throw new UpdateRefused(`${origin} is a secondary zone: its records come by zone transfer; send UPDATE to its primary`);
      const notes = applyUpdateOps(ctx, ops);
      const changes = ctx.what;
      return (): UpdateResult => ({ ok: true, serial: this.entry(zoneId).serial, changes, ignored: notes.ignored });
    }).catch((err: unknown): UpdateResult => {
      if (err instanceof PrerequisiteFailed) return { ok: false, rcode: err.rcode, reason: err.message };
      if (err instanceof AdminError) return { ok: false, rcode: 5, reason: err.message.replace(/^DNS Validation Error: /, '') };
      throw err;
    });
  }

  // ---- key sync (update/sync/) -------------------------------------------------------------------

  /** The imported keys `source` holds now (claims.ts). */
  keysHeldBy(zoneId: string, source: KeySource): Uint8Array[] {
    const e = this.entry(zoneId);
    return e.prepared.imported.filter((r) => holders(e.admin, r).includes(source));
  }

  /**
   * Makes `source` hold exactly `keys` (one peer's keys as key sync pulled them): its claims on other keys go
   * (a key stays while another source holds it), the new keys are claimed with every check of an imported key.
   * A key that fails a check is left out and named in `refused`; the others still change, in one change.
   */
  setKeyClaims(zoneId: string, source: KeySource, keys: readonly Uint8Array[], ttl: number): Promise<{ added: number[]; released: number[]; refused: { keyTag: number; reason: string }[] }> {
    const origin = this.entry(zoneId).loaded.input.origin;
    return this.change(zoneId, (ctx) => {
      const held = ctx.at(origin, RRType.DNSKEY).filter((r) => ctx.isKey(r) && ctx.keySources(r.rdata).includes(source)).map((r) => r.rdata);
      const out = { added: [] as number[], released: [] as number[], refused: [] as { keyTag: number; reason: string }[] };
      for (const r of held) {
        if (keys.some((k) => rdataEquals(k, r))) continue;
        ctx.releaseKey(r, source);
        out.released.push(keyTag(r));
      }
      for (const k of keys) {
        if (held.some((r) => rdataEquals(k, r))) continue;
        try {
          ctx.claimKey(k, source, ttl);
          out.added.push(keyTag(k));
        } catch (err) {
          if (!(err instanceof AdminError)) throw err;
          out.refused.push({ keyTag: keyTag(k), reason: err.message.replace(/^DNS Validation Error: /, '') });
        }
      }
      return () => out;
    });
  }

  // ---- DNSSEC ------------------------------------------------------------------------------------

  private status(e: Entry): DnssecStatus {
    const d = e.admin.dnssec;
    // A pre-signed zone is signed where it comes from; its DS is the signer's business, not ours to track.
    if (e.loaded.config.dnssec.presigned) return 'active';
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
      presigned: cfg.presigned || e.loaded.config.secondary?.dnssec === 'presigned',
      useNsec3: usesNsec3(cfg.denial),
      keys: [],
    };
    const kv = (rdata: Uint8Array, source: KeyView['source'], recordId?: string, ttl = cfg.dnskeyTtl): KeyView => {
      const f = parseDnskeyRdata(rdata);
      return { keyTag: keyTag(rdata), flags: f.flags, algorithm: f.algorithm, publicKey: Buffer.from(f.publicKey).toString('base64'), dnskey: rdata, ttl, source, recordId };
    };
    if (cfg.presigned) {
      // Served as given: the zone's own DNSKEY RRset, every key someone else's; no KSK or DS of ours.
      const set = e.prepared.zone.nodes.get(origin.key)?.rrsets.get(RRType.DNSKEY);
      view.useNsec3 = e.prepared.presigned?.denial === 'nsec3';
      view.keys = (set?.rdatas ?? []).map((r) => kv(r, 'external', undefined, set!.ttl));
      return view;
    }
    const keys = e.prepared.keys;
    if (!keys) return view;
    const ttl = cfg.dnskeyTtl;
    view.ksk = kv(keys.ksk.dnskey, 'own');
    const ds = dsRdata(origin, keys.ksk.dnskey, 2);
    view.ds = { rdata: ds, text: `${origin.toString()} ${ttl} IN DS ${formatRdata(RRType.DS, ds)}`, digestHex: Buffer.from(ds.subarray(4)).toString('hex').toUpperCase() };
    view.keys = [view.ksk, kv(keys.zsk.dnskey, 'own')];
    // A rollover's keys published without signing (rollover/): own keys too.
    for (const k of keys.published) if (k !== keys.ksk && k !== keys.zsk) view.keys.push(kv(k.dnskey, 'own'));
    for (const rdata of e.prepared.imported) {
      const rec = ownerRecords(e, origin).find((r) => r.type === RRType.DNSKEY && rdataEquals(r.rdata, rdata));
      view.keys.push({ ...kv(rdata, 'external', rec?.id), ttl: rec?.ttl ?? ttl, sources: holders(e.admin, rdata) });
    }
    return view;
  }

  patchDnssec(zoneId: string, patch: { status?: 'active' | 'disabled'; multiSigner?: boolean; presigned?: boolean; useNsec3?: boolean }): Promise<DnssecView> {
    return this.change(zoneId, (ctx) => {
      const cfg = ctx.entry.loaded.config.dnssec;
      const sec = ctx.entry.loaded.config.secondary;
      if (sec) {
        // A secondary zone's DNSSEC is its mode (the provider docs' three, plus off): presigned serves the
        // primary's signatures, live and multi-signer sign with our keys.
        let mode = sec.dnssec;
        if (patch.presigned === true) mode = 'presigned';
        else if (patch.presigned === false && mode === 'presigned') mode = 'off';
        if (patch.status === 'active' && mode === 'off') mode = 'live';
        if (patch.multiSigner === true) mode = 'multi-signer';
        else if (patch.multiSigner === false && mode === 'multi-signer') mode = 'live';
        if (mode !== sec.dnssec) {
          ctx.setting(['secondary', 'dnssec'], mode);
          if (mode === 'live' || mode === 'multi-signer') ctx.admin.dnssec = { ...ctx.admin.dnssec, modifiedOn: ctx.ts, disabling: false };
          ctx.what.push(`secondary dnssec ${mode}`);
        }
        patch = { ...patch, presigned: undefined, multiSigner: undefined, status: patch.status === 'active' ? undefined : patch.status };
      }
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
        const external = ctx.at(ctx.entry.loaded.input.origin, RRType.DNSKEY);
        if (!patch.multiSigner && external.length) {
          throw new AdminError(1004, 400, `remove the ${external.length} DNSKEY record(s) of other providers before turning dnssec_multi_signer off`);
        }
        ctx.setting(['dnssec', 'multi_signer'], patch.multiSigner);
        ctx.what.push(`multi_signer ${patch.multiSigner}`);
      }
      // dnssec_use_nsec3 (Cloudflare): true selects `nsec3` (RFC 5155 made per answer, as Cloudflare signs
      // online) unless the zone already denies with NSEC3 (`nsec3-chain` stays); false turns either NSEC3 mode
      // back to `compact` and leaves the NSEC modes as they are.
      if (patch.useNsec3 !== undefined && patch.useNsec3 !== usesNsec3(cfg.denial)) {
        ctx.setting(['dnssec', 'denial'], patch.useNsec3 ? 'nsec3' : 'compact');
        if (!patch.useNsec3 && cfg.nsec3OptOut) ctx.setting(['dnssec', 'nsec3_opt_out'], false);
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
      if (ctx.entry.loaded.config.secondary && ctx.entry.loaded.config.secondary.dnssec !== 'off') {
        ctx.setting(['secondary', 'dnssec'], 'off');
        ctx.admin.dnssec = { modifiedOn: null, parentDs: null, disabling: false };
        ctx.what.push('dnssec deleted');
      } else if (ctx.entry.loaded.config.dnssec.enabled) {
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
      const source = ns1Source(set);
      const fresh: Uint8Array[] = [];
      for (const k of keys) {
        const pub = Buffer.from(k.publicKey, 'base64');
        const rdata = new Uint8Array(4 + pub.length);
        rdata[0] = k.flags >> 8; rdata[1] = k.flags & 0xff; rdata[2] = k.protocol; rdata[3] = k.algorithm;
        rdata.set(pub, 4);
        if (!fresh.some((f) => rdataEquals(f, rdata))) fresh.push(rdata);
      }
      const old = (ctx.admin.keySets[set]?.keys ?? []).map((b64) => new Uint8Array(Buffer.from(b64, 'base64')));
      // NS1 has no multi-signer switch: adding external keys turns it on.
      if (!ctx.entry.loaded.config.dnssec.multiSigner) ctx.setting(['dnssec', 'multi_signer'], true);
      // The set's claims change; keys other sources hold stay (claims.ts).
      for (const r of old) if (!fresh.some((f) => rdataEquals(f, r))) ctx.releaseKey(r, source);
      for (const r of fresh) if (!old.some((o) => rdataEquals(o, r))) ctx.claimKey(r, source, ttl);
      ctx.admin.keySets[set] = { ttl, keys: fresh.map(keyId) };
      ctx.changed = true;
      ctx.what.push(`external key set ${set}`);
      return () => this.externalKeySets(zoneId).find((s) => s.name === set)!;
    });
  }

  deleteExternalKeySet(zoneId: string, set: string): Promise<void> {
    return this.change(zoneId, (ctx) => {
      const old = ctx.admin.keySets[set];
      if (!old) throw new AdminError(404, 404, `external key set ${set} not found`);
      // Only the set's claims go: a key another source (the CLI, a dns_record, another set) holds stays.
      for (const b64 of old.keys) ctx.releaseKey(new Uint8Array(Buffer.from(b64, 'base64')), ns1Source(set));
      delete ctx.admin.keySets[set];
      ctx.changed = true;
      ctx.what.push(`external key set ${set} removed`);
      return () => undefined;
    });
  }
}
