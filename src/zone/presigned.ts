// The DNSSEC records of a pre-signed zone (issue 11, `zone.dnssec.presigned`), indexed once when the zone is
// built (STYLE habit 8): RRSIGs by owner and covered type, the NSEC RRsets in canonical order (RFC 4034 §6.1)
// and the NSEC3 chain in hash order (RFC 5155 §3). NSEC3 owners are hashes, not names of the zone: they never
// enter the tree, so a query for one is a name error (RFC 5155 §7.2.8). The look-ups here are what the answer
// path (dnssec/presigned.ts) needs per query. Pure: no hashing, no I/O.
import { Name } from '../dns/name.js';
import type { Rr, RRset } from '../dns/rr.js';
import { RRClass, RRType } from '../dns/types.js';
import { parseBase32Hex } from '../dns/rdata/text.js';
import type { ChainIndex, Nsec3Entry, Nsec3Params, PresignedData, ZoneNode } from './types.js';

/** RFC 5155 §11: hash algorithm 1 = SHA-1, the only one defined. */
const SHA1 = 1;

/** The type an RRSIG covers (RFC 4034 §3.1.1: its first two octets). */
export function typeCovered(rrsigRdata: Uint8Array): number {
  return (rrsigRdata[0] << 8) | rrsigRdata[1];
}

/** RRSIG expiration and inception (RFC 4034 §3.1.5: 32-bit seconds at octets 8 and 12). */
export function rrsigTimes(rrsigRdata: Uint8Array): { expiration: number; inception: number } {
  const v = new DataView(rrsigRdata.buffer, rrsigRdata.byteOffset, rrsigRdata.byteLength);
  return { expiration: v.getUint32(8), inception: v.getUint32(12) };
}

const latin1 = new TextDecoder('latin1');

/** The hash an NSEC3 owner stands for: its single label below the apex, base32hex (RFC 5155 §3); else undefined. */
export function nsec3OwnerHash(owner: Name, origin: Name): Uint8Array | undefined {
  if (owner.labelCount !== origin.labelCount + 1 || !owner.isSubdomainOf(origin)) return undefined;
  try {
    const hash = parseBase32Hex(latin1.decode(owner.labels[0]));
    return hash.length > 0 ? hash : undefined;
  } catch {
    return undefined;
  }
}

/** NSEC3 RDATA fields (RFC 5155 §3.2): algorithm, flags, iterations, salt, next hashed owner; undefined when short. */
export function nsec3Fields(rdata: Uint8Array): { algorithm: number; flags: number; iterations: number; salt: Uint8Array; next: Uint8Array } | undefined {
  if (rdata.length < 5) return undefined;
  const saltEnd = 5 + rdata[4];
  if (rdata.length < saltEnd + 1) return undefined;
  const nextEnd = saltEnd + 1 + rdata[saltEnd];
  if (rdata.length < nextEnd) return undefined;
  return {
    algorithm: rdata[0], flags: rdata[1], iterations: (rdata[2] << 8) | rdata[3],
    salt: rdata.subarray(5, saltEnd), next: rdata.subarray(saltEnd + 1, nextEnd),
  };
}

/** RFC 5155 §3.1.2.1: the Opt-Out flag, bit 0 (the lowest) of the NSEC3 flags. */
export function isOptOut(nsec3: RRset): boolean {
  return (nsec3.rdatas[0][1] & 1) === 1;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return compareBytes(a, b) === 0;
}

function sameParams(rdata: Uint8Array, p: Nsec3Params): boolean {
  const f = nsec3Fields(rdata);
  return f !== undefined && f.algorithm === p.algorithm && f.iterations === p.iterations && bytesEqual(f.salt, p.salt);
}

/** RFC 5155 §4.1.2: an NSEC3PARAM with non-zero flags is not one to answer from. */
function paramsOf(rdata: Uint8Array): Nsec3Params | undefined {
  if (rdata.length < 5 || rdata.length < 5 + rdata[4] || rdata[1] !== 0) return undefined;
  return { algorithm: rdata[0], iterations: (rdata[2] << 8) | rdata[3], salt: rdata.slice(5, 5 + rdata[4]) };
}

/**
 * Indexes the RRSIG and NSEC3 records of a pre-signed zone beside its tree `nodes` (which hold the NSEC and
 * NSEC3PARAM RRsets). The chain answered from is the one the apex NSEC3PARAM names (RFC 5155 §4); NSEC3
 * records of another parameter set (a chain being built or retired) are left out. Identical records given
 * twice are kept once (a transfer may repeat a record, RFC 5936 §3.3). NSEC3 owners must be hashes
 * (`nsec3OwnerHash`); the caller checks that. Returns warnings about what denial cannot use.
 */
export function indexPresigned(origin: Name, nodes: ReadonlyMap<string, ZoneNode>, rrsigs: readonly Rr[], nsec3: readonly Rr[]): { data: PresignedData; warnings: string[] } {
  const warnings: string[] = [];

  const sigs = new Map<string, RRset[]>();
  for (const rr of rrsigs) {
    let list = sigs.get(rr.name.key);
    if (!list) { list = []; sigs.set(rr.name.key, list); }
    const covered = typeCovered(rr.rdata);
    const set = list.find((s) => typeCovered(s.rdatas[0]) === covered);
    if (!set) { list.push({ name: rr.name, type: RRType.RRSIG, class: RRClass.IN, ttl: rr.ttl, rdatas: [rr.rdata] }); continue; }
    if (set.rdatas.some((r) => bytesEqual(r, rr.rdata))) continue;
    set.rdatas.push(rr.rdata);
    set.ttl = Math.min(set.ttl, rr.ttl);
  }
  for (const list of sigs.values()) for (const s of list) Object.freeze(s);

  const nsec: RRset[] = [];
  for (const node of nodes.values()) {
    const set = node.rrsets.get(RRType.NSEC);
    if (set) nsec.push(set);
  }
  nsec.sort((a, b) => a.name.compare(b.name));

  // The chain's parameters: the apex NSEC3PARAM's (RFC 5155 §4), else those of the first NSEC3 record.
  const apexParams = nodes.get(origin.key)?.rrsets.get(RRType.NSEC3PARAM)?.rdatas;
  let params: Nsec3Params | undefined;
  for (const r of apexParams ?? []) if (!params) params = paramsOf(r);
  if (!params && nsec3.length > 0) {
    const f = nsec3Fields(nsec3[0].rdata);
    if (f) params = { algorithm: f.algorithm, iterations: f.iterations, salt: f.salt.slice() };
    warnings.push(`@ NSEC3PARAM: the zone has NSEC3 records but no usable NSEC3PARAM at its apex; answering from the chain of its first NSEC3 record (RFC 5155 §4)`);
  }
  const byOwner = new Map<string, Nsec3Entry>();
  let otherChains = 0;
  for (const rr of params ? nsec3 : []) {
    if (!sameParams(rr.rdata, params!)) { otherChains++; continue; }
    const hash = nsec3OwnerHash(rr.name, origin);
    if (!hash) continue;
    const e = byOwner.get(rr.name.key);
    if (!e) { byOwner.set(rr.name.key, { hash, rrset: { name: rr.name, type: RRType.NSEC3, class: RRClass.IN, ttl: rr.ttl, rdatas: [rr.rdata] } }); continue; }
    if (!e.rrset.rdatas.some((r) => bytesEqual(r, rr.rdata))) e.rrset.rdatas.push(rr.rdata);
  }
  if (otherChains > 0) warnings.push(`NSEC3: ${otherChains} NSEC3 record(s) belong to another parameter set than the NSEC3PARAM's and are not used for answers (RFC 5155 §4)`);
  const chain = [...byOwner.values()].sort((a, b) => compareBytes(a.hash, b.hash));
  for (const e of chain) Object.freeze(e.rrset);
  if (params && params.algorithm !== SHA1) warnings.push(`NSEC3PARAM: hash algorithm ${params.algorithm} is unknown (RFC 5155 §11 defines 1, SHA-1); negative answers carry no NSEC3 proof`);

  const denial = params && params.algorithm === SHA1 && chain.length > 0 ? 'nsec3' : nsec.length > 0 ? 'nsec' : 'none';
  const data: PresignedData = { denial, rrsigs: sigs, nsec, nsec3: chain };
  if (params) data.nsec3Params = params;
  return { data: Object.freeze(data), warnings };
}

/** The RRSIG RRset covering `type` at `owner` (a handful of RRsets per owner: a short scan). */
export function sigsFor(data: PresignedData, owner: Name, type: number): RRset | undefined {
  const list = data.rrsigs.get(owner.key);
  if (!list) return undefined;
  for (const s of list) if (typeCovered(s.rdatas[0]) === type) return s;
  return undefined;
}

/** True when the NSEC covers `name` (RFC 4034 §4.1.1; next <= owner means the chain wraps to the apex). */
export function nsecCovers(set: RRset, name: Name): boolean {
  const owner = set.name, next = Name.read(set.rdatas[0], 0).name;
  if (owner.compare(next) < 0) return owner.compare(name) < 0 && name.compare(next) < 0;
  return owner.compare(name) < 0 || name.compare(next) < 0;
}

/** The index of the first NSEC whose owner is not before `name` in canonical order (a.length when none). */
export function nsecPosition(a: readonly RRset[], name: Name): number {
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid].name.compare(name) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The NSEC owned by `name` (RFC 4035 §3.1.3.1 "matching"), by binary search; undefined when it owns none. */
export function exactNsec(data: ChainIndex, name: Name): RRset | undefined {
  const i = nsecPosition(data.nsec, name);
  return i < data.nsec.length && data.nsec[i].name.compare(name) === 0 ? data.nsec[i] : undefined;
}

/**
 * The NSEC that covers `name` (RFC 4035 §3.1.3.2): the one with the greatest owner before `name` in canonical
 * order, wrapping to the last; undefined when `name` owns an NSEC or that NSEC does not reach past it (a
 * broken chain). For an empty non-terminal this is the NSEC whose next name lies below it.
 */
export function coveringNsec(data: ChainIndex, name: Name): RRset | undefined {
  const a = data.nsec;
  if (a.length === 0) return undefined;
  const lo = nsecPosition(a, name);
  if (lo < a.length && a[lo].name.compare(name) === 0) return undefined;
  const prev = a[lo > 0 ? lo - 1 : a.length - 1];
  return nsecCovers(prev, name) ? prev : undefined;
}

/** A hash's first 6 octets as a number (48 bits are exact in a double; missing octets count as 0). */
function prefixOf(h: Uint8Array): number {
  let v = 0;
  for (let i = 0; i < 6; i++) v = v * 256 + (i < h.length ? h[i] : 0);
  return v;
}

/** Each chain's hash prefixes, made on its first search: a binary search then compares numbers, not octets. */
const prefixes = new WeakMap<readonly Nsec3Entry[], Float64Array>();

/** The index of the first NSEC3 entry whose hash is not below `hash` (a.length when none). */
export function nsec3Position(a: readonly Nsec3Entry[], hash: Uint8Array): number {
  let p = prefixes.get(a);
  if (!p) {
    p = new Float64Array(a.length);
    for (let i = 0; i < a.length; i++) p[i] = prefixOf(a[i].hash);
    prefixes.set(a, p);
  }
  const k = prefixOf(hash);
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const v = p[mid];
    // Prefixes in order means hashes in order; equal prefixes (rare) compare the octets.
    if (v < k || (v === k && compareBytes(a[mid].hash, hash) < 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The NSEC3 of the chain whose hash equals `hash` (RFC 5155 §7.2.3 "matching"), or else the one covering it
 * (§7.2.1: owner hash < hash < next hashed owner, the last wrapping to the first). `cover` is undefined when
 * the chain has a gap there (broken data).
 */
export function findNsec3(data: ChainIndex, hash: Uint8Array): { match?: RRset; cover?: RRset } {
  const a = data.nsec3;
  if (a.length === 0) return {};
  const lo = nsec3Position(a, hash);
  if (lo < a.length && bytesEqual(a[lo].hash, hash)) return { match: a[lo].rrset };
  const prev = a[lo > 0 ? lo - 1 : a.length - 1];
  const next = nsec3Fields(prev.rrset.rdatas[0])?.next;
  if (!next) return {};
  const wraps = compareBytes(next, prev.hash) <= 0;
  const covers = wraps
    ? compareBytes(prev.hash, hash) < 0 || compareBytes(hash, next) < 0
    : compareBytes(prev.hash, hash) < 0 && compareBytes(hash, next) < 0;
  return covers ? { cover: prev.rrset } : {};
}
