import type { Name } from './name.js';

/**
 * One resource record. RDATA is kept in uncompressed wire form with names in their original case;
 * the per-type schema in rdata.ts knows where names sit inside it (for compression and RFC 4034 §6.2).
 */
export interface Rr {
  name: Name;
  type: number;
  class: number;
  ttl: number;
  rdata: Uint8Array;
}

/** The records of one owner, type and class (RFC 2181 §5): one TTL, no duplicate RDATA. */
export interface RRset {
  name: Name;
  type: number;
  class: number;
  ttl: number;
  rdatas: Uint8Array[];
}

export function rrsetRecords(set: RRset): Rr[] {
  return set.rdatas.map((rdata) => ({ name: set.name, type: set.type, class: set.class, ttl: set.ttl, rdata }));
}
