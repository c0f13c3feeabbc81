// RFC 8901 model 2 with a real second provider: tandem (A) and Knot (B) each sign with their own KSK and ZSK,
// import each other's keys, and a resolver that cached the DNSKEY RRset of one must validate answers of the
// other. Validators decide: unbound (pinned to each ordered pair of providers) and dnspython per RRset.
// The same checks then run for two tandem instances.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig, requireTool } from '../helpers/dig.js';
import { startKnot, type KnotInstance } from '../helpers/knot.js';
import { startUnbound, type UnboundInstance } from '../helpers/unbound.js';
import { reportErrors, validateAnswers } from '../helpers/validate.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { api, enableMultiSigner, importKeys, MS_KNOT_ZONE, MS_ZONE, tandemKeyFiles } from '../helpers/multisigner.js';

const ZONE = MS_ZONE;
const KNOT_ZONE = MS_KNOT_ZONE;
const QUERIES = [
  { name: `www.${ZONE}`, type: 'A' },        // positive
  { name: `nope.${ZONE}`, type: 'A' },       // nonexistent name
  { name: `www.${ZONE}`, type: 'MX' },       // NODATA
  { name: `b.${ZONE}`, type: 'A' },          // empty non-terminal
  { name: `mail.${ZONE}`, type: 'MX' },
];

interface Provider {
  name: string;
  host: string;
  port: number;
  /** DS RRs of this provider's KSK(s). */
  ds: string[];
}

const addr = (p: Provider) => `${p.host}@${p.port}`;

async function dnskeySet(p: Provider): Promise<string[]> {
  const r = await dig({ host: p.host, port: p.port }, ['+norec', ZONE, 'DNSKEY']);
  return r.answer.filter((x) => x.type === 'DNSKEY').map((x) => x.data.replace(/\s+/g, '')).sort();
}

/** Every check of the proof for one pair of providers. */
function providerChecks(get: () => { a: Provider; b: Provider; resolvers: UnboundInstance[] }): void {
  it('both providers serve an identical DNSKEY RRset (compared as sets)', async () => {
    const { a, b } = get();
    const [ka, kb] = await Promise.all([dnskeySet(a), dnskeySet(b)]);
    expect(ka.length).toBe(4);
    expect(ka).toEqual(kb);
  });

  it('the crux: answers signed by one provider validate with the DNSKEY RRset fetched from the other (dnspython)', async () => {
    const { a, b } = get();
    for (const [x, y] of [[a, b], [b, a], [a, a], [b, b]]) {
      const report = await validateAnswers({ zone: ZONE, dnskeyFrom: addr(y), dataFrom: addr(x), ds: [...a.ds, ...b.ds], queries: QUERIES });
      expect(reportErrors(report), `data from ${x.name}, DNSKEY from ${y.name}`).toEqual([]);
      expect(report.ok).toBe(true);
    }
  });

  it('unbound pinned to every ordered pair (DNSKEY cached from Y, data from X) returns AD', async () => {
    const { a, b, resolvers } = get();
    const u = await startUnbound({ trustAnchors: [...a.ds, ...b.ds], stubs: [{ zone: ZONE, addrs: [addr(a), addr(b)] }] });
    resolvers.push(u);
    for (const [x, y] of [[a, b], [b, a]]) {
      const dnskey = await u.pinProviders(ZONE, addr(y), addr(x));
      expect(dnskey.flags, `DNSKEY from ${y.name}`).toContain('ad');
      for (const q of QUERIES) {
        const r = await u.query(q.name, q.type);
        expect(r.flags, `${q.name} ${q.type} from ${x.name} with ${y.name}'s DNSKEY: ${r.status}`).toContain('ad');
      }
    }
  });

  it('unbound with both DS records and both servers returns AD, many times over', async () => {
    const { a, b, resolvers } = get();
    const u = await startUnbound({ trustAnchors: [...a.ds, ...b.ds], stubs: [{ zone: ZONE, addrs: [addr(a), addr(b)] }] });
    resolvers.push(u);
    for (let i = 0; i < 10; i++) {
      await u.control(['flush_zone', ZONE]);
      for (const q of QUERIES) {
        const r = await u.query(q.name, q.type);
        expect(r.flags, `${q.name} ${q.type} round ${i}`).toContain('ad');
      }
    }
  });

  it('negative control: without A\'s KSK in the DS set, validation through A\'s DNSKEY RRset fails', async () => {
    const { a, b } = get();
    const report = await validateAnswers({ zone: ZONE, dnskeyFrom: addr(a), dataFrom: addr(a), ds: b.ds, queries: QUERIES.slice(0, 1) });
    expect(report.ok).toBe(false);
  });
}

describe('multi-signer: tandem (A) and Knot (B)', () => {
  let t: TestServer;
  let knot: KnotInstance;
  let a: Provider;
  let b: Provider;
  let id: string;
  let knotKeyIds: string[];
  const resolvers: UnboundInstance[] = [];

  beforeAll(async () => {
    for (const [tool, pkg] of [['knotd', 'knot'], ['keymgr', 'knot'], ['unbound', 'unbound']]) requireTool(tool, pkg);
    [t, knot] = await Promise.all([startTestServer({ zones: 'test/fixtures/multisigner' }), startKnot({ zone: ZONE, zoneText: KNOT_ZONE })]);
    id = await enableMultiSigner(t, 'ns1.knot.ms.test');
    // Knot's own DS, taken before it publishes our keys (keymgr ds lists every KSK it holds, imported ones too).
    const knotDs = (await knot.ds()).filter((d) => /\sDS\s+\d+\s+13\s+2\s/.test(d));
    expect(knotDs).toHaveLength(1);
    // B publishes A's ZSK and KSK (keymgr import-pub + zone-keys-load).
    for (const keyFile of await tandemKeyFiles(t)) await knot.importPublicKey(keyFile);
    // A imports B's ZSK and KSK through the API (Cloudflare's POST dns_records with a DNSKEY).
    const kk = (await knot.keys()).filter((k) => !k.publicOnly);
    expect(kk.map((k) => (k.ksk ? 'KSK' : 'ZSK')).sort()).toEqual(['KSK', 'ZSK']);
    knotKeyIds = await importKeys(t, id, kk.map((k) => k.dnskey));
    const dsA = [(await api(t, 'GET', `/zones/${id}/dnssec`)).result.ds as string];
    a = { name: 'tandem', host: t.host, port: t.port, ds: dsA };
    b = { name: 'knot', host: knot.host, port: knot.port, ds: knotDs };
  }, 90_000);
  afterAll(async () => {
    await Promise.all(resolvers.map((r) => r.stop()));
    await Promise.all([t?.stop(), knot?.stop()]);
  });

  providerChecks(() => ({ a, b, resolvers }));

  it('RFC 8901 §8: tandem publishes CDS and CDNSKEY for both KSKs, signed by its KSK', async () => {
    const cds = await dig({ host: a.host, port: a.port }, ['+norec', '+dnssec', ZONE, 'CDS']);
    const tags = cds.answer.filter((x) => x.type === 'CDS').map((x) => Number(x.data.split(' ')[0])).sort();
    const dsTags = [...a.ds, ...b.ds].map((d) => Number(d.split(/\s+/)[4])).sort();
    expect(tags).toEqual(dsTags);
    const report = await validateAnswers({ zone: ZONE, dnskeyFrom: addr(a), ds: [...a.ds, ...b.ds], queries: [{ name: ZONE, type: 'CDS' }, { name: ZONE, type: 'CDNSKEY' }] });
    expect(reportErrors(report)).toEqual([]);
  });

  it('apex NS: our nameservers plus the other provider\'s, with multi_provider on', async () => {
    const r = await dig({ host: a.host, port: a.port }, ['+norec', ZONE, 'NS']);
    expect(r.answer.map((x) => x.data).sort()).toEqual(['ns1.knot.ms.test.', 'ns1.tandem.ms.test.']);
  });

  it('issue 13: deleting an NS1 key set that also listed Knot\'s ZSK leaves the ZSK (the dns_records import holds it); Knot\'s answers still validate with tandem\'s DNSKEY RRset (dnspython)', async () => {
    const zsk = (await api(t, 'GET', `/zones/${id}/dns_records?type=DNSKEY`)).result.find((r: { data: { flags: number } }) => r.data.flags === 256);
    const ns1 = (method: string, body?: unknown) => fetch(`${t.api}/v1/zones/${ZONE.slice(0, -1)}/dnssec/external_keys/knot`, {
      method, headers: { 'x-nsone-key': t.token, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    expect((await ns1('PUT', { dnskey: { ttl: 3600, data: [zsk.data] } })).status).toBe(200);
    expect((await ns1('DELETE')).status).toBe(200);
    const report = await validateAnswers({ zone: ZONE, dnskeyFrom: addr(a), dataFrom: addr(b), ds: [...a.ds, ...b.ds], queries: QUERIES });
    expect(reportErrors(report)).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('negative control: with Knot\'s ZSK removed from tandem, Knot\'s answers fail with tandem\'s DNSKEY RRset', async () => {
    const zsk = (await api(t, 'GET', `/zones/${id}/dns_records?type=DNSKEY`)).result.find((r: { data: { flags: number } }) => r.data.flags === 256);
    expect(knotKeyIds).toContain(zsk.id);
    expect((await api(t, 'DELETE', `/zones/${id}/dns_records/${zsk.id}`)).success).toBe(true);
    const report = await validateAnswers({ zone: ZONE, dnskeyFrom: addr(a), dataFrom: addr(b), ds: [...a.ds, ...b.ds], queries: QUERIES.slice(0, 1) });
    expect(report.ok).toBe(false);
    // The other direction still works: Knot still publishes tandem's ZSK.
    const back = await validateAnswers({ zone: ZONE, dnskeyFrom: addr(b), dataFrom: addr(a), ds: [...a.ds, ...b.ds], queries: QUERIES.slice(0, 1) });
    expect(reportErrors(back)).toEqual([]);
  });
});

describe('multi-signer: two tandem instances as providers A and B', () => {
  let ta: TestServer;
  let tb: TestServer;
  let a: Provider;
  let b: Provider;
  const resolvers: UnboundInstance[] = [];

  beforeAll(async () => {
    requireTool('unbound', 'unbound');
    [ta, tb] = await Promise.all([startTestServer({ zones: 'test/fixtures/multisigner' }), startTestServer({ zones: 'test/fixtures/multisigner' })]);
    const ida = await enableMultiSigner(ta, 'ns1.knot.ms.test');
    const idb = await enableMultiSigner(tb, 'ns1.tandem.ms.test');
    const keysOf = async (s: TestServer, zid: string) =>
      ((await api(s, 'GET', `/zones/${zid}/dnssec/zsk`)).result as unknown[]).length >= 0
        ? (await tandemKeyFiles(s)).map((f) => f.split('\n').find((l) => /DNSKEY/.test(l) && !l.startsWith(';'))!)
        : [];
    await importKeys(ta, ida, await keysOf(tb, idb));
    await importKeys(tb, idb, await keysOf(ta, ida));
    a = { name: 'tandem-A', host: ta.host, port: ta.port, ds: [(await api(ta, 'GET', `/zones/${ida}/dnssec`)).result.ds] };
    b = { name: 'tandem-B', host: tb.host, port: tb.port, ds: [(await api(tb, 'GET', `/zones/${idb}/dnssec`)).result.ds] };
  }, 60_000);
  afterAll(async () => {
    await Promise.all(resolvers.map((r) => r.stop()));
    await Promise.all([ta?.stop(), tb?.stop()]);
  });

  it('the two instances have different keys', () => {
    expect(a.ds[0]).not.toEqual(b.ds[0]);
  });

  providerChecks(() => ({ a, b, resolvers }));
});
