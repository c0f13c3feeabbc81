import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatRdata } from '../../../src/dns/rdata.js';
import { RRType } from '../../../src/dns/types.js';
import { fakePublicKey } from '../../helpers/fake-manager.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness;
let p: string;
beforeEach(async () => { h = await startHarness(); p = `/client/v4/zones/${h.zoneId}`; });
afterEach(async () => { await h.close(); });

const PUB = Buffer.from(fakePublicKey('other-provider-zsk')).toString('base64');

async function enableMultiSigner(): Promise<void> {
  const r = await h.call('PATCH', `${p}/dnssec`, { body: { status: 'active', dnssec_multi_signer: true } });
  expect(r.status).toBe(200);
}

describe('GET dns_records: list, filters, pagination', () => {
  it('lists every record with Cloudflare fields and result_info (per_page defaults to 100)', async () => {
    const r = await h.call('GET', `${p}/dns_records`);
    expect(r.status).toBe(200);
    expect(r.json.success).toBe(true);
    expect(r.json.result_info).toEqual({ page: 1, per_page: 100, count: 3, total_count: 3, total_pages: 1 });
    const rec = r.json.result[0];
    expect(rec).toMatchObject({ zone_id: h.zoneId, zone_name: 'example.com', type: 'A', proxied: false, proxiable: false, tags: [], settings: {}, comment: null });
    expect(rec.id).toMatch(/^[0-9a-f]{32}$/);
    expect(rec.meta).toEqual({ auto_added: false, source: 'primary' });
    expect(rec.created_on).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('filters by type and exact name (FQDN, trailing dot optional); name.exact is the same', async () => {
    for (const q of ['type=A&name=www.example.com', 'name=WWW.example.com.', 'name.exact=www.example.com']) {
      const r = await h.call('GET', `${p}/dns_records?${q}`);
      expect(r.json.result.map((x: any) => x.content).sort()).toEqual(['192.0.2.1', '192.0.2.2']);
    }
  });

  it('name/content .contains .startswith .endswith, and match=any vs all', async () => {
    const get = async (q: string) => (await h.call('GET', `${p}/dns_records?${q}`)).json.result.map((x: any) => `${x.name} ${x.content}`).sort();
    expect(await get('name.startswith=mail')).toEqual(['mail.example.com 192.0.2.25']);
    expect(await get('name.contains=ai')).toEqual(['mail.example.com 192.0.2.25']);
    expect(await get('content.endswith=.2')).toEqual(['www.example.com 192.0.2.2']);
    expect(await get('name.endswith=example.com&content.contains=25')).toEqual(['mail.example.com 192.0.2.25']);
    expect(await get('name=mail.example.com&content=192.0.2.1&match=any')).toEqual(['mail.example.com 192.0.2.25', 'www.example.com 192.0.2.1']);
    expect(await get('name=mail.example.com&content=192.0.2.1&match=all')).toEqual([]);
  });

  it('pages with page/per_page and orders with order/direction', async () => {
    const r = await h.call('GET', `${p}/dns_records?per_page=2&page=2&order=ttl&direction=desc`);
    expect(r.json.result_info).toEqual({ page: 2, per_page: 2, count: 1, total_count: 3, total_pages: 2 });
    const first = await h.call('GET', `${p}/dns_records?per_page=1&order=ttl&direction=desc`);
    expect(first.json.result[0].name).toBe('mail.example.com');
  });

  it('rejects bad paging and ordering parameters with 400', async () => {
    for (const q of ['page=0', 'per_page=abc', 'direction=up', 'order=color', 'match=some', 'name.like=x']) {
      const r = await h.call('GET', `${p}/dns_records?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.json.success).toBe(false);
    }
  });
});

describe('POST dns_records', () => {
  it('creates from content; `name` may be relative; ttl 1 means automatic', async () => {
    const r = await h.call('POST', `${p}/dns_records`, { body: { type: 'A', name: 'api', content: '192.0.2.80', ttl: 1, comment: 'lab' } });
    expect(r.status).toBe(200);
    expect(r.json.result).toMatchObject({ name: 'api.example.com', type: 'A', content: '192.0.2.80', ttl: 300, comment: 'lab' });
    const stored = h.manager.record(h.zoneId, r.json.result.id)!;
    expect(stored.name.toString()).toBe('api.example.com.');
  });

  it('`@` and the FQDN both mean the apex; NS content is a name without the trailing dot (seed 000 step 3)', async () => {
    const a = await h.call('POST', `${p}/dns_records`, { body: { type: 'NS', name: '@', content: 'ns1.other.net', ttl: 86400 } });
    const b = await h.call('POST', `${p}/dns_records`, { body: { type: 'NS', name: 'example.com', content: 'ns2.other.net.', ttl: 86400 } });
    expect(a.json.result.name).toBe('example.com');
    expect(b.json.result.name).toBe('example.com');
    expect(a.json.result.content).toBe('ns1.other.net');
    expect(b.json.result.content).toBe('ns2.other.net');
    expect(formatRdata(RRType.NS, h.manager.record(h.zoneId, a.json.result.id)!.rdata)).toBe('ns1.other.net.');
  });

  it('MX: content is the exchange and priority is top-level, as Cloudflare shows them', async () => {
    const r = await h.call('POST', `${p}/dns_records`, { body: { type: 'MX', name: '@', content: 'mx.example.net', priority: 10, ttl: 3600 } });
    expect(r.json.result).toMatchObject({ content: 'mx.example.net', priority: 10 });
    expect(formatRdata(RRType.MX, h.manager.record(h.zoneId, r.json.result.id)!.rdata)).toBe('10 mx.example.net.');
    const full = await h.call('POST', `${p}/dns_records`, { body: { type: 'MX', name: '@', content: '20 mx2.example.net', ttl: 3600 } });
    expect(full.json.result).toMatchObject({ content: 'mx2.example.net', priority: 20 });
    const missing = await h.call('POST', `${p}/dns_records`, { body: { type: 'MX', name: '@', content: 'mx3.example.net' } });
    expect(missing.status).toBe(400);
    expect(missing.json.errors[0].message).toMatch(/priority/);
  });

  it('SRV from data: Cloudflare field names in data; content without priority', async () => {
    const r = await h.call('POST', `${p}/dns_records`, { body: { type: 'SRV', name: '_sip._udp', data: { priority: 10, weight: 5, port: 5060, target: 'sip.example.com' }, ttl: 300 } });
    expect(r.status).toBe(200);
    expect(r.json.result).toMatchObject({ name: '_sip._udp.example.com', content: '5 5060 sip.example.com', priority: 10 });
    expect(r.json.result.data).toEqual({ priority: 10, weight: 5, port: 5060, target: 'sip.example.com' });
  });

  it('CAA and TXT round-trip through content and data', async () => {
    const caa = await h.call('POST', `${p}/dns_records`, { body: { type: 'CAA', name: '@', data: { flags: 0, tag: 'issue', value: 'letsencrypt.org' } } });
    expect(caa.json.result.content).toBe('0 issue "letsencrypt.org"');
    expect(caa.json.result.data).toEqual({ flags: 0, tag: 'issue', value: 'letsencrypt.org' });
    const txt = await h.call('POST', `${p}/dns_records`, { body: { type: 'TXT', name: 'txt', content: 'v=spf1 -all' } });
    expect(txt.json.result.content).toBe('"v=spf1 -all"');
  });

  it('RFC 4034 §5.1: DS from data -> DS RDATA, digest shown in upper-case hex', async () => {
    const digest = 'ab'.repeat(32);
    const r = await h.call('POST', `${p}/dns_records`, { body: { type: 'DS', name: 'sub', data: { key_tag: 2371, algorithm: 13, digest_type: 2, digest }, ttl: 3600 } });
    expect(r.status).toBe(200);
    expect(r.json.result.content).toBe(`2371 13 2 ${digest.toUpperCase()}`);
    expect(r.json.result.data).toEqual({ key_tag: 2371, algorithm: 13, digest_type: 2, digest: digest.toUpperCase() });
  });

  it('RFC 4509 §2.2: a SHA-256 DS with a short digest is a DNS validation error (1004)', async () => {
    const r = await h.call('POST', `${p}/dns_records`, { body: { type: 'DS', name: 'sub', data: { key_tag: 1, algorithm: 13, digest_type: 2, digest: 'abcd' } } });
    expect(r.status).toBe(400);
    expect(r.json.errors[0].code).toBe(1004);
    expect(r.json.errors[0].message).toMatch(/32-octet digest/);
  });

  it('DS without data or content -> 9101', async () => {
    const r = await h.call('POST', `${p}/dns_records`, { body: { type: 'DS', name: 'sub' } });
    expect(r.status).toBe(400);
    expect(r.json.errors[0].code).toBe(9101);
  });

  it('field-level validation: bad content, type, ttl, data fields', async () => {
    const cases: [unknown, number, RegExp][] = [
      [{ type: 'A', name: 'x', content: '300.1.1.1' }, 1004, /^DNS Validation Error: A/],
      [{ type: 'BOGUS', name: 'x', content: '1' }, 9020, /type: unknown record type/],
      [{ type: 'A', name: 'x', content: '192.0.2.1', ttl: 5 }, 9021, /ttl: must be between 30 and 86400/],
      [{ type: 'DNSKEY', name: '@', data: { flags: 256, protocol: 3, algorithm: 300, public_key: 'AAAA' } }, 9000, /^data\.algorithm: /],
      [{ type: 'A', content: '192.0.2.1' }, 9005, /name: required/],
      [{ type: 'A', name: 'x', content: 7 }, 9000, /^content: /],
      [{ type: 'A', name: 'x', content: '192.0.2.1', proxied: true }, 1004, /proxied/],
    ];
    const before = h.manager.snapshot();
    for (const [body, code, msg] of cases) {
      const r = await h.call('POST', `${p}/dns_records`, { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.errors[0].code, JSON.stringify(body)).toBe(code);
      expect(r.json.errors[0].message).toMatch(msg);
    }
    expect(h.manager.snapshot()).toBe(before);
  });

  it('RFC 4034: RRSIG, NSEC and SOA are made by the server, not written through the API (CDS/CDNSKEY of other providers are: the manager checks them)', async () => {
    for (const type of ['RRSIG', 'NSEC', 'NSEC3', 'SOA']) {
      const r = await h.call('POST', `${p}/dns_records`, { body: { type, name: '@', content: '0 0 0 00' } });
      expect(r.status, type).toBe(400);
      expect(r.json.errors[0].message).toMatch(/generated by the server/);
    }
  });

  it('a duplicate record -> 400, 81058, and nothing changes (names compare case-insensitively, RFC 4343)', async () => {
    const before = h.manager.snapshot();
    const r = await h.call('POST', `${p}/dns_records`, { body: { type: 'A', name: 'WWW', content: '192.0.2.1' } });
    expect(r.status).toBe(400);
    expect(r.json.errors).toEqual([{ code: 81058, message: 'An identical record already exists.' }]);
    expect(h.manager.snapshot()).toBe(before);
  });

  it('DNSKEY while dnssec_multi_signer is off -> the manager\'s 1004, nothing changes', async () => {
    const before = h.manager.snapshot();
    const r = await h.call('POST', `${p}/dns_records`, { body: { type: 'DNSKEY', name: 'example.com', data: { flags: 256, protocol: 3, algorithm: 13, public_key: PUB }, ttl: 3600 } });
    expect(r.status).toBe(400);
    expect(r.json.errors[0].code).toBe(1004);
    expect(h.manager.snapshot()).toBe(before);
  });

  it('seed 000 step 2: DNSKEY from data once multi-signer is on; content is the presentation form', async () => {
    await enableMultiSigner();
    const r = await h.call('POST', `${p}/dns_records`, { body: { type: 'DNSKEY', name: 'example.com', data: { flags: 256, protocol: 3, algorithm: 13, public_key: PUB }, ttl: 3600 } });
    expect(r.status).toBe(200);
    expect(r.json.result).toMatchObject({ type: 'DNSKEY', name: 'example.com', content: `256 3 13 ${PUB}`, ttl: 3600 });
    expect(r.json.result.data).toEqual({ flags: 256, protocol: 3, algorithm: 13, public_key: PUB });
  });
});

describe('GET/PATCH/PUT/DELETE dns_records/{id}', () => {
  async function firstWww(): Promise<any> {
    return (await h.call('GET', `${p}/dns_records?name=www.example.com&content=192.0.2.1`)).json.result[0];
  }

  it('GET by id; an unknown id -> 404, 81044', async () => {
    const rec = await firstWww();
    expect((await h.call('GET', `${p}/dns_records/${rec.id}`)).json.result).toEqual(rec);
    const r = await h.call('GET', `${p}/dns_records/ffffffffffffffffffffffffffffffff`);
    expect(r.status).toBe(404);
    expect(r.json.errors).toEqual([{ code: 81044, message: 'Record does not exist.' }]);
  });

  it('PATCH changes only the given fields and keeps the id', async () => {
    const rec = await firstWww();
    const r = await h.call('PATCH', `${p}/dns_records/${rec.id}`, { body: { ttl: 900 } });
    expect(r.json.result).toMatchObject({ id: rec.id, name: rec.name, content: rec.content, ttl: 900 });
    const c = await h.call('PATCH', `${p}/dns_records/${rec.id}`, { body: { content: '192.0.2.3' } });
    expect(c.json.result).toMatchObject({ id: rec.id, content: '192.0.2.3', ttl: 900 });
  });

  it('PATCH into a duplicate -> 81058; PATCH of the type without content -> 400', async () => {
    const rec = await firstWww();
    const dup = await h.call('PATCH', `${p}/dns_records/${rec.id}`, { body: { content: '192.0.2.2' } });
    expect(dup.json.errors[0].code).toBe(81058);
    const t = await h.call('PATCH', `${p}/dns_records/${rec.id}`, { body: { type: 'AAAA' } });
    expect(t.status).toBe(400);
    expect(t.json.errors[0].message).toMatch(/content: required/);
  });

  it('PUT replaces the whole record (missing ttl -> automatic)', async () => {
    const rec = await firstWww();
    const r = await h.call('PUT', `${p}/dns_records/${rec.id}`, { body: { type: 'AAAA', name: 'v6', content: '2001:db8::1' } });
    expect(r.json.result).toMatchObject({ id: rec.id, type: 'AAAA', name: 'v6.example.com', content: '2001:db8::1', ttl: 300 });
  });

  it('DELETE returns {id}; a second DELETE is 404, 81044', async () => {
    const rec = await firstWww();
    const r = await h.call('DELETE', `${p}/dns_records/${rec.id}`);
    expect(r.json).toEqual({ success: true, errors: [], messages: [], result: { id: rec.id } });
    expect((await h.call('DELETE', `${p}/dns_records/${rec.id}`)).status).toBe(404);
  });
});

describe('POST dns_records/batch', () => {
  it('applies deletes, patches, puts, posts and answers with the four lists', async () => {
    const list = (await h.call('GET', `${p}/dns_records?order=content`)).json.result;
    const r = await h.call('POST', `${p}/dns_records/batch`, {
      body: {
        deletes: [{ id: list[0].id }],
        patches: [{ id: list[1].id, ttl: 1200 }],
        puts: [{ id: list[2].id, type: 'A', name: 'mail', content: '192.0.2.26', ttl: 600 }],
        posts: [{ type: 'A', name: 'new', content: '192.0.2.99' }],
      },
    });
    expect(r.status).toBe(200);
    expect(r.json.result.deletes.map((x: any) => x.id)).toEqual([list[0].id]);
    expect(r.json.result.patches[0]).toMatchObject({ id: list[1].id, ttl: 1200 });
    expect(r.json.result.puts[0]).toMatchObject({ id: list[2].id, content: '192.0.2.26' });
    expect(r.json.result.posts[0]).toMatchObject({ name: 'new.example.com' });
    expect(h.manager.records(h.zoneId)).toHaveLength(3);
  });

  it('an invalid operation anywhere rejects the whole batch before the manager sees it', async () => {
    const list = (await h.call('GET', `${p}/dns_records`)).json.result;
    const before = h.manager.snapshot();
    const bad = await h.call('POST', `${p}/dns_records/batch`, { body: { deletes: [{ id: list[0].id }], posts: [{ type: 'A', name: 'x', content: 'nope' }] } });
    expect(bad.status).toBe(400);
    const unknown = await h.call('POST', `${p}/dns_records/batch`, { body: { deletes: [{ id: 'f'.repeat(32) }] } });
    expect(unknown.status).toBe(404);
    expect(h.manager.calls).toEqual([]);
    expect(h.manager.snapshot()).toBe(before);
  });
});
