// The SOA's roles beyond its own answers: the MINIMUM field and the SOA as negative answers carry it.
import type { RRset } from './rr.js';

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
