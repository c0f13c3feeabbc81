// RRSIG verification for the checker (RFC 4035 §5.3), with a reason for every failure: a checker must say
// *why* an answer is bogus (key not in the DNSKEY RRset, expired, labels, bad signature). Unlike the serving
// side (dnssec/signer.ts verifyRrsig, algorithm 13 only, a boolean), this knows the algorithms other providers
// sign with: RSA/SHA-1, RSA/SHA-256, RSA/SHA-512 (RFC 3110, RFC 5702), ECDSA P-256/P-384 (RFC 6605) and
// EdDSA (RFC 8080). The signed data is made in the one place that makes it (dnssec/rrsig.ts, RFC 4034 §3.1.8.1).
import { constants, createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto';
import type { Name } from '../dns/name.js';
import type { RRset } from '../dns/rr.js';
import { typeName } from '../dns/types.js';
import { DNSKEY_PROTOCOL, FLAG_REVOKE, FLAG_ZONE, keyTag, parseDnskeyRdata } from '../dnssec/keys.js';
import { compareSerialTime, fromSerialTime, parseRrsigRdata, signedData, signedOwner, type RrsigFields } from '../dnssec/rrsig.js';

/** What one RRSIG said about one RRset. Times are seconds since the epoch (nearest `now`, RFC 4034 §3.1.5). */
export interface SigResult {
  keyTag: number;
  algorithm: number;
  labels: number;
  inception: number;
  expiration: number;
  ok: boolean;
  reason?: string;
  /** The DNSKEY RDATA that verified it. */
  key?: Uint8Array;
}

export type RrsetResult =
  | { ok: true; sigs: SigResult[]; by: SigResult; wildcard?: Name }
  | { ok: false; sigs: SigResult[]; reason: string };

const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');

/** A node:crypto public key for DNSKEY key material, or the reason there is none. */
function publicKey(algorithm: number, key: Uint8Array): { key: KeyObject; hash: string | null; p1363: boolean } | string {
  try {
    switch (algorithm) {
      case 5: case 7: case 8: case 10: {
        // RFC 3110 §2: exponent length in one octet, or 0 and two octets; then exponent, then modulus.
        let o = 1, elen = key[0];
        if (elen === 0) { elen = (key[1] << 8) | key[2]; o = 3; }
        if (key.length < o + elen + 1) return 'RSA key too short';
        const e = key.subarray(o, o + elen), n = key.subarray(o + elen);
        const hash = algorithm === 8 ? 'sha256' : algorithm === 10 ? 'sha512' : 'sha1';
        return { key: createPublicKey({ key: { kty: 'RSA', n: b64url(n), e: b64url(e) }, format: 'jwk' }), hash, p1363: false };
      }
      case 13: case 14: {
        const half = algorithm === 13 ? 32 : 48;
        if (key.length !== 2 * half) return `ECDSA key of ${key.length} octets, expected ${2 * half} (RFC 6605 §4)`;
        const jwk = { kty: 'EC', crv: algorithm === 13 ? 'P-256' : 'P-384', x: b64url(key.subarray(0, half)), y: b64url(key.subarray(half)) };
        return { key: createPublicKey({ key: jwk, format: 'jwk' }), hash: algorithm === 13 ? 'sha256' : 'sha384', p1363: true };
      }
      case 15: case 16: {
        const crv = algorithm === 15 ? 'Ed25519' : 'Ed448';
        return { key: createPublicKey({ key: { kty: 'OKP', crv, x: b64url(key) }, format: 'jwk' }), hash: null, p1363: false };
      }
      default:
        return `algorithm ${algorithm} is not supported by the checker`;
    }
  } catch (err) {
    return `unusable public key (${(err as Error).message})`;
  }
}

/** Verifies `signature` over `data` with DNSKEY key material (the DNSKEY RDATA after its first 4 octets). */
export function verifySignature(algorithm: number, key: Uint8Array, data: Uint8Array, signature: Uint8Array): true | string {
  const k = publicKey(algorithm, key);
  if (typeof k === 'string') return k;
  try {
    const ok = nodeVerify(k.hash, data, k.p1363 ? { key: k.key, dsaEncoding: 'ieee-p1363' } : k.hash ? { key: k.key, padding: constants.RSA_PKCS1_PADDING } : k.key, signature);
    return ok || 'the signature does not verify';
  } catch (err) {
    return `the signature does not verify (${(err as Error).message})`;
  }
}

const iso = (t: number) => new Date(t * 1000).toISOString().replace('.000Z', 'Z');

/** One RRSIG against the DNSKEY RRset `keys` (RFC 4035 §5.3.1 checks, then the signature). */
export function checkRrsig(rrsig: Uint8Array, rrset: RRset, zone: Name, keys: readonly Uint8Array[], now: number): SigResult {
  let fields: RrsigFields, signature: Uint8Array;
  try {
    ({ fields, signature } = parseRrsigRdata(rrsig));
  } catch (err) {
    return { keyTag: 0, algorithm: 0, labels: 0, inception: 0, expiration: 0, ok: false, reason: `malformed RRSIG (${(err as Error).message})` };
  }
  const r: SigResult = {
    keyTag: fields.keyTag, algorithm: fields.algorithm, labels: fields.labels,
    inception: fromSerialTime(fields.inception, now), expiration: fromSerialTime(fields.expiration, now), ok: false,
  };
  const fail = (reason: string): SigResult => ({ ...r, reason });
  if (fields.typeCovered !== rrset.type) return fail(`covers ${typeName(fields.typeCovered)}, not ${typeName(rrset.type)}`);
  if (!fields.signerName.equals(zone)) return fail(`signer ${fields.signerName} is not the zone ${zone} (RFC 4035 §5.3.1)`);
  if (fields.labels > rrset.name.rrsigLabels) return fail(`labels ${fields.labels} exceed the ${rrset.name.rrsigLabels} labels of the owner (RFC 4035 §5.3.1)`);
  const candidates = keys.filter((k) => {
    if (k.length < 4 || keyTag(k) !== fields.keyTag || k[3] !== fields.algorithm) return false;
    const f = parseDnskeyRdata(k);
    return f.protocol === DNSKEY_PROTOCOL && (f.flags & FLAG_ZONE) !== 0 && (f.flags & FLAG_REVOKE) === 0;
  });
  if (candidates.length === 0) return fail(`key ${fields.keyTag} (algorithm ${fields.algorithm}) is not in the DNSKEY RRset`);
  if (compareSerialTime(now, fields.inception) < 0) return fail(`not valid before ${iso(r.inception)} (inception in the future)`);
  if (compareSerialTime(now, fields.expiration) > 0) return fail(`expired at ${iso(r.expiration)}`);
  let data: Uint8Array;
  try {
    data = signedData(rrset, fields);
  } catch (err) {
    return fail((err as Error).message);
  }
  let why = 'the signature does not verify';
  for (const k of candidates) {
    const v = verifySignature(fields.algorithm, k.subarray(4), data, signature);
    if (v === true) return { ...r, ok: true, key: k };
    why = v;
  }
  return fail(`key ${fields.keyTag}: ${why}`);
}

/**
 * An RRset with its RRSIGs against a DNSKEY RRset: valid when one RRSIG validates (RFC 4035 §5.3; RFC 6840
 * §5.11: any one valid path). `wildcard`: the RRset was expanded from that wildcard (RRSIG labels below the
 * owner's count, RFC 4035 §5.3.4), so the caller must see a proof that no closer name exists.
 */
export function checkRrset(rrset: RRset, rrsigs: readonly Uint8Array[], zone: Name, keys: readonly Uint8Array[], now: number): RrsetResult {
  if (rrsigs.length === 0) return { ok: false, sigs: [], reason: 'no RRSIG' };
  const sigs = rrsigs.map((s) => checkRrsig(s, rrset, zone, keys, now));
  const by = sigs.find((s) => s.ok);
  if (!by) return { ok: false, sigs, reason: sigs.map((s) => `RRSIG ${s.keyTag}: ${s.reason}`).join('; ') };
  const wildcard = by.labels < rrset.name.rrsigLabels ? signedOwner(rrset.name, by.labels) : undefined;
  return { ok: true, sigs, by, ...(wildcard ? { wildcard } : {}) };
}
