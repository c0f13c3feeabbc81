// A change of a few RRsets applied to a built zone (issue 16: a change costs the change, not the zone): a new
// Zone whose node index shares every node the change did not touch with the old version (LayeredNodes), its
// changed owners checked by the rules build.ts checks per owner, their ancestors made or dropped as empty
// non-terminals. The old version stays whole and valid for whoever still reads it (a transfer, a chain patch).
import { parentKey, type Name } from '../dns/name.js';
import type { RRset } from '../dns/rr.js';
import { RRClass, RRType, typeName } from '../dns/types.js';
import { negativeSoa } from '../dns/soa.js';
import { checkOwner, TypeTable, ZoneDataError } from './build.js';
import type { Zone, ZoneNode } from './types.js';

/** One RRset as the change leaves it: `rrset` undefined removes (owner, type). */
export interface RrsetChange {
  name: Name;
  type: number;
  rrset?: RRset;
}

/** Overlaid keys past which a patch folds the layers into one Map (amortised: one full copy per this many changes). */
const FOLD_AT = 16_384;

/**
 * The nodes of a patched zone: a base Map (a whole build's, shared by every version since) and the nodes the
 * versions since then changed (null: removed). Reads as the Map it stands for; the request path pays one more
 * Map look-up per node look-up, only in zones changed since their last full build.
 */
export class LayeredNodes implements ReadonlyMap<string, ZoneNode> {
  readonly size: number;

  constructor(readonly base: ReadonlyMap<string, ZoneNode>, readonly overlay: ReadonlyMap<string, ZoneNode | null>, size: number) {
    this.size = size;
  }

  get(key: string): ZoneNode | undefined {
    const o = this.overlay.get(key);
    if (o !== undefined) return o ?? undefined;
    return this.base.get(key);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  *entries(): MapIterator<[string, ZoneNode]> {
    for (const e of this.base) if (!this.overlay.has(e[0])) yield e;
    for (const [k, v] of this.overlay) if (v) yield [k, v];
  }

  *keys(): MapIterator<string> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): MapIterator<ZoneNode> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): MapIterator<[string, ZoneNode]> {
    return this.entries();
  }

  forEach(fn: (value: ZoneNode, key: string, map: ReadonlyMap<string, ZoneNode>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }
}

/**
 * Each patched zone's origin version (held weakly: the previous version is not kept alive by this) and the names
 * `patchZone` made, dropped or changed, so a reader of two served versions can tell what changed between them without
 * comparing every node (server/chainpush.ts: what a cluster worker may keep of a compact zone).
 */
export const patchedFrom = new WeakMap<Zone, { from: WeakRef<Zone>; names: readonly Name[] }>();

/** What a patch did: the new zone, and the names whose node was made, dropped or changed (for the denial chain). */
export interface Patched {
  zone: Zone;
  changedNames: Name[];
}

/**
 * Applies `changes` (and a new SOA RRset, e.g. another serial) to `zone`. Throws the first ZoneDataError of
 * a changed owner, as buildZone would for the whole zone. Changes of NS and DNAME below the apex (zone cuts and
 * what they occlude) and of the apex itself other than the SOA are for a whole build: callers do not patch those.
 */
export function patchZone(zone: Zone, changes: readonly RrsetChange[], opts: { soa?: RRset; recordDelta?: number } = {}): Patched {
  const origin = zone.origin;
  const prev = zone.nodes instanceof LayeredNodes ? zone.nodes : undefined;
  const base = prev ? prev.base : zone.nodes;
  const overlay = new Map<string, ZoneNode | null>(prev?.overlay ?? []);
  let size = zone.nodes.size;
  const touched = new Map<string, Name>();
  const get = (key: string): ZoneNode | undefined => {
    const o = overlay.get(key);
    return o !== undefined ? o ?? undefined : base.get(key);
  };
  const put = (node: ZoneNode): void => {
    if (!get(node.name.key)) size++;
    overlay.set(node.name.key, Object.freeze(node));
    touched.set(node.name.key, node.name);
  };
  const drop = (node: ZoneNode): void => {
    overlay.set(node.name.key, null);
    size--;
    touched.set(node.name.key, node.name);
  };
  const withChildren = (node: ZoneNode, delta: number): ZoneNode => ({ name: node.name, rrsets: node.rrsets, children: node.children + delta });

  // Group by owner: each owner's node is made once.
  const byOwner = new Map<string, { name: Name; changes: RrsetChange[] }>();
  for (const c of changes) {
    if (!c.name.isSubdomainOf(origin)) throw new ZoneDataError(c.name.relativeTo(origin), String(c.type), `owner is outside the zone ${origin} (RFC 1034 §4.2)`);
    const g = byOwner.get(c.name.key) ?? { name: c.name, changes: [] };
    g.changes.push(c);
    byOwner.set(c.name.key, g);
  }
  if (opts.soa) {
    const g = byOwner.get(origin.key) ?? { name: origin, changes: [] };
    g.changes.push({ name: origin, type: RRType.SOA, rrset: opts.soa });
    byOwner.set(origin.key, g);
  }

  const changedOwners: ZoneNode[] = [];
  for (const { name, changes: list } of byOwner.values()) {
    const old = get(name.key);
    const table = new TypeTable<RRset>([...(old?.rrsets.values() ?? [])]);
    for (const c of list) {
      if (c.rrset) table.set(frozen(c.rrset));
      else table.delete(c.type);
    }
    table.trim();
    const atApex = name.key === origin.key;
    if (table.size === 0 && !atApex) {
      if (!old) continue;
      if (old.children > 0) put({ name, rrsets: table, children: old.children }); // stays as an empty non-terminal
      else {
        drop(old);
        // Ancestors left with neither data nor children go too (RFC 4592 §2.2.2: an ENT has a descendant);
        // the first that stays (the apex at the latest) has one child less.
        for (let k = parentKey(name.key); ; k = parentKey(k)) {
          const p = get(k)!;
          if (k === origin.key || p.children > 1 || p.rrsets.size > 0) {
            put(withChildren(p, -1));
            break;
          }
          drop(p);
        }
      }
      continue;
    }
    const node: ZoneNode = { name, rrsets: table, children: old?.children ?? 0 };
    put(node);
    changedOwners.push(node);
    if (!old) {
      // A new name: its missing ancestors become empty non-terminals, and the first that exists gains a child.
      let child = name;
      for (let k = parentKey(name.key); ; k = parentKey(k)) {
        const p = get(k);
        if (p) {
          put(withChildren(p, 1));
          break;
        }
        const ent: ZoneNode = { name: child.parent(), rrsets: new TypeTable<RRset>(), children: 1 };
        put(ent);
        child = ent.name;
      }
    }
  }

  // The rules of build.ts for the changed owners: their own RRsets, and what the names above them allow
  // (RFC 1034 §4.2.1: below a cut only glue; RFC 6672 §2.4: nothing below a DNAME).
  const errors: ZoneDataError[] = [];
  const fail = (owner: Name, type: number, reason: string) => errors.push(new ZoneDataError(owner.relativeTo(origin), typeName(type), reason));
  for (const node of changedOwners) {
    for (const set of node.rrsets.values()) {
      if (set.class !== RRClass.IN) fail(node.name, set.type, `class ${set.class} is not IN; only IN data is served (RFC 1035 §3.2.4)`);
      if (!Number.isInteger(set.ttl) || set.ttl < 0 || set.ttl > 2147483647) fail(node.name, set.type, `TTL ${set.ttl} outside 0..2147483647 (RFC 2181 §8)`);
    }
    checkOwner(node, origin, fail);
    const above: ZoneNode[] = [];
    for (let k = node.name.key; k !== origin.key; k = parentKey(k)) above.push(get(k)!);
    for (let j = above.length - 1; j >= 0; j--) {
      const a = above[j];
      const isSelf = j === 0;
      if (a.rrsets.has(RRType.NS)) {
        const allowed: number[] = isSelf ? [RRType.NS, RRType.DS, RRType.NSEC, RRType.A, RRType.AAAA] : [RRType.A, RRType.AAAA];
        for (const t of node.rrsets.keys()) {
          if (!allowed.includes(t)) {
            fail(node.name, t, isSelf
              ? `occluded: data at the delegation point ${a.name.relativeTo(origin)} other than NS, DS, NSEC and glue (RFC 1034 §4.2.1)`
              : `occluded: below the delegation point ${a.name.relativeTo(origin)} only glue (A/AAAA) may exist (RFC 1034 §4.2.1)`);
          }
        }
        break;
      }
      if (!isSelf && a.rrsets.has(RRType.DNAME)) {
        for (const t of node.rrsets.keys()) fail(node.name, t, `occluded: data below the DNAME at ${a.name.relativeTo(origin)} (RFC 6672 §2.4)`);
        break;
      }
    }
  }
  if (errors.length > 0) throw errors[0];

  let nodes: ReadonlyMap<string, ZoneNode>;
  if (overlay.size >= FOLD_AT) {
    const all = new Map<string, ZoneNode>();
    for (const [k, v] of base) if (!overlay.has(k)) all.set(k, v);
    for (const [k, v] of overlay) if (v) all.set(k, v);
    nodes = all;
  } else nodes = new LayeredNodes(base, overlay, size);
  const soa = get(origin.key)!.rrsets.get(RRType.SOA)!;
  const next: Zone = {
    ...zone,
    soa,
    negativeSoa: negativeSoa(soa),
    nodes,
    recordCount: zone.recordCount + (opts.recordDelta ?? 0),
  };
  const changedNames = [...touched.values()];
  Object.freeze(next);
  patchedFrom.set(next, { from: new WeakRef(zone), names: changedNames });
  return { zone: next, changedNames };
}

function frozen(set: RRset): RRset {
  Object.freeze(set.rdatas);
  return Object.freeze(set);
}
