// DNSSEC keys for algorithm 13, ECDSA P-256 with SHA-256 (RFC 6605): DNSKEY RDATA (RFC 4034 §2.1),
// key tags (RFC 4034 Appendix B) and DS digests (RFC 4034 §5.1.4, RFC 4509, RFC 6605 §2).
import { createECDH, createHash, createPrivateKey, createPublicKey, type ECDH, type KeyObject } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import type { Name } from '../dns/name.js';

export const ALG_ECDSAP256SHA256 = 13;
/** RFC 4034 §2.1.2: the Protocol field MUST be 3. */
export const DNSKEY_PROTOCOL = 3;
/** RFC 4034 §2.1.1: bit 7 (value 256) marks a zone key. */
export const FLAG_ZONE = 256;
/** RFC 4034 §2.1.1 / RFC 3757: bit 15 (value 1) is the Secure Entry Point flag. */
export const FLAG_SEP = 1;
/** RFC 5011 §3: bit 8 (value 128) marks a revoked key. */
export const FLAG_REVOKE = 128;
export const FLAGS_ZSK = 256;
export const FLAGS_KSK = 257;

/** DS digest types (IANA): 2 = SHA-256 (RFC 4509), 4 = SHA-384 (RFC 6605). */
export type DigestType = 2 | 4;

export class KeyError extends Error {}

export interface KeyPair {
  flags: number;
  algorithm: 13;
  privateKey: KeyObject;
  /** RFC 6605 §4: the 64-byte point Q = x || y, without the 0x04 prefix. */
  publicKey: Uint8Array;
  /** DNSKEY RDATA: flags | protocol 3 | algorithm | public key. */
  dnskey: Uint8Array;
  keyTag: number;
}

export interface DnskeyFields {
  flags: number;
  protocol: number;
  algorithm: number;
  publicKey: Uint8Array;
}

/** RFC 4034 Appendix B: the key tag of a DNSKEY RDATA (algorithm 1 excepted, which tandem never uses). */
export function keyTag(dnskeyRdata: Uint8Array): number {
  if (dnskeyRdata.length >= 4 && dnskeyRdata[3] === 1) {
    // Appendix B.1: RSA/MD5 uses the most significant 16 of the least significant 24 bits of the modulus.
    const n = dnskeyRdata.length;
    return n < 3 ? 0 : (dnskeyRdata[n - 3] << 8) | dnskeyRdata[n - 2];
  }
  let ac = 0;
  for (let i = 0; i < dnskeyRdata.length; i++) ac += i & 1 ? dnskeyRdata[i] : dnskeyRdata[i] << 8;
  ac += (ac >>> 16) & 0xffff;
  return ac & 0xffff;
}

/** Splits DNSKEY (or CDNSKEY) RDATA into its fields (RFC 4034 §2.1). */
export function parseDnskeyRdata(rdata: Uint8Array): DnskeyFields {
  if (rdata.length < 4) throw new KeyError(`DNSKEY RDATA of ${rdata.length} octets is shorter than 4`);
  return {
    flags: (rdata[0] << 8) | rdata[1],
    protocol: rdata[2],
    algorithm: rdata[3],
    publicKey: rdata.slice(4),
  };
}

/** RFC 6605 §4: the public key must be 64 octets and a point on P-256 (not the identity). */
export function validatePublicKey(algorithm: number, publicKey: Uint8Array): void {
  if (algorithm !== ALG_ECDSAP256SHA256) throw new KeyError(`unsupported DNSSEC algorithm ${algorithm} (tandem signs with 13)`);
  if (publicKey.length !== 64) throw new KeyError(`ECDSAP256SHA256 public key has ${publicKey.length} octets, expected 64 (RFC 6605 §4)`);
  const sec1 = new Uint8Array(65);
  sec1[0] = 4;
  sec1.set(publicKey, 1);
  try {
    p256.Point.fromBytes(sec1).assertValidity();
  } catch (err) {
    throw new KeyError(`ECDSAP256SHA256 public key is not a point on P-256: ${(err as Error).message}`);
  }
}

/** Checks a DNSKEY RDATA that tandem may publish or use: protocol 3, zone key bit, algorithm 13, valid point. */
export function checkDnskeyRdata(rdata: Uint8Array): DnskeyFields {
  const f = parseDnskeyRdata(rdata);
  if (f.protocol !== DNSKEY_PROTOCOL) throw new KeyError(`DNSKEY protocol ${f.protocol}, must be 3 (RFC 4034 §2.1.2)`);
  if ((f.flags & FLAG_ZONE) === 0) throw new KeyError(`DNSKEY flags ${f.flags} lack the Zone Key bit (RFC 4034 §2.1.1)`);
  validatePublicKey(f.algorithm, f.publicKey);
  return f;
}

/** DNSKEY RDATA from flags and a 64-byte public key (RFC 4034 §2.1, RFC 6605 §4). */
export function dnskeyFromPublic(flags: number, publicKey: Uint8Array, algorithm: number = ALG_ECDSAP256SHA256): Uint8Array {
  validatePublicKey(algorithm, publicKey);
  const out = new Uint8Array(4 + publicKey.length);
  out[0] = (flags >> 8) & 0xff;
  out[1] = flags & 0xff;
  out[2] = DNSKEY_PROTOCOL;
  out[3] = algorithm;
  out.set(publicKey, 4);
  return out;
}

/**
 * DS RDATA (RFC 4034 §5.1): key tag | algorithm | digest type | digest, where the digest is taken over
 * the canonical owner name followed by the DNSKEY RDATA (§5.1.4).
 */
export function dsRdata(owner: Name, dnskeyRdata: Uint8Array, digestType: DigestType): Uint8Array {
  const hash = digestType === 2 ? 'sha256' : digestType === 4 ? 'sha384' : undefined;
  if (!hash) throw new KeyError(`unsupported DS digest type ${digestType as number}`);
  const f = parseDnskeyRdata(dnskeyRdata);
  const digest = createHash(hash).update(owner.canonicalWire()).update(dnskeyRdata).digest();
  const out = new Uint8Array(4 + digest.length);
  const tag = keyTag(dnskeyRdata);
  out[0] = tag >> 8;
  out[1] = tag & 0xff;
  out[2] = f.algorithm;
  out[3] = digestType;
  out.set(digest, 4);
  return out;
}

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

function fromB64url(text: string | undefined, what: string): Uint8Array {
  if (!text) throw new KeyError(`key lacks ${what}`);
  return new Uint8Array(Buffer.from(text, 'base64url'));
}

/** A big-endian P-256 number written without its leading zero octets (JWK, OpenSSL's BN_bn2bin), as 32 octets. */
export function leftPad32(b: Uint8Array): Uint8Array {
  if (b.length === 32) return b;
  if (b.length > 32) throw new KeyError(`P-256 coordinate of ${b.length} octets`);
  const out = new Uint8Array(32);
  out.set(b, 32 - b.length);
  return out;
}

/** The 64-byte x || y of a P-256 KeyObject (public or private). */
export function publicKeyBytes(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') throw new KeyError(`not a P-256 key (kty ${jwk.kty}, crv ${jwk.crv})`);
  const out = new Uint8Array(64);
  out.set(leftPad32(fromB64url(jwk.x, 'x')), 0);
  out.set(leftPad32(fromB64url(jwk.y, 'y')), 32);
  return out;
}

/** The 32-byte private scalar d of a P-256 private KeyObject (the BIND `PrivateKey:` field). */
export function privateScalar(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' });
  return leftPad32(fromB64url(jwk.d, 'the private scalar d'));
}

function keyPairOf(flags: number, privateKey: KeyObject, publicKey: Uint8Array): KeyPair {
  const dnskey = dnskeyFromPublic(flags, publicKey);
  return { flags, algorithm: ALG_ECDSAP256SHA256, privateKey, publicKey, dnskey, keyTag: keyTag(dnskey) };
}

/** A key pair from a 32-byte private scalar (as stored in BIND .private files); validates 0 < d < n. */
export function keyPairFromScalar(flags: number, scalar: Uint8Array): KeyPair {
  if (scalar.length !== 32) throw new KeyError(`ECDSAP256SHA256 private key has ${scalar.length} octets, expected 32`);
  const d = BigInt('0x' + Buffer.from(scalar).toString('hex'));
  if (d === 0n || d >= p256.Point.Fn.ORDER) throw new KeyError('ECDSAP256SHA256 private key is out of range (0 < d < n)');
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(scalar);
  return keyPairOfEcdh(flags, ecdh, scalar);
}

/** The key pair of an ECDH object holding `scalar` (its public point already computed). */
function keyPairOfEcdh(flags: number, ecdh: ECDH, scalar: Uint8Array): KeyPair {
  const publicKey = new Uint8Array(ecdh.getPublicKey()).slice(1); // 0x04 || x || y
  const privateKey = createPrivateKey({
    key: { kty: 'EC', crv: 'P-256', d: b64url(scalar), x: b64url(publicKey.subarray(0, 32)), y: b64url(publicKey.subarray(32)) },
    format: 'jwk',
  });
  return keyPairOf(flags, privateKey, publicKey);
}

/** A node:crypto public KeyObject for a 64-byte alg-13 public key, for verification. */
export function publicKeyObject(publicKey: Uint8Array): KeyObject {
  validatePublicKey(ALG_ECDSAP256SHA256, publicKey);
  return createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: b64url(publicKey.subarray(0, 32)), y: b64url(publicKey.subarray(32)) },
    format: 'jwk',
  });
}

/**
 * A fresh ECDSA P-256 key (RFC 6605); flags 256 = ZSK, 257 = KSK (RFC 4034 §2.1.1). The scalar comes from
 * OpenSSL's EC key generation through ECDH (the same curve and generator), not generateKeyPairSync: Node 20 can
 * deadlock exporting a key generateKeyPairSync made (KeyObjectHandle::ExportJWK holds the key's mutex, a garbage
 * collection in it runs the finished key-generation job's destructor, which takes the same mutex: a test worker hung
 * so, 2026-12-05, gdb's stack in docs/internals.md, dnssec/ "Keys").
 */
export function generateKey(flags: 256 | 257): KeyPair {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys(); // 0 < d < n: OpenSSL's EC key generation
  return keyPairOfEcdh(flags, ecdh, leftPad32(new Uint8Array(ecdh.getPrivateKey())));
}

/**
 * Generates keys until `avoid(tag)` is false: keeps our tags distinct from imported keys' tags (key tags
 * are not unique, RFC 4034 Appendix B, and a collision costs validators extra work) or inside a range.
 */
export function generateKeyAvoiding(flags: 256 | 257, avoid: (tag: number) => boolean, maxTries = 100_000): KeyPair {
  for (let i = 0; i < maxTries; i++) {
    const k = generateKey(flags);
    if (!avoid(k.keyTag)) return k;
  }
  throw new KeyError(`no acceptable key tag after ${maxTries} keys`);
}

export function isKsk(flags: number): boolean {
  return (flags & FLAG_SEP) !== 0;
}
