// Authenticated denial of existence for a live signer: one interface, three methods (a zone picks one
// with `tandem: denial:`). Each method is pure: it returns the unsigned NSEC/NSEC3 RRsets that prove a
// case, and the answer layer (answer.ts) signs them.
import type { Name } from '../../dns/name.js';
import type { RRset } from '../../dns/rr.js';
import { Rcode } from '../../dns/types.js';
import type { DenialMode, Zone } from '../../zone/types.js';
import { compactProof } from './compact.js';
import { nsecProof } from './nsec.js';
import { nsec3Proof } from './nsec3.js';

export { DenialError } from './nsec.js';
export { nsec3paramRrset, nsec3Hash, base32hex } from './nsec3.js';

/** What must be proven. */
export type DenialCase =
  /** `name` does not exist; `closestEncloser` is its longest existing ancestor (RFC 5155 §7.2.1). */
  | { kind: 'nxdomain'; name: Name; closestEncloser: Name }
  /** `name` exists (or matched `wildcard`) without the type asked for. */
  | { kind: 'nodata'; name: Name; wildcard?: Name }
  /** An answer for `name` was synthesized from `wildcard`: no closer match exists (RFC 4035 §3.1.3.3). */
  | { kind: 'wildcard'; name: Name; wildcard: Name }
  /** A referral to `cut` without DS: the delegation is insecure (RFC 4035 §3.1.4). */
  | { kind: 'insecure-referral'; cut: Name };

export interface DenialMethod {
  readonly mode: DenialMode;
  /**
   * RFC 9824 §3.3: sign wildcard-synthesized RRsets as exact matches (RRSIG labels = the owner's label
   * count) instead of with the wildcard's labels plus a proof.
   */
  readonly wildcardAsExact: boolean;
  /**
   * The proof of a nonexistent name is owned by that name alone (RFC 9824 §3.1), so its signature serves
   * no other answer: the answer layer signs it without the signature cache.
   */
  readonly oneOffNxdomain: boolean;
  /** The RCODE of a nonexistent name; `co` is the query's Compact Answers OK flag (RFC 9824 §5.1). */
  nxdomainRcode(co: boolean): number;
  /** Unsigned NSEC/NSEC3 RRsets proving `c`, NSEC TTL `ttl` (RFC 9077: min(SOA TTL, SOA MINIMUM)). */
  prove(zone: Zone, c: DenialCase, ttl: number): RRset[];
}

export const compactDenial: DenialMethod = {
  mode: 'compact',
  wildcardAsExact: true,
  oneOffNxdomain: true,
  // RFC 9824 §3.1: NOERROR (the name "exists" with only NXNAME), NXDOMAIN only when CO was sent (§5.1).
  nxdomainRcode: (co) => (co ? Rcode.NXDOMAIN : Rcode.NOERROR),
  prove: compactProof,
};

export const nsecDenial: DenialMethod = {
  mode: 'nsec',
  wildcardAsExact: false,
  // RFC 4470 white lies around a random name are one-off too, but the same proof also carries the
  // reusable wildcard denial; those are cached together.
  oneOffNxdomain: false,
  nxdomainRcode: () => Rcode.NXDOMAIN,
  prove: nsecProof,
};

export const nsec3Denial: DenialMethod = {
  mode: 'nsec3',
  wildcardAsExact: false,
  oneOffNxdomain: false, // NSEC3 proofs come from the zone's own chain: reused across names
  nxdomainRcode: () => Rcode.NXDOMAIN,
  prove: nsec3Proof,
};

export function denialMethod(mode: DenialMode): DenialMethod {
  switch (mode) {
    case 'compact': return compactDenial;
    case 'nsec': return nsecDenial;
    case 'nsec3': return nsec3Denial;
  }
}
