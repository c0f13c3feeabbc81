// Operations (issue 13): /health, /ready and /metrics over real HTTP on a started server. The Prometheus
// text is read by the reference Python client's parser (test/helpers/prom.ts); dig and kdig make the traffic
// whose counts must move; Knot is the primary a secondary zone waits for (/ready 503 until it transfers,
// 503 again once it expires, RFC 1034 §4.3.5).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig, requireTool } from '../helpers/dig.js';
import { freePort, waitFor } from '../helpers/procs.js';
import { scrape, type Scrape } from '../helpers/prom.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startKnotXfr, type KnotXfr } from '../helpers/knot-xfr.js';
import { bigZone, exampleZoneDir } from '../helpers/zones.js';
import { Name } from '../../src/dns/name.js';
import type { ZoneSigningImpl } from '../../src/dnssec/zonesigning.js';

const origin = Name.fromText('example.com.');
const get = async (url: string, headers: Record<string, string> = {}) => {
  const r = await fetch(url, { headers });
  const text = await r.text();
  return { status: r.status, text, json: () => JSON.parse(text) as any };
};
/** Only 127.0.0.2 may transfer the zone: AXFR from 127.0.0.1 is refused. */
const transferFrom2 = (t: string) => t.replace(/^zone:\n/m, 'zone:\n  transfer:\n    allow: [{ address: 127.0.0.2 }]\n');

describe('/health, /ready, /metrics on the admin API listener', () => {
  let s: TestServer;
  let metrics: string;
  beforeAll(async () => {
    s = await startTestServer({ zones: await exampleZoneDir(transferFrom2) });
    metrics = `${s.api}/metrics`;
  });
  afterAll(() => s?.stop());
  const at = () => ({ host: s.host, port: s.port });

  it('/health and /ready answer without credentials (200, JSON); the API itself still asks for them', async () => {
    const h = await get(`${s.api}/health`);
    expect(h.status).toBe(200);
    expect(h.json()).toEqual({ status: 'ok' });
    const r = await get(`${s.api}/ready`);
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ ready: true, zones: 1 });
    expect((await get(`${s.api}/client/v4/zones`)).status).toBe(400); // Cloudflare's 9106: no credentials
  });

  it('/metrics is Prometheus text (the reference parser reads it); query counts move with dig, cached answers included', async () => {
    const before = await scrape(metrics);
    const q = (l: Record<string, string>) => (x: Scrape) => x.value('tandem_queries_total', l);
    const udpA = q({ zone: 'example.com.', type: 'A', rcode: 'NOERROR', transport: 'udp' });
    const tcpA = q({ zone: 'example.com.', type: 'A', rcode: 'NOERROR', transport: 'tcp' });
    const refused = q({ zone: '_other', rcode: 'REFUSED' });
    const hits = (x: Scrape) => x.value('tandem_response_cache_hits_total');
    for (let i = 0; i < 3; i++) expect((await dig(at(), ['www.example.com', 'A', '+dnssec'])).status).toBe('NOERROR');
    expect((await dig(at(), ['+tcp', 'www.example.com', 'A'])).status).toBe('NOERROR');
    expect((await dig(at(), ['www.example.org', 'A'])).status).toBe('REFUSED');
    const after = await scrape(metrics);
    expect(udpA(after) - udpA(before)).toBe(3);
    expect(tcpA(after) - tcpA(before)).toBe(1);
    expect(refused(after) - refused(before)).toBe(1);
    expect(hits(after) - hits(before)).toBeGreaterThanOrEqual(2); // the 2nd and 3rd identical UDP queries
    expect(after.family('tandem_queries')?.type).toBe('counter');
    expect(after.value('process_cpu_user_seconds_total')).toBeGreaterThan(0); // Node's process metrics
  });

  it('signatures: a compact-denial answer (RFC 9824) is signed on demand, counted with its latency', async () => {
    const before = await scrape(metrics);
    const name = `nx${Date.now()}.example.com`;
    const r = await dig(at(), [name, 'A', '+dnssec']);
    expect(r.authority.some((a) => a.type === 'RRSIG')).toBe(true);
    const after = await scrape(metrics);
    const made = after.value('tandem_signatures_total', { path: 'on_demand' }) - before.value('tandem_signatures_total', { path: 'on_demand' });
    expect(made).toBeGreaterThanOrEqual(1);
    expect(after.value('tandem_signing_seconds_count', { path: 'on_demand' }) - before.value('tandem_signing_seconds_count', { path: 'on_demand' })).toBe(made);
    expect(after.value('tandem_signatures_total', { path: 'presign' })).toBeGreaterThan(0); // the zone's RRsets at load
  });

  it('zone figures: serial, key ages, RRSIG expiry horizon, load time', async () => {
    const m = await scrape(metrics);
    const v = s.server.manager.version(origin)!;
    expect(m.value('tandem_zone_serial', { zone: 'example.com.' })).toBe(v.serial);
    expect(m.value('tandem_zone_up', { zone: 'example.com.' })).toBe(1);
    const ages = m.samples('tandem_dnssec_key_age_seconds');
    expect(ages.map((a) => a.labels.role).sort()).toEqual(['ksk', 'zsk']);
    expect(ages.find((a) => a.labels.role === 'ksk')!.labels.key_tag).toBe(String(v.keys!.ksk.keyTag));
    for (const a of ages) expect(a.value).toBeGreaterThanOrEqual(0);
    // RFC 4034 §3.1.5: every RRSIG served now carries the current window's expiration.
    const expiration = (v.signing as ZoneSigningImpl).currentWindow().expiration;
    expect(m.value('tandem_dnssec_rrsig_expiration_timestamp_seconds', { zone: 'example.com.' })).toBe(expiration);
    const horizon = m.value('tandem_dnssec_rrsig_expiry_horizon_seconds', { zone: 'example.com.' });
    expect(Math.abs(horizon - (expiration - Date.now() / 1000))).toBeLessThan(5);
    expect(m.value('tandem_zone_load_seconds', { zone: 'example.com.' })).toBeGreaterThan(0);
    expect(m.value('tandem_zone_loads_total', { result: 'ok' })).toBe(1);
  });

  it('admin changes count by route and result, and the serial gauge follows the change', async () => {
    const kind = 'POST /client/v4/zones/:zone/dns_records';
    const before = await scrape(metrics);
    const zid = s.server.manager.version(origin)!.id;
    const post = (body: unknown) => fetch(`${s.api}/client/v4/zones/${zid}/dns_records`, {
      method: 'POST', headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    expect((await post({ type: 'A', name: 'metrics.example.com', content: '192.0.2.9', ttl: 300 })).status).toBe(200);
    expect((await post({ type: 'A', name: 'metrics.example.com', content: 'not an address', ttl: 300 })).status).toBe(400);
    const after = await scrape(metrics);
    const d = (result: string) => after.value('tandem_admin_changes_total', { api: 'cloudflare', kind, result }) - before.value('tandem_admin_changes_total', { api: 'cloudflare', kind, result });
    expect(d('ok')).toBe(1);
    expect(d('refused')).toBe(1);
    expect(after.value('tandem_zone_serial', { zone: 'example.com.' })).toBe(s.server.manager.version(origin)!.serial);
    expect(after.value('tandem_zone_serial', { zone: 'example.com.' })).not.toBe(before.value('tandem_zone_serial', { zone: 'example.com.' }));
  });

  it('RFC 5936: transfers out are counted by zone, kind and result (full to an allowed client, refused, NOTAUTH)', async () => {
    const before = await scrape(metrics);
    const full = await dig(at(), ['-b', '127.0.0.2', 'example.com', 'AXFR']);
    expect(full.raw).toMatch(/XFR size: \d+ records/);
    await dig(at(), ['-b', '127.0.0.1', 'example.com', 'AXFR']);
    await dig(at(), ['-b', '127.0.0.2', 'other.test', 'AXFR']);
    const after = await scrape(metrics);
    const d = (l: Record<string, string>) => after.value('tandem_transfers_out_total', l) - before.value('tandem_transfers_out_total', l);
    expect(d({ zone: 'example.com.', kind: 'AXFR', result: 'full' })).toBe(1);
    expect(d({ zone: 'example.com.', kind: 'AXFR', result: 'refused' })).toBe(1);
    expect(d({ zone: '_other', kind: 'AXFR', result: 'notauth' })).toBe(1);
  });

  it('/ready is 503 while a new zone file loads and for a file that fails, naming them; 200 again after', async () => {
    const big = join(s.zonesDir, 'big.test.yaml');
    await writeFile(big, bigZone(40_000)); // read on a worker thread: long enough to be seen loading
    const reload = s.server.reload();
    const loading = await waitFor(async () => {
      const r = await get(`${s.api}/ready`);
      return r.status === 503 && r.json();
    }, 20_000, { what: '/ready 503 while big.test loads', intervalMs: 20 });
    expect(loading).toMatchObject({ ready: false, not_ready: [{ file: big, reason: 'loading' }] });
    await reload;
    expect((await get(`${s.api}/ready`)).json()).toEqual({ ready: true, zones: 2 });
    const bad = join(s.zonesDir, 'bad.test.yaml');
    await writeFile(bad, 'zone:\n  soa: { mname: ns1.bad.test., rname: h.bad.test. }\nrecords:\n  www: { type: A, value: not-an-address }\n');
    expect(await s.server.reload()).toHaveLength(1);
    const r = await get(`${s.api}/ready`);
    expect(r.status).toBe(503);
    expect(r.json().not_ready).toEqual([{ file: bad, reason: expect.stringMatching(/^not loaded: .*bad\.test\.yaml/) }]);
    await rm(bad);
    await rm(big);
    await s.server.reload();
    expect((await get(`${s.api}/ready`)).status).toBe(200);
    expect((await scrape(metrics)).value('tandem_zone_loads_total', { result: 'error' })).toBe(1);
  }, 60_000);
});

describe('metrics-auth, api: off, the metrics listener', () => {
  let s: TestServer | undefined;
  afterAll(() => s?.stop());

  it('metrics-auth: true: /metrics on the API listener asks for the API credentials; /health and /ready do not', async () => {
    s = await startTestServer({ config: { metricsAuth: true } });
    // Cloudflare's answers: no credentials 400 (9106), an unknown token 403 (10000).
    expect((await get(`${s.api}/metrics`)).status).toBe(400);
    expect((await get(`${s.api}/metrics`, { authorization: 'Bearer wrong' })).status).toBe(403);
    const ok = await scrape(`${s.api}/metrics`, { authorization: `Bearer ${s.token}` });
    expect(ok.value('tandem_zone_up', { zone: 'example.com.' })).toBe(1);
    expect((await get(`${s.api}/ready`)).status).toBe(200);
    await s.stop();
    s = undefined;
  });

  it('api: off with metrics: HOST:PORT: no admin API, the endpoints on their own listener (nothing else there)', async () => {
    s = await startTestServer({ config: { api: false, metrics: { host: '127.0.0.1', port: 0 } } });
    expect(s.server.api).toBeUndefined();
    const base = `http://127.0.0.1:${s.server.metrics!.port}`;
    expect((await get(`${base}/health`)).json()).toEqual({ status: 'ok' });
    expect((await get(`${base}/ready`)).json()).toEqual({ ready: true, zones: 1 });
    await dig({ host: s.host, port: s.port }, ['www.example.com', 'A']);
    expect((await scrape(`${base}/metrics`)).value('tandem_queries_total', { zone: 'example.com.' })).toBe(1);
    expect((await get(`${base}/client/v4/zones`)).status).toBe(404);
  });
});

/** A small zone with short SOA timers (refresh 2 s, retry 1 s, expire 6 s), as in xfr-in.test.ts. */
const primaryZone = (serial: number) => `$ORIGIN sec.test.
$TTL 300
@ SOA ns1.sec.test. hostmaster.sec.test. ${serial} 2 1 6 60
@ NS ns1.sec.test.
ns1 A 192.0.2.1
www A 192.0.2.10
`;

describe('/ready and a secondary zone (Knot primary)', () => {
  let knot: KnotXfr | undefined;
  let s: TestServer;
  afterAll(async () => {
    await s?.stop();
    await knot?.stop();
  });

  it('RFC 1034 §4.3.5: 503 before the first transfer, 200 once Knot has transferred it, 503 when it expires', async () => {
    requireTool('knotd', 'knot');
    const knotPort = await freePort();
    const zones = await mkdtemp(join(tmpdir(), 'tandem-sec-zones-'));
    await writeFile(join(zones, 'sec.test.yaml'), `zone:\n  secondary:\n    primaries: ["127.0.0.1:${knotPort}"]\n`);
    s = await startTestServer({ zones });
    await rm(zones, { recursive: true, force: true });
    const ready = () => get(`${s.api}/ready`);
    const m = () => scrape(`${s.api}/metrics`);
    // Nobody answers on the primary's port yet: the first refresh fails.
    await waitFor(async () => (await m()).value('tandem_transfers_in_total', { zone: 'sec.test.', result: 'failed' }) >= 1, 15_000, { what: 'a failed refresh' });
    const r0 = await ready();
    expect(r0.status).toBe(503);
    expect(r0.json()).toEqual({ ready: false, zones: 0, not_ready: [{ zone: 'sec.test.', reason: 'not transferred yet' }] });
    expect((await m()).value('tandem_zone_up', { zone: 'sec.test.' })).toBe(0);

    knot = await startKnotXfr({ zones: [{ domain: 'sec.test', role: 'primary', zoneText: primaryZone(10) }], port: knotPort });
    expect(knot.port).toBe(knotPort);
    await s.server.transfers.refresh(Name.fromText('sec.test.'), { axfr: false });
    const r1 = await ready();
    expect(r1.status).toBe(200);
    expect(r1.json()).toEqual({ ready: true, zones: 1 });
    const after = await m();
    expect(after.value('tandem_transfers_in_total', { zone: 'sec.test.', result: 'full' })).toBe(1);
    expect(after.value('tandem_zone_serial', { zone: 'sec.test.' })).toBe(10);
    const refreshed = after.value('tandem_secondary_last_refresh_timestamp_seconds', { zone: 'sec.test.' });
    expect(Math.abs(refreshed - Date.now() / 1000)).toBeLessThan(10);
    expect(after.value('tandem_secondary_last_transfer_timestamp_seconds', { zone: 'sec.test.' })).toBeGreaterThan(0);
    expect(after.value('tandem_secondary_expiry_timestamp_seconds', { zone: 'sec.test.' })).toBe(refreshed + 6); // SOA EXPIRE

    await knot.stop();
    knot = undefined;
    const expired = await waitFor(async () => { const r = await ready(); return r.status === 503 && r.json(); }, 20_000, { what: '/ready 503 after EXPIRE' });
    expect(expired.not_ready).toEqual([{ zone: 'sec.test.', reason: expect.stringMatching(/^expired at /) }]);
    const end = await m();
    expect(end.value('tandem_zone_up', { zone: 'sec.test.' })).toBe(0);
    expect(end.value('tandem_transfers_in_total', { zone: 'sec.test.', result: 'failed' })).toBeGreaterThan(1);
  }, 60_000);
});
