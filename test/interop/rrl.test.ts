// Response rate limiting (server/rrl.ts) on a started server, from real sockets: a burst from 127.0.1.1 is cut to
// the rate, the rest dropped or slipped (TC=1) every other one; dig behind the limited /24 gets a slip and
// retries over TCP (RFC 7766), as a real resolver does; another /24 (127.0.2.1) and TCP are not limited;
// log-only answers everything and counts. The figures are read from /metrics by the Prometheus client's parser.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig, kdig, requireTool } from '../helpers/dig.js';
import { scrape } from '../helpers/prom.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { udpBurst } from '../helpers/burst.js';
import { rrlDefaults, type RrlConfig } from '../../src/config/rrl.js';

const LIMITED = '127.0.1.1';
const OTHER = '127.0.2.1';

/** `n` queries (DO=1) for www.example.com. A (or `name(i)`) from `from` at once (helpers/burst.ts). */
const burst = (s: TestServer, from: string, n: number, name = (_i: number) => 'www.example.com.') => udpBurst({ host: s.host, port: s.port }, from, n, name);

const start = (rrl: Partial<RrlConfig>) => startTestServer({ config: { rrl: { ...rrlDefaults, exempt: [], ...rrl } } });

describe('RRL: 5 answers a second per /24, slip 2, window 10', () => {
  let s: TestServer;
  beforeAll(async () => {
    requireTool('dig', 'bind9-dnsutils');
    requireTool('kdig', 'knot-dnsutils');
    s = await start({ responsesPerSecond: 5, slip: 2, window: 10 });
  });
  afterAll(() => s?.stop());
  const at = () => ({ host: s.host, port: s.port });

  it('a burst of 100 from one /24: 5 answered, of the 95 limited every other one slipped (TC=1), the rest dropped', async () => {
    expect(await burst(s, LIMITED, 100)).toEqual({ full: 5, tc: 47, none: 48 });
  });

  it('dig behind the limited /24 gets the next slip (TC=1) and retries over TCP (RFC 7766): a full answer', async () => {
    const r = await dig(at(), ['-b', LIMITED, 'www.example.com.', 'A']);
    expect(r.raw).toMatch(/Truncated, retrying in TCP mode/);
    expect(r.status).toBe('NOERROR');
    expect(r.answer.map((a) => a.data).sort()).toEqual(['192.0.2.1']);
  });

  it('another /24 is not limited', async () => {
    const r = await dig(at(), ['-b', OTHER, '+ignore', 'www.example.com.', 'A']);
    expect(r.flags).not.toContain('tc');
    expect(r.answer).toHaveLength(1);
  });

  it('TCP is never limited (kdig +tcp from the limited /24)', async () => {
    for (let i = 0; i < 10; i++) {
      const r = await kdig(at(), ['-b', LIMITED, '+tcp', 'www.example.com.', 'A']);
      expect(r.answer).toHaveLength(1);
    }
  });

  it('random-subdomain floods from one /24: random names (NXDOMAIN, RFC 9824 NXNAME) and random names under a wildcard (RFC 4592) each share one account', async () => {
    const rnd = (i: number) => `${Math.random().toString(36).slice(2, 10)}${i}`;
    expect(await burst(s, '127.0.3.1', 40, (i) => `${rnd(i)}.example.com.`)).toMatchObject({ full: 5, tc: 17 });
    expect(await burst(s, '127.0.4.1', 40, (i) => `${rnd(i)}.wild.example.com.`)).toMatchObject({ full: 5, tc: 17 });
  });

  it('/metrics counts the dropped and slipped answers by class', async () => {
    const m = await scrape(`${s.api}/metrics`);
    expect(m.value('tandem_rrl_dropped_total', { class: 'positive' })).toBe(48 + 18);
    expect(m.value('tandem_rrl_slipped_total', { class: 'positive' })).toBe(48 + 17);
    expect(m.value('tandem_rrl_dropped_total', { class: 'nxdomain' })).toBe(18);
    expect(m.value('tandem_rrl_table_entries')).toBeGreaterThanOrEqual(2);
  });
});

describe('RRL log-only', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await start({ responsesPerSecond: 5, slip: 2, window: 10, logOnly: true });
  });
  afterAll(() => s?.stop());

  it('answers every query in full, and counts what it would have limited', async () => {
    expect(await burst(s, LIMITED, 30)).toEqual({ full: 30, tc: 0, none: 0 });
    const m = await scrape(`${s.api}/metrics`);
    expect(m.value('tandem_rrl_log_only_total', { class: 'positive' })).toBe(25);
    expect(m.value('tandem_rrl_dropped_total', { class: 'positive' }) + m.value('tandem_rrl_slipped_total', { class: 'positive' })).toBe(0);
  });
});

describe('RRL off (the default)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(() => s?.stop());

  it('answers every query of a burst, and exports no RRL figures', async () => {
    expect(await burst(s, LIMITED, 30)).toEqual({ full: 30, tc: 0, none: 0 });
    const m = await scrape(`${s.api}/metrics`);
    expect(m.samples('tandem_rrl_dropped_total')).toEqual([]);
  });
});
