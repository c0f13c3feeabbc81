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
}

/** The API's view of a zone's records, built when first asked for (large zones pay nothing at load). */
export function recordsOf(e: Entry): RecordView[] {
  if (e.views) return e.views;
  const views: RecordView[] = [];
  for (const rr of e.loaded.input.records) if (rr.type !== RRType.SOA) views.push(viewOf(e, rr, contentKey(rr)));
  e.views = views;
  return views;
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
