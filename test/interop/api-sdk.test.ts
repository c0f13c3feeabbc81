// The official Cloudflare TypeScript SDK (npm `cloudflare`), pointed at tandem with `baseURL`, drives the
// multi-signer setup: the SDK decides whether tandem's shapes are Cloudflare's (it parses every response).
import { createECDH } from 'node:crypto';
import Cloudflare from 'cloudflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig, requireTool } from '../helpers/dig.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const ZONE = 'example.com';

function p256Key(): string {
  // ECDH's key generation, not generateKeyPairSync + export (a Node 20 deadlock: src/dnssec/keys.ts generateKey).
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return ecdh.getPublicKey().subarray(1).toString('base64'); // 0x04 || x || y
}

async function all<T>(page: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of page) out.push(x);
  return out;
}

let t: TestServer;
let cf: Cloudflare;
let zoneId: string;
const theirZsk = p256Key();

beforeAll(async () => {
  requireTool('dig', 'bind9-dnsutils');
  t = await startTestServer();
  cf = new Cloudflare({ apiToken: t.token, apiEmail: null, apiKey: null, baseURL: `${t.api}/client/v4`, maxRetries: 0 });
});
afterAll(async () => { await t?.stop(); });

describe('Cloudflare SDK against tandem', () => {
  it('zones.list finds the zone by name; zones.get returns it', async () => {
    const zones = await all(cf.zones.list({ name: ZONE }));
    expect(zones).toHaveLength(1);
    zoneId = zones[0].id;
    expect(zoneId).toMatch(/^[0-9a-f]{32}$/);
    const z = await cf.zones.get({ zone_id: zoneId });
    expect(z).toMatchObject({ name: ZONE, status: 'active', type: 'full' });
  });

  it('dns.dnssec.edit enables DNSSEC with multi-signer; dns.dnssec.get reads the details', async () => {
    const edited = await cf.dns.dnssec.edit({ zone_id: zoneId, status: 'active', dnssec_multi_signer: true });
    expect(['pending', 'active']).toContain(edited.status);
    const d = await cf.dns.dnssec.get({ zone_id: zoneId });
    expect(d).toMatchObject({ dnssec_multi_signer: true, algorithm: '13', digest_type: '2', digest_algorithm: 'SHA256', flags: 257, key_type: 'ECDSAP256SHA256' });
    expect(d.ds).toBe(`${ZONE}. 3600 IN DS ${d.key_tag} 13 2 ${d.digest}`);
  });

  it('dns.dnssec.zsk.list returns our ZSK', async () => {
    const zsks = await all(cf.dns.dnssec.zsk.list({ zone_id: zoneId }));
    expect(zsks.length).toBeGreaterThanOrEqual(1);
    expect(zsks.every((k) => k.DNSKEY?.Flags === 256 && k.DNSKEY?.Hdr?.Rrtype === 48)).toBe(true);
    expect(zsks.some((k) => k.Tag === 'active')).toBe(true);
  });

  let dnskeyId: string;
  it("dns.records.create adds the other provider's ZSK; list/get show it; it is served", async () => {
    const rec = await cf.dns.records.create({ zone_id: zoneId, type: 'DNSKEY', name: ZONE, ttl: 3600, data: { flags: 256, protocol: 3, algorithm: 13, public_key: theirZsk } });
    expect(rec.type).toBe('DNSKEY');
    dnskeyId = rec.id;
    const listed = await all(cf.dns.records.list({ zone_id: zoneId, type: 'DNSKEY' }));
    expect(listed.map((r) => r.id)).toContain(dnskeyId);
    const got = await cf.dns.records.get(dnskeyId, { zone_id: zoneId });
    expect(got.type === 'DNSKEY' && got.data).toEqual({ flags: 256, protocol: 3, algorithm: 13, public_key: theirZsk });
    const zsks = await all(cf.dns.dnssec.zsk.list({ zone_id: zoneId }));
    expect(zsks.find((k) => k.Tag === 'external')?.DNSKEY?.PublicKey).toBe(theirZsk);
    const served = await dig({ host: t.host, port: t.port }, [ZONE, 'DNSKEY']);
    expect(served.answer.map((r) => r.data.replace(/\s+/g, ''))).toContain(`256313${theirZsk}`);
  });

  it('dns.records.edit changes the TTL; a duplicate create is rejected with 81058', async () => {
    const edited = await cf.dns.records.edit(dnskeyId, { zone_id: zoneId, type: 'DNSKEY', name: ZONE, ttl: 7200 });
    expect(edited.ttl).toBe(7200);
    const dup = cf.dns.records.create({ zone_id: zoneId, type: 'DNSKEY', name: ZONE, ttl: 3600, data: { flags: 256, protocol: 3, algorithm: 13, public_key: theirZsk } });
    await expect(dup).rejects.toMatchObject({ status: 400, errors: [expect.objectContaining({ code: 81058 })] });
  });

  let nsId: string;
  it('NS records at the apex: create, list by name, and multi_provider via dns.settings.zone.edit', async () => {
    const ns = await cf.dns.records.create({ zone_id: zoneId, type: 'NS', name: ZONE, content: 'ns1.other-provider.test', ttl: 86400 });
    nsId = ns.id;
    expect(ns).toMatchObject({ content: 'ns1.other-provider.test', name: ZONE });
    const listed = await all(cf.dns.records.list({ zone_id: zoneId, type: 'NS', name: { exact: ZONE } }));
    expect(listed.map((r) => r.id)).toContain(nsId);
    const s = await cf.dns.settings.zone.edit({ zone_id: zoneId, multi_provider: true });
    expect(s.multi_provider).toBe(true);
    expect((await cf.dns.settings.zone.get({ zone_id: zoneId })).multi_provider).toBe(true);
    const served = await dig({ host: t.host, port: t.port }, [ZONE, 'NS']);
    expect(served.answer.map((r) => r.data)).toContain('ns1.other-provider.test.');
  });

  it('dns.records.delete removes both records; get then fails with 404', async () => {
    expect((await cf.dns.records.delete(nsId, { zone_id: zoneId })).id).toBe(nsId);
    expect((await cf.dns.records.delete(dnskeyId, { zone_id: zoneId })).id).toBe(dnskeyId);
    await expect(cf.dns.records.get(dnskeyId, { zone_id: zoneId })).rejects.toMatchObject({ status: 404 });
    const zsks = await all(cf.dns.dnssec.zsk.list({ zone_id: zoneId }));
    expect(zsks.some((k) => k.Tag === 'external')).toBe(false);
  });

  it('a wrong token surfaces as the SDK\'s AuthenticationError/PermissionDeniedError (403, code 10000)', async () => {
    const bad = new Cloudflare({ apiToken: 'wrong', apiEmail: null, apiKey: null, baseURL: `${t.api}/client/v4`, maxRetries: 0 });
    await expect(bad.dns.dnssec.get({ zone_id: zoneId })).rejects.toMatchObject({ status: 403, errors: [expect.objectContaining({ code: 10000 })] });
  });
});
