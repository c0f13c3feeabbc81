// Failed authentication rate-limited per client address (api/ratelimit.ts): 429 with Retry-After after N failures
// in a window, in each route family's error shape; valid clients elsewhere never notice; the table is bounded.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { sha256Hex } from '../../../src/api/auth.js';
import { AuthFailureLimiter } from '../../../src/api/ratelimit.js';
import { startApi, type RunningApi } from '../../../src/api/server.js';
import { FakeManager } from '../../helpers/fake-manager.js';

const clock = { t: 1_000_000, now() { return this.t; } };

describe('AuthFailureLimiter', () => {
  it('blocks an address at its N-th failure within the window, until the window ends', () => {
    const l = new AuthFailureLimiter(clock, { failures: 3, windowSeconds: 60 });
    clock.t = 1_000_000;
    expect(l.failed('192.0.2.1')).toBe(false);
    expect(l.failed('192.0.2.1')).toBe(false);
    expect(l.retryAfter('192.0.2.1')).toBe(0);
    clock.t += 10;
    expect(l.failed('192.0.2.1')).toBe(true);
    expect(l.retryAfter('192.0.2.1')).toBe(50);
    expect(l.retryAfter('192.0.2.2')).toBe(0);
    clock.t += 50;
    expect(l.retryAfter('192.0.2.1')).toBe(0);
    expect(l.size).toBe(0);
  });

  it('failures spread over more than one window never block; a success starts the address afresh', () => {
    const l = new AuthFailureLimiter(clock, { failures: 3, windowSeconds: 60 });
    for (let i = 0; i < 10; i++) {
      l.failed('192.0.2.1');
      l.failed('192.0.2.1');
      clock.t += 61;
    }
    expect(l.retryAfter('192.0.2.1')).toBe(0);
    for (let i = 0; i < 10; i++) {
      l.failed('192.0.2.9');
      l.failed('192.0.2.9');
      l.succeeded('192.0.2.9');
    }
    expect(l.retryAfter('192.0.2.9')).toBe(0);
  });

  it('IPv6 addresses count per /64, IPv4-mapped ones as IPv4', () => {
    const l = new AuthFailureLimiter(clock, { failures: 2 });
    l.failed('2001:db8:1:2::1');
    expect(l.failed('2001:db8:1:2:ffff::7')).toBe(true);
    expect(l.retryAfter('2001:0db8:0001:0002::99')).toBeGreaterThan(0);
    expect(l.retryAfter('2001:db8:1:3::1')).toBe(0);
    l.failed('::ffff:192.0.2.7');
    expect(l.failed('192.0.2.7')).toBe(true);
  });

  it('the table holds at most maxAddresses entries: a flood of addresses evicts the oldest', () => {
    const l = new AuthFailureLimiter(clock, { failures: 2, maxAddresses: 100 });
    for (let i = 0; i < 10_000; i++) l.failed(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    expect(l.size).toBe(100);
  });
});

describe('the admin API under repeated failed authentication', () => {
  const TOKEN = 'ratelimit-token';
  let api: RunningApi;
  let manager: FakeManager;
  beforeAll(async () => {
    manager = new FakeManager([{ name: 'example.com' }]);
    api = await startApi({
      manager, auth: { tokens: [sha256Hex(TOKEN)], users: [], ns1Keys: [] }, at: { host: '127.0.0.1', port: 0 },
      logger: pino({ level: 'silent' }), clock, authLimit: { failures: 3, windowSeconds: 60 },
    });
  });
  afterAll(() => api.close());

  /** A request from `from` (loopback addresses other than 127.0.0.1 are separate clients). */
  function call(from: string, path: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; json: any }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: api.address.port, path, localAddress: from, headers }, (res) => {
        let text = '';
        res.on('data', (d) => { text += d; });
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, json: JSON.parse(text) }));
      });
      req.on('error', reject);
      req.end();
    });
  }
  const bad = { authorization: 'Bearer wrong' };
  const good = { authorization: `Bearer ${TOKEN}` };
  const zones = '/client/v4/zones';

  it('429 with Retry-After and Cloudflare\'s error after 3 failures a minute, for every request from that address', async () => {
    clock.t = 2_000_000;
    for (let i = 0; i < 3; i++) expect((await call('127.0.0.2', zones, bad)).status).toBe(403);
    const r = await call('127.0.0.2', zones, bad);
    expect(r.status).toBe(429);
    expect(r.headers['retry-after']).toBe('60');
    expect(r.json).toEqual({ success: false, errors: [{ code: 971, message: 'Please wait and consider throttling your request speed' }], messages: [], result: null });
    // A correct guess from a blocked address is not let through either.
    expect((await call('127.0.0.2', zones, good)).status).toBe(429);
    const ns1 = await call('127.0.0.2', '/v1/zones/example.com/dnssec', { 'x-nsone-key': TOKEN });
    expect(ns1.status).toBe(429);
    expect(Object.keys(ns1.json)).toEqual(['message']);
    expect(ns1.json.message).toMatch(/retry after \d+ s/);
  });

  it('valid clients at other addresses are not slowed, and the block ends with its window', async () => {
    clock.t = 3_000_000;
    for (let i = 0; i < 4; i++) await call('127.0.0.4', zones, bad);
    expect((await call('127.0.0.4', zones, good)).status).toBe(429);
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) expect((await call('127.0.0.1', zones, good)).status).toBe(200);
    expect(performance.now() - t0).toBeLessThan(5000);
    clock.t += 59;
    expect((await call('127.0.0.4', zones, good)).headers['retry-after']).toBe('1');
    clock.t += 1;
    expect((await call('127.0.0.4', zones, good)).status).toBe(200);
  });

  it('a client whose failures are followed by successes is never blocked', async () => {
    clock.t = 4_000_000;
    for (let i = 0; i < 10; i++) {
      expect((await call('127.0.0.5', zones, bad)).status).toBe(403);
      expect((await call('127.0.0.5', zones, bad)).status).toBe(403);
      expect((await call('127.0.0.5', zones, good)).status).toBe(200);
    }
  });
});
