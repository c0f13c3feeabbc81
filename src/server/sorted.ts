// A sorted set of latin1 string keys (code units 0-255) with a value each, searched for the greatest key at or
// below a probe: the learned chains of server/learned.ts (NSEC3 hashes, RFC 4034 §6.1 name orders), searched once or
// twice per answer. The keys are hashes or names spread over the whole zone, so a plain binary search over strings
// reads a cold string at every step; here it runs over a packed array of each key's four code units after `skip`
// (a head every key shares, such as the zone's apex), which stays in the processor's cache, and compares whole
// strings only among keys whose four units tie.

export class SortedKeys<V> {
  /** The keys in order and their values (read only outside: replaced whole by `merge`). */
  keys: string[] = [];
  values: V[] = [];
  private pre = new Uint32Array(64);

  /** `skip`: how many leading code units every key shares (they are not compared through the packed array). */
  constructor(private readonly skip = 0) {}

  get size(): number {
    return this.keys.length;
  }

  /**
   * Four code units of `s` from `skip`, big-endian; a unit past the end counts 0. Monotone: a key before another
   * in string order never has a greater prefix (a shorter string that is a head of the other ties or is smaller).
   */
  private prefix(s: string): number {
    const k = this.skip;
    // charCodeAt past the end is NaN, which the shifts and ORs turn into 0.
    return ((s.charCodeAt(k) << 24) | (s.charCodeAt(k + 1) << 16) | (s.charCodeAt(k + 2) << 8) | s.charCodeAt(k + 3)) >>> 0;
  }

  /** The index of the greatest key <= `s` in string order, or -1 when every key is greater. */
  floor(s: string): number {
    const p = this.prefix(s), pre = this.pre, keys = this.keys;
    let lo = 0, hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pre[mid] <= p) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0 || pre[lo - 1] !== p) return lo - 1;
    // Keys [first, lo) share s's prefix: every key before them is smaller than s, every key from lo greater.
    let first = 0, end = lo;
    while (first < end) {
      const mid = (first + end) >>> 1;
      if (pre[mid] < p) first = mid + 1;
      else end = mid;
    }
    hi = lo;
    lo = first;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid] <= s) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** Sets the value of `key`; true when the key is new. */
  set(key: string, value: V): boolean {
    const i = this.floor(key);
    if (i >= 0 && this.keys[i] === key) {
      this.values[i] = value;
      return false;
    }
    const at = i + 1, n = this.keys.length;
    if (n === this.pre.length) {
      const grown = new Uint32Array(n * 2);
      grown.set(this.pre);
      this.pre = grown;
    }
    this.pre.copyWithin(at + 1, at, n);
    this.pre[at] = this.prefix(key);
    this.keys.splice(at, 0, key);
    this.values.splice(at, 0, value);
    return true;
  }

  /**
   * Sets many keys at once (the values of `entries` win over the ones held and over earlier entries of the same key)
   * and takes the keys of `remove` out (unless `entries` sets them): one sort and one merge instead of an insertion
   * or removal each. Returns how many keys more it holds (fewer: negative).
   */
  merge(entries: [string, V][], remove?: ReadonlySet<string>): number {
    if (entries.length === 0 && (remove === undefined || remove.size === 0)) return 0;
    if (this.keys.length === 0 && ascending(entries)) {
      // Into an empty set, already in order (a chain as the primary sends it): no sort, no merge.
      this.keys = entries.map((e) => e[0]);
      this.values = entries.map((e) => e[1]);
      this.reindex();
      return entries.length;
    }
    const add = entries.map((e, i) => [e[0], e[1], i] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[2] - b[2]));
    const keys: string[] = [], values: V[] = [];
    const old = this.keys, oldValues = this.values;
    let i = 0, j = 0;
    while (i < old.length || j < add.length) {
      if (j >= add.length || (i < old.length && old[i] < add[j][0])) {
        if (remove?.has(old[i])) {
          i++;
          continue;
        }
        keys.push(old[i]);
        values.push(oldValues[i++]);
        continue;
      }
      const key = add[j][0];
      let value = add[j++][1];
      while (j < add.length && add[j][0] === key) value = add[j++][1];
      if (i < old.length && old[i] === key) i++;
      keys.push(key);
      values.push(value);
    }
    this.keys = keys;
    this.values = values;
    this.reindex();
    return keys.length - old.length;
  }

  /** The packed prefixes of every key anew (with room to grow). */
  private reindex(): void {
    const keys = this.keys;
    this.pre = new Uint32Array(Math.max(64, keys.length * 2));
    for (let k = 0; k < keys.length; k++) this.pre[k] = this.prefix(keys[k]);
  }
}

/** Whether the keys of `entries` are strictly ascending. */
function ascending(entries: readonly [string, unknown][]): boolean {
  for (let i = 1; i < entries.length; i++) if (!(entries[i - 1][0] < entries[i][0])) return false;
  return true;
}
