// The gaps between a compact zone's names that a cluster worker may answer itself (learned.ts CompactHint), found by
// the primary when it makes a compact denial (handle.ts). Per zone version, once: the zone's names (nsec.ts
// nameIndex: authoritative names, not below a cut) as RFC 4034 §6.1 order keys (learned.ts orderKey), sorted; per
// miss, one binary search over those strings, and for a gap not met before the walk from its start up to the apex
// (cuts, DNAMEs, wildcards: see `gapFor`), remembered per gap.
import type { Name } from '../dns/name.js';
import { RRType } from '../dns/types.js';
import { isCut, nameIndex, position } from '../dnssec/denial/nsec.js';
import { patchedFrom } from '../zone/patch.js';
import type { Zone } from '../zone/types.js';
import { wireOrderKey } from './learned.js';

interface Gaps {
  names: readonly Name[];
  keys: string[];
  /** Per index of a gap's start: whether names in that gap may be answered from it. */
  fit: Map<number, boolean>;
}

const byZone = new WeakMap<Zone, Gaps>();

const keyOf = (n: Name): string | undefined => wireOrderKey(n.canonicalWire());

/** How often a version's order keys were made whole, and carried from the previous version's (tests, docs). */
export const gapsStats = { built: 0, carried: 0 };

function gapsOf(zone: Zone): Gaps | undefined {
  let g = byZone.get(zone);
  if (g) return g;
  g = carriedGaps(zone) ?? builtGaps(zone);
  if (g) byZone.set(zone, g);
  return g;
}

function builtGaps(zone: Zone): Gaps | undefined {
  const names = nameIndex(zone).names;
  const keys: string[] = [];
  for (const n of names) {
    const k = keyOf(n);
    if (k === undefined) return undefined; // a name orderKey cannot order (a 0 octet in a label): no gaps for this zone
    keys.push(k);
  }
  gapsStats.built++;
  return { names, keys, fit: new Map() };
}

/**
 * A patched version's order keys made from the previous version's (zone/patch.ts patchedFrom): the changed names'
 * keys put in or taken out at their places, as nsec.ts carryNameIndex does with the names, instead of every name's
 * key made again at the first compact miss after each change (O(names), up to 100,000 and more). The gaps' fit is
 * found again, lazily (a changed name may be a wildcard). Undefined (made whole) when the previous version's keys
 * were never made, a changed name is or was a delegation point, or the result does not line up with the names.
 */
function carriedGaps(zone: Zone): Gaps | undefined {
  const patch = patchedFrom.get(zone);
  const prev = patch?.from.deref();
  const old = prev && byZone.get(prev);
  if (!patch || !prev || !old) return undefined;
  for (const n of patch.names) if (isCut(prev, n) || isCut(zone, n)) return undefined;
  const names = nameIndex(zone).names;
  const keys = old.keys.slice();
  for (const n of patch.names) {
    const k = keyOf(n);
    if (k === undefined) return undefined;
    const at = lowerBound(keys, k);
    const has = keys[at] === k;
    const p = position(names, n);
    const want = p < names.length && names[p].compare(n) === 0;
    if (want && !has) keys.splice(at, 0, k);
    else if (!want && has) keys.splice(at, 1);
  }
  if (keys.length !== names.length) return undefined;
  gapsStats.carried++;
  return { names, keys, fit: new Map() };
}

/** The index of the first key >= `k`. */
function lowerBound(keys: readonly string[], k: string): number {
  let lo = 0, hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Gaps sent with one hint: the one asked about and its neighbours, so a worker learns a zone in fewer misses. */
export const GAPS_PER_HINT = 16;

/** Whether names in the gap starting at index `p` may be answered from it (the walk of `gapsFor`), memoized. */
function fits(zone: Zone, g: Gaps, p: number): boolean {
  let fit = g.fit.get(p);
  if (fit !== undefined) return fit;
  fit = true;
  for (let a = g.names[p]; ; a = a.parent()) {
    const apex = a.equals(zone.origin);
    if ((!apex && isCut(zone, a)) || zone.nodes.get(a.key)?.rrsets.has(RRType.DNAME)) { fit = false; break; }
    const star = keyOf(a)! + '*\x00';
    const w = lowerBound(g.keys, star);
    if (w < g.keys.length && g.keys[w].startsWith(star)) { fit = false; break; }
    if (apex || a.isRoot()) break;
  }
  g.fit.set(p, fit);
  return fit;
}

export interface Gap {
  /** Canonical wire forms of the gap's ends; `next` undefined: no name after it. */
  prev: Uint8Array;
  next?: Uint8Array;
}

/**
 * The gap of `zone`'s names around `name` (a name that does not exist) when every name in it is denied alike, and
 * up to GAPS_PER_HINT - 1 fit gaps beside it; none when the asked one does not fit. Any cut, DNAME or wildcard that
 * could apply to a name in a gap is the gap's start or one of its ancestors (canonical order puts a name's subtree
 * right after it; a label sorting before `*` is the worker's to refuse), so those are looked for there: a wildcard
 * as `*.<ancestor>` or any name below it (a wildcard that is an empty non-terminal exists too).
 */
export function gapsFor(zone: Zone, name: Name): Gap[] | undefined {
  const g = gapsOf(zone);
  const k = keyOf(name);
  if (!g || k === undefined) return undefined;
  const i = lowerBound(g.keys, k);
  if (g.keys[i] === k || i === 0) return undefined;
  const p = i - 1;
  if (!fits(zone, g, p)) return undefined;
  const n = g.names.length;
  const gap = (j: number): Gap => ({ prev: g.names[j].canonicalWire(), next: j + 1 < n ? g.names[j + 1].canonicalWire() : undefined });
  const out = [gap(p)];
  const half = GAPS_PER_HINT >> 1;
  for (let j = Math.max(0, p - half); j < Math.min(n, p + half) && out.length < GAPS_PER_HINT; j++) if (j !== p && fits(zone, g, j)) out.push(gap(j));
  return out;
}

/** Most gaps `allGaps` gives (a worker holds at most 100,000 links over all zones: learned.ts). */
export const ALL_GAPS_MAX = 50_000;

/** Gaps as `learned.ts` keys them: each gap's start and end as orderKey strings, in order. */
export interface GapKeys {
  owners: string[];
  nexts: string[];
}

/**
 * Every gap of `zone`'s names whose names may be answered from it (see `gapsFor`), for a worker that asks for the
 * whole zone at once (chainpush.ts), keyed as the worker keys them (the last gap ends at the apex); undefined for a
 * zone of more than ALL_GAPS_MAX names or one orderKey cannot order.
 */
export function allGaps(zone: Zone): GapKeys | undefined {
  // A zone of more nodes than that has more gaps than sent (nodes bound names from above): no sorted index made.
  if (zone.nodes.size > ALL_GAPS_MAX) return undefined;
  if (allByZone.has(zone)) return allByZone.get(zone);
  const all = findAllGaps(zone);
  allByZone.set(zone, all);
  return all;
}

const allByZone = new WeakMap<Zone, GapKeys | undefined>();

function findAllGaps(zone: Zone): GapKeys | undefined {
  const g = gapsOf(zone);
  const n = g?.names.length ?? 0;
  const apex = keyOf(zone.origin);
  if (!g || n > ALL_GAPS_MAX || apex === undefined) return undefined;
  const out: GapKeys = { owners: [], nexts: [] };
  for (let j = 0; j < n; j++) {
    if (!fits(zone, g, j)) continue;
    out.owners.push(g.keys[j]);
    out.nexts.push(j + 1 < n ? g.keys[j + 1] : apex);
  }
  return out;
}
