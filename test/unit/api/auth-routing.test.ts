import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CF, LEGACY, NS1, startHarness, TOKEN, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => { h = await startHarness(); });
afterAll(async () => { await h.close(); });

const envelopeOf = (code: number) => ({ success: false, errors: [expect.objectContaining({ code })], messages: [], result: null });

describe('authentication (Cloudflare codes and statuses)', () => {
  it('Cloudflare: no credentials at all -> 400, 9106, in the failure envelope', async () => {
    const r = await h.call('GET', '/client/v4/zones', { headers: {} });
    expect(r.status).toBe(400);
    expect(r.json).toEqual(envelopeOf(9106));
    expect(r.json.errors[0].message).toMatch(/Missing X-Auth-Key, X-Auth-Email or Authorization/);
  });

  it('Cloudflare: X-Auth-Email without X-Auth-Key -> 400, 9107', async () => {
    const r = await h.call('GET', '/client/v4/zones', { headers: { 'x-auth-email': LEGACY['x-auth-email'] } });
    expect(r.status).toBe(400);
    expect(r.json).toEqual(envelopeOf(9107));
  });

  it('Cloudflare: X-Auth-Key without X-Auth-Email -> 400, 9106', async () => {
    const r = await h.call('GET', '/client/v4/zones', { headers: { 'x-auth-key': LEGACY['x-auth-key'] } });
    expect(r.status).toBe(400);
    expect(r.json).toEqual(envelopeOf(9106));
    expect(r.json.errors[0].message).toBe('Missing X-Auth-Email header');
  });

  it('Cloudflare: a wrong key or an unknown email -> 403, 9103', async () => {
    for (const headers of [{ ...LEGACY, 'x-auth-key': 'nope' }, { ...LEGACY, 'x-auth-email': 'other@example.com' }]) {
      const r = await h.call('GET', '/client/v4/zones', { headers });
      expect(r.status).toBe(403);
      expect(r.json).toEqual(envelopeOf(9103));
    }
  });

  it('Cloudflare: an unknown bearer token -> 403, 10000 Authentication error', async () => {
    const r = await h.call('GET', '/client/v4/zones', { headers: { authorization: 'Bearer not-the-token' } });
    expect(r.status).toBe(403);
    expect(r.json).toEqual(envelopeOf(10000));
    expect(r.json.errors[0].message).toBe('Authentication error');
  });

  it('Cloudflare: a malformed Authorization header -> 400, 6003 with 6111 in error_chain', async () => {
    const r = await h.call('GET', '/client/v4/zones', { headers: { authorization: `Basic ${TOKEN}` } });
    expect(r.status).toBe(400);
    expect(r.json.errors[0].code).toBe(6003);
    expect(r.json.errors[0].error_chain).toEqual([{ code: 6111, message: 'Invalid format for Authorization header' }]);
  });

  it('the email is matched case-insensitively; the key exactly', async () => {
    const ok = await h.call('GET', '/client/v4/zones', { headers: { ...LEGACY, 'x-auth-email': LEGACY['x-auth-email'].toUpperCase() } });
    expect(ok.status).toBe(200);
    const bad = await h.call('GET', '/client/v4/zones', { headers: { ...LEGACY, 'x-auth-key': LEGACY['x-auth-key'].toUpperCase() } });
    expect(bad.status).toBe(403);
  });

  it('bearer token and email/key both work', async () => {
    expect((await h.call('GET', '/client/v4/zones', { headers: CF })).status).toBe(200);
    expect((await h.call('GET', '/client/v4/zones', { headers: LEGACY })).status).toBe(200);
  });

  it('the NS1 key is not a Cloudflare credential', async () => {
    const r = await h.call('GET', '/client/v4/zones', { headers: NS1 });
    expect(r.status).toBe(400);
    expect(r.json.errors[0].code).toBe(9106);
  });

  it('a refused request changes nothing, whatever route it names', async () => {
    const before = h.manager.snapshot();
    const z = h.zoneId;
    const bad = { 'x-auth-email': LEGACY['x-auth-email'], 'x-auth-key': 'wrong' };
    const attempts: [string, string, unknown][] = [
      ['POST', `/client/v4/zones/${z}/dns_records`, { type: 'A', name: 'x', content: '192.0.2.9' }],
      ['PATCH', `/client/v4/zones/${z}/dnssec`, { status: 'active' }],
      ['DELETE', `/client/v4/zones/${z}/dnssec`, undefined],
      ['PATCH', `/client/v4/zones/${z}/dns_settings`, { multi_provider: true }],
      ['POST', `/client/v4/zones/${z}/dnssec/parent_ds`, { present: true }],
    ];
    for (const [m, p, body] of attempts) {
      const r = await h.call(m, p, { body, headers: bad });
      expect(r.status).toBe(403);
    }
    const ns1 = await h.call('PUT', '/v1/zones/example.com/dnssec/external_keys/x', { body: { dnskey: { ttl: 60, data: [] } }, headers: { 'x-nsone-key': 'wrong' } });
    expect(ns1.status).toBe(401);
    expect(h.manager.calls).toEqual([]);
    expect(h.manager.snapshot()).toBe(before);
  });

  it('NS1: X-NSONE-Key required under /v1; 401 {message} otherwise; a bearer API token also works', async () => {
    const none = await h.call('GET', '/v1/zones/example.com/dnssec/external_keys', { headers: {} });
    expect(none.status).toBe(401);
    expect(none.json).toEqual({ message: 'Unauthorized' });
    const wrong = await h.call('GET', '/v1/zones/example.com/dnssec/external_keys', { headers: { 'x-nsone-key': 'bad' } });
    expect(wrong.status).toBe(401);
    expect((await h.call('GET', '/v1/zones/example.com/dnssec/external_keys', { headers: NS1 })).status).toBe(200);
    expect((await h.call('GET', '/v1/zones/example.com/dnssec/external_keys', { headers: CF })).status).toBe(200);
    expect((await h.call('GET', '/v1/zones/example.com/dnssec/external_keys', { headers: { 'x-nsone-key': TOKEN } })).status).toBe(200);
  });

  it('GET /user/tokens/verify answers for a valid token', async () => {
    const r = await h.call('GET', '/client/v4/user/tokens/verify');
    expect(r.status).toBe(200);
    expect(r.json.result.status).toBe('active');
  });
});

describe('routing', () => {
  it('Cloudflare: an unknown route -> 404, 7003 No route for the URI', async () => {
    const r = await h.call('GET', '/client/v4/nothing/here');
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ success: false, errors: [{ code: 7003, message: 'No route for the URI' }], messages: [], result: null });
    expect((await h.call('GET', '/')).json.errors[0].code).toBe(7003);
  });

  it('Cloudflare: an unknown zone id -> 404, 7003 "perhaps your object identifier is invalid"', async () => {
    const r = await h.call('GET', '/client/v4/zones/0123456789abcdef0123456789abcdef/dnssec');
    expect(r.status).toBe(404);
    expect(r.json.errors[0].code).toBe(7003);
    expect(r.json.errors[0].message).toBe('Could not route to /zones/0123456789abcdef0123456789abcdef/dnssec, perhaps your object identifier is invalid?');
  });

  it('a known URI with a method it lacks -> 405, 7001, with Allow', async () => {
    const r = await h.call('PUT', `/client/v4/zones/${h.zoneId}/dnssec`, { body: {} });
    expect(r.status).toBe(405);
    expect(r.json.errors[0].code).toBe(7001);
    expect(r.headers.get('allow')).toContain('PATCH');
  });

  it('NS1: an unknown /v1 route or zone -> 404 {message}', async () => {
    const r = await h.call('GET', '/v1/nothing', { headers: NS1 });
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ message: 'Not Found' });
    const z = await h.call('GET', '/v1/zones/nope.example/dnssec', { headers: NS1 });
    expect(z.status).toBe(404);
    expect(z.json).toEqual({ message: 'zone not found' });
  });

  it('a trailing slash routes like the bare path', async () => {
    expect((await h.call('GET', '/client/v4/zones/')).status).toBe(200);
  });
});

describe('request bodies', () => {
  it('malformed JSON -> 400, 6007 with the parser message; nothing changes', async () => {
    const before = h.manager.snapshot();
    const r = await h.call('POST', `/client/v4/zones/${h.zoneId}/dns_records`, { raw: '{"type": "A",', headers: { ...CF, 'content-type': 'application/json' } });
    expect(r.status).toBe(400);
    expect(r.json.errors[0].code).toBe(6007);
    expect(r.json.errors[0].message).toMatch(/^Malformed JSON in request body: /);
    expect(h.manager.snapshot()).toBe(before);
  });

  it("the seed's `curl -data` mistake (body 'ata') gets a hint", async () => {
    const r = await h.call('PATCH', `/client/v4/zones/${h.zoneId}/dns_settings/use_apex_ns`, { raw: 'ata', headers: { ...CF, 'content-type': 'application/json' } });
    expect(r.status).toBe(400);
    expect(r.json.errors[0].message).toContain('--data');
  });

  it('a body over 1 MiB -> 413 in the envelope; nothing changes', async () => {
    const before = h.manager.snapshot();
    const big = JSON.stringify({ type: 'TXT', name: 'big', content: 'x'.repeat(1024 * 1024) });
    const r = await h.call('POST', `/client/v4/zones/${h.zoneId}/dns_records`, { raw: big, headers: { ...CF, 'content-type': 'application/json' } });
    expect(r.status).toBe(413);
    expect(r.json.success).toBe(false);
    expect(r.json.errors[0].message).toMatch(/limit is 1048576 bytes/);
    expect(h.manager.snapshot()).toBe(before);
  });

  it('the cap also holds for a chunked body without Content-Length', async () => {
    const small = await startHarness(64);
    try {
      const stream = new ReadableStream({
        start(c) { for (let i = 0; i < 10; i++) c.enqueue(new TextEncoder().encode('{"a":"0123456789"}'.padEnd(20))); c.close(); },
      });
      const res = await fetch(`${small.base}/client/v4/zones/${small.zoneId}/dns_records`, {
        method: 'POST', headers: { ...CF, 'content-type': 'application/json' }, body: stream, duplex: 'half',
      } as RequestInit);
      expect(res.status).toBe(413);
      expect(small.manager.calls).toEqual([]);
    } finally {
      await small.close();
    }
  });

  it('NS1 routes answer body errors as {message}', async () => {
    const r = await h.call('PUT', '/v1/zones/example.com/dnssec/external_keys/cf', { raw: 'nope', headers: { ...NS1, 'content-type': 'application/json' } });
    expect(r.status).toBe(400);
    expect(Object.keys(r.json)).toEqual(['message']);
    expect(r.json.message).toMatch(/Malformed JSON/);
  });
});

describe("tandem's own routes refuse before anything is looked at", () => {
  let own: Harness;
  beforeAll(async () => { own = await startHarness(); });
  afterAll(async () => { await own.close(); });

  it('key sync, rollover and secondary routes: a wrong key is 403 and nothing changes', async () => {
    const before = own.manager.snapshot();
    const z = own.zoneId;
    const bad = { 'x-auth-email': LEGACY['x-auth-email'], 'x-auth-key': 'wrong' };
    const attempts: [string, string, unknown][] = [
      ['POST', `/client/v4/zones/${z}/tandem/sync`, {}],
      ['POST', `/client/v4/zones/${z}/tandem/sync/peer/remove`, { ds_absent: true }],
      ['POST', `/client/v4/zones/${z}/tandem/rollover`, { type: 'zsk' }],
      ['POST', `/client/v4/zones/${z}/secondary_dns/force_axfr`, {}],
    ];
    for (const [m, p, body] of attempts) {
      const r = await own.call(m, p, { body, headers: bad });
      expect(r.status, `${m} ${p}`).toBe(403);
    }
    expect(own.manager.calls).toEqual([]);
    expect(own.manager.snapshot()).toBe(before);
  });
});
