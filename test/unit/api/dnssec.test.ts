import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fakePublicKey } from '../../helpers/fake-manager.js';
import { NS1, startHarness, type Harness } from './harness.js';

let h: Harness;
let p: string;
beforeEach(async () => { h = await startHarness(); p = `/client/v4/zones/${h.zoneId}`; });
afterEach(async () => { await h.close(); });

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const PUB = Buffer.from(fakePublicKey('ns1-zsk')).toString('base64');

describe('zones', () => {
  it('GET /zones lists zones with result_info; filters by name; pages', async () => {
    const r = await h.call('GET', '/client/v4/zones');
    expect(r.json.result.map((z: any) => z.name)).toEqual(['example.com', 'example.net']);
    expect(r.json.result_info).toEqual({ page: 1, per_page: 20, count: 2, total_count: 2, total_pages: 1 });
    const one = await h.call('GET', '/client/v4/zones?name=example.net');
    expect(one.json.result).toHaveLength(1);
    expect(one.json.result[0].id).toMatch(/^[0-9a-f]{32}$/);
    const page2 = await h.call('GET', '/client/v4/zones?per_page=1&page=2');
    expect(page2.json.result[0].name).toBe('example.net');
    expect(page2.json.result_info.total_pages).toBe(2);
    expect((await h.call('GET', '/client/v4/zones?status=pending')).json.result).toEqual([]);
  });

  it('GET /zones/{id}: the Cloudflare zone object subset', async () => {
    const r = await h.call('GET', p);
    expect(r.json.result).toMatchObject({
      id: h.zoneId, name: 'example.com', status: 'active', type: 'full', paused: false,
      name_servers: ['ns1.tandem.test', 'ns2.tandem.test'], original_name_servers: null,
    });
    expect(r.json.result.account.id).toMatch(/^[0-9a-f]{32}$/);
    expect(r.json.result.created_on).toMatch(RFC3339);
    expect(Array.isArray(r.json.result.permissions)).toBe(true);
    expect(r.json.result.plan).toBeTypeOf('object');
  });
});

describe('DNSSEC details and status (Cloudflare states)', () => {
  it('never enabled: status disabled, modified_on null, key fields null', async () => {
    const r = await h.call('GET', `${p}/dnssec`);
    expect(r.json.result).toMatchObject({ status: 'disabled', modified_on: null, flags: null, ds: null, dnssec_multi_signer: false });
  });

  it('PATCH status active + multi-signer: pending, with the field types of Cloudflare\'s example', async () => {
    const r = await h.call('PATCH', `${p}/dnssec`, { body: { status: 'active', dnssec_multi_signer: true } });
    expect(r.status).toBe(200);
    const d = r.json.result;
    expect(d).toMatchObject({
      status: 'pending', flags: 257, algorithm: '13', key_type: 'ECDSAP256SHA256', digest_type: '2', digest_algorithm: 'SHA256',
      dnssec_multi_signer: true, dnssec_presigned: false, dnssec_use_nsec3: false,
    });
    expect(d.key_tag).toBeTypeOf('number');
    expect(d.digest).toMatch(/^[0-9A-F]{64}$/);
    expect(d.ds).toBe(`example.com. 3600 IN DS ${d.key_tag} 13 2 ${d.digest}`);
    expect(d.modified_on).toMatch(RFC3339);
    // RFC 4034 §5.1.4: the digest is over owner name (canonical wire) | DNSKEY RDATA.
    const pub = Buffer.from(d.public_key, 'base64');
    const rdata = Buffer.concat([Buffer.from([1, 1, 3, 13]), pub]);
    const owner = Buffer.from([7, ...Buffer.from('example'), 3, ...Buffer.from('com'), 0]);
    expect(createHash('sha256').update(owner).update(rdata).digest('hex').toUpperCase()).toBe(d.digest);
  });

  it('lab override: parent DS present moves pending -> active; disabling then goes pending-disabled -> disabled', async () => {
    await h.call('PATCH', `${p}/dnssec`, { body: { status: 'active' } });
    const active = await h.call('POST', `${p}/dnssec/parent_ds`, { body: { present: true } });
    expect(active.json.result.status).toBe('active');
    const pd = await h.call('PATCH', `${p}/dnssec`, { body: { status: 'disabled' } });
    expect(pd.json.result.status).toBe('pending-disabled');
    const off = await h.call('POST', `${p}/dnssec/parent_ds`, { body: { present: false } });
    expect(off.json.result.status).toBe('disabled');
    const bad = await h.call('POST', `${p}/dnssec/parent_ds`, { body: { present: 'yes' } });
    expect(bad.status).toBe(400);
  });

  it('DELETE /dnssec only from disabled (manager error passes through); the result is a string', async () => {
    await h.call('PATCH', `${p}/dnssec`, { body: { status: 'active' } });
    const early = await h.call('DELETE', `${p}/dnssec`);
    expect(early.status).toBe(400);
    expect(early.json.errors[0].code).toBe(1004);
    await h.call('PATCH', `${p}/dnssec`, { body: { status: 'disabled' } });
    const r = await h.call('DELETE', `${p}/dnssec`);
    expect(r.status).toBe(200);
    expect(typeof r.json.result).toBe('string');
    expect((await h.call('GET', `${p}/dnssec`)).json.result.modified_on).toBeNull();
  });

  it('seed 000 step 3 mistake: an NS record sent to PATCH /dnssec -> 400 pointing at POST dns_records; nothing changes', async () => {
    const before = h.manager.snapshot();
    const r = await h.call('PATCH', `${p}/dnssec`, { body: { type: 'NS', name: 'example.com', content: 'ns1.other.net', ttl: 86400 } });
    expect(r.status).toBe(400);
    expect(r.json.errors[0].message).toContain(`POST /zones/${h.zoneId}/dns_records`);
    expect(h.manager.snapshot()).toBe(before);
  });

  it('PATCH /dnssec: empty body -> 1002 Invalid or missing "status"; bad values and unknown fields -> 400', async () => {
    const before = h.manager.snapshot();
    const empty = await h.call('PATCH', `${p}/dnssec`, { body: {} });
    expect(empty.status).toBe(400);
    expect(empty.json.errors[0]).toMatchObject({ code: 1002 });
    expect(empty.json.errors[0].message).toMatch(/Invalid or missing "status"/);
    for (const body of [{ status: 'pending' }, { dnssec_multi_signer: 'yes' }, { dnssec_multi_model: 2 }]) {
      const r = await h.call('PATCH', `${p}/dnssec`, { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
    }
    expect(h.manager.snapshot()).toBe(before);
  });

  it('PATCH dnssec_presigned / dnssec_use_nsec3 alone (seed 002)', async () => {
    const r = await h.call('PATCH', `${p}/dnssec`, { body: { dnssec_presigned: true } });
    expect(r.json.result.dnssec_presigned).toBe(true);
    const n = await h.call('PATCH', `${p}/dnssec`, { body: { dnssec_use_nsec3: true, status: 'active' } });
    expect(n.json.result).toMatchObject({ dnssec_use_nsec3: true, status: 'pending' });
  });
});

describe('GET /dnssec/zsk', () => {
  it('RFC 4034 §2.1.1: lists keys with the SEP bit clear, ours "active", imported "external"; no private key', async () => {
    expect((await h.call('GET', `${p}/dnssec/zsk`)).json.result).toEqual([]);
    await h.call('PATCH', `${p}/dnssec`, { body: { status: 'active', dnssec_multi_signer: true } });
    await h.call('POST', `${p}/dns_records`, { body: { type: 'DNSKEY', name: '@', data: { flags: 256, protocol: 3, algorithm: 13, public_key: PUB }, ttl: 3600 } });
    await h.call('POST', `${p}/dns_records`, { body: { type: 'DNSKEY', name: '@', content: `257 3 13 ${Buffer.from(fakePublicKey('other-ksk')).toString('base64')}` } });
    const r = await h.call('GET', `${p}/dnssec/zsk`);
    expect(r.json.result).toHaveLength(2);
    const [ours, theirs] = r.json.result;
    expect(ours.Tag).toBe('active');
    expect(theirs.Tag).toBe('external');
    expect(theirs.DNSKEY.PublicKey).toBe(PUB);
    for (const k of r.json.result) {
      expect(k.DNSKEY).toMatchObject({ Algorithm: 13, Flags: 256, Protocol: 3, Hdr: { Name: 'example.com.', Rrtype: 48, Class: 1, Ttl: 3600, Rdlength: 68 } });
      expect(k.Location).toBe('database');
      expect(k.SigningKey).toEqual({ pubkey: k.DNSKEY.PublicKey });
      expect(JSON.stringify(k)).not.toMatch(/privkey/);
    }
  });
});

describe('dns_settings', () => {
  it('GET and PATCH multi_provider (seed 000 step 4, current form)', async () => {
    expect((await h.call('GET', `${p}/dns_settings`)).json.result).toMatchObject({ multi_provider: false, ns_ttl: 86400 });
    const r = await h.call('PATCH', `${p}/dns_settings`, { body: { multi_provider: true } });
    expect(r.json.result.multi_provider).toBe(true);
  });

  it('settings tandem cannot change -> 400 naming them; nothing changes', async () => {
    const before = h.manager.snapshot();
    const r = await h.call('PATCH', `${p}/dns_settings`, { body: { multi_provider: true, ns_ttl: 60 } });
    expect(r.status).toBe(400);
    expect(r.json.errors[0].message).toMatch(/^ns_ttl: /);
    expect(h.manager.snapshot()).toBe(before);
  });

  it('legacy use_apex_ns: {"id":"use_apex_ns","value":true} sets multi_provider; GET shows it', async () => {
    const r = await h.call('PATCH', `${p}/dns_settings/use_apex_ns`, { body: { id: 'use_apex_ns', value: true } });
    expect(r.json.result).toMatchObject({ id: 'use_apex_ns', value: true, editable: true });
    expect(r.json.result.modified_on).toMatch(RFC3339);
    expect((await h.call('GET', `${p}/dns_settings`)).json.result.multi_provider).toBe(true);
    expect((await h.call('GET', `${p}/dns_settings/use_apex_ns`)).json.result.value).toBe(true);
    const bad = await h.call('PATCH', `${p}/dns_settings/use_apex_ns`, { body: { id: 'other', value: true } });
    expect(bad.status).toBe(400);
  });
});

describe('NS1 routes', () => {
  const v1 = '/v1/zones/example.com/dnssec';

  it('GET /dnssec before DNSSEC is on -> 400 {message}', async () => {
    const r = await h.call('GET', v1, { headers: NS1 });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ message: 'DNSSEC is not enabled on the zone' });
  });

  it('GET /dnssec: NS1 array shapes (strings), DS digest lower-case as NS1 shows it', async () => {
    const cf = (await h.call('PATCH', `/client/v4/zones/${h.zoneId}/dnssec`, { body: { status: 'active' } })).json.result;
    const r = await h.call('GET', v1, { headers: NS1 });
    expect(r.status).toBe(200);
    expect(r.json.zone).toBe('example.com.');
    expect(r.json.keys.ttl).toBe(3600);
    expect(r.json.keys.dnskey).toContainEqual(['257', '3', '13', cf.public_key]);
    expect(r.json.keys.dnskey.map((k: string[]) => k[0]).sort()).toEqual(['256', '257']);
    expect(r.json.delegation.dnskey).toEqual([['257', '3', '13', cf.public_key]]);
    expect(r.json.delegation.ds).toEqual([[String(cf.key_tag), '13', '2', cf.digest.toLowerCase()]]);
  });

  it('external key sets: PUT (wrapped), GET list, POST (unwrapped) modifies, DELETE', async () => {
    const put = await h.call('PUT', `${v1}/external_keys/cloudflare`, { body: { dnskey: { ttl: 3600, data: [{ flags: 256, protocol: 3, algorithm: 13, public_key: PUB }] } }, headers: NS1 });
    expect(put.status).toBe(200);
    expect(put.json).toEqual({ name: 'cloudflare', dnskey: { ttl: 3600, data: [{ flags: 256, protocol: 3, algorithm: 13, public_key: PUB }] } });
    const other = Buffer.from(fakePublicKey('x')).toString('base64');
    const post = await h.call('POST', `${v1}/external_keys/cloudflare`, { body: { ttl: 600, data: [{ flags: 256, protocol: 3, algorithm: 13, public_key: other }] }, headers: NS1 });
    expect(post.json.dnskey).toEqual({ ttl: 600, data: [{ flags: 256, protocol: 3, algorithm: 13, public_key: other }] });
    const list = await h.call('GET', `${v1}/external_keys`, { headers: NS1 });
    expect(list.json).toEqual([post.json]);
    expect((await h.call('GET', `${v1}/external_keys/cloudflare`, { headers: NS1 })).json).toEqual(post.json);
    const del = await h.call('DELETE', `${v1}/external_keys/cloudflare`, { headers: NS1 });
    expect(del.status).toBe(200);
    expect((await h.call('GET', `${v1}/external_keys`, { headers: NS1 })).json).toEqual([]);
    const again = await h.call('DELETE', `${v1}/external_keys/cloudflare`, { headers: NS1 });
    expect(again.status).toBe(404);
    expect(again.json).toEqual({ message: 'key set not found' });
  });

  it('external key set bodies are validated field by field; nothing changes on error', async () => {
    const before = h.manager.snapshot();
    const cases = [
      { dnskey: { ttl: 3600, data: [] } },
      { dnskey: { ttl: 3600, data: [{ flags: 256, protocol: 3, algorithm: 13 }] } },
      { dnskey: { ttl: -1, data: [{ flags: 256, protocol: 3, algorithm: 13, public_key: PUB }] } },
      { dnskey: { data: [{ flags: 70000, protocol: 3, algorithm: 13, public_key: PUB }] } },
      // RFC 4034 §2.1.2: protocol must be 3
      { dnskey: { data: [{ flags: 256, protocol: 2, algorithm: 13, public_key: PUB }] } },
    ];
    for (const body of cases) {
      const r = await h.call('PUT', `${v1}/external_keys/cf`, { body, headers: NS1 });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(typeof r.json.message).toBe('string');
    }
    const badName = await h.call('PUT', `${v1}/external_keys/${'x'.repeat(65)}`, { body: { data: [{ flags: 256, protocol: 3, algorithm: 13, public_key: PUB }] }, headers: NS1 });
    expect(badName.status).toBe(400);
    expect(h.manager.snapshot()).toBe(before);
  });

  it('imported NS1 key sets appear in the Cloudflare ZSK list as external', async () => {
    await h.call('PATCH', `/client/v4/zones/${h.zoneId}/dnssec`, { body: { status: 'active', dnssec_multi_signer: true } });
    await h.call('PUT', `${v1}/external_keys/other`, { body: { dnskey: { ttl: 3600, data: [{ flags: 256, protocol: 3, algorithm: 13, public_key: PUB }] } }, headers: NS1 });
    const zsk = (await h.call('GET', `/client/v4/zones/${h.zoneId}/dnssec/zsk`)).json.result;
    expect(zsk.map((k: any) => k.Tag).sort()).toEqual(['active', 'external']);
  });
});
