// SortedKeys (server/sorted.ts): the learned chains' index. Checked against a plain sorted array on random keys
// built to tie in their packed four-unit prefixes (a shared head, short keys, keys that are heads of others, 0 units).
import { describe, expect, it } from 'vitest';
import { SortedKeys } from '../../../src/server/sorted.js';

/** Index of the greatest key <= s in a sorted array, or -1: the model. */
const floorOf = (keys: string[], s: string) => {
  let i = -1;
  for (let j = 0; j < keys.length; j++) if (keys[j] <= s) i = j;
  return i;
};

function randomKey(rand: () => number, head: string): string {
  const alphabet = ['\x00', 'a', 'b', '\xff', 'z'];
  let k = head;
  const n = Math.floor(rand() * 7);
  for (let i = 0; i < n; i++) k += alphabet[Math.floor(rand() * alphabet.length)];
  return k;
}

function mulberry(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('SortedKeys', () => {
  it.each([0, 3])('set and floor agree with a sorted array (skip %i, keys tying in their prefixes)', (skip) => {
    const rand = mulberry(7 + skip);
    const head = 'x'.repeat(skip);
    const index = new SortedKeys<number>(skip);
    const model = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const k = randomKey(rand, head);
      expect(index.set(k, i)).toBe(!model.has(k));
      model.set(k, i);
    }
    const keys = [...model.keys()].sort();
    expect(index.keys).toEqual(keys);
    expect(index.values).toEqual(keys.map((k) => model.get(k)));
    for (let i = 0; i < 3000; i++) {
      const probe = randomKey(rand, head);
      expect(index.floor(probe), JSON.stringify(probe)).toBe(floorOf(keys, probe));
    }
    expect(index.floor('')).toBe(keys[0] === '' ? 0 : -1);
  });

  it('merge: one sort and merge, later entries and merged values winning, counting only new keys', () => {
    const rand = mulberry(11);
    const index = new SortedKeys<number>(2);
    const model = new Map<string, number>();
    for (let i = 0; i < 500; i++) {
      const k = randomKey(rand, 'hd');
      index.set(k, i);
      model.set(k, i);
    }
    const batch: [string, number][] = [];
    for (let i = 0; i < 800; i++) batch.push([randomKey(rand, 'hd'), 10_000 + i]);
    const before = model.size;
    for (const [k, v] of batch) model.set(k, v);
    expect(index.merge(batch)).toBe(model.size - before);
    const keys = [...model.keys()].sort();
    expect(index.keys).toEqual(keys);
    expect(index.values).toEqual(keys.map((k) => model.get(k)));
    for (let i = 0; i < 1000; i++) {
      const probe = randomKey(rand, 'hd');
      expect(index.floor(probe)).toBe(floorOf(keys, probe));
    }
    // Still usable for single sets after a merge (the packed array was rebuilt).
    expect(index.set('hd\x00\x00\x00\x00\x00\x00\x00', 1)).toBe(!model.has('hd\x00\x00\x00\x00\x00\x00\x00'));
  });

  it('merge with removals (a chain patch): held keys in `remove` go unless an entry sets them; returns the change in size', () => {
    const rand = mulberry(12);
    const index = new SortedKeys<number>(2);
    const model = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const k = randomKey(rand, 'hd');
      index.set(k, i);
      model.set(k, i);
    }
    const held = [...model.keys()];
    const remove = new Set([...held.slice(0, 50), randomKey(rand, 'hd')]); // one key not held: nothing to take out
    const batch: [string, number][] = [[held[0], -1], [randomKey(rand, 'hd'), -2], [held[100], -3]]; // held[0] removed and set again
    const before = model.size;
    for (const k of remove) model.delete(k);
    for (const [k, v] of batch) model.set(k, v);
    expect(index.merge(batch, remove)).toBe(model.size - before);
    const keys = [...model.keys()].sort();
    expect(index.keys).toEqual(keys);
    expect(index.values).toEqual(keys.map((k) => model.get(k)));
    for (let i = 0; i < 500; i++) {
      const probe = randomKey(rand, 'hd');
      expect(index.floor(probe)).toBe(floorOf(keys, probe));
    }
    // Removals only.
    expect(index.merge([], new Set([held[60], held[61]]))).toBe(-2);
    expect(index.keys).not.toContain(held[60]);
  });
});
