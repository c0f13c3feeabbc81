// The set of zones the server is authoritative for. Immutable: a reload builds a new set and swaps
// the reference, so a query sees either the old or the new data, never a mix.
import type { Name } from '../dns/name.js';
import { RRType } from '../dns/types.js';
import type { Zone } from './types.js';

export class ZoneSet {
  private readonly byOrigin: ReadonlyMap<string, Zone>;

  constructor(zones: Zone[]) {
    const m = new Map<string, Zone>();
    for (const z of zones) m.set(z.origin.key, z);
    this.byOrigin = m;
  }

  /** The zone with the longest origin at or above `name` (nested zones: the child wins). */
  closestEnclosing(name: Name): Zone | undefined {
    for (let i = name.labelCount; i >= 0; i--) {
      const z = this.byOrigin.get(i === name.labelCount ? name.key : name.suffix(i).key);
      if (z) return z;
    }
    return undefined;
  }

  /**
   * The zone that answers a query. A DS query for the apex of a served zone goes to the served
   * parent zone when there is one, since DS is parent-side data (RFC 4035 §3.1.4.1).
   */
  forQuery(name: Name, qtype: number): Zone | undefined {
    const z = this.closestEnclosing(name);
    if (z && qtype === RRType.DS && !name.isRoot() && z.origin.equals(name)) {
      return this.closestEnclosing(name.parent()) ?? z;
    }
    return z;
  }

  get(origin: Name): Zone | undefined {
    return this.byOrigin.get(origin.key);
  }

  /** The zone whose origin's Name.key is `key`. */
  byKey(key: string): Zone | undefined {
    return this.byOrigin.get(key);
  }

  zones(): Zone[] {
    return [...this.byOrigin.values()];
  }

  get size(): number {
    return this.byOrigin.size;
  }

  /** A new set with `zone` added or replacing the zone of the same origin. */
  with(zone: Zone): ZoneSet {
    return new ZoneSet([...this.zones().filter((z) => !z.origin.equals(zone.origin)), zone]);
  }

  /** A new set without the zone of `origin`. */
  without(origin: Name): ZoneSet {
    return new ZoneSet(this.zones().filter((z) => !z.origin.equals(origin)));
  }
}
