// What a cluster worker (front.ts) learns of a zone's NSEC3 or NSEC chain from the primary's answers, and the NXDOMAIN
// answers it then makes itself: aggressive use of a signed chain (RFC 8198 §5.1, done by the server's own front
// end instead of a resolver), so a stream of names that do not exist is answered by every worker in parallel
// from records signed at load, not one by one by the primary.
//
// The primary marks an answer as worth learning from (handle.ts `learnable`) only for a zone that denies from a
// precomputed NSEC3 chain without Opt-Out and encloses no other zone we serve: then every name of the zone that
// exists, empty non-terminals included, owns an NSEC3 (RFC 5155 §7.1), and a hash strictly between an NSEC3's
// owner and next hash belongs to no name at all. The worker keeps each NSEC3 with its RRSIGs and the zone's
// SOA with its RRSIGs, as the primary sent them. A new name is answered here only when the learned records
// prove it all (RFC 5155 §7.2.2): walking down from the apex, every ancestor's hash matches a learned NSEC3 (the
// closest encloser: not a delegation, no DNAME), the next closer name's hash is covered, and so is the wildcard
// at the closest encloser. Anything else (a name that exists, a hash nothing learned covers, a wildcard that
// exists, a cut, an answer too big for the client) goes to the primary, whose answer may teach more.
//
// An NSEC chain (`nsec-chain`, RFC 4034 §4) works the same with names in place of hashes: the learned owners are
// kept in RFC 4034 §6.1 canonical order (orderKey), and a name is answered when a learned NSEC covers it and
// another (often the same) covers the wildcard at the closest encloser derived from the first (RFC 4035 §3.1.3.2,
// RFC 8198 §5.1). Empty non-terminals own no NSEC: a name above the covering NSEC's next name exists, and goes to
// the primary, as does a name at or below a cut or DNAME whose NSEC covers it.
//
// The primary also sends a small zone's whole chain at once (chainpush.ts): `digest` makes it on the primary from
// the chain's records, read as an answer's are, and `learnDigest` takes it in a worker without reading a record.
//
// Validity: what was learned of a zone holds while the zone's version and signing material do (front.ts drops it
// when a generation changes them) and is used until the point the primary gave (the signatures' refresh time).
import { createHash, createPrivateKey, hash as oneShot, sign as nodeSign, type KeyObject } from 'node:crypto';
import { Name } from '../dns/name.js';
import { readMessage, type Message, type MessageRr } from '../dns/reader.js';
import type { Rr, RRset } from '../dns/rr.js';
import { NXNAME_BITMAP } from '../dnssec/denial/compact.js';
import { parseRrsigRdata, rrsigRdata, signedData, type RrsigFields } from '../dnssec/rrsig.js';
import { RRType } from '../dns/types.js';
import { EDNS_UDP_SIZE } from './limits.js';
import type { CacheKey } from './respcache.js';
import { SortedKeys } from './sorted.js';
import type { GapKeys } from './gaps.js';

/** One NSEC3 or NSEC of a chain as it goes on the wire, with its RRSIGs. */
interface Link {
  /**
   * Owner and next: NSEC3 hashes, their octets as latin1 (the order of the hashes, as base32hex keeps it: RFC 4648
   * §7); NSEC names as `orderKey` gives them (RFC 4034 §6.1 order as plain string order).
   */
  owner: string;
  next: string;
  /** The type bitmap holds NS / SOA / DNAME (RFC 5155 §3.2.1, RFC 4034 §4.1.2). */
  ns: boolean;
  soa: boolean;
  dname: boolean;
  /**
   * The record and its RRSIGs as they go into an answer (`pack`): the owner's labels above the apex (an NSEC3: length
   * octet + 32 base32hex characters; none for the apex), two octets for a pointer to the apex, TYPE .. RDATA, then per
   * RRSIG two octets for a pointer to the owner and TYPE .. RDATA; `write` fills the pointers in. One buffer, so an
   * answer reads the one link it does not share with its neighbours from a few adjacent cache lines.
   */
  wire: Uint8Array;
  labelLen: number;
  /** RRSIGs in `wire`. */
  nsigs: number;
  until: number;
}

/**
 * What the primary sends with a compact denial (RFC 9824) it made, for a worker to make the next ones in the same
 * gap itself (handle.ts `compactHint`): the zone's names just before and after the asked one (canonical wire
 * forms; `next` undefined: none after it), checked to have no cut, DNAME or wildcard above the gap, and the ZSK.
 */
export interface CompactHint {
  /** The gap of the asked name first, then gaps beside it (server/gaps.ts): canonical wire forms of each gap's ends. */
  gaps: { prev: Uint8Array; next?: Uint8Array }[];
  /** The ZSK, PKCS #8 DER (NodeSigner.pkcs8). */
  key: Uint8Array;
}

/** How a worker signs compact denials of a zone: the RRSIG fields of the primary's (the labels differ per name), the NSEC TTL, the key. */
interface CompactSigning {
  template: RrsigFields;
  ttl: number;
  der: Uint8Array;
  key: KeyObject;
}

interface Chain {
  /** The zone's Name.key (for the query counters), and its apex's wire form, lower-cased, as latin1. */
  zoneKey: string;
  apexKey: string;
  /**
   * The kind of the chain's first learned link; links of the other kind are not learned. `compact`: the links
   * are gaps between the zone's names (CompactHint), unsigned: the worker signs each answer's NSEC itself.
   */
  kind?: 'nsec3' | 'nsec' | 'compact';
  compact?: CompactSigning;
  /** NSEC3 parameters (RFC 5155 §3.1): every link shares them (the first one's, `params` once set). */
  salt: Uint8Array;
  iterations: number;
  params?: boolean;
  /** Learned links by owner, in string order (made with the kind: the owners of an NSEC or a gap share the apex's key). */
  links?: SortedKeys<Link>;
  /** The SOA: TYPE .. RDATA of it and of its RRSIGs, and both packed as a link of the apex (`pack`). */
  soa?: { body: Uint8Array; sigs: Uint8Array[]; packed: Uint8Array; until: number };
  /** The apex's hash, and the hashes of wildcards at closest enclosers (by the encloser's wire form). */
  apexHash?: string;
  wild: Map<string, string>;
  /** Bumped at every change of `links`; `apexProof` holds for one version (LearnedDenial.apexOf). */
  version: number;
  /**
   * The zone changed and the primary will send what changed in its chain (`patch`): until then nothing is answered
   * from it (some links may be of the previous version); links and the SOA learned from new answers are taken.
   */
  held?: boolean;
  apexProof?: { version: number; apex?: Link; wild?: Link };
}

/** What a ChainDigest says of the whole chain: its kind, the apex's wire form as latin1, NSEC3 parameters, validity. */
export interface DigestHead {
  kind: 'nsec' | 'nsec3';
  apexKey: string;
  salt: Uint8Array;
  iterations: number;
  until: number;
}

/** One link for LearnedDenial.digest: the record, its RRSIGs, and the object it is kept under from version to version. */
export interface DigestLink {
  key: object;
  rr: Rr;
  sigs: readonly Rr[];
}

/** A link read for a digest (undefined: the record makes none), for the signing period ending `until`. */
export interface KeptLink {
  until: number;
  link: unknown;
}

/**
 * A zone's whole NSEC3 or NSEC chain as the primary sends it to its workers (LearnedDenial.digest, chainpush.ts): the
 * links in order as parallel arrays (owner and next keys as `Link` has them; `bits`: NS 1, SOA 2, DNAME 4; each
 * link's `wire` the slice of `wire` ending at its `ends`), so a worker takes thousands of links without reading a record.
 */
export interface ChainDigest extends DigestHead {
  owners: string[];
  nexts: string[];
  bits: Uint8Array;
  wire: Uint8Array;
  ends: Uint32Array;
  labelLens: Uint8Array;
  nsigs: Uint8Array;
}

export interface LearnedOptions {
  /** Most links kept over all zones (default 200 000); past it everything learned is dropped and learning starts over. */
  max?: number;
}

export interface LearnedStats {
  /** Answers made from learned records. */
  answered: number;
  /** Links held now. */
  links: number;
  /** Whole chains or gap sets of a zone taken at once (learnDigest, learnGaps). */
  zones: number;
  /** Changes of a zone's chain taken as a patch (what changed only: `patch`). */
  patched: number;
}

const u16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const B32HEX = '0123456789ABCDEFGHIJKLMNOPQRSTUV';
const B32 = new Int8Array(128).fill(-1);
for (let i = 0; i < 32; i++) {
  B32[B32HEX.charCodeAt(i)] = i;
  B32[B32HEX.toLowerCase().charCodeAt(i)] = i;
}

/** A 32-character base32hex label (a SHA-1 NSEC3 owner, RFC 5155 §3) as its 20 octets in latin1; undefined when it is not one. */
function labelHash(label: Uint8Array): string | undefined {
  if (label.length !== 32) return undefined;
  const out = Buffer.allocUnsafe(20);
  let acc = 0, bits = 0, n = 0;
  for (const c of label) {
    const v = c < 128 ? B32[c] : -1;
    if (v < 0) return undefined;
    acc = ((acc << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out[n++] = (acc >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  return out.toString('latin1');
}

/** Whether type `t` (< 256) is in an NSEC3 type bitmap (RFC 5155 §3.2.1, RFC 4034 §4.1.2). */
function hasType(bitmap: Uint8Array, t: number): boolean {
  let o = 0;
  while (o + 2 <= bitmap.length) {
    const win = bitmap[o], len = bitmap[o + 1];
    if (win === 0) return (t >> 3) < len && (bitmap[o + 2 + (t >> 3)] & (0x80 >> (t & 7))) !== 0;
    o += 2 + len;
  }
  return false;
}

/**
 * RFC 4034 §6.1 canonical order as plain string order: the labels of a lower-cased wire name from the rightmost
 * one, each label's octets followed by a 0 octet (so a shorter label sorts first, and a name before the names
 * below it), as latin1. Undefined for a label holding a 0 octet, which would break that order, or a compression
 * pointer. `starts`: where each label of `wire` starts, the root's 0 octet last.
 */
export function orderKey(wire: Uint8Array, starts: readonly number[]): string | undefined {
  const out = Buffer.allocUnsafe(starts[starts.length - 1]);
  let o = 0;
  for (let i = starts.length - 2; i >= 0; i--) {
    const s = starts[i], l = wire[s];
    if (l > 63) return undefined;
    for (let j = s + 1; j <= s + l; j++) {
      const c = wire[j];
      if (c === 0) return undefined;
      out[o++] = c;
    }
    out[o++] = 0;
  }
  return out.toString('latin1');
}

/** Where each label of the wire name at `at` in `b` starts (the root's 0 octet last); undefined past `end` or past 255 octets. */
function labelStarts(b: Uint8Array, at: number, end: number): number[] | undefined {
  const starts: number[] = [];
  for (let o = at; ; ) {
    if (o >= end || o - at > 254) return undefined;
    starts.push(o - at);
    const l = b[o];
    if (l === 0) return starts;
    if (l > 63) return undefined;
    o += l + 1;
  }
}

/** `orderKey` of a whole wire name (no compression), finding its labels first. */
export function wireOrderKey(wire: Uint8Array): string | undefined {
  const st = labelStarts(wire, 0, wire.length);
  return st && orderKey(wire, st);
}

/** The RRSIGs in `rrs` covering type `type` at `owner` (RFC 4034 §3.1.1: type covered first in RDATA). */
function sigsOver(rrs: readonly Rr[], owner: Name, type: number): Rr[] {
  return rrs.filter((rr) => rr.type === RRType.RRSIG && rr.rdata.length >= 2 && u16(rr.rdata, 0) === type && rr.name.equals(owner));
}

/** The key (orderKey) of the closest common ancestor of the names keyed `a` and `b`: their common whole labels. */
function commonAncestor(a: string, b: string): string {
  const n = Math.min(a.length, b.length);
  let last = 0;
  for (let i = 0; i < n && a.charCodeAt(i) === b.charCodeAt(i); i++) if (a.charCodeAt(i) === 0) last = i + 1;
  return a.slice(0, last);
}

/** Whether the name keyed `key` lies strictly below the one keyed `above` (keys end on a label's 0 octet). */
const below = (key: string, above: string) => key.length > above.length && key.startsWith(above);

const lowerWire = (w: Uint8Array) => Buffer.from(w).map((c) => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c));

const NO_WIRE = new Uint8Array(0);

/** `b` from `at` to its end, as a plain view (cheaper than a Buffer's subarray on the answer path). */
const view = (b: Buffer, at: number): Uint8Array => new Uint8Array(b.buffer, b.byteOffset + at, b.length - at);

/** A link's `wire` (see Link): labels, apex pointer, `body`, and per RRSIG an owner pointer and the RRSIG's `sigs` body. */
function pack(label: Uint8Array, body: Uint8Array, sigs: Uint8Array[]): Pick<Link, 'wire' | 'labelLen' | 'nsigs'> {
  let size = label.length + 2 + body.length;
  for (const s of sigs) size += 2 + s.length;
  const wire = Buffer.allocUnsafe(size);
  wire.set(label, 0);
  let o = label.length + 2;
  wire.set(body, o);
  o += body.length;
  for (const s of sigs) {
    wire.set(s, o + 2);
    o += 2 + s.length;
  }
  return { wire, labelLen: label.length, nsigs: sigs.length };
}

/** A gap between a compact zone's names (CompactHint) as a link without records; undefined when orderKey cannot order an end. */
function gapLink(gap: CompactHint['gaps'][number], apexWire: Uint8Array, until: number): Link | undefined {
  const owner = wireOrderKey(gap.prev), next = wireOrderKey(gap.next ?? apexWire);
  return owner === undefined || next === undefined ? undefined : gapOf(owner, next, until);
}

/** A gap between the names keyed `owner` and `next` as a link without records (the worker signs its answers). */
const gapOf = (owner: string, next: string, until: number): Link => ({ owner, next, ns: false, soa: false, dname: false, wire: NO_WIRE, labelLen: 0, nsigs: 0, until });

function soaOf(b: Uint8Array, sigs: Uint8Array[], until: number): NonNullable<Chain['soa']> {
  return { body: b, sigs, packed: pack(NO_WIRE, b, sigs).wire, until };
}

/** The links of a digest (LearnedDenial.digest), keyed by owner, in its order. */
function digestLinks(d: ChainDigest): [string, Link][] {
  const n = d.owners.length;
  const taken: [string, Link][] = new Array(n);
  for (let i = 0; i < n; i++) {
    const b = d.bits[i];
    taken[i] = [d.owners[i], {
      owner: d.owners[i], next: d.nexts[i], ns: (b & 1) !== 0, soa: (b & 2) !== 0, dname: (b & 4) !== 0,
      wire: d.wire.subarray(i === 0 ? 0 : d.ends[i - 1], d.ends[i]), labelLen: d.labelLens[i], nsigs: d.nsigs[i], until: d.until,
    }];
  }
  return taken;
}

/**
 * Copies a packed link (`pack`) into `out` at `at` and fills in its pointers: to the apex after the labels, and from
 * each RRSIG to the owner (the apex itself for a link of the apex: no pointer to a pointer). Returns the end.
 */
function place(out: Buffer, at: number, wire: Uint8Array, labelLen: number, nsigs: number, apexPtr: number): number {
  out.set(wire, at);
  let o = at + labelLen;
  out[o] = apexPtr >> 8;
  out[o + 1] = apexPtr & 0xff;
  o += 2;
  o += 10 + ((out[o + 8] << 8) | out[o + 9]); // TYPE CLASS TTL RDLENGTH RDATA
  const owner = labelLen === 0 ? apexPtr : 0xc000 | at; // RFC 1035 §4.1.4
  for (let i = 0; i < nsigs; i++) {
    out[o] = owner >> 8;
    out[o + 1] = owner & 0xff;
    o += 2;
    o += 10 + ((out[o + 8] << 8) | out[o + 9]);
  }
  return o;
}

/** TYPE, CLASS, TTL, RDLENGTH and RDATA of a record: what follows its owner name. */
function body(rr: Rr): Uint8Array {
  const b = Buffer.allocUnsafe(10 + rr.rdata.length);
  b.writeUInt16BE(rr.type, 0);
  b.writeUInt16BE(rr.class, 2);
  b.writeUInt32BE(rr.ttl >>> 0, 4);
  b.writeUInt16BE(rr.rdata.length, 8);
  b.set(rr.rdata, 10);
  return b;
}

/**
 * A response's header and question into `out`: the query's ID, RD and CD (RFC 1035 §4.1.1, RFC 4035 §3.2.2) and its
 * question (to `qEnd`) as asked, QR, AA or TC, `rcode`, no answer records, `ns` authority records, the OPT counted.
 */
export function writeHead(out: Buffer, query: Uint8Array, qEnd: number, h: { aa?: boolean; tc?: boolean; rcode: number; ns: number; opt: boolean }): void {
  out[0] = query[0];
  out[1] = query[1];
  out[2] = 0x80 | (h.aa ? 0x04 : 0) | (h.tc ? 0x02 : 0) | (query[2] & 0x01);
  out[3] = (query[3] & 0x10) | h.rcode;
  out.writeUInt32BE(0x00010000, 4); // QDCOUNT 1, ANCOUNT 0
  out.writeUInt16BE(h.ns, 8);
  out.writeUInt16BE(h.opt ? 1 : 0, 10);
  for (let i = 12; i < qEnd; i++) out[i] = query[i]; // a few dozen octets: cheaper than a subarray and set
}

/** The OPT at `o` (RFC 6891 §6.1.2): root owner, our UDP size, version 0, the query's DO and CO (cache-key `flags`), no options. */
export function writeOpt(out: Buffer, o: number, flags: number): void {
  out[o++] = 0;
  out.writeUInt16BE(RRType.OPT, o);
  out.writeUInt16BE(EDNS_UDP_SIZE, o + 2);
  out[o + 4] = 0; // extended RCODE
  out[o + 5] = 0; // version
  out[o + 6] = flags & 0xc0; // DO, CO
  out[o + 7] = 0;
  out.writeUInt16BE(0, o + 8);
}

/** An answer made from what was learned, and the zone to count it under. */
export interface Made {
  wire: Uint8Array;
  zoneKey: string;
}

/** A compact denial the learned gaps prove, still to be signed (`sign`: through the caller's signing budget). */
export interface ToSign {
  zoneKey: string;
  sign(): Uint8Array | undefined;
}

export class LearnedDenial {
  private readonly max: number;
  /** Where `answer` lower-cases the query name (at most 255 octets, RFC 1035 §2.3.4). */
  private readonly scratch = Buffer.allocUnsafe(256);
  /** By the apex's wire form, lower-cased, as latin1. */
  private zones = new Map<string, Chain>();
  private count = 0;
  readonly stats: LearnedStats = { answered: 0, links: 0, zones: 0, patched: 0 };

  constructor(opts: LearnedOptions = {}) {
    this.max = Math.max(1, opts.max ?? 200_000);
  }

  clear(): void {
    this.zones = new Map();
    this.count = 0;
    this.stats.links = 0;
  }

  /**
   * Drops what was learned of the zones keyed `zoneKeys` (Name.keys), keeping the rest; of those also in `hold`, keeps
   * the links but answers nothing from them until `patch` brings what changed. With `hold` (a new generation), a
   * zone still held from an earlier one (its patch never came) is dropped too. Returns the zones held now.
   */
  drop(zoneKeys: readonly string[], hold?: readonly string[], cuts?: Readonly<Record<string, readonly string[]>>): string[] {
    const out: string[] = [];
    if (this.zones.size === 0) return out;
    const gone = new Set(zoneKeys), held = new Set(hold);
    for (const [apex, chain] of this.zones) {
      if (!(chain.held && hold) && !gone.has(chain.zoneKey)) continue;
      // A compact zone is held only with the names its change made or dropped (`cuts`): the gaps around them go now.
      const cut = chain.kind === 'compact' ? cuts?.[chain.zoneKey] : undefined;
      if (!chain.held && held.has(chain.zoneKey) && (chain.kind !== 'compact' || cut)) {
        if (cut) this.cutGaps(chain, cut);
        chain.held = true;
        out.push(chain.zoneKey);
        continue;
      }
      this.count -= chain.links?.size ?? 0;
      this.zones.delete(apex);
    }
    this.stats.links = this.count;
    return out;
  }

  /**
   * Takes out of a compact zone's learned gaps every gap that holds one of the names keyed `keys` (orderKey), strictly
   * inside or at either end: a name made there splits it, a name dropped there joins it with its neighbour.
   */
  private cutGaps(chain: Chain, keys: readonly string[]): void {
    const links = chain.links;
    if (!links || links.size === 0) return;
    const out = new Set<string>();
    for (const k of keys) {
      const i = links.floor(k);
      // The gap at or before k, and the one before that (whose end may be k); the last gap wraps to the apex.
      for (const j of [i - 1, i < 0 ? links.size - 1 : i]) {
        if (j < 0) continue;
        const g = links.values[j];
        const wraps = g.next <= g.owner;
        if ((g.owner <= k && (wraps || k <= g.next)) || g.next === k) out.add(g.owner);
      }
    }
    if (out.size === 0) return;
    chain.version++;
    this.count += links.merge([], out);
    this.stats.links = this.count;
  }

  /** What was learned of the zone keyed `zoneKey` (a Name.key; the chains are keyed by the apex's wire form). */
  private chainOf(zoneKey: string): Chain | undefined {
    for (const c of this.zones.values()) if (c.zoneKey === zoneKey) return c;
    return undefined;
  }

  /** Whether what was learned of the zone keyed `zoneKey` waits for a `patch` (`drop` with `hold`). */
  isHeld(zoneKey: string): boolean {
    return this.chainOf(zoneKey)?.held === true;
  }

  /** The zones (Name.keys) whose learned data waits for a `patch`. */
  heldZones(): string[] {
    const out: string[] = [];
    for (const c of this.zones.values()) if (c.held) out.push(c.zoneKey);
    return out;
  }

  /**
   * What changed in the chain of a held zone (`drop`): the links whose owners are in `gone` (keys as `ownerKey`
   * gives them) taken out, the links of `d` put in (replacing those of the same owners), and answers made from it
   * again. False when the zone was not held (nothing done) or the patch does not fit it (the zone is dropped).
   */
  patch(zoneKey: string, gone: readonly string[], d: ChainDigest | undefined): boolean {
    const chain = this.chainOf(zoneKey);
    if (!chain?.held) return false;
    const fits = !d || (ofKind(chain, d.kind) && (d.kind !== 'nsec3' || sameParams(chain, d.salt, d.iterations)));
    if (!fits || !chain.links || this.count + (d?.owners.length ?? 0) > this.max) {
      this.drop([zoneKey]);
      return false;
    }
    chain.version++;
    this.count += chain.links.merge(d ? digestLinks(d) : [], new Set(gone));
    this.stats.links = this.count;
    this.stats.patched++;
    chain.held = false;
    return true;
  }

  /** The key a link of a `kind` chain owned by `owner` is held under (Link.owner); undefined when it has none. */
  static ownerKey(kind: 'nsec' | 'nsec3', owner: Name): string | undefined {
    return kind === 'nsec3' ? labelHash(owner.labels[0] ?? NO_WIRE) : wireOrderKey(owner.canonicalWire());
  }

  /**
   * Takes the NSEC3 records (with their RRSIGs) and the SOA (with its RRSIGs) of the zone `zoneKey` (a Name.key)
   * from the primary's answer `wire`, usable until `until` (epoch seconds).
   */
  learn(wire: Uint8Array, zoneKey: string, until: number, compact?: CompactHint): void {
    const read = readMessage(wire);
    if (!read.ok) return;
    if (compact) return this.learnCompact(read.message, zoneKey, until, compact);
    const auth = read.message.authority;
    this.take(auth, zoneKey, until, (owner, type) => sigsOver(auth, owner, type).map(body));
  }

  /**
   * The primary's side of a whole chain for workers (chainpush.ts): the links of the zone `zoneKey` (each record of
   * the chain with its RRSIGs) read as an answer's are (`take`), as flat arrays a worker turns back into links
   * without reading a record (`learnDigest`). Undefined when no link could be read.
   */
  static digest(zoneKey: string, head: DigestHead, links: readonly DigestLink[], kept?: WeakMap<object, KeptLink>): ChainDigest | undefined {
    const until = head.until;
    const reader = new LearnedDenial({ max: Number.MAX_SAFE_INTEGER });
    const taken: Link[] = [];
    for (const l of links) {
      // A link of an earlier version of the chain (the same RRset object) read for this period already: as it was.
      const k = kept?.get(l.key);
      if (k && k.until === until) {
        if (k.link) taken.push(k.link as Link);
        continue;
      }
      const one: Link[] = [];
      const sigs = l.sigs.map(body);
      reader.take([l.rr], zoneKey, until, () => sigs, one);
      kept?.set(l.key, { until, link: one[0] });
      if (one[0]) taken.push(one[0]);
    }
    if (taken.length === 0) return undefined;
    taken.sort((a, b) => (a.owner < b.owner ? -1 : a.owner > b.owner ? 1 : 0));
    const n = taken.length;
    const ends = new Uint32Array(n), labelLens = new Uint8Array(n), nsigs = new Uint8Array(n), bits = new Uint8Array(n);
    let size = 0;
    for (let i = 0; i < n; i++) {
      const l = taken[i];
      size += l.wire.length;
      ends[i] = size;
      labelLens[i] = l.labelLen;
      nsigs[i] = l.nsigs;
      bits[i] = (l.ns ? 1 : 0) | (l.soa ? 2 : 0) | (l.dname ? 4 : 0);
    }
    const wire = Buffer.allocUnsafe(size);
    for (let i = 0; i < n; i++) wire.set(taken[i].wire, i === 0 ? 0 : ends[i - 1]);
    return {
      ...head,
      owners: taken.map((l) => l.owner), nexts: taken.map((l) => l.next), bits, wire, ends, labelLens, nsigs,
    };
  }

  /**
   * A whole chain the primary sent (`digest`) for the zone `zoneKey`: its links merged into what was learned (the
   * SOA came with the answer before). False when it does not fit the chain held (another kind, other NSEC3
   * parameters) or would pass the bound.
   */
  learnDigest(d: ChainDigest, zoneKey: string): boolean {
    const n = d.owners.length;
    if (this.count + n > this.max) return false;
    const chain = this.zones.get(d.apexKey) ?? this.newChain(d.apexKey, zoneKey);
    if (chain.zoneKey !== zoneKey || !ofKind(chain, d.kind)) return false;
    if (d.kind === 'nsec3' && !sameParams(chain, d.salt, d.iterations)) return false;
    chain.version++;
    this.count += chain.links!.merge(digestLinks(d));
    this.stats.links = this.count;
    this.stats.zones++;
    return true;
  }

  /**
   * The links in `auth` (with their RRSIGs, `sigsOf`) and its SOA, for the zone `zoneKey`: inserted one by one, or
   * with `collect` only gathered there (the caller merges them). Returns the zone's chain.
   */
  private take(auth: readonly Rr[], zoneKey: string, until: number, sigsOf: (owner: Name, type: number) => Uint8Array[], collect?: Link[]): Chain | undefined {
    let chain: Chain | undefined, apexKey: string | undefined;
    const zoneOf = (apex: Name): Chain | undefined => {
      if (apex.key !== zoneKey) return undefined;
      if (chain) return chain;
      apexKey = Buffer.from(apex.canonicalWire()).toString('latin1');
      chain = this.zones.get(apexKey);
      return chain;
    };
    const apexOf = (n: Name): Name | undefined => {
      for (let p = n; ; p = p.parent()) {
        if (p.key === zoneKey) return p;
        if (p.isRoot()) return undefined;
      }
    };
    const add = (link: Link): boolean => {
      if (!collect) return this.insert(chain!, link);
      collect.push(link);
      return true;
    };
    for (const rr of auth) {
      if (rr.type === RRType.SOA && rr.name.key === zoneKey) {
        const sigs = sigsOf(rr.name, RRType.SOA);
        zoneOf(rr.name);
        if (sigs.length === 0) continue;
        chain ??= this.newChain(apexKey!, zoneKey);
        chain.soa = soaOf(body(rr), sigs, until);
        continue;
      }
      if (rr.type === RRType.NSEC) {
        const apex = apexOf(rr.name);
        if (!apex) continue;
        const link = this.nsecLink(rr, apex, sigsOf(rr.name, RRType.NSEC), until);
        if (!link) continue;
        zoneOf(apex);
        chain ??= this.newChain(apexKey!, zoneKey);
        if (!ofKind(chain, 'nsec')) continue;
        if (!add(link)) return undefined;
        continue;
      }
      if (rr.type !== RRType.NSEC3 || rr.name.labelCount < 1) continue;
      const apex = rr.name.parent();
      if (apex.key !== zoneKey) continue;
      const d = rr.rdata;
      // RFC 5155 §3.2: algorithm, flags, iterations, salt length, salt, hash length, next hash, type bitmap.
      if (d.length < 5) continue;
      const saltLen = d[4];
      if (d.length < 6 + saltLen) continue;
      const hashLen = d[5 + saltLen];
      const bitmapAt = 6 + saltLen + hashLen;
      if (d[0] !== 1 || hashLen !== 20 || d.length < bitmapAt) continue;
      // Opt-Out (RFC 5155 §6): the primary never marks such a chain; a record with the flag is not learned from.
      if ((d[1] & 1) !== 0) continue;
      const owner = labelHash(rr.name.labels[0]);
      const sigs = sigsOf(rr.name, RRType.NSEC3);
      if (!owner || sigs.length === 0) continue;
      zoneOf(apex);
      chain ??= this.newChain(apexKey!, zoneKey);
      const salt = d.subarray(5, 5 + saltLen);
      const iterations = u16(d, 2);
      if (!ofKind(chain, 'nsec3') || !sameParams(chain, salt, iterations)) continue;
      const bitmap = d.subarray(bitmapAt);
      const label = Buffer.allocUnsafe(33);
      label[0] = 32;
      label.set(rr.name.labels[0], 1);
      const link: Link = {
        owner, next: Buffer.from(d.subarray(6 + saltLen, bitmapAt)).toString('latin1'),
        ns: hasType(bitmap, RRType.NS), soa: hasType(bitmap, RRType.SOA), dname: hasType(bitmap, RRType.DNAME),
        ...pack(label, body(rr), sigs), until,
      };
      if (!add(link)) return undefined;
    }
    return chain;
  }

  /**
   * A compact denial of the primary (RFC 9824 §3.1: SOA and NSEC at the query name, each with its RRSIGs) and its
   * hint: the SOA, the RRSIG fields and TTL to sign the next NSECs with, the key, and the gap as a link.
   */
  private learnCompact(msg: Message, zoneKey: string, until: number, hint: CompactHint): void {
    const q = msg.question[0]?.name;
    const auth = msg.authority;
    const soa = auth.find((rr) => rr.type === RRType.SOA && rr.name.key === zoneKey);
    const nsec = q && auth.find((rr) => rr.type === RRType.NSEC && rr.name.equals(q));
    if (!soa || !nsec) return;
    const soaSigs = sigsOver(auth, soa.name, RRType.SOA).map(body);
    const nsecSig = sigsOver(auth, nsec.name, RRType.NSEC)[0];
    if (soaSigs.length === 0 || !nsecSig) return;
    let template: RrsigFields;
    try {
      template = parseRrsigRdata(nsecSig.rdata).fields;
    } catch {
      return;
    }
    const apexWire = soa.name.canonicalWire();
    const apexKey = Buffer.from(apexWire).toString('latin1');
    const chain = this.zones.get(apexKey) ?? this.newChain(apexKey, zoneKey);
    if (!ofKind(chain, 'compact')) return;
    chain.soa = soaOf(body(soa), soaSigs, until);
    const c = chain.compact;
    let key: KeyObject;
    try {
      key = c && Buffer.from(c.der).equals(hint.key) ? c.key : createPrivateKey({ key: Buffer.from(hint.key), format: 'der', type: 'pkcs8' });
    } catch {
      return;
    }
    chain.compact = { template, ttl: nsec.ttl, der: hint.key, key };
    for (const gap of hint.gaps) {
      const link = gapLink(gap, apexWire, until);
      if (link && !this.insert(chain, link)) return;
    }
  }

  /**
   * Every fit gap of a compact zone (chainpush.ts), for the chain a compact denial of the zone `zoneKey` made (its
   * SOA, RRSIG fields and key); merged at once. False when there is no such chain or the gaps would pass the bound.
   */
  learnGaps(zoneKey: string, gaps: GapKeys, until: number): boolean {
    const chain = this.chainOf(zoneKey);
    const n = gaps.owners.length;
    if (!chain || chain.kind !== 'compact' || this.count + n > this.max) return false;
    const taken: [string, Link][] = new Array(n);
    for (let i = 0; i < n; i++) taken[i] = [gaps.owners[i], gapOf(gaps.owners[i], gaps.nexts[i], until)];
    chain.version++;
    this.count += chain.links!.merge(taken);
    this.stats.links = this.count;
    this.stats.zones++;
    return true;
  }

  /** Adds or replaces `link` in `chain`; false when the bound was reached and everything learned was dropped. */
  private insert(chain: Chain, link: Link): boolean {
    if (this.count >= this.max) {
      const links = chain.links!, i = links.floor(link.owner);
      if (i < 0 || links.keys[i] !== link.owner) {
        this.clear();
        return false;
      }
    }
    chain.version++;
    if (chain.links!.set(link.owner, link)) {
      this.count++;
      this.stats.links = this.count;
    }
    return true;
  }

  /**
   * An NSEC of the zone at `apex` (RFC 4034 §4.1: next domain name uncompressed, then the type bitmap) as a link;
   * undefined without RRSIGs, with a next name outside the zone, or with a name orderKey cannot order.
   */
  private nsecLink(rr: Rr, apex: Name, sigs: Uint8Array[], until: number): Link | undefined {
    if (sigs.length === 0) return undefined;
    const d = rr.rdata;
    const nextStarts = labelStarts(d, 0, d.length);
    if (!nextStarts) return undefined;
    const next = lowerWire(d.subarray(0, nextStarts[nextStarts.length - 1] + 1));
    const apexWire = apex.canonicalWire();
    const ownerWire = rr.name.canonicalWire();
    if (next.length < apexWire.length || !Buffer.from(apexWire).equals(next.subarray(next.length - apexWire.length))) return undefined;
    const owner = wireOrderKey(ownerWire);
    const nextKey = orderKey(next, nextStarts);
    if (owner === undefined || nextKey === undefined) return undefined;
    const bitmap = d.subarray(next.length);
    return {
      owner, next: nextKey,
      ns: hasType(bitmap, RRType.NS), soa: hasType(bitmap, RRType.SOA), dname: hasType(bitmap, RRType.DNAME),
      ...pack(ownerWire.subarray(0, ownerWire.length - apexWire.length), body(rr), sigs), until,
    };
  }

  private newChain(apexKey: string, zoneKey: string): Chain {
    const c: Chain = { zoneKey, apexKey, salt: new Uint8Array(0), iterations: 0, wild: new Map(), version: 0 };
    this.zones.set(apexKey, c);
    return c;
  }

  /**
   * The NXDOMAIN answer to `query` (keyed `k` by the response cache: one question in the simple shape) when the
   * records learned prove it (see the file comment), within `limit` octets, at `now`; else undefined. `zoneKey`
   * names the zone for the query counters.
   */
  answer(query: Uint8Array, k: CacheKey, limit: number, now: number): Made | ToSign | undefined {
    if (this.zones.size === 0) return undefined;
    const nameEnd = k.nameEnd;
    // Class IN (RFC 1035 §3.2.4) and an ordinary type: meta-types and NXNAME are answered by the primary's rules.
    const qtype = u16(query, nameEnd);
    if (u16(query, nameEnd + 2) !== 1 || qtype === 0 || qtype === RRType.OPT || (qtype >= 128 && qtype <= 255)) return undefined;
    // The name lower-cased (respcache.ts keys only ASCII names), with where each label starts; in a buffer of this
    // object's, used only until this call returns (a compact denial's signing later reads the query, not this).
    const name = this.scratch.subarray(0, nameEnd - 12);
    const starts: number[] = [];
    for (let o = 0; ; ) {
      const l = query[12 + o];
      starts.push(o);
      if (l === 0) break;
      name[o] = l;
      for (let i = o + 1; i <= o + l; i++) {
        const c = query[12 + i];
        name[i] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
      }
      o += l + 1;
    }
    name[name.length - 1] = 0;
    // The closest zone whose chain was learned; the name itself at an apex exists.
    let chain: Chain | undefined, apexAt = -1;
    for (let i = 1; i < starts.length; i++) {
      chain = this.zones.get(name.toString('latin1', starts[i]));
      if (chain) {
        apexAt = i;
        break;
      }
    }
    if (!chain || chain.held || !chain.soa || chain.soa.until <= now) return undefined;
    if (chain.kind === 'nsec') return this.answerNsec(query, k, name, starts, apexAt, chain, limit, now);
    if (chain.kind === 'compact') return this.answerCompact(query, k, name, starts, apexAt, chain, limit, now);
    const at = this.apexOf(chain, name.subarray(starts[apexAt]));
    const apex = at.apex;
    if (!apex || apex.dname || apex.until <= now) return undefined;
    // RFC 5155 §7.2.1, §8.3: down from the apex, the closest encloser (a matching NSEC3) and the next closer name (covered).
    let ce = apexAt, ceLink = apex, nc: Link | undefined;
    for (let i = apexAt - 1; i >= 0; i--) {
      const h = this.hash(chain, view(name, starts[i]));
      const found = this.find(chain, h);
      if (!found) return undefined;
      if (found.owner === h) {
        // The name exists (answered by the primary), or lies at or below a cut or a DNAME (a referral, a synthesis).
        if (i === 0 || (found.ns && !found.soa) || found.dname) return undefined;
        ce = i;
        ceLink = found;
        continue;
      }
      nc = found;
      break;
    }
    if (!nc || nc.until <= now || ceLink.until <= now) return undefined;
    // RFC 5155 §7.2.2: no wildcard at the closest encloser either (at the apex, the link found once per version of the chain).
    const wild = ce === apexAt ? at.wild : this.wildCover(chain, name.subarray(starts[ce]));
    if (!wild || wild.until <= now) return undefined;
    const wire = this.write(query, nameEnd, k, starts[apexAt], chain, [ceLink, nc, wild], limit);
    if (!wire) return undefined;
    this.stats.answered++;
    return { wire, zoneKey: chain.zoneKey };
  }

  /**
   * RFC 4035 §3.1.3.2 from learned NSECs: an NSEC covering the name (RFC 4034 §6.1 order, the last wrapping to the
   * apex), the closest encloser derived from it (RFC 8198 §5.1: the longer common ancestor of the name with the
   * NSEC's owner and next name), and an NSEC covering the wildcard there. A name at or below a cut or DNAME, an
   * empty non-terminal (an ancestor of the next name: it owns no NSEC), or a wildcard that exists goes to the primary.
   */
  private answerNsec(query: Uint8Array, k: CacheKey, name: Buffer, starts: number[], apexAt: number, chain: Chain, limit: number, now: number): Made | undefined {
    const key = orderKey(name, starts);
    if (key === undefined) return undefined;
    const link = this.nsecCovering(chain, key, now);
    if (!link) return undefined;
    const a = commonAncestor(key, link.owner), b = commonAncestor(key, link.next);
    const wk = (a.length > b.length ? a : b) + '*\x00';
    const wild = this.nsecCovering(chain, wk, now);
    if (!wild) return undefined;
    const wire = this.write(query, k.nameEnd, k, starts[apexAt], chain, [link, wild], limit);
    if (!wire) return undefined;
    this.stats.answered++;
    return { wire, zoneKey: chain.zoneKey };
  }

  /**
   * RFC 9824 §3.1 in a learned gap between the zone's names: the NSEC at the name (next `\000.<name>`, types RRSIG NSEC
   * NXNAME), signed here with the zone's ZSK and the primary's RRSIG fields; NOERROR, or NXDOMAIN when the query sets
   * CO (RFC 9824 §5.1). Without DO, NXDOMAIN with the SOA. The gap was checked by the primary for cuts, DNAMEs and
   * wildcards above it; a name with a label sorting before `*` (a first octet below 0x2b) could have a closest
   * encloser whose wildcard lies after the gap, so it goes to the primary, as does an empty non-terminal (an
   * ancestor of the gap's end).
   */
  private answerCompact(query: Uint8Array, k: CacheKey, name: Buffer, starts: number[], apexAt: number, chain: Chain, limit: number, now: number): Made | ToSign | undefined {
    for (let i = 0; i < apexAt; i++) if (name[starts[i] + 1] <= 0x2a) return undefined;
    const key = orderKey(name, starts);
    if (key === undefined) return undefined;
    const gap = this.find(chain, key);
    if (!gap || gap.owner === key || gap.until <= now || below(gap.next, key)) return undefined;
    const flags = k.key.charCodeAt(0);
    if ((flags & 0x80) === 0) return this.count1(this.write(query, k.nameEnd, k, starts[apexAt], chain, [], limit), chain);
    const apexOff = starts[apexAt];
    return {
      zoneKey: chain.zoneKey,
      sign: () => {
        const wire = this.signCompact(query, k, apexOff, chain, limit, flags);
        if (wire) this.stats.answered++;
        return wire;
      },
    };
  }

  /** The compact denial answer of `answerCompact`, its NSEC signed now. */
  private signCompact(query: Uint8Array, k: CacheKey, apexOff: number, chain: Chain, limit: number, flags: number): Uint8Array | undefined {
    const c = chain.compact!;
    const nameEnd = k.nameEnd, qLen = nameEnd - 12;
    if (qLen + 2 > 255) return undefined;
    // The NSEC as the primary makes it (compact.ts nxnameNsec): owner and next name in the query's case.
    const owner = Name.read(query, 12).name;
    const rdata = new Uint8Array(2 + qLen + NXNAME_BITMAP.length);
    rdata[0] = 1;
    rdata.set(query.subarray(12, nameEnd), 2);
    rdata.set(NXNAME_BITMAP, 2 + qLen);
    const fields: RrsigFields = { ...c.template, labels: owner.rrsigLabels };
    const rrset = { name: owner, type: RRType.NSEC, class: 1, ttl: c.ttl, rdatas: [rdata] };
    const sig = nodeSign('sha256', signedData(rrset, fields), { key: c.key, dsaEncoding: 'ieee-p1363' });
    const rrsig = rrsigRdata(fields, sig);
    const soa = chain.soa!;
    const opt = (flags & 1) !== 0;
    const qEnd = nameEnd + 4;
    let size = qEnd + 2 + soa.body.length + 2 + 10 + rdata.length + 2 + 10 + rrsig.length + (opt ? 11 : 0);
    for (const s of soa.sigs) size += 2 + s.length;
    if (size > limit) return undefined;
    const out = Buffer.allocUnsafe(size);
    writeHead(out, query, qEnd, { aa: true, rcode: (flags & 0x40) !== 0 ? 3 : 0, ns: 3 + soa.sigs.length, opt }); // NXDOMAIN only with CO
    const apexPtr = 0xc000 | (12 + apexOff);
    let o = qEnd;
    const rr = (ptr: number, type: number, ttl: number, data: Uint8Array) => {
      o = out.writeUInt16BE(ptr, o);
      o = out.writeUInt16BE(type, o);
      o = out.writeUInt16BE(1, o);
      o = out.writeUInt32BE(ttl >>> 0, o);
      o = out.writeUInt16BE(data.length, o);
      out.set(data, o);
      o += data.length;
    };
    for (const b of [soa.body, ...soa.sigs]) {
      o = out.writeUInt16BE(apexPtr, o);
      out.set(b, o);
      o += b.length;
    }
    rr(0xc00c, RRType.NSEC, c.ttl, rdata);
    rr(0xc00c, RRType.RRSIG, c.ttl, rrsig);
    if (opt) writeOpt(out, o, flags);
    return out;
  }

  private count1(wire: Uint8Array | undefined, chain: Chain): Made | undefined {
    if (!wire) return undefined;
    this.stats.answered++;
    return { wire, zoneKey: chain.zoneKey };
  }

  /**
   * The learned NSEC that proves no name keyed `key` exists, within its time: it covers the key (not its owner),
   * its owner is no cut or DNAME above the name, and the name is no empty non-terminal above its next name.
   */
  private nsecCovering(chain: Chain, key: string, now: number): Link | undefined {
    const link = this.find(chain, key);
    if (!link || link.owner === key || link.until <= now) return undefined;
    if (((link.ns && !link.soa) || link.dname) && below(key, link.owner)) return undefined;
    if (below(link.next, key)) return undefined;
    return link;
  }

  /**
   * The NXDOMAIN response: header and question as the query had them (ID, RD, CD copied: RFC 1035 §4.1.1, RFC 4035
   * §3.2.2), the SOA and with DO its RRSIGs and the proof's NSEC3s with theirs (RFC 5155 §7.2.2), owners compressed
   * onto the apex inside the question, then the OPT when the query had one (RFC 6891 §7: DO and CO echoed). Undefined
   * when it exceeds `limit` (the primary answers that one, with TC).
   */
  private write(query: Uint8Array, nameEnd: number, k: CacheKey, apexOff: number, chain: Chain, proof: Link[], limit: number): Uint8Array | undefined {
    const flags = k.key.charCodeAt(0);
    const opt = (flags & 1) !== 0, dnssec = (flags & 0x80) !== 0;
    const soa = chain.soa!;
    const qEnd = nameEnd + 4;
    let size = qEnd + (opt ? 11 : 0), count = 1;
    if (!dnssec) size += 2 + soa.body.length;
    else {
      size += soa.packed.length;
      count += soa.sigs.length;
      for (let i = 0; i < proof.length; i++) {
        const l = proof[i];
        if (proof.indexOf(l) !== i) continue;
        size += l.wire.length;
        count += 1 + l.nsigs;
      }
    }
    if (size > limit) return undefined;
    const out = Buffer.allocUnsafe(size);
    writeHead(out, query, qEnd, { aa: true, rcode: 3, ns: count, opt }); // NXDOMAIN
    const apexPtr = 0xc000 | (12 + apexOff);
    let o = qEnd;
    if (!dnssec) {
      out.writeUInt16BE(apexPtr, o);
      out.set(soa.body, o + 2);
      o += 2 + soa.body.length;
    } else {
      o = place(out, o, soa.packed, 0, soa.sigs.length, apexPtr);
      for (let i = 0; i < proof.length; i++) {
        const l = proof[i];
        if (proof.indexOf(l) === i) o = place(out, o, l.wire, l.labelLen, l.nsigs, apexPtr);
      }
    }
    if (opt) writeOpt(out, o, flags);
    return out;
  }

  /**
   * The apex's own NSEC3 and the one covering the wildcard at the apex (undefined when not learned, or the wildcard
   * exists), for the chain's links as they are now: found once per change of the chain's links, not per answer.
   */
  private apexOf(chain: Chain, apexWire: Uint8Array): { apex?: Link; wild?: Link } {
    const kept = chain.apexProof;
    if (kept && kept.version === chain.version) return kept;
    chain.apexHash ??= this.hash(chain, apexWire);
    const apex = this.find(chain, chain.apexHash);
    const proof = { version: chain.version, apex: apex?.owner === chain.apexHash ? apex : undefined, wild: this.wildCover(chain, apexWire) };
    chain.apexProof = proof;
    return proof;
  }

  /** The learned NSEC3 covering the wildcard at the encloser `ce` (wire form), or undefined (none learned, or it exists). */
  private wildCover(chain: Chain, ce: Uint8Array): Link | undefined {
    const ceKey = Buffer.from(ce.buffer, ce.byteOffset, ce.length).toString('latin1');
    let wh = chain.wild.get(ceKey);
    if (wh === undefined) {
      const w = Buffer.allocUnsafe(ce.length + 2);
      w[0] = 1;
      w[1] = 0x2a;
      w.set(ce, 2);
      wh = this.hash(chain, w);
      if (chain.wild.size >= 1000) chain.wild.clear();
      chain.wild.set(ceKey, wh);
    }
    const wild = this.find(chain, wh);
    return wild && wild.owner !== wh ? wild : undefined;
  }

  /**
   * The learned link whose owner is `h` or whose span covers `h` (RFC 5155 §1.3, RFC 4034 §4.1.1 "covers", the last
   * link wrapping), `h` a hash or an NSEC's orderKey.
   */
  private find(chain: Chain, h: string): Link | undefined {
    const links = chain.links;
    if (!links || links.size === 0) return undefined;
    // The greatest owner <= h; below every owner only the last link (wrapping to the first) can cover.
    const i = links.floor(h);
    const link = links.values[i < 0 ? links.size - 1 : i];
    if (link.owner === h) return link;
    const covers = link.owner < link.next ? link.owner < h && h < link.next : h > link.owner || h < link.next;
    return covers ? link : undefined;
  }

  /** RFC 5155 §5: the hash of a name's canonical wire form with the chain's salt and iterations, its octets in latin1. */
  private hash(chain: Chain, wire: Uint8Array): string {
    // RFC 9276 §3.1 parameters (no salt, no extra iterations), tandem's own: one call, no hash object.
    if (chain.iterations === 0 && chain.salt.length === 0) return oneShot('sha1', wire, 'binary'); // 'binary' is latin1
    let h = createHash('sha1').update(wire).update(chain.salt).digest();
    for (let i = 0; i < chain.iterations; i++) h = createHash('sha1').update(h).update(chain.salt).digest();
    return h.toString('latin1');
  }
}

/**
 * Whether `chain` holds links of `kind`: the first learned link sets it (and makes the index: NSEC and gap owners
 * share the apex's orderKey, one octet shorter than its wire form; hashes share nothing).
 */
function ofKind(chain: Chain, kind: NonNullable<Chain['kind']>): boolean {
  if (chain.kind === undefined) {
    chain.kind = kind;
    chain.links = new SortedKeys(kind === 'nsec3' ? 0 : chain.apexKey.length - 1);
  }
  return chain.kind === kind;
}

/** Whether NSEC3 parameters `salt` and `iterations` are the chain's (the first ones it meets become its own). */
function sameParams(chain: Chain, salt: Uint8Array, iterations: number): boolean {
  if (!chain.params) {
    chain.salt = Uint8Array.from(salt);
    chain.iterations = iterations;
    chain.params = true;
    return true;
  }
  return iterations === chain.iterations && Buffer.from(salt).equals(chain.salt);
}
