// NSEC3 (RFC 5155) made per query in "narrow" mode: a matching NSEC3 is owned by the name's hash with
// Next = hash+1, a covering one spans hash-1 .. hash+1, so no hash of the zone is ever revealed but the
// ones asked about. Parameters per RFC 9276 §3.1: SHA-1, no opt-out, 0 extra iterations, empty salt.
import { createHash } from 'node:crypto';
import { Name } from '../../dns/name.js';
import type { RRset } from '../../dns/rr.js';
import { RRType } from '../../dns/types.js';
import { encodeTypeBitmap } from '../../dns/bitmap.js';
import type { Zone } from '../../zone/types.js';
import type { DenialCase } from './index.js';
import { atOrBelowCut, authoritativeTypes, DenialError, isCut, nameIndex, nextCloser } from './nsec.js';
import { negativeSoa } from '../../dns/soa.js';

/** RFC 5155 §11: hash algorithm 1 = SHA-1. */
export const NSEC3_SHA1 = 1;
const HASH_LEN = 20;
const MOD = 1n << 160n;

const B32HEX = '0123456789ABCDEFGHIJKLMNOPQRSTUV'; // RFC 4648 §7: preserves sort order

/** Base32 with the extended hex alphabet, no padding (RFC 5155 §3.3). */
export function base32hex(bytes: Uint8Array): string {
  let out = '', bits = 0, acc = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32HEX[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += B32HEX[(acc << (5 - bits)) & 31];
  return out;
}

/** RFC 5155 §5: IH(salt, x, 0) = H(x || salt) over the canonical wire name; RFC 9276: no iterations, no salt. */
export function nsec3Hash(name: Name): Uint8Array {
  return new Uint8Array(createHash('sha1').update(name.canonicalWire()).digest());
}

/**
 * RFC 5155 §5 with any parameters (a pre-signed zone's chain): IH(salt, x, 0) = H(x || salt),
 * IH(salt, x, k) = H(IH(salt, x, k-1) || salt), for k = `iterations`; H is SHA-1 (algorithm 1).
 */
export function nsec3HashWith(name: Name, salt: Uint8Array, iterations: number): Uint8Array {
  let h = createHash('sha1').update(name.canonicalWire()).update(salt).digest();
  for (let k = 0; k < iterations; k++) h = createHash('sha1').update(h).update(salt).digest();
  return new Uint8Array(h);
}

export function toBig(hash: Uint8Array): bigint {
  return BigInt('0x' + Buffer.from(hash).toString('hex'));
}

function fromBig(v: bigint): Uint8Array {
  return Uint8Array.from(Buffer.from(v.toString(16).padStart(HASH_LEN * 2, '0'), 'hex'));
}

/** The NSEC3 owner for a hash: its base32hex label under the apex (RFC 5155 §3). */
export function nsec3Owner(zone: Zone, hash: Uint8Array): Name {
  return zone.origin.child(base32hex(hash));
}

/** RFC 5155 §4 NSEC3PARAM RDATA `1 0 0 -` (RFC 9276 §3.1, RFC 9824 §4). */
export const NSEC3PARAM_RDATA = Uint8Array.of(NSEC3_SHA1, 0, 0, 0, 0);

/**
 * The NSEC3PARAM RRset to publish at the apex (RFC 5155 §4; its type then appears in the apex NSEC3
 * bitmap). TTL: min(SOA TTL, SOA MINIMUM), as for the NSEC3 records themselves (RFC 9077 §3). Takes only
 * the origin and SOA, so it can be made before the zone is built (ZoneInput.apexRrsets).
 */
export function nsec3paramRrset(zone: Pick<Zone, 'origin' | 'soa'>): RRset {
  return { name: zone.origin, type: RRType.NSEC3PARAM, class: zone.soa.class, ttl: negativeSoa(zone.soa).ttl, rdatas: [NSEC3PARAM_RDATA] };
}

/** The hash of every authoritative name (RFC 5155 §7.1: ENTs and cuts included, glue not), once per zone. */
const indexes = new WeakMap<Zone, Map<bigint, Name>>();

/**
 * A patched zone's NSEC3 hash index made from the previous version's, once nsec.ts carryNameIndex carried the name
 * index (it checks that no changed name is a delegation point): the changed names' hashes put in or taken out. Made
 * anew at the first negative answer after each change it took 1.3 s on a 200,000-name zone; this way, a copy of the
 * map and a hash per changed name.
 */
export function carryNsec3Index(prev: Zone, next: Zone, changed: readonly Name[]): void {
  const old = indexes.get(prev);
  if (!old || indexes.has(next)) return;
  const idx = new Map(old);
  for (const n of changed) {
    const h = toBig(nsec3Hash(n));
    const node = next.nodes.get(n.key);
    if (node && !atOrBelowCut(next, n)) idx.set(h, node.name);
    else if (idx.get(h)?.equals(n)) idx.delete(h);
  }
  indexes.set(next, idx);
}

export function nsec3Index(zone: Zone): Map<bigint, Name> {
  let idx = indexes.get(zone);
  if (!idx) {
    idx = new Map();
    for (const name of nameIndex(zone).names) idx.set(toBig(nsec3Hash(name)), name);
    indexes.set(zone, idx);
  }
  return idx;
}

/**
 * Bitmap types of an existing name's NSEC3 (RFC 5155 §3.2.1): its types, plus RRSIG when the name has
 * signed RRsets (not at an insecure delegation, where NS is unsigned; not at an ENT: empty bitmap).
 */
export function nsec3Types(zone: Zone, name: Name): number[] {
  const types = authoritativeTypes(zone, name);
  if (!types) throw new DenialError(`${name.key} is not in zone ${zone.origin.key}`);
  const signed = isCut(zone, name) ? types.includes(RRType.DS) : types.length > 0;
  return signed ? [...types, RRType.RRSIG] : types;
}

export function nsec3Rrset(zone: Zone, owner: bigint, next: bigint, types: number[], ttl: number): RRset {
  const bitmap = encodeTypeBitmap(types);
  const rdata = new Uint8Array(6 + HASH_LEN + bitmap.length);
  // RFC 5155 §3.2: algorithm, flags (opt-out clear), iterations (16 bits), salt length 0, hash length, next, bitmap.
  rdata.set([NSEC3_SHA1, 0, 0, 0, 0, HASH_LEN]);
  rdata.set(fromBig(next), 6);
  rdata.set(bitmap, 6 + HASH_LEN);
  return { name: nsec3Owner(zone, fromBig(owner)), type: RRType.NSEC3, class: zone.soa.class, ttl, rdatas: [rdata] };
}

/** The NSEC3 matching an existing name (RFC 5155 §7.2.3): owner hash(name), Next hash+1. */
function matching(zone: Zone, name: Name, ttl: number): RRset {
  const h = toBig(nsec3Hash(name));
  return nsec3Rrset(zone, h, (h + 1n) % MOD, nsec3Types(zone, name), ttl);
}

/**
 * The NSEC3 covering a nonexistent name (RFC 5155 §7.2.1): owner hash-1, Next hash+1 (mod 2^160, so
 * the last NSEC3 of the chain wraps). When hash-1 is a real name's hash the record is that name's
 * matching NSEC3 and carries its true types.
 */
function covering(zone: Zone, name: Name, ttl: number): RRset {
  const idx = nsec3Index(zone);
  const h = toBig(nsec3Hash(name));
  const clash = idx.get(h);
  if (clash) throw new DenialError(`${name.key} hashes like existing ${clash.key}; it cannot be covered (RFC 5155 §7.2.1)`);
  const owner = (h - 1n + MOD) % MOD;
  const real = idx.get(owner);
  return nsec3Rrset(zone, owner, (h + 1n) % MOD, real ? nsec3Types(zone, real) : [], ttl);
}

/** The closest encloser proof (RFC 5155 §7.2.1): the encloser matched, the next closer name covered. */
function closestEncloserProof(zone: Zone, name: Name, ce: Name, ttl: number): RRset[] {
  return [matching(zone, ce, ttl), covering(zone, nextCloser(name, ce), ttl)];
}

function unique(sets: RRset[]): RRset[] {
  const seen = new Set<string>();
  return sets.filter((s) => !seen.has(s.name.key) && (seen.add(s.name.key), true));
}

/** RFC 5155 NSEC3 RRsets (unsigned) proving `c`; the caller signs them. */
export function nsec3Proof(zone: Zone, c: DenialCase, ttl: number): RRset[] {
  switch (c.kind) {
    case 'nxdomain':
      // §7.2.2: closest encloser proof plus the wildcard at the closest encloser covered.
      return unique([...closestEncloserProof(zone, c.name, c.closestEncloser, ttl), covering(zone, c.closestEncloser.child('*'), ttl)]);
    case 'nodata':
      // §7.2.5: wildcard NODATA: closest encloser proof plus the wildcard's matching NSEC3.
      if (c.wildcard) return unique([...closestEncloserProof(zone, c.name, c.wildcard.parent(), ttl), matching(zone, c.wildcard, ttl)]);
      // §7.2.3 (an ENT matches with an empty bitmap); §7.2.4: DS at a cut matches the cut's NSEC3 (NS, no DS).
      return [matching(zone, c.name, ttl)];
    case 'wildcard':
      // §7.2.6: the next closer name is covered (the encloser is implied by the RRSIG labels).
      return [covering(zone, nextCloser(c.name, c.wildcard.parent()), ttl)];
    case 'insecure-referral':
      // §7.2.7 without opt-out: the cut's matching NSEC3 shows NS and no DS.
      return [matching(zone, c.cut, ttl)];
  }
}
