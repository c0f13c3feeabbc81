// An admin change applied as a delta (issue 16: a change costs the change, not the zone). The common change of
// a large zone — a few records at names below the apex — is written into the file by the slice path
// (yamledit.ts: only the slices holding the changed owners are parsed), read back from those slices alone,
// and applied to the served zone in memory (zone/patch.ts): the changed RRsets, their signatures, the denial
// chain's neighbours. The digest behind the serial is patched (version.ts), record views are carried over.
// A master-file zone takes the same path: its file is edited and read back range by range (masterrange.ts).
// Whatever this path does not cover (settings, the apex, zone cuts, DNAME, a master file with $INCLUDE,
// secondaries, pre-signed zones, a file changed on disk since it was read) goes the whole way: parse, build, sign.
import { Name } from '../dns/name.js';
import { rm } from 'node:fs/promises';
import type { Rr, RRset } from '../dns/rr.js';
import { RRClass, RRType, typeName } from '../dns/types.js';
import { keep } from '../dns/slab.js';
import { isMasterFile } from '../config/masterzone.js';
import { refusal } from '../config/zonefile.js';
import { patchZone, type RrsetChange } from '../zone/patch.js';
import type { AdminFile } from './admin-file.js';
import type { ChangeContext } from './change-context.js';
import { editMasterFileRanges, editZoneFileParts } from './offthread.js';
import { preparePatched, type ZoneLoaderDeps } from './prepare.js';
import { contentKey, rrsAt, viewOf, type Entry, type RecordLayers } from './record-views.js';
import { decideSerial, isLegacyDigest, patchDigest, soaSerial, withSerial } from './version.js';
import { firstLabelKey, type ZoneEdit } from './yamledit.js';
import { transfersSigned } from './zone-version.js';
import { periodStart } from '../dnssec/window.js';
import type { ZoneDefaults } from '../config/masterzone.js';

/** Counters of the delta path (tests: a change's cost does not grow with the zone). */
export interface DeltaStats {
  /** Records read back from the edited file. */
  recordsParsed: number;
  /** Records the change removed and added (the digest's work). */
  recordsHashed: number;
  /** RRsets handed to the patched zone. */
  rrsets: number;
  /** Nodes made or dropped in the zone's index (changed owners, their empty non-terminals and parents). */
  nodes: number;
}

/** Whether a change can be applied as a delta (else: the whole file is parsed and the zone built again). */
export function deltaApplies(e: Entry, ctx: ChangeContext, admin: AdminFile): boolean {
  const cfg = e.loaded.config;
  if (ctx.edits.length > 0 || ctx.serialSet || ctx.touched().length === 0) return false;
  if (cfg.secondary || cfg.dnssec.presigned || e.unavailable !== undefined) return false;
  if (isMasterFile(e.file) && (e.loaded.includes?.length ?? 0) > 0) return false; // the whole way edits the included files
  if (!admin.served || isLegacyDigest(admin.served.digest) || admin.dnssec.disabling !== e.admin.dnssec.disabling) return false;
  const origin = e.loaded.input.origin;
  // The apex (server-made RRsets, the served NS), zone cuts and DNAME (what they occlude) need a whole build.
  return ctx.touched().every(([owner, type]) => !owner.equals(origin) && type !== RRType.NS && type !== RRType.DNAME);
}

export interface DeltaDeps extends ZoneLoaderDeps {
  zoneDefaults?: ZoneDefaults;
  /** Files from this size on are edited and read back slice by slice (default zonefile.ts SLICE_FROM_BYTES; tests set it lower). */
  sliceFromBytes?: number;
  /** Lines per slice (default zonefile.ts SLICE_LINES; tests). */
  sliceLines?: number;
  /** Files from this size on are edited on a worker thread (default offthread.ts OFF_THREAD_FROM_BYTES; tests). */
  offThreadFromBytes?: number;
}

/**
 * A change as data, to apply to a served entry of serial `from` (the primary's, and a cluster worker's copy:
 * ManagerOptions.afterChange hands it over, so no process parses the file again). Names are absolute text.
 */
export interface ZoneDelta {
  origin: string;
  from: number;
  serial: number;
  /** The file's SOA after the change (its serial the file's; the served one is `serial`). */
  soa: { ttl: number; rdata: Uint8Array };
  mtimeSerial: boolean;
  /** Every record of each changed owner, as the change leaves it. */
  owners: { owner: string; records: { type: number; ttl: number; rdata: Uint8Array }[] }[];
  /** The RRsets (owner, type) the change touched. */
  rrsets: { owner: string; type: number }[];
}

/**
 * The change in `ctx` applied to `e`: the zone file's new content in a temp file beside it (the caller commits
 * it with the admin state: atomic.ts writeFilesAtomic) and the entry to serve, with `admin.served` set to the new
 * version. Nothing else is written here, and no temp file is left when it throws. Throws when anything does not work out; the caller then
 * takes the whole way, which gives the same result or the error a whole build gives.
 */
export async function deltaChange(e: Entry, ctx: ChangeContext, admin: AdminFile, deps: DeltaDeps, stats?: DeltaStats): Promise<{ next: Entry; tmp: string; delta: ZoneDelta }> {
  const origin = e.loaded.input.origin;
  const owners = ctx.touchedOwners();
  const edits: ZoneEdit[] = [...ctx.rrsetEdits(), { op: 'serial' }];
  let edited: ReadBack;
  if (isMasterFile(e.file)) {
    // The record policy the whole way applies when it reads the file (masterzone.ts); the YAML read-back applies it too.
    for (const x of edits) if (x.op === 'rrset' && x.rdatas.length && refusal(x.type, typeName(x.type), e.loaded.config)) throw new Error(`${typeName(x.type)}: refused`);
    // The changed owners' records as served: what the file's lines found for them must hold (masterrange.ts).
    const before = [...owners.values()].map((o) => ({ owner: o.toString(), records: rrsAt(e, o.key).map((r) => ({ type: r.type, ttl: r.ttl, rdata: r.rdata })) }));
    const r = await editMasterFileRanges(e.file, origin.toString(), edits, before, { offThreadFromBytes: deps.offThreadFromBytes });
    const records = r.records.map((x): Rr => ({ name: Name.fromText(x.owner), type: x.type, class: RRClass.IN, ttl: x.ttl, rdata: x.rdata }));
    edited = { tmp: r.tmp, origin, records, mtimeSerial: false };
  } else {
    const readBack = [...owners.values()].map(firstLabelKey);
    const y = await editZoneFileParts(e.file, origin.toString(), edits, readBack, { mtime: new Date(deps.clock.now() * 1000), zoneDefaults: deps.zoneDefaults, sliceFromBytes: deps.sliceFromBytes, sliceLines: deps.sliceLines, offThreadFromBytes: deps.offThreadFromBytes });
    edited = { tmp: y.tmp, origin: y.loaded.input.origin, records: y.loaded.input.records, mtimeSerial: y.loaded.mtimeSerial === true };
  }
  try {
    return await afterEdit(e, ctx, admin, deps, edited, stats);
  } catch (err) {
    await rm(edited.tmp, { force: true }); // the edited file is not used: its temp file goes
    throw err;
  }
}

/** The edited file in its temp file, and the records read back from the parts of it that hold the change. */
interface ReadBack {
  tmp: string;
  origin: Name;
  records: Rr[];
  mtimeSerial: boolean;
}

async function afterEdit(
  e: Entry, ctx: ChangeContext, admin: AdminFile, deps: DeltaDeps, edited: ReadBack, stats?: DeltaStats,
): Promise<{ next: Entry; tmp: string; delta: ZoneDelta }> {
  const origin = e.loaded.input.origin;
  const owners = ctx.touchedOwners();
  if (!edited.origin.equals(origin)) throw new Error('the edited file names another zone');
  ctx.checkReadBack(edited.records);
  const fileSoa = edited.records.find((r) => r.type === RRType.SOA);
  if (!fileSoa) throw new Error('the edited file has no SOA');
  const delta: ZoneDelta = {
    origin: origin.toString(), from: e.serial, serial: 0, soa: { ttl: fileSoa.ttl, rdata: fileSoa.rdata }, mtimeSerial: edited.mtimeSerial,
    owners: [...owners.values()].map((o) => ({ owner: o.toString(), records: ctx.at(o).map((r) => ({ type: r.type, ttl: r.ttl, rdata: r.rdata })) })),
    rrsets: ctx.touched().map(([o, type]) => ({ owner: o.toString(), type })),
  };
  const { removed, added, layers } = dataAfter(e, delta, fileSoa);

  // The serial: the digest patched with what left and what came (the SOA without its serial is the same).
  const cfg = e.loaded.config;
  const extra = transfersSigned(cfg) ? `signed:${periodStart(deps.clock.now(), cfg.dnssec.signatureValidity)}` : '';
  const oldSoa = soaRecordOf(e);
  const digest = patchDigest(admin.served!.digest, e.loaded.input.settings, extra, oldSoa ? [oldSoa, ...removed] : removed, [fileSoa, ...added]);
  if (!digest) throw new Error('the stored digest is of the older form');
  const d = decideSerial({
    policy: cfg.serialPolicy, fileSerial: soaSerial(fileSoa.rdata), explicit: !delta.mtimeSerial, digest, stored: admin.served, now: deps.clock.now(),
  });
  if (d.behind !== undefined) {
    deps.logger.warn({ zone: origin.toString(), file: e.file, fileSerial: d.behind, serial: d.serial }, 'zone.soa.serial is behind the serial already served; serving a newer one (RFC 1982: serials never go back)');
  }
  delta.serial = d.serial;
  const next = await entryAfter(e, delta, { removed, added, layers, fileSoa }, { ...admin, served: { serial: d.serial, digest } }, deps, stats);
  admin.served = { serial: d.serial, digest }; // last: a throw above leaves the admin state as it was
  next.admin = admin;
  if (stats) stats.recordsParsed += edited.records.length;
  return { next, tmp: edited.tmp, delta };
}

/**
 * A change made elsewhere, applied to this process's copy of the zone without reading the zone file: the primary's
 * change in a cluster worker (the same entry the primary serves, made the same way; `admin` as the primary wrote it),
 * or an IXFR a secondary zone received (ixfr-delta.ts).
 */
export async function applyZoneDelta(e: Entry, delta: ZoneDelta, admin: AdminFile, deps: DeltaDeps): Promise<Entry> {
  if (delta.from !== e.serial || delta.origin !== e.loaded.input.origin.toString()) throw new Error(`the change is from serial ${delta.from}, this copy serves ${e.serial}`);
  const origin = e.loaded.input.origin;
  const fileSoa: Rr = { name: origin, type: RRType.SOA, class: RRClass.IN, ttl: delta.soa.ttl, rdata: delta.soa.rdata };
  return entryAfter(e, delta, { ...dataAfter(e, delta, fileSoa), fileSoa }, admin, deps);
}

/** Changed owners kept beside the records of the last whole load before they are folded into one list. */
const FOLD_OWNERS_AT = 16_384;

/**
 * The zone data after `delta`, as layers (Entry.layers): the changed owners' records replace theirs (no list
 * of every record is made); `removed` and `added` are what the digest needs.
 */
function dataAfter(e: Entry, delta: ZoneDelta, fileSoa: Rr): { removed: Rr[]; added: Rr[]; layers: RecordLayers } {
  const origin = e.loaded.input.origin;
  const owners = new Map(e.layers?.owners ?? []);
  const removed: Rr[] = [];
  const added: Rr[] = [];
  for (const o of delta.owners) {
    const fresh = Name.fromText(o.owner);
    if (!fresh.isSubdomainOf(origin)) throw new Error(`${o.owner} is not in the zone`);
    removed.push(...rrsAt(e, fresh.key));
    // The zone's own Name object when the owner exists (its labels are in the slabs already).
    const name = e.prepared.zone.nodes.get(fresh.key)?.name ?? fresh;
    const list = o.records.map((r): Rr => ({ name, type: r.type, class: RRClass.IN, ttl: r.ttl, rdata: keep(r.rdata) }));
    owners.set(fresh.key, list);
    added.push(...list);
  }
  let base = e.layers?.base ?? e.loaded.input.records;
  if (owners.size >= FOLD_OWNERS_AT) {
    base = materialize(fileSoa, base, owners);
    owners.clear();
  }
  return { removed, added, layers: { soa: fileSoa, base, owners } };
}

/** Every record of layered data: the SOA first, the unchanged owners' records, then the changed owners'. */
function materialize(soa: Rr, base: readonly Rr[], owners: ReadonlyMap<string, readonly Rr[]>): Rr[] {
  const out: Rr[] = [soa];
  for (const rr of base) if (rr.type !== RRType.SOA && !owners.has(rr.name.key)) out.push(rr);
  for (const list of owners.values()) out.push(...list);
  return out;
}

/** The zone data's SOA (the file's, before the serial policy): the layers keep it, a whole load has it first. */
function soaRecordOf(e: Entry): Rr | undefined {
  const soa = e.layers?.soa;
  if (soa) return soa;
  const first = e.loaded.input.records[0];
  return first?.type === RRType.SOA ? first : e.loaded.input.records.find((r) => r.type === RRType.SOA);
}

/** The entry serving `delta`'s version: the zone patched (the touched RRsets whole, the SOA with the served serial). */
async function entryAfter(
  e: Entry, delta: ZoneDelta, data: { removed: Rr[]; added: Rr[]; layers: RecordLayers; fileSoa: Rr }, admin: AdminFile, deps: DeltaDeps, stats?: DeltaStats,
): Promise<Entry> {
  const zone = e.prepared.zone;
  const changes: RrsetChange[] = [];
  const rrsets: RRset[] = [];
  const touched: [Name, number][] = [];
  for (const t of delta.rrsets) {
    const key = Name.fromText(t.owner).key;
    const list = data.added.filter((r) => r.name.key === key && r.type === t.type);
    const name = zone.nodes.get(key)?.name ?? Name.fromText(t.owner);
    const rrset = list.length ? { name, type: t.type, class: RRClass.IN, ttl: Math.min(...list.map((r) => r.ttl)), rdatas: list.map((r) => r.rdata) } : undefined;
    changes.push({ name, type: t.type, rrset });
    touched.push([name, t.type]);
    if (rrset) rrsets.push(rrset);
  }
  const soa: RRset = { name: zone.origin, type: RRType.SOA, class: RRClass.IN, ttl: data.fileSoa.ttl, rdatas: [keep(withSerial(data.fileSoa.rdata, delta.serial))] };
  const patched = patchZone(zone, changes, { soa, recordDelta: data.added.length - data.removed.length });
  const prepared = await preparePatched(e.prepared, e.loaded, patched.zone, { names: patched.changedNames, rrsets }, deps);
  // Every record in one list only when something asks for it (a transfer's apex NS, a whole build, the API's list).
  const { origin, source, settings } = e.loaded.input;
  let records: Rr[] | undefined;
  const input = {
    origin, source, settings,
    get records(): Rr[] {
      records ??= materialize(data.fileSoa, data.layers.base, data.layers.owners);
      return records;
    },
  };
  const loaded = {
    file: e.loaded.file, config: e.loaded.config, warnings: [] as string[], defaultTtl: e.loaded.defaultTtl, locations: e.loaded.locations, input,
    ...(delta.mtimeSerial ? { mtimeSerial: true as const } : {}),
  };
  const next: Entry = { file: e.file, id: e.id, loaded, prepared, admin, serial: delta.serial, versionChanged: false, layers: data.layers, changed: { from: e.serial, rrsets: touched } };
  // Record views made for the previous version stay valid for every owner the change did not touch.
  if (e.views) {
    const owners = new Set(data.added.map((r) => r.name.key).concat(data.removed.map((r) => r.name.key)));
    next.views = [...e.views.filter((v) => !owners.has(v.name.key)), ...data.added.map((rr) => viewOf(next, rr, contentKey(rr)))];
  }
  if (stats) {
    stats.recordsHashed += data.removed.length + data.added.length + 2;
    stats.rrsets += rrsets.length;
    stats.nodes += patched.changedNames.length;
  }
  return next;
}
