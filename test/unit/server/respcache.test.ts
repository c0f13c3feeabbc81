// The response cache in front of the request path: a hit is the full path's answer with the query's ID,
// RD/CD bits and question case; a swap of the served set or the end of the signatures' window empties it;
// SERVFAIL and answers to malformed queries are never stored.
import { describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { encodeQuery } from '../../../src/dns/message.js';
import { Name } from '../../../src/dns/name.js';
import { Rcode, RRType } from '../../../src/dns/types.js';
import type { ZoneSigningImpl } from '../../../src/dnssec/zonesigning.js';
import type { Served } from '../../../src/state/manager.js';
import { createHandler, EDNS_UDP_SIZE } from '../../../src/server/handle.js';
import { cacheKey, ResponseCache } from '../../../src/server/respcache.js';
import { decode } from '../../helpers/client.js';
import { useExampleManager } from '../../helpers/manager.js';

const logger = pino({ level: 'silent' });
const T0 = 1_800_000_000;
const ex = useExampleManager(T0);
const clock = ex.clock;

const q = (name: string, type: number = RRType.A, o: Parameters<typeof encodeQuery>[2] = {}) =>
  Buffer.from(encodeQuery(Name.fromText(name), type, { udpSize: 1232, ...o }));
const setup = (served: () => Served = () => ex.manager.served()) => {
  const cache = new ResponseCache();
  return { cache, handler: createHandler(served, logger, { clock, cache }) };
};
const udpLimit = (s: number | undefined) => (s === undefined ? 512 : Math.min(Math.max(s, 512), EDNS_UDP_SIZE));

describe('response cache: hits', () => {
  it('RFC 1035 §4.1.1, RFC 4035 §3.2.2: a hit has the query ID, RD and CD, and the question in the query\'s case', async () => {
    const { cache, handler } = setup();
    const uncached = createHandler(() => ex.manager.served(), logger, { clock, cache: false });
    (await handler(q('www.example.com.', RRType.A, { id: 1, do: true }), 'udp') as Uint8Array | null);
    const second = q('WwW.ExAmPlE.cOm.', RRType.A, { id: 0xbeef, do: true, rd: true, cd: true });
    const hit = handler.cached(second, 'udp');
    expect(hit).toBeDefined();
    expect(cache.stats.hits).toBe(1);
    // Byte for byte what the full path answers (the signature cache is shared, so RRSIGs are equal too).
    expect(Buffer.from(hit!).equals(Buffer.from((await uncached(second, 'udp') as Uint8Array)))).toBe(true);
    const m = decode(Buffer.from(hit!));
    expect(m.id).toBe(0xbeef);
    expect(m.flags! & 0x0100).toBe(0x0100); // RD
    expect(m.flags! & 0x0010).toBe(0x0010); // CD
    expect(m.questions![0].name).toBe('WwW.ExAmPlE.cOm');
    expect(m.answers!.some((a) => a.type === 'RRSIG')).toBe(true);
  });

  it('RFC 3225, RFC 9824 §5.1: DO and CO are part of the key (a DO=0 query never gets RRSIGs from a DO=1 entry)', async () => {
    const { handler } = setup();
    (await handler(q('www.example.com.', RRType.A, { do: true }), 'udp') as Uint8Array | null);
    expect(handler.cached(q('www.example.com.', RRType.A, { do: false }), 'udp')).toBeUndefined();
    expect(handler.cached(q('www.example.com.', RRType.A, { do: true, co: true }), 'udp')).toBeUndefined();
    const plain = decode(Buffer.from(((await handler(q('www.example.com.', RRType.A, { do: false }), 'udp') as Uint8Array | null))!));
    expect(plain.answers!.some((a) => a.type === 'RRSIG')).toBe(false);
  });

  it('RFC 6891 §6.2.5: the size limit is part of the key (512, the EDNS size class, TCP apart)', () => {
    const k = (m: Uint8Array, limit = udpLimit) => cacheKey(m, limit)?.key;
    const a = q('big.example.com.', RRType.TXT, { udpSize: 512 });
    const b = q('big.example.com.', RRType.TXT, { udpSize: 4096 });
    const c = q('big.example.com.', RRType.TXT, { udpSize: 1232 });
    const none = q('big.example.com.', RRType.TXT, { edns: false });
    expect(k(a)).not.toBe(k(b));
    expect(k(b)).toBe(k(c)); // both capped at our 1232
    expect(k(none)).not.toBe(k(a)); // no OPT: a response without OPT (RFC 6891 §7)
    expect(k(c, () => 65535)).not.toBe(k(c));
  });

  it('RFC 4343: names are keyed case-insensitively for ASCII only; other bytes take the full path', () => {
    const k = (m: Uint8Array) => cacheKey(m, udpLimit)?.key;
    expect(k(q('WWW.Example.COM.'))).toBe(k(q('www.example.com.')));
    const raw = Buffer.from(q('x.example.com.'));
    raw[13] = 0xc3; // 'Ã': not ASCII, RFC 4343 §3 leaves it alone
    expect(cacheKey(raw, udpLimit)).toBeUndefined();
  });
});

describe('response cache: what is never served from it', () => {
  it('RFC 1035 §4.1.1, RFC 6891 §6.1: responses, other opcodes, two questions, records besides OPT, bad or non-0 OPT take the full path', () => {
    const good = q('www.example.com.');
    expect(cacheKey(good, udpLimit)).toBeDefined();
    const mut = (f: (b: Buffer) => void) => { const b = Buffer.from(good); f(b); return cacheKey(b, udpLimit); };
    expect(mut((b) => { b[2] |= 0x80; })).toBeUndefined(); // QR=1
    expect(mut((b) => { b[2] |= 0x10; })).toBeUndefined(); // opcode 2
    expect(mut((b) => { b[5] = 2; })).toBeUndefined(); // QDCOUNT 2
    expect(mut((b) => { b[7] = 1; })).toBeUndefined(); // ANCOUNT 1
    const opt = good.length - 11;
    expect(mut((b) => { b[opt + 6] = 1; })).toBeUndefined(); // EDNS version 1: BADVERS on the full path
    expect(mut((b) => { b[opt + 10] = 4; })).toBeUndefined(); // RDLENGTH past the end
    const withOption = Buffer.from(encodeQuery(Name.fromText('www.example.com.'), RRType.A, { options: [{ code: 10, data: new Uint8Array(8) }] }));
    expect(cacheKey(withOption, udpLimit)).toBeDefined(); // a whole option (a cookie) does not change the answer
    withOption[withOption.length - 9] = 9; // option length 9 > the 8 bytes left
    expect(cacheKey(withOption, udpLimit)).toBeUndefined();
  });

  it('RFC 6891 §6.1.3: a BADVERS query for a cached question gets BADVERS, not the cached answer', async () => {
    const { handler } = setup();
    (await handler(q('www.example.com.'), 'udp') as Uint8Array | null);
    const bad = Buffer.from(q('www.example.com.'));
    bad[bad.length - 11 + 6] = 1;
    expect(handler.cached(bad, 'udp')).toBeUndefined();
    const r = Buffer.from(((await handler(bad, 'udp') as Uint8Array | null))!);
    expect(((r[bad.length - 11 + 5] << 4) | (r[3] & 0xf))).toBe(Rcode.BADVERS);
  });

  it('STYLE habit 13: SERVFAIL (a signing failure) is never stored', async () => {
    const real = ex.manager.served();
    const failing = new Map([...real.signing].map(([k, s]) => [k, { ...s, signRrset: () => Promise.reject(new Error('HSM gone')) }]));
    const served: Served = { zones: real.zones, signing: failing };
    const { cache, handler } = setup(() => served);
    for (let i = 0; i < 2; i++) {
      const r = Buffer.from(((await handler(q('www.example.com.', RRType.A, { do: true }), 'udp') as Uint8Array | null))!);
      expect(r[3] & 0xf).toBe(Rcode.SERVFAIL);
    }
    expect(cache.stats.stores).toBe(0);
    expect(cache.size).toBe(0);
  });
});

describe('response cache: invalidation', () => {
  it('a new served set (ex.manager publish) empties the cache: the next answer shows the change', async () => {
    const file = join(ex.zonesDir, 'example.com.yaml');
    const before = await readFile(file, 'utf8');
    const { cache, handler } = setup();
    const ask = async () => decode(Buffer.from((handler.cached(q('added.example.com.'), 'udp') ?? ((await handler(q('added.example.com.'), 'udp') as Uint8Array | null)))!));
    expect((await ask()).rcode).toBe('NXDOMAIN');
    expect((await ask()).rcode).toBe('NXDOMAIN');
    expect(cache.stats.hits).toBe(1);
    await writeFile(file, before.replace('records:\n', 'records:\n  added: { type: A, value: 192.0.2.99 }\n'));
    try {
      await ex.manager.reloadFile(file);
      const after = await ask();
      expect(after.rcode).toBe('NOERROR');
      expect(after.answers!.map((a) => (a as { data?: unknown }).data)).toEqual(['192.0.2.99']);
    } finally {
      await writeFile(file, before);
      await ex.manager.reloadFile(file);
    }
  });

  it('the served set\'s identity is the generation: a swap to an equal-content set still misses', async () => {
    let served = ex.manager.served();
    const { cache, handler } = setup(() => served);
    (await handler(q('www.example.com.'), 'udp') as Uint8Array | null);
    expect(handler.cached(q('www.example.com.'), 'udp')).toBeDefined();
    served = { ...served };
    expect(handler.cached(q('www.example.com.'), 'udp')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('RFC 4035 §5.3.1: signed answers are not served past the point where the signer starts a new window', async () => {
    const { handler } = setup();
    const query = q('www.example.com.', RRType.A, { do: true });
    (await handler(query, 'udp') as Uint8Array | null);
    const signing = ex.manager.served().signing.get('example.com.') as ZoneSigningImpl;
    const refreshAt = signing.refreshAt();
    expect(refreshAt).toBeGreaterThan(clock.t);
    const plain = q('www.example.com.');
    (await handler(plain, 'udp') as Uint8Array | null);
    try {
      clock.t = refreshAt - 1;
      expect(handler.cached(query, 'udp')).toBeDefined();
      clock.t = refreshAt;
      expect(handler.cached(query, 'udp')).toBeUndefined();
      // Unsigned answers carry no signatures: they live as long as their served set.
      expect(handler.cached(plain, 'udp')).toBeDefined();
      const fresh = decode(Buffer.from(((await handler(query, 'udp') as Uint8Array | null))!));
      const sig = (fresh.answers!.find((a) => a.type === 'RRSIG') as unknown as { data: { inception: number } }).data;
      expect(sig.inception).toBe(signing.currentWindow().inception);
    } finally {
      clock.t = T0;
    }
  });

  it('is bounded: the oldest entry goes first', () => {
    const c = new ResponseCache({ max: 2 });
    const gen = {};
    const keys = ['a', 'b', 'c'].map((l) => cacheKey(q(`${l}.example.com.`), udpLimit)!);
    keys.forEach((k, i) => c.set(gen, k, new Uint8Array(64).fill(i), 0, Infinity));
    expect(c.size).toBe(2);
    expect(c.get(gen, keys[0], q('a.example.com.'), 0)).toBeUndefined();
    expect(c.get(gen, keys[2], q('c.example.com.'), 0)).toBeDefined();
  });
});
