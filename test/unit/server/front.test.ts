// A cluster worker's request path (server/front.ts, issue 16): it holds no zone; a first question goes to
// the primary (answerFront, the full request path), a repeated one is answered from the worker's own cache
// with the primary's bytes (ID, RD/CD and question case patched, RFC 1035 §4.1.1), counted under the labels
// the primary gave it; a new generation of the primary's zones drops every cached answer; an answer made
// from an older generation is never kept; a multi-message answer (AXFR over TCP) arrives whole and in order.
import { describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { encodeQuery } from '../../../src/dns/message.js';
import { Name } from '../../../src/dns/name.js';
import { Rcode, RRType } from '../../../src/dns/types.js';
import { createHandler, type Handler } from '../../../src/server/handle.js';
import { answerFront, createFront, MAX_UDP_WAITING, type Front, type FrontAnswer, type FrontMore, type FrontQuery } from '../../../src/server/front.js';
import { ResponseCache } from '../../../src/server/respcache.js';
import { QueryCounters, type QuerySeries } from '../../../src/metrics/queries.js';
import { useExampleManager } from '../../helpers/manager.js';

const logger = pino({ level: 'silent' });
const ex = useExampleManager(1_800_000_000);

const q = (name: string, type: number = RRType.A, o: Parameters<typeof encodeQuery>[2] = {}) =>
  Buffer.from(encodeQuery(Name.fromText(name), type, { udpSize: 1232, ...o }));
const total = (c: QueryCounters, l: Partial<QuerySeries>) =>
  [...c.series()].filter((s) => Object.entries(l).every(([k, v]) => s[k as keyof QuerySeries] === v)).reduce((n, s) => n + s.value, 0);

/** A primary (the example zones, its own counters) and one worker, linked by an asynchronous "channel". */
function link(primaryHandler?: Handler) {
  const primaryCounters = new QueryCounters();
  const workerCounters = new QueryCounters();
  const handler = primaryHandler ?? createHandler(() => ex.manager.served(), logger, { clock: ex.clock, cache: new ResponseCache(), queries: primaryCounters });
  const sent: FrontQuery[] = [];
  let gen = 1;
  let held: (FrontMore | FrontAnswer)[] | undefined;
  const deliver = (x: FrontMore | FrontAnswer) => {
    if (held) held.push(x);
    else setImmediate(() => front.receive(x));
  };
  const workerCache = new ResponseCache();
  const front: Front = createFront((m) => {
    sent.push(m);
    setImmediate(() => answerFront(m, handler, () => gen, primaryCounters, logger, deliver));
  }, logger, { clock: ex.clock, queries: workerCounters, cache: workerCache });
  return {
    front, sent, primaryCounters, workerCounters, workerCache,
    bump: () => ++gen,
    /** Answers are held back until `release` (a generation message overtaking nothing: the channel is ordered). */
    hold: () => { held = []; },
    release: () => { const h = held!; held = undefined; for (const x of h) deliver(x); },
  };
}

describe('worker front (issue 16)', () => {
  it('a first question is the primary\'s answer; the repeat is a cache hit in the worker, patched (RFC 1035 §4.1.1), counted once per answer', async () => {
    const { front, sent, primaryCounters, workerCounters } = link();
    const first = await front.handler(q('www.example.com.', RRType.A, { id: 1, do: true }), 'udp');
    expect(sent).toHaveLength(1);
    const direct = await createHandler(() => ex.manager.served(), logger, { clock: ex.clock, cache: false })(q('www.example.com.', RRType.A, { id: 1, do: true }), 'udp');
    expect(Buffer.from(first!)).toEqual(Buffer.from(direct!));
    const hit = front.handler.cached(q('WWW.example.COM.', RRType.A, { id: 0xbeef, do: true, rd: true }), 'udp');
    expect(hit).toBeDefined();
    expect(sent).toHaveLength(1); // not sent again
    expect((hit![0] << 8) | hit![1]).toBe(0xbeef);
    expect(hit![2] & 1).toBe(1); // RD copied
    expect(Name.read(hit!, 12).name.toString()).toBe('WWW.example.COM.');
    // The primary counted the first answer, the worker the hit, under the same labels.
    expect(total(primaryCounters, { zone: 'example.com.', type: 'A', rcode: 'NOERROR' })).toBe(1);
    expect(total(workerCounters, { zone: 'example.com.', type: 'A', rcode: 'NOERROR', transport: 'udp' })).toBe(1);
  });

  it('the UDP path (cached, then the handler in the same tick) looks once: one miss, one message to the primary', async () => {
    const { front, sent, workerCache } = link();
    const msg = q('ftp.example.com.');
    expect(front.handler.cached(msg, 'udp')).toBeUndefined();
    await front.handler(msg, 'udp');
    expect(workerCache.stats.misses).toBe(1);
    expect(sent).toHaveLength(1);
    expect(front.handler.cached(q('ftp.example.com.'), 'udp')).toBeDefined();
    expect(workerCache.stats.hits).toBe(1);
  });

  it('a new generation drops every cached answer: the next question goes to the primary again', async () => {
    const { front, sent, bump } = link();
    await front.handler(q('nothere.example.com.'), 'udp');
    expect(front.handler.cached(q('nothere.example.com.'), 'udp')).toBeDefined();
    front.generation(bump());
    expect(front.handler.cached(q('nothere.example.com.'), 'udp')).toBeUndefined();
    const again = await front.handler(q('nothere.example.com.'), 'udp');
    expect(again![3] & 0xf).toBe(Rcode.NXDOMAIN);
    expect(sent).toHaveLength(2);
  });

  it('an answer made from an older generation is passed on but not kept', async () => {
    const { front, sent, bump, hold, release } = link();
    hold();
    const pending = front.handler(q('mail.example.com.', RRType.MX), 'udp');
    await new Promise((r) => setTimeout(r, 20)); // the primary answered (generation 1), the answer is held
    front.generation(bump() + 1); // the worker has moved on to a later generation meanwhile
    release();
    expect((await pending)![3] & 0xf).toBe(Rcode.NOERROR);
    expect(front.handler.cached(q('mail.example.com.', RRType.MX), 'udp')).toBeUndefined();
    expect(sent).toHaveLength(1);
  });

  it('a worker that starts late takes the primary\'s generation from its first answer, and keeps that answer', async () => {
    const { front, bump } = link();
    bump();
    bump(); // the primary is at generation 3; this worker never heard of 2 or 3
    await front.handler(q('www.example.com.', RRType.AAAA), 'udp');
    expect(front.handler.cached(q('www.example.com.', RRType.AAAA), 'udp')).toBeDefined();
    front.generation(3); // the announcement of what it already took changes nothing
    expect(front.handler.cached(q('www.example.com.', RRType.AAAA), 'udp')).toBeDefined();
  });

  it('RFC 5936 §2.2: a multi-message answer over TCP reaches `more` whole and in order, then the handler ends with null; never cached', async () => {
    const parts = [Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)];
    const streaming = Object.assign(async (_m: Uint8Array, _t: 'udp' | 'tcp', _p: unknown, more?: (m: Uint8Array) => Promise<void> | void) => {
      for (const p of parts) await more!(p);
      return null;
    }, { cached: () => undefined }) as Handler;
    const { front } = link(streaming);
    const got: number[] = [];
    const end = await front.handler(q('example.com.', RRType.AXFR), 'tcp', { address: '127.0.0.1', port: 1 }, async (m) => {
      await new Promise((r) => setTimeout(r, 5)); // a slow client: order must hold anyway
      got.push(m[0]);
    });
    expect(end).toBeNull();
    expect(got).toEqual([1, 2, 3]);
  });

  it('RFC 1035 §4.2.1: a primary that does not keep up drops UDP questions past the bound (counted), not queues them; the wait itself is bounded', async () => {
    vi.useFakeTimers();
    try {
      const sent: FrontQuery[] = [];
      const counters = new QueryCounters();
      const front = createFront((m) => { sent.push(m); }, logger, { clock: ex.clock, queries: counters }); // never answered
      const waiting = Array.from({ length: MAX_UDP_WAITING }, (_, i) => front.handler(q(`n${i}.example.com.`), 'udp'));
      expect(sent).toHaveLength(MAX_UDP_WAITING);
      expect(await front.handler(q('one-more.example.com.'), 'udp')).toBeNull();
      expect(sent).toHaveLength(MAX_UDP_WAITING);
      expect(counters.dropped).toBe(1);
      void front.handler(q('by-tcp.example.com.'), 'tcp'); // TCP is bounded by its connections, not here
      expect(sent).toHaveLength(MAX_UDP_WAITING + 1);
      await vi.advanceTimersByTimeAsync(10_000);
      expect(new Set(await Promise.all(waiting))).toEqual(new Set([null]));
      void front.handler(q('later.example.com.'), 'udp');
      expect(sent).toHaveLength(MAX_UDP_WAITING + 2);
    } finally {
      vi.useRealTimers();
    }
  });
});
