// An IXFR (RFC 1995) received by a secondary zone, applied to the version it serves as a delta (issue 16: a change
// costs the change, for IXFR as for the API): the changes become the same ZoneDelta an admin change makes (delta.ts),
// so only the changed RRsets, their signatures and the denial chain's neighbours are made again, and the stored copy
// takes the IXFR as a journal entry (secondary-store.ts) instead of being written whole.
//
// Whatever this does not cover goes the whole way (the records applied to the stored copy, the zone built again):
// a pre-signed secondary (its RRSIGs and chain come with the transfer), a change at the apex other than its SOA (NS,
// DNSKEY: server-made RRsets and the multi-signer key set), NS or DNAME anywhere (zone cuts and what they occlude),
// a deletion of a record the served version does not hold (the histories differ: RFC 1995 §4 then wants AXFR), a
// zone not served now (expired, never transferred), an IXFR that does not start at the served serial.
import type { Name } from '../dns/name.js';
import type { Rr } from '../dns/rr.js';
import { RRClass, RRType } from '../dns/types.js';
import { rdataEquals } from '../dns/rdata.js';
import { isDnssecType } from '../transfer/secondary-data.js';
import type { Change } from '../transfer/journal.js';
import type { ZoneDelta } from './delta.js';
import { rrsAt, type Entry } from './record-views.js';
import { soaSerial } from './version.js';

/**
 * The ZoneDelta taking the secondary zone served as `e` to the version of `soa` through `changes` (oldest first, the
 * first from the serial served), or undefined when the change must go the whole way (see above). Pure: reads `e`.
 */
export function ixfrDelta(e: Entry, soa: Rr, changes: readonly Change[]): ZoneDelta | undefined {
  const sec = e.loaded.config.secondary;
  if (!sec || sec.dnssec === 'presigned' || e.unavailable !== undefined || changes.length === 0) return undefined;
  if (changes[0].from !== e.serial) return undefined;
  const origin = e.loaded.input.origin;
  // Each changed owner's records as they are after the changes so far, starting from the served ones.
  const owners = new Map<string, { name: Name; records: Rr[] }>();
  const touched = new Map<string, { owner: string; type: number }>();
  const at = (rr: Rr): Rr[] | undefined => {
    // Records the served zone never holds (RFC 4034/5155 records: tandem signs this zone, or serves it unsigned).
    if (rr.type === RRType.SOA || isDnssecType(rr.type)) return undefined;
    const name = rr.name;
    let o = owners.get(name.key);
    if (!o) {
      o = { name, records: [...rrsAt(e, name.key)] };
      owners.set(name.key, o);
    }
    touched.set(`${name.key}|${rr.type}`, { owner: name.toString(), type: rr.type });
    return o.records;
  };
  const same = (a: Rr, b: Rr) => a.type === b.type && a.class === b.class && rdataEquals(a.rdata, b.rdata);
  for (const c of changes) {
    for (const rr of [...c.deleted, ...c.added]) {
      // A multi-signer zone serves the primary's apex DNSKEYs: a change of them goes the whole way (the key set).
      if (rr.type === RRType.DNSKEY && sec.dnssec === 'multi-signer') return undefined;
      if (rr.type === RRType.SOA || isDnssecType(rr.type)) continue; // the SOA is the delta's; DNSSEC records are not served
      if (rr.class !== RRClass.IN || !rr.name.isSubdomainOf(origin)) return undefined;
      if (rr.name.equals(origin) || rr.type === RRType.NS || rr.type === RRType.DNAME) return undefined;
    }
    for (const rr of c.deleted) {
      const list = at(rr);
      if (!list) continue;
      const i = list.findIndex((x) => same(x, rr));
      if (i < 0) return undefined; // not what we serve: the histories differ
      list.splice(i, 1);
    }
    for (const rr of c.added) {
      const list = at(rr);
      if (!list) continue;
      const i = list.findIndex((x) => same(x, rr));
      if (i >= 0) list.splice(i, 1); // added records replace equal ones (RFC 1995 §4, as transfer/client.ts applyChanges)
      list.push(rr);
    }
  }
  return {
    origin: origin.toString(), from: e.serial, serial: soaSerial(soa.rdata), soa: { ttl: soa.ttl, rdata: soa.rdata }, mtimeSerial: false,
    owners: [...owners.values()].map((o) => ({ owner: o.name.toString(), records: o.records.map((r) => ({ type: r.type, ttl: r.ttl, rdata: r.rdata })) })),
    rrsets: [...touched.values()],
  };
}
