// The API's view of a zone's records (ids, timestamps, comments from the admin state) and the served entry
// they belong to.
import { createHash } from 'node:crypto';
import type { LoadedZone } from '../config/zonefile.js';
import type { Rr } from '../dns/rr.js';
import { canonicalRdata } from '../dns/rdata.js';
import { RRType } from '../dns/types.js';
import type { Name } from '../dns/name.js';
import type { AdminFile } from './admin-file.js';
import { holders } from './claims.js';
import type { Prepared } from './prepare.js';
import type { RecordView } from './types.js';

export interface Entry {
  file: string;
  id: string;
  loaded: LoadedZone;
  prepared: Prepared;
  admin: AdminFile;
  /** Records of the zone data (not SOA, not generated DNSSEC records) as the API shows them; made on first use. */
  views?: RecordView[];
  /** The serial served (the file's, or the one the serial policy chose). */
  serial: number;
  /** The admin state's `served` changed while loading: the loader persists it. */
  versionChanged: boolean;
  /** Set for a secondary zone that is not served, with the reason (state/secondary.ts). */
  unavailable?: string;
  /**
   * Set for a version made by delta changes (state/delta.ts): the records of the last whole load and the owners
   * changed since, by Name.key (an empty list: the owner has no records now). `loaded.input.records` is then
   * made from these when first read; an owner's records never need it (`rrsAt`).
   */
  layers?: RecordLayers;
  /** This version is serial `from`'s with only these RRsets changed (a delta change, state/delta.ts; ZoneVersion.changed). */
  changed?: { from: number; rrsets: readonly (readonly [Name, number])[] };
}

export interface RecordLayers {
  /** The zone data's SOA now (the file's serial); `base` may hold an older one. */
  soa: Rr;
  base: readonly Rr[];
  owners: ReadonlyMap<string, readonly Rr[]>;
}

/** The zone data records of one owner (by Name.key), SOA left out: from the changed owners, else found in the records. */
export function rrsAt(e: Entry, key: string): readonly Rr[] {
  const changed = e.layers?.owners.get(key);
  if (changed) return changed;
  // The served zone's node first: a name without data there has none in the zone data either (a zone that builds
  // serves every record; a pre-signed zone's RRSIGs sit beside the tree), so an added name costs no search of
  // a million records (issue 16).
  const node = e.prepared.zone.nodes.get(key);
  if (key !== e.loaded.input.origin.key && (!node || node.rrsets.size === 0) && !e.prepared.zone.presigned) return [];
  const out: Rr[] = [];
  for (const rr of e.layers?.base ?? e.loaded.input.records) if (rr.name.key === key && rr.type !== RRType.SOA) out.push(rr);
  return out;
}

/** The API's view of a zone's records, built when first asked for (large zones pay nothing at load). */
export function recordsOf(e: Entry): RecordView[] {
  if (e.views) return e.views;
  const views: RecordView[] = [];
  for (const rr of e.loaded.input.records) if (rr.type !== RRType.SOA) views.push(viewOf(e, rr, contentKey(rr)));
  e.views = views;
  return views;
}

/** The views of one owner's records (no SOA); rrsAt searches a large zone only for names that have data. */
export function ownerRecords(e: Entry, name: Name): readonly RecordView[] {
  if (e.views) return e.views.filter((v) => v.name.key === name.key);
  return rrsAt(e, name.key).map((rr) => viewOf(e, rr, contentKey(rr)));
}

/**
 * The record with API id `id`, or undefined. Ids of records the API made or changed are in the admin state;
 * the others are a hash of the content, so finding one of those means making every view once (kept on the
 * entry, and carried to the next version by a delta change).
 */
export function recordById(e: Entry, id: string): RecordView | undefined {
  if (!e.views) {
    for (const [key, meta] of Object.entries(e.admin.records)) {
      if (meta.id !== id) continue;
      const owner = ownerOfKey(key);
      const found = owner !== undefined ? rrsAt(e, owner).find((rr) => contentKey(rr) === key) : undefined;
      if (found) return viewOf(e, found, key);
    }
  }
  return recordsOf(e).find((r) => r.id === id);
}

/** The owner's Name.key in a contentKey (`owner|type|rdata hex`; the owner may hold `|`). */
export function ownerOfKey(key: string): string | undefined {
  const b = key.lastIndexOf('|');
  const a = b > 0 ? key.lastIndexOf('|', b - 1) : -1;
  return a > 0 ? key.slice(0, a) : undefined;
}

/** One record's view; `key` is its contentKey. */
export function viewOf(e: Entry, rr: Rr, key: string): RecordView {
  const meta = e.admin.records[key] ?? {
    id: createHash('sha256').update(`${e.id}|${key}`).digest().toString('hex', 0, 16),
    createdOn: e.admin.createdOn,
    modifiedOn: e.admin.createdOn,
  };
  const view: RecordView = { id: meta.id, zoneId: e.id, name: rr.name, type: rr.type, ttl: rr.ttl, rdata: rr.rdata, comment: meta.comment, createdOn: meta.createdOn, modifiedOn: meta.modifiedOn };
  if (rr.type === RRType.DNSKEY && rr.name.equals(e.loaded.input.origin)) view.keySources = holders(e.admin, rr.rdata);
  return view;
}

export function contentKey(rr: { name: Name; type: number; rdata: Uint8Array }): string {
  return `${rr.name.key}|${rr.type}|${Buffer.from(canonicalRdata(rr.type, rr.rdata)).toString('hex')}`;
}
