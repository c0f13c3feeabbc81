// Base64 fields of the admin API and the CLI, decoded strictly per RFC 4648 §3.3 (dns/rdata/text.ts
// base64Problem): Node's decoder skips characters it does not know, so a key with an embedded line break used to
// be accepted as some other key. Public keys of DNSKEY `data`, CERT certificates, NS1 external keys, import-key.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runAdminCommand, type AdminIo } from '../../../src/cli/admin.js';
import { base64Problem, parseBase64 } from '../../../src/dns/rdata/text.js';
import { fakePublicKey } from '../../helpers/fake-manager.js';
import { NS1, startHarness, TOKEN, type Harness } from './harness.js';

const KEY = Buffer.from(fakePublicKey('strict-base64')).toString('base64');
const broken: [string, string, RegExp][] = [
  ['a line break inside', KEY.slice(0, 20) + '\n' + KEY.slice(20), /a line break at position 21 is not in the base64 alphabet/],
  ['a space inside', KEY.slice(0, 20) + ' ' + KEY.slice(20), /a space at position 21/],
  ['a trailing line break', KEY + '\n', /a line break at position/],
  ['a character outside the alphabet', KEY.slice(0, 8) + '!' + KEY.slice(9), /'!' \(U\+0021\) at position 9/],
  ['base64url characters', KEY.replace(/.$/, '-'), /'-'/],
  ['missing padding', 'AAA', /3 characters with 0 '='.*padded with '='/],
  ['too much padding', 'AAAAA===', /8 characters with 3 '='/],
  ['padding in the middle', 'AA==AAAA', /'=' \(padding belongs at the end only\)/],
  ['non-zero bits before the padding', 'AB==', /bits before the padding are not zero \(RFC 4648 §3\.5\)/],
];

describe('base64Problem (RFC 4648)', () => {
  it.each(broken)('§3.3, §3.2, §3.5: %s is an error', (_what, text, why) => {
    expect(base64Problem(text)).toMatch(why);
    expect(() => parseBase64(text)).toThrow(why);
  });

  it('§4: canonical base64 of every length decodes to its octets; the empty string is no octets', () => {
    for (let n = 0; n < 8; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => 251 - i * 17);
      const text = Buffer.from(bytes).toString('base64');
      expect(base64Problem(text), text).toBeUndefined();
      expect(parseBase64(text)).toEqual(bytes);
    }
  });
});

describe('admin API base64 fields', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    await h.call('PATCH', `/client/v4/zones/${h.zoneId}/dnssec`, { body: { status: 'active', dnssec_multi_signer: true } });
  });
  afterEach(async () => { await h.close(); });
  const dnskeys = () => h.manager.records(h.zoneId).filter((r) => r.type === 48);

  it.each(broken)('Cloudflare DNSKEY data.public_key with %s: 400, field named, nothing stored', async (_what, text, why) => {
    const r = await h.call('POST', `/client/v4/zones/${h.zoneId}/dns_records`, {
      body: { type: 'DNSKEY', name: 'example.com', data: { flags: 256, protocol: 3, algorithm: 13, public_key: text } },
    });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ success: false, result: null });
    expect(r.json.errors[0].message).toMatch(/^data\.public_key: must be base64: /);
    expect(r.json.errors[0].message).toMatch(why);
    expect(dnskeys()).toEqual([]);
  });

  it('the same key written correctly is accepted', async () => {
    const r = await h.call('POST', `/client/v4/zones/${h.zoneId}/dns_records`, {
      body: { type: 'DNSKEY', name: 'example.com', data: { flags: 256, protocol: 3, algorithm: 13, public_key: KEY } },
    });
    expect(r.status).toBe(200);
    expect(r.json.result.data.public_key).toBe(KEY);
  });

  it('RFC 4034 §2.2: in the presentation form (content) the key may still be split by white space', async () => {
    const r = await h.call('POST', `/client/v4/zones/${h.zoneId}/dns_records`, {
      body: { type: 'DNSKEY', name: 'example.com', content: `256 3 13 ${KEY.slice(0, 20)}\n ${KEY.slice(20)}` },
    });
    expect(r.status).toBe(200);
    expect(r.json.result.data.public_key).toBe(KEY);
  });

  it('CERT data.certificate is decoded strictly too', async () => {
    const r = await h.call('POST', `/client/v4/zones/${h.zoneId}/dns_records`, {
      body: { type: 'CERT', name: 'cert', data: { type: 1, key_tag: 0, algorithm: 0, certificate: 'AAAA\nAAAA' } },
    });
    expect(r.status).toBe(400);
    expect(r.json.errors[0].message).toMatch(/^data\.certificate: must be base64: a line break/);
  });

  it.each(broken)('NS1 external key public_key with %s: 400 {message}, no key set', async (_what, text, why) => {
    const r = await h.call('PUT', '/v1/zones/example.com/dnssec/external_keys/other', {
      headers: NS1, body: { dnskey: { ttl: 3600, data: [{ flags: 256, protocol: 3, algorithm: 13, public_key: text }] } },
    });
    expect(r.status).toBe(400);
    expect(Object.keys(r.json)).toEqual(['message']);
    expect(r.json.message).toMatch(/dnskey\.data\.0\.public_key: must be base64|data\.0\.public_key: must be base64/);
    expect(r.json.message).toMatch(why);
    expect(h.manager.externalKeySets(h.zoneId)).toEqual([]);
  });
});

describe('tandem import-key', () => {
  let h: Harness;
  let err: string;
  let io: AdminIo;
  beforeEach(async () => {
    h = await startHarness();
    err = '';
    io = { out: () => {}, err: (t) => { err += t; }, env: { TANDEM_API: h.base, TANDEM_TOKEN: TOKEN } };
  });
  afterEach(async () => { await h.close(); });

  it('a key with a character outside the alphabet, or wrong padding, is a command-line error (exit 2), nothing sent', async () => {
    expect(await runAdminCommand('import-key', ['example.com', `256 3 13 ${KEY.slice(0, 8)}!${KEY.slice(9)}`], io)).toBe(2);
    expect(err).toMatch(/^tandem import-key: the DNSKEY public key is not base64: '!' \(U\+0021\) at position 9/);
    err = '';
    expect(await runAdminCommand('import-key', ['example.com', `256 3 13 ${KEY.replace(/=+$/, '')}`], io)).toBe(2);
    expect(err).toMatch(/padded with '='/);
    expect(h.manager.records(h.zoneId).filter((r) => r.type === 48)).toEqual([]);
  });
});
