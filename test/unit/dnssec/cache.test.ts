import { describe, expect, it } from 'vitest';
import { SignatureCache, signatureCacheKey } from '../../../src/dnssec/cache.js';

const bytes = (...b: number[]) => Uint8Array.from(b);

describe('SignatureCache', () => {
  it('concurrent misses for one key share one signature (singleflight)', async () => {
    const c = new SignatureCache();
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const make = async () => { calls++; await gate; return bytes(calls); };
    const p1 = c.getOrCreate('k', 0, 100, make);
    const p2 = c.getOrCreate('k', 0, 100, make);
    release();
    const [a, b] = await Promise.all([p1, p2]);
    expect(calls).toBe(1);
    expect(a).toBe(b);
    expect(c.stats).toEqual({ hits: 0, misses: 1, joined: 1 });
    expect(await c.getOrCreate('k', 50, 100, make)).toBe(a);
    expect(c.stats.hits).toBe(1);
  });

  it('entries expire at their expiry time on the injected clock', async () => {
    const c = new SignatureCache();
    let calls = 0;
    const make = async () => bytes(++calls);
    await c.getOrCreate('k', 0, 100, make);
    expect((await c.getOrCreate('k', 99, 100, make))[0]).toBe(1);
    expect((await c.getOrCreate('k', 100, 200, make))[0]).toBe(2);
    expect(c.peek('k', 150)?.[0]).toBe(2);
    expect(c.peek('k', 200)).toBeUndefined();
  });

  it('a failed signature is not cached, also when make() throws synchronously', async () => {
    const c = new SignatureCache();
    await expect(c.getOrCreate('k', 0, 100, () => { throw new Error('hsm down'); })).rejects.toThrow('hsm down');
    await expect(c.getOrCreate('k', 0, 100, async () => { throw new Error('again'); })).rejects.toThrow('again');
    expect((await c.getOrCreate('k', 0, 100, async () => bytes(7)))[0]).toBe(7);
  });

  it('is bounded by count (least recently used goes first)', async () => {
    const c = new SignatureCache({ max: 2 });
    for (const k of ['a', 'b']) await c.getOrCreate(k, 0, 100, async () => bytes(1));
    c.peek('a', 0);
    await c.getOrCreate('c', 0, 100, async () => bytes(1));
    expect(c.size).toBe(2);
    expect(c.peek('b', 0)).toBeUndefined();
    expect(c.peek('a', 0)).toBeDefined();
  });

  it('keys depend on the signing key and on every byte of the signed data', () => {
    const k = signatureCacheKey(bytes(1, 1, 3, 13, 9), bytes(1, 2, 3));
    expect(signatureCacheKey(bytes(1, 1, 3, 13, 9), bytes(1, 2, 3))).toBe(k);
    expect(signatureCacheKey(bytes(1, 0, 3, 13, 9), bytes(1, 2, 3))).not.toBe(k);
    expect(signatureCacheKey(bytes(1, 1, 3, 13, 9), bytes(1, 2, 4))).not.toBe(k);
    // the key length is framed, so moving a byte between key and data changes the key
    expect(signatureCacheKey(bytes(1, 1, 3, 13), bytes(9, 1, 2, 3))).not.toBe(k);
  });
});
