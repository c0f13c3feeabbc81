// Authenticated denial of existence for a live signer: one interface, three methods (a zone picks one
// with `tandem: denial:`). Each method is pure: it returns the unsigned NSEC/NSEC3 RRsets that prove a
// case, and the answer layer (answer.ts) signs them.
import type { Name } from '../../dns/name.js';
import type { RRset } from '../../dns/rr.js';
import { Rcode } from '../../dns/types.js';
import type { DenialMode, Zone } from '../../zone/types.js';
import { compactProof } from './compact.js';
import { DenialError, nsecProof } from './nsec.js';
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
   * Set for the modes answered from the zone's precomputed, signed chain (dnssec/chain.ts, `ZoneSigning.chain`):
   * `prove` is not used for them.
   */
  readonly chain?: 'nsec' | 'nsec3';
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

/** `prove` of the chain modes: their proofs are links of the zone's chain (DenialChain.prove), never made per answer. */
function fromChain(): RRset[] {
  throw new DenialError('this denial mode answers from the zone\'s chain (ZoneSigning.chain)');
}

/** RFC 5155 NSEC3 chain of the whole zone (RFC 9276 parameters), built and signed at load. */
export const nsec3ChainDenial: DenialMethod = {
  mode: 'nsec3-chain', chain: 'nsec3', wildcardAsExact: false, oneOffNxdomain: false, nxdomainRcode: () => Rcode.NXDOMAIN, prove: fromChain,
};

/** RFC 4034 NSEC chain of the whole zone, built and signed at load. */
export const nsecChainDenial: DenialMethod = {
  mode: 'nsec-chain', chain: 'nsec', wildcardAsExact: false, oneOffNxdomain: false, nxdomainRcode: () => Rcode.NXDOMAIN, prove: fromChain,
};

export function denialMethod(mode: DenialMode): DenialMethod {
  switch (mode) {
    case 'compact': return compactDenial;
    case 'nsec': return nsecDenial;
    case 'nsec3': return nsec3Denial;
    case 'nsec3-chain': return nsec3ChainDenial;
    case 'nsec-chain': return nsecChainDenial;
  }
}

/** The chain a mode answers from, if any. */
export function chainKind(mode: DenialMode): 'nsec' | 'nsec3' | undefined {
  return denialMethod(mode).chain;
}

/** The chain a signed zone transfer carries (dump.ts): NSEC3 for the NSEC3 modes, else NSEC. */
export function transferChain(mode: DenialMode): 'nsec' | 'nsec3' {
  return chainKind(mode) ?? (mode === 'nsec3' ? 'nsec3' : 'nsec');
}
