// Contracts between the key/signature layer and the denial/answer layer (STYLE habit 4: the signer sees bytes).
import type { Name } from '../dns/name.js';
import type { Rr, RRset } from '../dns/rr.js';
import type { DenialChain } from './chain.js';

/** A private key that signs to-be-signed bytes (RFC 4034 §3.1.8.1 signed data); async so it can move to a pool. */
export interface Signer {
  readonly algorithm: number;
  readonly keyTag: number;
  /** DNSKEY RDATA (flags, protocol 3, algorithm, public key) of this key. */
  readonly dnskey: Uint8Array;
  sign(tbs: Uint8Array): Promise<Uint8Array>;
}

/** Wall-clock seconds since the epoch; injected (STYLE habit 14). */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Math.floor(Date.now() / 1000) };

/** Validity of RRSIGs: inception/expiration, snapped to fixed boundaries so restarts and workers agree. */
export interface SignatureWindow {
  inception: number;
  expiration: number;
}

/**
 * Where an answer's fresh signatures (not in the signature cache) wait their turn: the signing budget of the
 * query's transport (server/budget.ts). `run` rejects when the budget refuses the query.
 */
export interface SignGate {
  run<T>(make: () => Promise<T>): Promise<T>;
}

/** Signing material of one zone, as the answer layer needs it. */
export interface ZoneSigning {
  zone: Name;
  /**
   * Signs a whole RRset (cached by content); returns the RRSIG record(s) covering it, not to be modified.
   * `once`: an RRset no other answer will carry (RFC 9824 §3.1), signed fresh and not cached. `gate`: a
   * signature not in the cache is made through it (the query's signing budget).
   */
  signRrset(rrset: RRset, opts?: { wildcard?: Name; ksk?: boolean; once?: boolean; gate?: SignGate }): Promise<Rr[]>;
  /** TTL to use for NSEC/NSEC3 records: min(SOA TTL, SOA MINIMUM) (RFC 4034 §4, RFC 9077). */
  readonly negativeTtl: number;
  /**
   * The zone's signed NSEC/NSEC3 chain, for `nsec3-chain` and `nsec-chain` zones (chain.ts): set once when the
   * zone version is prepared; negative answers take their proofs and RRSIGs from it.
   */
  chain?: DenialChain;
}
