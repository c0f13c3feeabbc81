// Compact Denial of Existence (RFC 9824): every denial is one NSEC owned by the name itself, so an
// online signer makes one signature per negative answer and reveals no neighbouring names.
import type { Name } from '../../dns/name.js';
import type { RRset } from '../../dns/rr.js';
import { RRType } from '../../dns/types.js';
import { encodeTypeBitmap } from '../../dns/bitmap.js';
import type { Zone } from '../../zone/types.js';
import type { DenialCase } from './index.js';
import { authoritativeTypes, DenialError, immediateSuccessor, isCut, nsecRrset, subtreeSuccessor } from './nsec.js';

/** RFC 9824 §2: the NXNAME meta-type marks a nonexistent name in the bitmap; the same bytes for every name. */
export const NXNAME_BITMAP = encodeTypeBitmap([RRType.RRSIG, RRType.NSEC, RRType.NXNAME]);

/** Longest name in wire form (RFC 1035 §2.3.4). */
const MAX_NAME = 255;

/**
 * RFC 9824 §3.1: the NSEC of a nonexistent `name`: Next = its immediate successor, types NXNAME RRSIG
 * NSEC. Made once per negative answer, so the RDATA is written straight from the name and the constant
 * bitmap: `\000.<name>` when it fits (RFC 4034 §6.1 order: the first name after `name`), else the
 * general successor.
 */
export function nxnameNsec(zone: Zone, name: Name, ttl: number): RRset {
  const len = name.wireLength;
  if (len + 2 > MAX_NAME) return nsecRrset(zone, name, immediateSuccessor(name, zone.origin), [RRType.RRSIG, RRType.NSEC, RRType.NXNAME], ttl);
  const rdata = new Uint8Array(2 + len + NXNAME_BITMAP.length);
  rdata[0] = 1; // the label `\000`: length 1, octet 0
  name.writeInto(rdata, 2, false);
  rdata.set(NXNAME_BITMAP, 2 + len);
  return { name, type: RRType.NSEC, class: zone.soa.class, ttl, rdatas: [rdata] };
}

/** The NSEC at a delegation point (RFC 9824 §3.4): Next = the cut's first label + `\000`, bitmap without DS. */
function atCut(zone: Zone, cut: Name, ttl: number): RRset {
  const types = authoritativeTypes(zone, cut) ?? [RRType.NS];
  // Names below the cut belong to the child, so the next name skips the cut's whole subtree.
  const next = subtreeSuccessor(cut) ?? immediateSuccessor(cut, zone.origin);
  return nsecRrset(zone, cut, next, [...types, RRType.RRSIG, RRType.NSEC], ttl);
}

/** RFC 9824 NSEC RRsets (unsigned) proving `c`; the caller signs them. */
export function compactProof(zone: Zone, c: DenialCase, ttl: number): RRset[] {
  switch (c.kind) {
    case 'nxdomain':
      // §3.1: the name "exists" with no types but NXNAME; Next = its immediate successor `\000.<name>`.
      return [nxnameNsec(zone, c.name, ttl)];
    case 'nodata': {
      // §3.3: wildcard NODATA is answered as if the query name held the wildcard's types.
      const source = c.wildcard ?? c.name;
      const types = authoritativeTypes(zone, source);
      if (!types) throw new DenialError(`${source.key} is not in zone ${zone.origin.key}`);
      // A DS query at a delegation is answered from the parent side (RFC 4035 §3.1.4.1): as §3.4.
      if (!c.wildcard && isCut(zone, c.name)) return [atCut(zone, c.name, ttl)];
      // §3.2: types present plus RRSIG and NSEC (an ENT: RRSIG NSEC only), Next = immediate successor.
      return [nsecRrset(zone, c.name, immediateSuccessor(c.name, zone.origin), [...types, RRType.RRSIG, RRType.NSEC], ttl)];
    }
    case 'wildcard':
      // §3.3: wildcard answers are signed as exact matches, so no proof is needed.
      return [];
    case 'insecure-referral':
      return [atCut(zone, c.cut, ttl)];
  }
}
