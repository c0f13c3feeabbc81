// The SOA's roles beyond its own answers: the MINIMUM field and the SOA as negative answers carry it.
import type { RRset } from './rr.js';
import { Name } from './name.js';

/** The SOA MINIMUM field: the last 32 bits of the SOA RDATA (RFC 1035 §3.3.13). */
export function soaMinimum(soa: RRset): number {
  const rd = soa.rdatas[0];
  return new DataView(rd.buffer, rd.byteOffset, rd.byteLength).getUint32(rd.byteLength - 4);
}

/**
 * The SOA as placed in negative answers, TTL = min(SOA TTL, SOA MINIMUM) (RFC 2308 §5, RFC 9077 §3); also the
 * TTL of NSEC/NSEC3 records. Computed once per zone build (Zone.negativeSoa); the same object every time.
 */
export function negativeSoa(soa: RRset): RRset {
  const ttl = Math.min(soa.ttl, soaMinimum(soa));
  return ttl === soa.ttl ? soa : Object.freeze({ ...soa, ttl });
}

/** The SOA RDATA fields (RFC 1035 §3.3.13), from uncompressed wire form. */
export function decodeSoa(rdata: Uint8Array): { mname: Name; rname: Name; serial: number; refresh: number; retry: number; expire: number; minimum: number } {
  const m = Name.read(rdata, 0);
  const r = Name.read(rdata, m.next);
  const v = new DataView(rdata.buffer, rdata.byteOffset + r.next, 20);
  return { mname: m.name, rname: r.name, serial: v.getUint32(0), refresh: v.getUint32(4), retry: v.getUint32(8), expire: v.getUint32(12), minimum: v.getUint32(16) };
}
