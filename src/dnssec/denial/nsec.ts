// Minimally covering NSEC records, "white lies" (RFC 4470), made per query by an online signer, and the
// name-order helpers (RFC 4471 epsilon functions) that compact denial (RFC 9824) shares.
//
// A validator derives the closest encloser of an NXDOMAIN from the NSEC that covers the query name: the
// longer of the common ancestors of the query name with the NSEC's owner and with its next name (unbound
// val_nsec.c, BIND validator.c). So the covering NSEC must not cover only the query name: its owner and
// next name must both lie outside the subtree of the next closer name (the closest encloser's child on
// the way to the query name), or the derived encloser is too deep and the wildcard proof fails. We cover
// exactly that subtree, which holds no names (RFC 5155 §7.2.1 makes the same argument for NSEC3):
// owner = the immediate predecessor label of the next closer name's first label, next = its immediate
// successor label, both under the closest encloser.
import { Name } from '../../dns/name.js';
import type { RRset } from '../../dns/rr.js';
import { RRType } from '../../dns/types.js';
import { encodeTypeBitmap } from '../../dns/bitmap.js';
import type { Zone } from '../../zone/types.js';
import type { DenialCase } from './index.js';
import { nsecCovers } from '../../zone/presigned.js';

export { nsecCovers };

const MAX_NAME = 255; // RFC 1035 §3.1
const MAX_LABEL = 63;

export class DenialError extends Error {}

// ---------------------------------------------------------------------------------------------
// Name order helpers (RFC 4034 §6.1 canonical order; RFC 4471 predecessor/successor).

function lowerLabel(label: Uint8Array): Uint8Array {
  return label.map((b) => (b >= 0x41 && b <= 0x5a ? b + 0x20 : b));
}

/** Next octet value in case-folded order: the upper-case letters sort as lower case, so 0x40 is followed by 0x5b. */
function incOctet(b: number): number {
  return b === 0x40 ? 0x5b : b + 1;
}

function decOctet(b: number): number {
  return b === 0x5b ? 0x40 : b - 1;
}

/**
 * The smallest label greater than `label` in canonical order that is at most `maxLen` octets long
 * (RFC 4471 §3.1.1 for one label): `label\000` when it fits, else the label with its last octet below
 * 0xff incremented and the rest dropped. Undefined when no greater label exists.
 */
export function labelSuccessor(label: Uint8Array, maxLen: number = MAX_LABEL): Uint8Array | undefined {
  const l = lowerLabel(label);
  const max = Math.min(maxLen, MAX_LABEL);
  if (l.length < max) {
    const out = new Uint8Array(l.length + 1);
    out.set(l);
    return out;
  }
  for (let i = Math.min(l.length, max) - 1; i >= 0; i--) {
    if (l[i] < 0xff) {
      const out = l.slice(0, i + 1);
      out[i] = incOctet(l[i]);
      return out;
    }
  }
  return undefined;
}

/**
 * The greatest label smaller than `label` that is at most `maxLen` octets long (RFC 4471 §3.1.2 for one
 * label): a trailing `\000` removed, else the last octet decremented and the label padded with 0xff.
 */
export function labelPredecessor(label: Uint8Array, maxLen: number = MAX_LABEL): Uint8Array | undefined {
  const l = lowerLabel(label);
  const last = l[l.length - 1];
  if (last === 0) return l.length > 1 ? l.slice(0, -1) : undefined;
  const len = Math.max(l.length, Math.min(maxLen, MAX_LABEL));
  const out = new Uint8Array(len).fill(0xff);
  out.set(l.subarray(0, l.length - 1));
  out[l.length - 1] = decOctet(last);
  return out;
}

/**
 * The immediate successor of `name` in canonical order (RFC 4471 §3.1.1): `\000.<name>` when it fits in
 * 255 octets, else the next sibling (or an ancestor's); `apex` when none is left in the zone.
 */
export function immediateSuccessor(name: Name, apex: Name): Name {
  if (name.wireLength + 2 <= MAX_NAME) return name.child(Uint8Array.of(0));
  for (let n = name; n.labelCount > apex.labelCount; n = n.parent()) {
    const first = n.labels[0];
    const next = labelSuccessor(first, first.length + (MAX_NAME - n.wireLength));
    if (next) return n.parent().child(next);
  }
  return apex;
}

/**
 * The first name after `name` and its whole subtree: its first label's successor under the same parent
 * (RFC 9824 §3.4's `sub\000.example.com.`). Undefined when no such sibling exists.
 */
export function subtreeSuccessor(name: Name): Name | undefined {
  const first = name.labels[0];
  const next = labelSuccessor(first, first.length + (MAX_NAME - name.wireLength));
  return next ? name.parent().child(next) : undefined;
}

/** The last sibling before `name` (with no descendants assumed): its first label's predecessor. */
function siblingPredecessor(name: Name): Name | undefined {
  const first = name.labels[0];
  const prev = labelPredecessor(first, first.length + (MAX_NAME - name.wireLength));
  return prev ? name.parent().child(prev) : undefined;
}

// ---------------------------------------------------------------------------------------------
// The zone's authoritative names (RFC 4035 §2.3: the NSEC chain holds the apex, every authoritative
// name, empty non-terminals and delegation points, not names below a cut), sorted once per zone.

export interface NameIndex {
  /** Authoritative names in canonical order. */
  names: Name[];
  /** Keys of every zone node, below cuts included (a white lie must not be owned by one): the zone's nodes. */
  all: { has(key: string): boolean };
}

const indexes = new WeakMap<Zone, NameIndex>();

/** Name indexes built whole and carried from a previous version (tests). */
export const nameIndexStats = { built: 0, carried: 0 };

export function isCut(zone: Zone, name: Name): boolean {
  if (name.equals(zone.origin)) return false;
  return zone.nodes.get(name.key)?.rrsets.has(RRType.NS) ?? false;
}

/** True when a strict ancestor of `name` below the apex is a delegation point. */
function belowCut(zone: Zone, name: Name): boolean {
  for (let i = zone.origin.labelCount + 1; i < name.labelCount; i++) {
    if (isCut(zone, name.suffix(i))) return true;
  }
  return false;
}

/** True when `name` is a delegation point or lies below one: not authoritative data (RFC 4035 §2.2). */
export function atOrBelowCut(zone: Zone, name: Name): boolean {
  return isCut(zone, name) || belowCut(zone, name);
}

export function nameIndex(zone: Zone): NameIndex {
  let idx = indexes.get(zone);
  if (!idx) {
    const names: Name[] = [];
    for (const node of zone.nodes.values()) if (!belowCut(zone, node.name)) names.push(node.name);
    names.sort((a, b) => a.compare(b));
    idx = { names, all: zone.nodes };
    indexes.set(zone, idx);
    nameIndexStats.built++;
  }
  return idx;
}

/** The index of the name `n` in canonical order in `names`, or where it would go. */
export function position(names: readonly Name[], n: Name): number {
  let lo = 0, hi = names.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (names[mid].compare(n) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A patched zone's name index made from the previous version's, when that one was made (a white-lie zone answered a
 * name that does not exist): the changed names (zone/patch.ts, empty non-terminals included) put in or taken out
 * at their places, instead of every name sorted again at the next negative answer (issue 16: a change costs the
 * change; 0.5 s on a 200,000-name zone, during which the process answered nothing). Not when a changed name is a
 * delegation point before or after (the names below it change their standing): the index is then made anew.
 */
export function carryNameIndex(prev: Zone, next: Zone, changed: readonly Name[]): NameIndex | undefined {
  const old = indexes.get(prev);
  if (!old || indexes.has(next)) return undefined;
  for (const n of changed) if (isCut(prev, n) || isCut(next, n)) return undefined;
  const names = old.names.slice();
  for (const n of changed) {
    const node = next.nodes.get(n.key);
    const want = node !== undefined && !belowCut(next, n);
    const at = position(names, n);
    const has = at < names.length && names[at].compare(n) === 0;
    if (want && !has) names.splice(at, 0, node.name);
    else if (!want && has) names.splice(at, 1);
  }
  const idx: NameIndex = { names, all: next.nodes };
  indexes.set(next, idx);
  nameIndexStats.carried++;
  return idx;
}

/** The authoritative names just before and just after `name` (either may be undefined). */
export function neighbours(idx: NameIndex, name: Name): { prev?: Name; next?: Name; exact: boolean } {
  const a = idx.names;
  const lo = position(a, name);
  const exact = lo < a.length && a[lo].compare(name) === 0;
  return { prev: lo > 0 ? a[lo - 1] : undefined, next: a[exact ? lo + 1 : lo], exact };
}

/**
 * The types an NSEC/NSEC3 bitmap lists for an existing name, without RRSIG/NSEC: at a delegation only
 * NS and DS, the parent's authoritative data (RFC 4035 §2.3, RFC 5155 §7.1: glue is not listed); at the
 * apex SOA and the served NS always. Undefined when the name is not a node of the zone.
 */
export function authoritativeTypes(zone: Zone, name: Name): number[] | undefined {
  const node = zone.nodes.get(name.key);
  if (!node) return undefined;
  let types = [...node.rrsets.keys()];
  if (isCut(zone, name)) types = types.filter((t) => t === RRType.NS || t === RRType.DS);
  if (name.equals(zone.origin)) types.push(RRType.SOA, RRType.NS);
  return [...new Set(types)].sort((a, b) => a - b);
}

/** One NSEC RRset (RFC 4034 §4): next name uncompressed, then the type bitmap. */
export function nsecRrset(zone: Zone, owner: Name, next: Name, types: Iterable<number>, ttl: number): RRset {
  const nextWire = next.wire();
  const bitmap = encodeTypeBitmap(types);
  const rdata = new Uint8Array(nextWire.length + bitmap.length);
  rdata.set(nextWire);
  rdata.set(bitmap, nextWire.length);
  return { name: owner, type: RRType.NSEC, class: zone.soa.class, ttl, rdatas: [rdata] };
}

/** The next closer name (RFC 5155 §1.3): the closest encloser's child on the way to `name`. */
export function nextCloser(name: Name, closestEncloser: Name): Name {
  if (!name.isSubdomainOf(closestEncloser) || name.labelCount <= closestEncloser.labelCount)
    throw new DenialError(`${name.key} is not below its closest encloser ${closestEncloser.key}`);
  return name.suffix(closestEncloser.labelCount + 1);
}

// ---------------------------------------------------------------------------------------------
// RFC 4470 white lies.

/** NSEC at an existing name (or ENT) listing its types, Next = its immediate successor (nothing covered). */
function matching(zone: Zone, name: Name, ttl: number): RRset {
  const types = authoritativeTypes(zone, name);
  if (!types) throw new DenialError(`no NSEC can match ${name.key}: not in zone ${zone.origin.key}`);
  return nsecRrset(zone, name, immediateSuccessor(name, zone.origin), [...types, RRType.RRSIG, RRType.NSEC], ttl);
}

/**
 * RFC 4470 §2: an NSEC covering the nonexistent name `nc` and its (empty) subtree and nothing else.
 * The owner is `nc`'s sibling predecessor, else a name just after the real predecessor, else the real
 * predecessor itself (with its true types); the next name is `nc`'s sibling successor, else the real
 * successor. No authoritative name lies strictly between owner and next.
 */
function covering(zone: Zone, idx: NameIndex, nc: Name, ttl: number): RRset {
  const { prev, next, exact } = neighbours(idx, nc);
  if (exact) throw new DenialError(`${nc.key} exists; it cannot be covered`);
  if (!prev) throw new DenialError(`${nc.key} sorts before the apex of ${zone.origin.key}`);
  if (next && next.isSubdomainOf(nc)) throw new DenialError(`${nc.key} has descendant ${next.key}; it cannot be covered`);
  // A lie must not claim a name the zone has, nor a wildcard (which would claim synthesis there).
  const fresh = (c: Name | undefined): c is Name =>
    c !== undefined && prev.compare(c) < 0 && c.compare(nc) < 0 && !idx.all.has(c.key) && !c.isWildcard();
  let owner: Name = prev;
  let ownerTypes: number[] = [...(authoritativeTypes(zone, prev) ?? []), RRType.RRSIG, RRType.NSEC];
  const lie1 = siblingPredecessor(nc);
  const lie2 = !isCut(zone, prev) && prev.wireLength + 2 <= MAX_NAME ? prev.child(Uint8Array.of(0)) : undefined;
  if (fresh(lie1)) { owner = lie1; ownerTypes = [RRType.RRSIG, RRType.NSEC]; }
  else if (fresh(lie2)) { owner = lie2; ownerTypes = [RRType.RRSIG, RRType.NSEC]; }
  const succ = subtreeSuccessor(nc);
  const nextName = succ && (!next || succ.compare(next) <= 0) ? succ : (next ?? zone.origin);
  return nsecRrset(zone, owner, nextName, ownerTypes, ttl);
}

/** RFC 4470 NSEC RRsets (unsigned) proving `c`; the caller signs them. */
export function nsecProof(zone: Zone, c: DenialCase, ttl: number): RRset[] {
  const idx = nameIndex(zone);
  switch (c.kind) {
    case 'nxdomain': {
      // RFC 4035 §3.1.3.2: the name does not exist, and neither does the wildcard at the closest encloser.
      const first = covering(zone, idx, nextCloser(c.name, c.closestEncloser), ttl);
      const wildcard = c.closestEncloser.child('*');
      if (nsecCovers(first, wildcard)) return [first];
      return [first, covering(zone, idx, wildcard, ttl)];
    }
    case 'nodata':
      // RFC 4035 §3.1.3.4: no exact match closer than the wildcard, and the wildcard lacks the type.
      if (c.wildcard) return [covering(zone, idx, nextCloser(c.name, c.wildcard.parent()), ttl), matching(zone, c.wildcard, ttl)];
      // RFC 4035 §3.1.3.1 (an ENT gets a matching NSEC with only RRSIG NSEC, RFC 4470 §2); at a cut
      // this is the parent side's NSEC for a DS query (RFC 4035 §3.1.4.1).
      return [matching(zone, c.name, ttl)];
    case 'wildcard':
      // RFC 4035 §3.1.3.3: no closer match than the wildcard that answered.
      return [covering(zone, idx, nextCloser(c.name, c.wildcard.parent()), ttl)];
    case 'insecure-referral':
      // RFC 4035 §3.1.4: the NSEC at the cut shows NS without DS.
      return [matching(zone, c.cut, ttl)];
  }
}
