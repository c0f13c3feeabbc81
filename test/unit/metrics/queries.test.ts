// The request path's query counters (metrics/queries.ts): every answer counts once under its zone, question
// type, rcode and transport, cached answers too (under the same labels as the answer they copy); label values
// stay bounded; the per-query debug line names the client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { encodeQuery } from '../../../src/dns/message.js';
import { Name } from '../../../src/dns/name.js';
import { Rcode, RRType } from '../../../src/dns/types.js';
import { SignatureCache } from '../../../src/dnssec/cache.js';
import { TandemZoneManager } from '../../../src/state/manager.js';
import { createHandler } from '../../../src/server/handle.js';
import { ResponseCache } from '../../../src/server/respcache.js';
import { QueryCounters, ZONE_OTHER, type QuerySeries } from '../../../src/metrics/queries.js';
import { exampleZoneDir } from '../../helpers/zones.js';

const silent = pino({ level: 'silent' });
const clock = { now: () => 1_800_000_000 };
let zonesDir: string;
let stateDir: string;
let manager: TandemZoneManager;

beforeAll(async () => {
  zonesDir = await exampleZoneDir();
  stateDir = await mkdtemp(join(tmpdir(), 'tandem-qmetrics-'));
  ({ manager } = await TandemZoneManager.open({ zonesDir, stateDir, clock, logger: silent, cache: new SignatureCache() }));
});
afterAll(async () => {
  await rm(zonesDir, { recursive: true, force: true });
  await rm(stateDir, { recursive: true, force: true });
});

const q = (name: string, type: number = RRType.A, o: Parameters<typeof encodeQuery>[2] = {}) =>
  Buffer.from(encodeQuery(Name.fromText(name), type, { udpSize: 1232, ...o }));
const find = (all: QuerySeries[], l: Partial<QuerySeries>) => all.filter((s) => Object.entries(l).every(([k, v]) => s[k as keyof QuerySeries] === v));
const total = (all: QuerySeries[], l: Partial<QuerySeries> = {}) => find(all, l).reduce((n, s) => n + s.value, 0);

describe('QueryCounters', () => {
  it('labels are mnemonics; types and rcodes without a slot of their own count as OTHER', () => {
    const c = new QueryCounters();
    c.count('example.com.', RRType.AAAA, Rcode.NXDOMAIN, 'udp');
    c.count('example.com.', RRType.AAAA, Rcode.NXDOMAIN, 'tcp');
    c.count('example.com.', 65280, Rcode.NOERROR, 'udp'); // a private-use type
    c.count('example.com.', RRType.A, Rcode.BADVERS, 'udp'); // an extended rcode
    const all = [...c.series()];
    expect(find(all, { zone: 'example.com.', type: 'AAAA', rcode: 'NXDOMAIN', transport: 'udp' })[0].value).toBe(1);
    expect(find(all, { type: 'AAAA', rcode: 'NXDOMAIN', transport: 'tcp' })[0].value).toBe(1);
    expect(find(all, { type: 'OTHER', rcode: 'NOERROR' })[0].value).toBe(1);
    expect(find(all, { type: 'A', rcode: 'OTHER' })[0].value).toBe(1);
    expect(all).toHaveLength(4); // zero cells are not series
  });

  it('bounded cardinality: no zone and zones past the cap count under _other', () => {
    const c = new QueryCounters(2);
    for (const z of ['a.', 'b.', 'c.', 'd.']) c.count(z, RRType.A, Rcode.NOERROR, 'udp');
    c.count(undefined, RRType.A, Rcode.REFUSED, 'udp');
    const all = [...c.series()];
    expect(new Set(all.map((s) => s.zone))).toEqual(new Set(['a.', 'b.', ZONE_OTHER]));
    expect(total(all, { zone: ZONE_OTHER })).toBe(3);
  });

  it('a cell is stable: add() counts in the same series count() made', () => {
    const c = new QueryCounters();
    const cell = c.count('example.com.', RRType.TXT, Rcode.NOERROR, 'udp');
    for (let i = 0; i < 5; i++) c.add(cell, 'udp');
    c.add(cell, 'tcp');
    const all = [...c.series()];
    expect(find(all, { type: 'TXT', transport: 'udp' })[0].value).toBe(6);
    expect(find(all, { type: 'TXT', transport: 'tcp' })[0].value).toBe(1);
  });
});

describe('QueryCounters across processes (cluster workers count hits of the primary\'s answers)', () => {
  it('split then rejoin: the same zone, type and rcode in the other process\'s counters, whatever its own row numbers', () => {
    const primary = new QueryCounters();
    const worker = new QueryCounters();
    primary.count('a.', RRType.A, Rcode.NOERROR, 'udp');
    const cell = primary.cell('example.com.', RRType.MX, Rcode.NXDOMAIN); // row 2 in the primary
    worker.count('other.', RRType.A, Rcode.NOERROR, 'udp'); // row 1 of the worker is another zone
    const { zone, rest } = primary.split(cell);
    expect(zone).toBe('example.com.');
    worker.add(worker.rejoin(zone, rest), 'tcp');
    const none = primary.split(primary.cell(undefined, RRType.A, Rcode.REFUSED));
    expect(none.zone).toBeUndefined();
    worker.add(worker.rejoin(none.zone, none.rest), 'udp');
    const all = [...worker.series()];
    expect(find(all, { zone: 'example.com.', type: 'MX', rcode: 'NXDOMAIN', transport: 'tcp' })[0].value).toBe(1);
    expect(find(all, { zone: ZONE_OTHER, type: 'A', rcode: 'REFUSED', transport: 'udp' })[0].value).toBe(1);
    expect(total(all)).toBe(3);
  });
});

describe('the handler counts every answer', () => {
  const setup = (logger = silent) => {
    const queries = new QueryCounters();
    const cache = new ResponseCache();
    return { queries, cache, handler: createHandler(() => manager.served(), logger, { clock, cache, queries }) };
  };

  it('a cached answer counts under the labels of the answer it copies (the UDP hot path, handler.cached)', async () => {
    const { queries, cache, handler } = setup();
    await handler(q('www.example.com.', RRType.A, { do: true }), 'udp');
    for (let i = 0; i < 3; i++) expect(handler.cached(q('www.example.com.', RRType.A, { do: true, id: i }), 'udp')).toBeDefined();
    await handler(q('nope.example.com.', RRType.AAAA, { edns: false }), 'udp');
    expect(handler.cached(q('nope.example.com.', RRType.AAAA, { edns: false }), 'udp')).toBeDefined();
    expect(cache.stats.hits).toBe(4);
    const all = [...queries.series()];
    expect(find(all, { zone: 'example.com.', type: 'A', rcode: 'NOERROR', transport: 'udp' })[0].value).toBe(4);
    // RFC 1035 §4.3.2 / RFC 2308: no compact denial without DO, so a plain NXDOMAIN.
    expect(find(all, { zone: 'example.com.', type: 'AAAA', rcode: 'NXDOMAIN' })[0].value).toBe(2);
  });

  it('TCP answers, REFUSED for a zone not ours (_other), FORMERR and dropped messages are counted', async () => {
    const { queries, handler } = setup();
    await handler(q('www.example.com.', RRType.MX), 'tcp');
    await handler(q('www.example.org.', RRType.A), 'udp');
    const formerr = q('www.example.com.');
    formerr[5] = 2; // QDCOUNT 2 with one question: FORMERR (RFC 1035 §4.1.2)
    await handler(formerr, 'udp');
    const response = q('www.example.com.');
    response[2] |= 0x80; // QR=1: a response is never answered
    expect(await handler(response, 'udp')).toBeNull();
    const all = [...queries.series()];
    expect(find(all, { zone: 'example.com.', type: 'MX', transport: 'tcp' })[0].value).toBe(1);
    expect(find(all, { zone: ZONE_OTHER, rcode: 'REFUSED' })[0].value).toBe(1);
    expect(total(all, { rcode: 'FORMERR' })).toBe(1);
    expect(queries.dropped).toBe(1);
  });

  it('the per-query debug line names the client (address#port), cached or not', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } }));
    const { handler } = setup(logger);
    const peer = { address: '192.0.2.77', port: 5353 };
    await handler(q('www.example.com.'), 'udp', peer);
    handler.cached(q('www.example.com.'), 'udp', { address: '2001:db8::1', port: 53000 });
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; client?: string; cached?: boolean }).filter((l) => l.msg === 'query');
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatchObject({ client: '192.0.2.77#5353' });
    expect(logged[1]).toMatchObject({ client: '2001:db8::1#53000', cached: true });
  });
});
