// The response cache's bound under a stream of new names (a random-subdomain load): first in, first out,
// whatever was dropped early; and a UDP miss is looked up once, not twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { encodeQuery } from '../../../src/dns/message.js';
import { Name } from '../../../src/dns/name.js';
import { RRType } from '../../../src/dns/types.js';
import { SignatureCache } from '../../../src/dnssec/cache.js';
import { TandemZoneManager } from '../../../src/state/manager.js';
import { createHandler, EDNS_UDP_SIZE } from '../../../src/server/handle.js';
import { cacheKey, ResponseCache } from '../../../src/server/respcache.js';
import { exampleZoneDir } from '../../helpers/zones.js';

const q = (name: string, o: Parameters<typeof encodeQuery>[2] = {}) => Buffer.from(encodeQuery(Name.fromText(name), RRType.A, { udpSize: 1232, ...o }));
const udpLimit = (s: number | undefined) => (s === undefined ? 512 : Math.min(Math.max(s, 512), EDNS_UDP_SIZE));
const key = (l: string) => cacheKey(q(`${l}.example.com.`), udpLimit)!;
const has = (c: ResponseCache, gen: object, l: string) => c.get(gen, key(l), q(`${l}.example.com.`), 0) !== undefined;

describe('response cache: bounded, oldest first', () => {
  it('an entry dropped early (expired) does not make a younger one go first', () => {
    const c = new ResponseCache({ max: 2 });
    const gen = {};
    c.set(gen, key('a'), new Uint8Array(64), 0, 10);
    c.set(gen, key('b'), new Uint8Array(64), 0, Infinity);
    expect(c.get(gen, key('a'), q('a.example.com.'), 10)).toBeUndefined(); // expired: dropped
    c.set(gen, key('c'), new Uint8Array(64), 0, Infinity);
    expect(c.size).toBe(2);
    expect(has(c, gen, 'b') && has(c, gen, 'c')).toBe(true);
    c.set(gen, key('d'), new Uint8Array(64), 0, Infinity);
    expect(has(c, gen, 'b')).toBe(false);
    expect(has(c, gen, 'c') && has(c, gen, 'd')).toBe(true);
  });

  it('a new answer for a held key replaces it in place (its turn to go stays)', () => {
    const c = new ResponseCache({ max: 2 });
    const gen = {};
    c.set(gen, key('a'), new Uint8Array(64).fill(1), 0, Infinity);
    c.set(gen, key('b'), new Uint8Array(64), 0, Infinity);
    c.set(gen, key('a'), new Uint8Array(64).fill(2), 0, Infinity);
    expect(c.get(gen, key('a'), q('a.example.com.'), 0)![63]).toBe(2);
    c.set(gen, key('c'), new Uint8Array(64), 0, Infinity);
    expect(has(c, gen, 'a')).toBe(false);
    expect(has(c, gen, 'b') && has(c, gen, 'c')).toBe(true);
  });

  it('keeps exactly the newest `max` under a long stream of new names', () => {
    const c = new ResponseCache({ max: 100 });
    const gen = {};
    for (let i = 0; i < 1000; i++) c.set(gen, key(`n${i}`), new Uint8Array(64), 0, Infinity);
    expect(c.size).toBe(100);
    expect(has(c, gen, 'n899')).toBe(false);
    for (let i = 900; i < 1000; i++) expect(has(c, gen, `n${i}`)).toBe(true);
  });
});

describe('handler: a UDP miss', () => {
  let zonesDir: string, stateDir: string, manager: TandemZoneManager;
  const logger = pino({ level: 'silent' });
  beforeAll(async () => {
    zonesDir = await exampleZoneDir();
    stateDir = await mkdtemp(join(tmpdir(), 'tandem-respcache-'));
    ({ manager } = await TandemZoneManager.open({ zonesDir, stateDir, clock: { now: () => 1_800_000_000 }, logger, cache: new SignatureCache() }));
  });
  afterAll(async () => {
    await rm(zonesDir, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  });

  it('cached() then the handler: one lookup, one store, the next query a hit', async () => {
    const cache = new ResponseCache();
    const handler = createHandler(() => manager.served(), logger, { clock: { now: () => 1_800_000_000 }, cache });
    const msg = q('www.example.com.', { do: true });
    expect(handler.cached(msg, 'udp')).toBeUndefined();
    const wire = (await handler(msg, 'udp') as Uint8Array | null);
    expect(cache.stats).toEqual({ hits: 0, misses: 1, stores: 1 });
    expect(Buffer.from(handler.cached(q('www.example.com.', { do: true }), 'udp')!).equals(Buffer.from(wire!))).toBe(true);
  });

  it('a message not just missed by cached() (TCP, or another message) is looked up itself', async () => {
    const cache = new ResponseCache();
    const handler = createHandler(() => manager.served(), logger, { clock: { now: () => 1_800_000_000 }, cache });
    expect(handler.cached(q('www.example.com.'), 'udp')).toBeUndefined();
    (await handler(q('nope.example.com.'), 'udp') as Uint8Array | null); // another message: its own key
    (await handler(q('www.example.com.'), 'tcp') as Uint8Array | null);
    expect(cache.stats.misses).toBe(3);
    expect(cache.size).toBe(2); // nope (udp), www (tcp size class)
  });
});
