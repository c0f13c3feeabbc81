// Fuzz target for the admin API's input validation (api/schemas.ts, records.ts and the routes): random JSON,
// record-shaped bodies with wrong or odd fields and malformed JSON, sent with valid credentials to a started API
// over a real zone manager. Every answer is below 500; a refusal comes in its family's error shape (Cloudflare's
// envelope, NS1's {message}) and changes nothing: records, DNSSEC state, settings and key sets stay as they were.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { pino } from 'pino';
import { sha256Hex } from '../../../src/api/auth.js';
import { startApi, type RunningApi } from '../../../src/api/server.js';
import { SignatureCache } from '../../../src/dnssec/cache.js';
import { TandemZoneManager } from '../../../src/state/manager.js';
import { exampleZoneDir } from '../../helpers/zones.js';
import { target } from '../target.js';

const TOKEN = 'fuzz-token';

type Body = { json: unknown } | { raw: string } | { none: true };
type Request = { method: string; path: string; body: Body };

const odd = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constantFrom('', ' ', '\n', '@', '.', '*', 'A', '1', 'true'));
const base64ish = fc.oneof(
  fc.base64String({ maxLength: 60 }),
  fc.tuple(fc.base64String({ minLength: 4, maxLength: 40 }), fc.nat(40), fc.constantFrom('\n', ' ', '\t', '\r\n', '=', '-', '_', '!', 'é')).map(([s, at, c]) => s.slice(0, at) + c + s.slice(at)),
  odd,
);
const hexish = fc.oneof(fc.stringMatching(/^[0-9a-fA-F]{0,70}$/), fc.stringMatching(/^[0-9a-f ]{0,20}$/), odd);
const dataObject = fc.oneof(
  fc.record({ flags: fc.oneof(fc.constantFrom(256, 257), odd), protocol: fc.oneof(fc.constant(3), odd), algorithm: fc.oneof(fc.constantFrom(8, 13), odd), public_key: base64ish }, { requiredKeys: [] }),
  fc.record({ key_tag: fc.oneof(fc.nat(70000), odd), algorithm: fc.oneof(fc.nat(300), odd), digest_type: fc.oneof(fc.constantFrom(1, 2, 4), odd), digest: hexish }, { requiredKeys: [] }),
  fc.record({ priority: fc.oneof(fc.nat(70000), odd), weight: fc.oneof(fc.nat(70000), odd), port: fc.oneof(fc.nat(70000), odd), target: odd }, { requiredKeys: [] }),
  fc.record({ flags: fc.oneof(fc.nat(300), odd), tag: fc.oneof(fc.constantFrom('issue', 'iodef', 'is sue'), odd), value: odd }, { requiredKeys: [] }),
  fc.record({ type: fc.oneof(fc.nat(70000), odd), key_tag: fc.oneof(fc.nat(70000), odd), algorithm: fc.oneof(fc.nat(300), odd), certificate: base64ish }, { requiredKeys: [] }),
  fc.dictionary(fc.string({ maxLength: 8 }), odd, { maxKeys: 4 }),
);
const TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'NS', 'SRV', 'CAA', 'DS', 'DNSKEY', 'TLSA', 'SSHFP', 'URI', 'NAPTR', 'HTTPS', 'SVCB', 'CERT', 'PTR', 'SOA', 'RRSIG', 'NSEC', 'ANY', 'OPT', 'TYPE65400', 'a', 'FOO', ''];
const recordBody = fc.record({
  type: fc.oneof(fc.constantFrom(...TYPES), odd),
  name: fc.oneof(fc.constantFrom('example.com', 'www.example.com', 'new', '*.x', '@', 'a..b', 'other.org', 'x'.repeat(70), '\\000'), odd),
  content: fc.oneof(fc.constantFrom('192.0.2.1', '::1', 'www.example.com', '10 mail.example.com', '"a" "b"', '257 3 13 AAAA\nBBBB', '\\# 2 ABCD', '1.2.3', ''), odd),
  data: fc.oneof(dataObject, odd),
  ttl: fc.oneof(fc.constantFrom(1, 60, 300, 86400, 0, -1, 2 ** 31), odd),
  priority: fc.oneof(fc.nat(70000), odd),
  proxied: fc.oneof(fc.boolean(), odd),
  comment: fc.oneof(fc.string({ maxLength: 20 }), fc.constant('c'.repeat(501)), odd),
  tags: fc.oneof(fc.array(fc.string({ maxLength: 5 }), { maxLength: 2 }), odd),
}, { requiredKeys: [] });
const withId = (ids: string[]) => fc.tuple(recordBody, fc.oneof(fc.constantFrom(...ids), fc.string({ maxLength: 33 }), odd)).map(([b, id]) => ({ ...b, id }));
const ns1Key = fc.record({ flags: fc.oneof(fc.constantFrom(256, 257), odd), protocol: fc.oneof(fc.constant(3), odd), algorithm: fc.oneof(fc.constant(13), odd), public_key: base64ish }, { requiredKeys: [] });
const ns1Body = fc.oneof(
  fc.record({ dnskey: fc.record({ ttl: fc.oneof(fc.nat(), odd), data: fc.oneof(fc.array(ns1Key, { maxLength: 3 }), odd) }, { requiredKeys: [] }) }, { requiredKeys: [] }),
  fc.record({ ttl: fc.oneof(fc.nat(), odd), data: fc.oneof(fc.array(ns1Key, { maxLength: 3 }), odd) }, { requiredKeys: [] }),
);
const settingsBody = fc.dictionary(fc.constantFrom('status', 'dnssec_multi_signer', 'dnssec_presigned', 'dnssec_use_nsec3', 'multi_provider', 'value', 'id', 'present', 'x', 'soa'),
  fc.oneof(fc.constantFrom('active', 'disabled', 'on', 'off', 'use_apex_ns', 'x'), odd), { maxKeys: 3 });

function requests(zoneId: string, ids: string[]): fc.Arbitrary<Request> {
  const cf = `/client/v4/zones/${zoneId}`;
  const json = (a: fc.Arbitrary<unknown>): fc.Arbitrary<Body> => fc.oneof({ weight: 6, arbitrary: a.map((json) => ({ json })) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((json) => ({ json })) },
    { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('{', 'ata', '{"type": "A",', '[1,]', 'null', '"x"')).map((raw) => ({ raw })) }, { weight: 1, arbitrary: fc.constant({ none: true as const }) });
  const req = (method: fc.Arbitrary<string>, path: fc.Arbitrary<string>, body: fc.Arbitrary<unknown>) => fc.record({ method, path, body: json(body) });
  const id = fc.oneof(fc.constantFrom(...ids), fc.constantFrom('', 'x', '%zz', '..', 'a'.repeat(40)));
  return fc.oneof(
    req(fc.constant('POST'), fc.constant(`${cf}/dns_records`), recordBody),
    req(fc.constantFrom('PUT', 'PATCH'), id.map((i) => `${cf}/dns_records/${i}`), recordBody),
    req(fc.constant('POST'), fc.constant(`${cf}/dns_records/batch`), fc.record({
      deletes: fc.oneof(fc.array(fc.record({ id: fc.oneof(fc.string({ maxLength: 33 }), odd) }), { maxLength: 2 }), odd),
      patches: fc.oneof(fc.array(withId(ids), { maxLength: 2 }), odd), puts: fc.oneof(fc.array(withId(ids), { maxLength: 2 }), odd),
      posts: fc.oneof(fc.array(recordBody, { maxLength: 3 }), odd),
    }, { requiredKeys: [] })),
    req(fc.constant('PATCH'), fc.constantFrom(`${cf}/dnssec`, `${cf}/dns_settings`, `${cf}/dns_settings/use_apex_ns`), settingsBody),
    req(fc.constant('POST'), fc.constant(`${cf}/dnssec/parent_ds`), settingsBody),
    req(fc.constantFrom('PUT', 'POST'), fc.constantFrom('ms', 'x y', 'a'.repeat(70), '..').map((s) => `/v1/zones/example.com/dnssec/external_keys/${encodeURIComponent(s)}`), ns1Body),
    req(fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE'), fc.constantFrom(`${cf}/nothing`, '/v1/zones/example.com/nothing', `${cf}/dns_records/batch/x`, '/client/v4/zones/0000/dns_records'), recordBody),
  );
}

const isCloudflareError = (b: any) => b && b.success === false && Array.isArray(b.errors) && b.errors.length > 0 && b.errors.every((e: any) => Number.isInteger(e.code) && typeof e.message === 'string' && e.message !== '') && Array.isArray(b.messages) && b.result === null;
const isNs1Error = (b: any) => b && typeof b.message === 'string' && b.message !== '' && Object.keys(b).length === 1;

export const apiTarget = target<Request>({
  name: 'api',
  about: 'api/: random and malformed bodies get 4xx in the route family\'s error shape (never 500) and change nothing',
  weight: 6,
  caseMs: 10_000,
  async prepare() {
    const zonesDir = await exampleZoneDir((t) => t.replace('multi_signer: false', 'multi_signer: true'));
    const stateDir = await mkdtemp(join(tmpdir(), 'tandem-fuzz-api-'));
    const logger = pino({ level: 'silent' });
    let t = 1_750_000_000;
    const clock = { now: () => t };
    const { manager } = await TandemZoneManager.open({ zonesDir, stateDir, clock, logger, cache: new SignatureCache() });
    const api: RunningApi = await startApi({ manager, auth: { tokens: [sha256Hex(TOKEN)], users: [], ns1Keys: [] }, at: { host: '127.0.0.1', port: 0 }, logger });
    const base = `http://127.0.0.1:${api.address.port}`;
    const zone = manager.zones()[0];
    const ids = manager.records(zone.id).slice(0, 6).map((r) => r.id);
    const snapshot = () => JSON.stringify({
      records: manager.records(zone.id), dnssec: manager.dnssec(zone.id), settings: manager.dnsSettings(zone.id), keys: manager.externalKeySets(zone.id),
    }, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v && typeof v === 'object' && 'labels' in v && 'key' in v ? String(v) : v));
    return {
      async: true,
      arbitrary: requests(zone.id, ids),
      async check(r) {
        t += 1;
        const before = snapshot();
        const headers: Record<string, string> = r.path.startsWith('/v1') ? { 'x-nsone-key': TOKEN } : { authorization: `Bearer ${TOKEN}` };
        let body: string | undefined;
        if ('json' in r.body) { body = JSON.stringify(r.body.json) ?? 'null'; headers['content-type'] = 'application/json'; }
        else if ('raw' in r.body) body = r.body.raw;
        const res = await fetch(base + r.path, { method: r.method, headers, body });
        const text = await res.text();
        let json: unknown;
        try { json = JSON.parse(text); } catch { throw new Error(`HTTP ${res.status} without JSON: ${text.slice(0, 200)}`); }
        if (res.status >= 500) throw new Error(`HTTP ${res.status}: ${text.slice(0, 300)}`);
        if (res.status < 400) return;
        if (r.path.startsWith('/v1') ? !isNs1Error(json) : !isCloudflareError(json)) throw new Error(`HTTP ${res.status} in the wrong error shape: ${text.slice(0, 300)}`);
        if (snapshot() !== before) throw new Error(`HTTP ${res.status} refused the request, yet the zone changed: ${text.slice(0, 200)}`);
      },
      async close() {
        await api.close();
        await rm(zonesDir, { recursive: true, force: true });
        await rm(stateDir, { recursive: true, force: true });
      },
    };
  },
});
