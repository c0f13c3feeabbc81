// The precomputed NSEC or NSEC3 chain of a zone with `denial: nsec-chain` (RFC 4034 §4, RFC 4035 §2.3) or
// `denial: nsec3-chain` (RFC 5155 §7.1 with the RFC 9276 parameters: SHA-1, no extra iterations, no salt;
// opt-out only when asked), built when the zone is prepared and signed once, so a negative answer is a
// binary search and buffer copies, never a signature (STYLE habit 8).
//
// A new version of the zone (admin change, reload, transfer) patches the previous version's chain instead of
// building it anew: only names whose set of types changed (or that appeared or went) are looked at, and only
// the links whose RDATA changed are made again: the changed name's own and its predecessor's, whose next
// name changed. Every other link is the same RRset object, and its RRSIG (kept in a map keyed by that object,
// shared by the versions) is reused. The chain is also what a signed zone transfer carries (dump.ts): built
// once, for both.
import { Name } from '../dns/name.js';
import type { Rr, RRset } from '../dns/rr.js';
import { RRType } from '../dns/types.js';
import { encodeTypeBitmap } from '../dns/bitmap.js';
import { rdataEquals } from '../dns/rdata.js';
import { keep } from '../dns/slab.js';
import { compareBytes, nsec3Position, nsecPosition } from '../zone/presigned.js';
import type { ChainIndex, Nsec3Entry, Zone, ZoneNode } from '../zone/types.js';
import type { DenialCase } from './denial/index.js';
import { atOrBelowCut, authoritativeTypes, DenialError, isCut } from './denial/nsec.js';
import { base32hex, NSEC3_SHA1, nsec3Hash, nsec3Types } from './denial/nsec3.js';
import { chainProof } from './chainproof.js';
import type { PresignResult, ZoneSigningImpl } from './zonesigning.js';

export type ChainKind = 'nsec' | 'nsec3';

export interface ChainSettings {
  kind: ChainKind;
  /** NSEC3 only: insecure delegations get no NSEC3 and every NSEC3 has the Opt-Out flag (RFC 5155 §6, §7.1). */
  optOut?: boolean;
}

/** What one build did, for logs and tests. */
export interface ChainStats {
  links: number;
  /** Links made for this version (the rest came from the previous version's chain with their RRSIGs). */
  made: number;
  /** True when nothing of a previous version could be reused (first load, other settings, other key). */
  full: boolean;
  /** Names looked at. */
  examined: number;
  ms: number;
}

/** A link's RRSIG records and the signing period they belong to (ZoneSigningImpl.refreshAt). */
interface Signed {
  rrs: Rr[];
  until: number;
}

/** State kept from version to version of one zone: the RRSIGs by link and the NSEC3 hashes by name. */
interface Shared {
  /** The ZSK the RRSIGs were made with; another key starts a new store. */
  zsk: Uint8Array;
  sigs: WeakMap<RRset, Signed>;
  /** NSEC3 hash by Name.key: the chain's names and the wildcards at them (a hash is a function of the name). */
  hashes: Map<string, Uint8Array>;
}

const HASH_LEN = 20;

let chainIds = 0;

export class DenialChain {
  /** Links made for this version; after a change, the ones to sign (`sign()` signs them with the rest). */
  readonly fresh: readonly RRset[];
  /** A number of its own (per process), for `from`. */
  readonly id = ++chainIds;
  /**
   * Patched from the chain numbered `from` (undefined: built whole): this chain is that one's links with the links
   * of `gone` taken out and the `fresh` ones put in (a fresh link may replace one of the same owner).
   */
  from?: number;
  /** Owners of the previous chain's links that are in this one no more (the links of names gone from the chain). */
  gone: readonly Name[] = [];

  constructor(
    readonly zone: Zone,
    readonly settings: ChainSettings,
    readonly ttl: number,
    /** The chain in search order (RFC 4034 §6.1 owner order; NSEC3 hash order). */
    readonly index: ChainIndex,
    fresh: RRset[],
    readonly stats: ChainStats,
    private readonly signing: ZoneSigningImpl,
    /** @internal carried to the next version */
    readonly shared: Shared,
  ) {
    this.fresh = fresh;
  }

  get kind(): ChainKind {
    return this.settings.kind;
  }

  /** The links in chain order. */
  links(): RRset[] {
    return this.settings.kind === 'nsec' ? [...this.index.nsec] : this.index.nsec3.map((e) => e.rrset);
  }

  /** RFC 5155 §5 hash of `name` (memoized for the chain's names and the wildcards at them). */
  hash(name: Name): Uint8Array {
    const h = this.shared.hashes.get(name.key);
    if (h) return h;
    const fresh = nsec3Hash(name);
    if (name.isWildcard()) this.shared.hashes.set(name.key, fresh);
    return fresh;
  }

  /** The links proving `c` (RFC 4035 §3.1.3/§3.1.4, RFC 5155 §7.2); a gap in the chain throws DenialError. */
  prove(c: DenialCase): RRset[] {
    const out: RRset[] = [];
    chainProof(this.zone.origin, this.index, c, (n) => this.hash(n), {
      proof: (set, what) => {
        if (!set) throw new DenialError(`the ${this.kind.toUpperCase()} chain of ${this.zone.origin} lacks the ${what()}`);
        if (!out.includes(set)) out.push(set);
      },
    });
    return out;
  }

  /** The RRSIG records of `link` for the current signing period: kept ones, or made now (and kept). */
  rrsigs(link: RRset): Rr[] | Promise<Rr[]> {
    const until = this.signing.refreshAt();
    const s = this.shared.sigs.get(link);
    if (s && s.until === until) return s.rrs;
    return this.signing.signRrset(link).then((rrs) => {
      this.shared.sigs.set(link, { rrs, until });
      return rrs;
    });
  }

  /** When the current signing period ends: links signed before then are signed again after (ZoneSigningImpl.refreshAt). */
  refreshAt(): number {
    return this.signing.refreshAt();
  }

  /** True when `link` has RRSIGs of the current period. */
  isSigned(link: RRset): boolean {
    return this.shared.sigs.get(link)?.until === this.signing.refreshAt();
  }

  /**
   * Signs the links that have no RRSIG of the current period (default: every link of the chain), on the
   * signer's bulk path in batches that yield to queries (ZoneSigningImpl.signMany).
   */
  async sign(links: Iterable<RRset> = this.links(), opts: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {}): Promise<PresignResult> {
    const todo = [...links].filter((l) => !this.isSigned(l));
    const until = this.signing.refreshAt();
    return this.signing.signMany(todo, {
      ...opts,
      uncached: true, // kept here, by link
      skip: (l) => this.isSigned(l), // an answer signed it meanwhile
      // Kept for the zone's life: the RDATA goes into the shared slabs (dns/slab.ts), as zone data does.
      onSigned: (rrset, rrs) => this.shared.sigs.set(rrset, { rrs: rrs.map((r) => ({ ...r, rdata: keep(r.rdata) })), until }),
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Building and patching.

/** NSEC bitmap of a member (RFC 4035 §2.3: authoritative names with data and delegation points), else undefined. */
function nsecBitmap(zone: Zone, name: Name): Uint8Array | undefined {
  const node = zone.nodes.get(name.key);
  if (!node || node.rrsets.size === 0 || (atOrBelowCut(zone, name) && !isCut(zone, name))) return undefined;
  const types = authoritativeTypes(zone, name)!.filter((t) => t !== RRType.NSEC3PARAM);
  return encodeTypeBitmap([...types, RRType.RRSIG, RRType.NSEC]);
}

/**
 * NSEC3 bitmap of a member (RFC 5155 §7.1: every authoritative name, empty non-terminals and delegations
 * included, glue not; with opt-out not an insecure delegation), else undefined.
 */
function nsec3Bitmap(zone: Zone, name: Name, optOut: boolean): Uint8Array | undefined {
  if (!zone.nodes.has(name.key)) return undefined;
  const cut = isCut(zone, name);
  if (!cut && atOrBelowCut(zone, name)) return undefined;
  if (cut && optOut && !zone.nodes.get(name.key)!.rrsets.has(RRType.DS)) return undefined;
  return encodeTypeBitmap(nsec3Types(zone, name));
}

/** The part of a link's RDATA after its next name / next hash: the type bitmap. */
function bitmapOf(kind: ChainKind, rdata: Uint8Array): Uint8Array {
  if (kind === 'nsec3') return rdata.subarray(6 + HASH_LEN);
  let o = 0;
  while (rdata[o] !== 0) o += rdata[o] + 1;
  return rdata.subarray(o + 1);
}

/** A link to make: the name it is for, its hash (NSEC3) and bitmap. */
interface Slot {
  name: Name;
  hash: Uint8Array;
  bitmap: Uint8Array;
}

function sameTypes(a: ZoneNode, b: ZoneNode): boolean {
  if (a.rrsets.size !== b.rrsets.size) return false;
  for (const t of a.rrsets.keys()) if (!b.rrsets.has(t)) return false;
  return true;
}

/**
 * Names whose chain membership or bitmap may differ between two versions of a zone: nodes added, removed or
 * with another set of types; below a name that became or stopped being a delegation point, every name (they
 * turned into glue or back, RFC 4035 §2.2).
 */
export function changedNames(before: Zone, after: Zone): Name[] {
  const out = new Map<string, Name>();
  const cuts: Name[] = [];
  const origin = after.origin;
  const note = (name: Name, a: ZoneNode | undefined, b: ZoneNode | undefined) => {
    out.set(name.key, name);
    if (!name.equals(origin) && (a?.rrsets.has(RRType.NS) ?? false) !== (b?.rrsets.has(RRType.NS) ?? false)) cuts.push(name);
  };
  for (const [key, node] of after.nodes) {
    const old = before.nodes.get(key);
    if (!old || !sameTypes(old, node)) note(node.name, old, node);
  }
  for (const [key, node] of before.nodes) if (!after.nodes.has(key)) note(node.name, node, undefined);
  if (cuts.length > 0) {
    for (const z of [before, after]) {
      for (const node of z.nodes.values()) if (cuts.some((c) => node.name.labelCount > c.labelCount && node.name.isSubdomainOf(c))) out.set(node.name.key, node.name);
    }
  }
  return [...out.values()];
}

export interface BuildOptions {
  /** The previous version of the zone and its chain: the chain is patched from it when the settings and the ZSK are the same. */
  previous?: { zone: Zone; chain: DenialChain };
  /** The names that changed since `previous` (default: found by comparing the two zones' nodes, changedNames). */
  changed?: Iterable<Name>;
}

/**
 * A chain of at most this many links is small: it is signed before the zone's other RRsets are presigned at load
 * (state/prepare.ts) and sent whole to cluster workers (server/chainpush.ts), which take it only once it is signed.
 * (A 50,000-name zone has a few links more than names; its chain learned from answers alone took a worker 15 s of
 * a random-name stream: bench/changes-under-load.mjs --names 50000.)
 */
export const SMALL_CHAIN_LINKS = 100_000;

/**
 * The chain of `zone` (signed by `signing`, whose `negativeTtl` is the links' TTL, RFC 9077 §3): patched
 * from `opts.previous` when it can be, else built whole. No signing here: `DenialChain.sign` does that.
 */
export function buildDenialChain(zone: Zone, signing: ZoneSigningImpl, settings: ChainSettings, opts: BuildOptions = {}): DenialChain {
  const prev = opts.previous;
  const sameZone = prev !== undefined && prev.chain.zone.origin.equals(zone.origin);
  // RRSIGs made with another ZSK are not reused; hashes are a function of the name alone.
  const sameKey = sameZone && rdataEquals(prev.chain.shared.zsk, signing.zsk.dnskey);
  const hashes = sameZone ? prev.chain.shared.hashes : new Map<string, Uint8Array>();
  const built = chainIndex(zone, settings, signing.negativeTtl, {
    hashes, changed: opts.changed,
    previous: sameKey ? { zone: prev.zone, index: prev.chain.index, settings: prev.chain.settings, ttl: prev.chain.ttl } : undefined,
  });
  const shared: Shared = { zsk: signing.zsk.dnskey, sigs: sameKey ? prev.chain.shared.sigs : new WeakMap(), hashes };
  const optOut = settings.kind === 'nsec3' && settings.optOut === true;
  const chain = new DenialChain(zone, { kind: settings.kind, optOut }, signing.negativeTtl, built.index, built.made, built.stats, signing, shared);
  if (!built.stats.full && sameKey) {
    chain.from = prev.chain.id;
    chain.gone = built.gone;
  }
  return chain;
}

/**
 * The links of `zone`'s chain with TTL `ttl` (unsigned), patched from `o.previous` (a chain of an earlier
 * version of the zone) when its settings and TTL are the same, else built whole; `made` are the links that
 * are new objects. `o.hashes` memoizes NSEC3 hashes by Name.key.
 */
export function chainIndex(zone: Zone, settings: ChainSettings, ttl: number, o: {
  hashes?: Map<string, Uint8Array>;
  previous?: { zone: Zone; index: ChainIndex; settings: ChainSettings; ttl: number };
  changed?: Iterable<Name>;
} = {}): { index: ChainIndex; made: RRset[]; gone: Name[]; stats: ChainStats } {
  const t0 = performance.now();
  const kind = settings.kind;
  const nsec = kind === 'nsec';
  const optOut = !nsec && settings.optOut === true;
  const p = o.previous;
  const reuse = p !== undefined && p.index.denial === kind && (p.settings.optOut === true) === optOut && p.ttl === ttl && p.zone.origin.equals(zone.origin);
  const hashes = o.hashes ?? new Map<string, Uint8Array>();
  const hashOf = (name: Name): Uint8Array => {
    let h = hashes.get(name.key);
    if (!h) { h = keep(nsec3Hash(name)); hashes.set(name.key, h); }
    return h;
  };
  // Most names share a handful of type sets: one bitmap per set.
  const bitmaps = new Map<string, Uint8Array>();
  const bitmapFor = (name: Name): Uint8Array | undefined => {
    const b = nsec ? nsecBitmap(zone, name) : nsec3Bitmap(zone, name, optOut);
    if (!b) return undefined;
    const k = b.join(',');
    const known = bitmaps.get(k);
    if (known) return known;
    bitmaps.set(k, b);
    return b;
  };

  // The previous chain, read in place: entry i's sort key, name, bitmap and link.
  const oldNsec = reuse ? p.index.nsec : [];
  const oldNsec3 = reuse ? p.index.nsec3 : [];
  const oldCount = nsec ? oldNsec.length : oldNsec3.length;
  const oldName = (i: number) => (nsec ? oldNsec[i].name : oldNsec3[i].rrset.name);
  const oldLink = (i: number) => (nsec ? oldNsec[i] : oldNsec3[i].rrset);
  const cmpOld = (s: Slot, i: number) => (nsec ? s.name.compare(oldNsec[i].name) : compareBytes(s.hash, oldNsec3[i].hash));
  const cmp = (a: Slot, b: Slot) => (nsec ? a.name.compare(b.name) : compareBytes(a.hash, b.hash));

  const candidates = reuse ? (o.changed ? [...o.changed] : changedNames(p.zone, zone)) : allNames(zone);
  const removed = new Set<number>();
  const inserted: Slot[] = [];
  const none = new Uint8Array(0);
  const seen = new Set<string>();
  for (const name of candidates) {
    if (reuse) {
      if (seen.has(name.key)) continue; // a caller's list may name one twice
      seen.add(name.key);
    }
    const bitmap = bitmapFor(name);
    const slot: Slot = { name, hash: nsec ? none : hashOf(name), bitmap: bitmap ?? none };
    const i = reuse ? (nsec ? nsecPosition(oldNsec, name) : nsec3Position(oldNsec3, slot.hash)) : oldCount;
    const exact = i < oldCount && cmpOld(slot, i) === 0;
    if (exact) {
      if (!bitmap) removed.add(i);
      else if (!rdataEquals(bitmap, bitmapOf(kind, oldLink(i).rdatas[0]))) { removed.add(i); inserted.push(slot); }
    } else if (bitmap) inserted.push(slot);
    if (!bitmap && !nsec) hashes.delete(name.key); // the memo holds the chain's names, not every name ever seen
  }
  inserted.sort(cmp);

  // Merge: an old entry stays as its index, a new one is a Slot. Marked dirty: new or changed entries, and
  // those whose successor changed (the one before each removal or insertion; before the first, the last,
  // as the chain wraps).
  const out: (number | Slot)[] = [];
  const gone: Name[] = [];
  const dirty = new Set<number>();
  let wraps = false;
  const touchPrev = () => (out.length > 0 ? dirty.add(out.length - 1) : (wraps = true));
  let i = 0, j = 0;
  while (i < oldCount || j < inserted.length) {
    const c = j < inserted.length ? (i < oldCount ? cmpOld(inserted[j], i) : -1) : 1;
    if (c < 0 || (c === 0 && removed.has(i))) {
      // The same name with another bitmap replaces its entry: its own link changes, its predecessor's does not.
      if (c === 0) i++;
      else touchPrev();
      out.push(inserted[j++]);
      dirty.add(out.length - 1);
    } else if (removed.has(i)) {
      touchPrev();
      gone.push(oldLink(i).name);
      i++;
    } else out.push(i++);
  }
  if (wraps && out.length > 0) dirty.add(out.length - 1);

  const made: RRset[] = [];
  const slotAt = (k: number): Slot => {
    const e = out[k];
    if (typeof e !== 'number') return e;
    return nsec
      ? { name: oldNsec[e].name, hash: none, bitmap: bitmapOf(kind, oldNsec[e].rdatas[0]) }
      : { name: oldNsec3[e].rrset.name, hash: oldNsec3[e].hash, bitmap: bitmapOf(kind, oldNsec3[e].rrset.rdatas[0]) };
  };
  const make = (k: number): RRset => {
    const s = slotAt(k);
    const next = out[(k + 1) % out.length];
    const link = nsec
      ? nsecLink(zone, s.name, typeof next === 'number' ? oldName(next) : next.name, s.bitmap, ttl)
      : nsec3Link(zone, s.hash, typeof next === 'number' ? oldNsec3[next].hash : next.hash, s.bitmap, optOut, ttl);
    made.push(link);
    return link;
  };
  let index: ChainIndex;
  if (nsec) {
    const links = out.map((e, k) => (typeof e === 'number' && !dirty.has(k) ? oldNsec[e] : make(k)));
    index = { denial: 'nsec', nsec: links, nsec3: [] };
  } else {
    const entries = out.map((e, k): Nsec3Entry => (typeof e === 'number' && !dirty.has(k) ? oldNsec3[e] : { hash: slotAt(k).hash, rrset: make(k) }));
    index = { denial: 'nsec3', nsec: [], nsec3: entries, nsec3Params: { algorithm: NSEC3_SHA1, iterations: 0, salt: none } };
  }
  const stats: ChainStats = { links: out.length, made: made.length, full: !reuse, examined: candidates.length, ms: performance.now() - t0 };
  return { index, made, gone, stats };
}

/** Every name of the zone that can be in a chain (ENTs included; the bitmap functions decide). */
function allNames(zone: Zone): Name[] {
  const out: Name[] = [];
  for (const node of zone.nodes.values()) out.push(node.name);
  return out;
}

/** An NSEC link (RFC 4034 §4.1): next owner name, uncompressed, then the bitmap. */
function nsecLink(zone: Zone, owner: Name, next: Name, bitmap: Uint8Array, ttl: number): RRset {
  const nextWire = next.wire();
  const rdata = new Uint8Array(nextWire.length + bitmap.length);
  rdata.set(nextWire);
  rdata.set(bitmap, nextWire.length);
  return { name: owner, type: RRType.NSEC, class: zone.soa.class, ttl, rdatas: [keep(rdata)] };
}

/** An NSEC3 link (RFC 5155 §3.2): SHA-1, flags (Opt-Out), 0 iterations, no salt, next hashed owner, bitmap. */
function nsec3Link(zone: Zone, hash: Uint8Array, next: Uint8Array, bitmap: Uint8Array, optOut: boolean, ttl: number): RRset {
  const rdata = new Uint8Array(6 + HASH_LEN + bitmap.length);
  rdata.set([NSEC3_SHA1, optOut ? 1 : 0, 0, 0, 0, HASH_LEN]);
  rdata.set(next, 6);
  rdata.set(bitmap, 6 + HASH_LEN);
  // Owner label and RDATA live as long as the zone: into the shared slabs (dns/slab.ts), like zone data.
  return { name: Name.fromText(base32hex(hash), zone.origin), type: RRType.NSEC3, class: zone.soa.class, ttl, rdatas: [keep(rdata)] };
}

