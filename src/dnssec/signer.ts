// Signer implementations and RRSIG verification for ECDSAP256SHA256 (RFC 6605). The signature format of
// RFC 6605 §4 is r || s (32 octets each), which is node:crypto's `ieee-p1363` encoding and noble's
// "compact" form. Two signers, one contract (STYLE habit 15): NodeSigner for serving, NobleSigner
// (deterministic, RFC 6979) for golden tests.
import { sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import type { RRset } from '../dns/rr.js';
import type { Signer } from './types.js';
import {
  ALG_ECDSAP256SHA256, DNSKEY_PROTOCOL, FLAG_REVOKE, FLAG_ZONE, keyPairFromScalar, keyTag, parseDnskeyRdata,
  publicKeyObject, type KeyPair,
} from './keys.js';
import { compareSerialTime, parseRrsigRdata, signedData } from './rrsig.js';

/**
 * Signs with a node:crypto private key; the KeyObject is parsed once and reused. `sign` is synchronous
 * inside (one OpenSSL call on this thread, ~47 µs here): on the query path that is the cheapest way, and
 * several processes (workers) give several cores. `signInPool` uses the callback form of `crypto.sign`,
 * which runs in libuv's thread pool (UV_THREADPOOL_SIZE, default 4): for bulk work such as presigning at
 * zone load, so the event loop keeps answering and idle cores sign. Measured here (P-256, 200-byte input,
 * 2 cores): sync ~15-21k/s on one core; pool ~27-36k/s with 8+ in flight, but slower than sync when the
 * same process is also busy answering (thread hand-offs and OpenSSL 3.0 lock contention).
 */
export class NodeSigner implements Signer {
  readonly algorithm = ALG_ECDSAP256SHA256;
  readonly keyTag: number;
  readonly dnskey: Uint8Array;
  private readonly key: KeyObject;
  private readonly opts: { key: KeyObject; dsaEncoding: 'ieee-p1363' };

  constructor(key: Pick<KeyPair, 'privateKey' | 'dnskey' | 'keyTag'>) {
    this.key = key.privateKey;
    this.opts = { key: this.key, dsaEncoding: 'ieee-p1363' };
    this.dnskey = key.dnskey;
    this.keyTag = key.keyTag;
  }

  sign(tbs: Uint8Array): Promise<Uint8Array> {
    try {
      const sig = nodeSign('sha256', tbs, this.opts);
      return Promise.resolve(new Uint8Array(sig.buffer, sig.byteOffset, sig.byteLength));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * The private key as PKCS #8 DER, for another process of this server that signs with the same key (a cluster
   * worker answering compact denials itself, server/learned.ts); exported once.
   */
  pkcs8(): Uint8Array {
    this.der ??= new Uint8Array(this.key.export({ type: 'pkcs8', format: 'der' }));
    return this.der;
  }
  private der?: Uint8Array;

  /** The same signature, made in libuv's thread pool (see above). */
  signInPool(tbs: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      try {
        nodeSign('sha256', tbs, this.opts, (err, sig) => {
          if (err) reject(err);
          else resolve(new Uint8Array(sig.buffer, sig.byteOffset, sig.byteLength));
        });
      } catch (err) {
        reject(err);
      }
    });
  }
}

/** Deterministic signer (RFC 6979 nonces via @noble/curves, low-S): same key and data give the same bytes. */
export class NobleSigner implements Signer {
  readonly algorithm = ALG_ECDSAP256SHA256;
  readonly keyTag: number;
  readonly dnskey: Uint8Array;
  private readonly scalar: Uint8Array;

  /** `scalar`: the 32-byte private key (as in a BIND .private file); flags 256 or 257. */
  constructor(scalar: Uint8Array, flags: number) {
    const kp = keyPairFromScalar(flags, scalar); // validates the scalar and derives the DNSKEY
    this.scalar = Uint8Array.from(scalar);
    this.dnskey = kp.dnskey;
    this.keyTag = kp.keyTag;
  }

  sign(tbs: Uint8Array): Promise<Uint8Array> {
    try {
      // noble hashes its input itself (prehash): pass the signed data, not its digest.
      return Promise.resolve(p256.sign(tbs, this.scalar, { prehash: true, lowS: true }));
    } catch (err) {
      return Promise.reject(err);
    }
  }
}

export interface VerifyOptions {
  /** When set, also require inception <= now <= expiration in serial arithmetic (RFC 4035 §5.3.1). */
  now?: number;
}

/**
 * The checks of RFC 4035 §5.3.1 that do not need the crypto, then the signed data. Undefined when the
 * RRSIG cannot validate the RRset with this DNSKEY.
 */
function prepare(rrsigRdata: Uint8Array, rrset: RRset, dnskeyRdata: Uint8Array, opts: VerifyOptions): { tbs: Uint8Array; signature: Uint8Array; publicKey: Uint8Array } | undefined {
  try {
    const { fields, signature } = parseRrsigRdata(rrsigRdata);
    const key = parseDnskeyRdata(dnskeyRdata);
    if (key.protocol !== DNSKEY_PROTOCOL || (key.flags & FLAG_ZONE) === 0 || (key.flags & FLAG_REVOKE) !== 0) return undefined;
    if (fields.algorithm !== ALG_ECDSAP256SHA256 || key.algorithm !== fields.algorithm) return undefined;
    if (keyTag(dnskeyRdata) !== fields.keyTag) return undefined;
    if (fields.typeCovered !== rrset.type || !rrset.name.isSubdomainOf(fields.signerName)) return undefined;
    if (fields.labels > rrset.name.rrsigLabels) return undefined;
    if (opts.now !== undefined && (compareSerialTime(fields.inception, opts.now) > 0 || compareSerialTime(opts.now, fields.expiration) > 0)) return undefined;
    if (signature.length !== 64 || key.publicKey.length !== 64) return undefined;
    return { tbs: signedData(rrset, fields), signature, publicKey: key.publicKey };
  } catch {
    return undefined;
  }
}

/** Verifies an RRSIG over an RRset with a DNSKEY (node:crypto); false on any mismatch or malformed input. */
export function verifyRrsig(rrsigRdata: Uint8Array, rrset: RRset, dnskeyRdata: Uint8Array, opts: VerifyOptions = {}): boolean {
  const p = prepare(rrsigRdata, rrset, dnskeyRdata, opts);
  if (!p) return false;
  try {
    return nodeVerify('sha256', p.tbs, { key: publicKeyObject(p.publicKey), dsaEncoding: 'ieee-p1363' }, p.signature);
  } catch {
    return false;
  }
}

/** The same check with @noble/curves, as an independent cross-check; accepts high-S (node makes them). */
export function verifyRrsigNoble(rrsigRdata: Uint8Array, rrset: RRset, dnskeyRdata: Uint8Array, opts: VerifyOptions = {}): boolean {
  const p = prepare(rrsigRdata, rrset, dnskeyRdata, opts);
  if (!p) return false;
  const sec1 = new Uint8Array(65);
  sec1[0] = 4;
  sec1.set(p.publicKey, 1);
  try {
    return p256.verify(p.signature, p.tbs, sec1, { prehash: true, lowS: false });
  } catch {
    return false;
  }
}
