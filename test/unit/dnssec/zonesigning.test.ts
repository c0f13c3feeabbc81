import { describe, expect, it } from 'vitest';
import { Name } from '../../../src/dns/name.js';
import type { RRset } from '../../../src/dns/rr.js';
import { RRType } from '../../../src/dns/types.js';
import { SignatureCache } from '../../../src/dnssec/cache.js';
import { apexRrsets } from '../../../src/dnssec/apex.js';
import { generateKey, privateScalar } from '../../../src/dnssec/keys.js';
import { parseRrsigRdata } from '../../../src/dnssec/rrsig.js';
import { NobleSigner, NodeSigner, verifyRrsig } from '../../../src/dnssec/signer.js';
import { createZoneSigning } from '../../../src/dnssec/zonesigning.js';
import { DEFAULT_VALIDITY, windowFor } from '../../../src/dnssec/window.js';

const n = (t: string) => Name.fromText(t);
const zone = n('example.com.');
const T0 = 1_700_000_000;
const kskKey = generateKey(257);
const zskKey = generateKey(256);
const ksk = new NobleSigner(privateScalar(kskKey.privateKey), 257);
const zsk = new NobleSigner(privateScalar(zskKey.privateKey), 256);
const A = (name: string, ...ips: string[]): RRset => ({
  name: n(name), type: RRType.A, class: 1, ttl: 300, rdatas: ips.map((ip) => Uint8Array.from(ip.split('.').map(Number))),
});

function setup(now = T0) {
  const clock = { now: () => now };
  const cache = new SignatureCache();
  const zs = createZoneSigning({ zone, ksk, zsk, clock, cache, negativeTtl: 3600 });
  return { zs, cache, clock, setNow: (t: number) => { now = t; } };
}

describe('createZoneSigning', () => {
  it('RFC 4035 §2.2: signs with the ZSK, signer name = apex, TTL and Original TTL = the RRset TTL', async () => {
    const { zs } = setup();
    const set = A('www.Example.com.', '192.0.2.1');
    const [rr] = await zs.signRrset(set);
    expect(rr.type).toBe(RRType.RRSIG);
    expect(rr.name).toBe(set.name);
    expect(rr.ttl).toBe(300);
    const { fields } = parseRrsigRdata(rr.rdata);
    expect(fields).toMatchObject({ typeCovered: RRType.A, algorithm: 13, labels: 3, originalTtl: 300, keyTag: zsk.keyTag });
    expect(fields.signerName.key).toBe('example.com.');
    expect(fields).toMatchObject(windowFor(T0, DEFAULT_VALIDITY));
    expect(verifyRrsig(rr.rdata, set, zsk.dnskey, { now: T0 })).toBe(true);
    expect(zs.negativeTtl).toBe(3600);
  });

  it('RFC 4035 §2.1 / RFC 7344 §4.1: DNSKEY, CDS and CDNSKEY are signed by the KSK', async () => {
    const { zs } = setup();
    const apex = apexRrsets({ zone, keys: { ksk, zsk }, dnskeyTtl: 3600, cds: 'publish' });
    for (const set of [apex.dnskey, apex.cds!, apex.cdnskey!]) {
      const [rr] = await zs.signRrset(set);
      expect(parseRrsigRdata(rr.rdata).fields.keyTag).toBe(ksk.keyTag);
      expect(verifyRrsig(rr.rdata, set, ksk.dnskey)).toBe(true);
    }
    const [forced] = await zs.signRrset(A('example.com.', '192.0.2.9'), { ksk: true });
    expect(parseRrsigRdata(forced.rdata).fields.keyTag).toBe(ksk.keyTag);
  });

  it('RFC 4034 §3.1.3 / RFC 4592: a wildcard answer has the wildcard labels count and verifies for the query name', async () => {
    const { zs, cache } = setup();
    const wildcard = n('*.example.com.');
    const x = A('x.y.example.com.', '192.0.2.7');
    const [rr] = await zs.signRrset(x, { wildcard });
    expect(rr.name.key).toBe('x.y.example.com.');
    expect(parseRrsigRdata(rr.rdata).fields.labels).toBe(2);
    expect(verifyRrsig(rr.rdata, x, zsk.dnskey)).toBe(true);
    // the same wildcard signature serves every query name (one cache entry)
    const [rr2] = await zs.signRrset(A('other.example.com.', '192.0.2.7'), { wildcard });
    expect(Buffer.from(rr2.rdata).equals(Buffer.from(rr.rdata))).toBe(true);
    expect(cache.stats.misses).toBe(1);
    await expect(zs.signRrset(A('www.example.org.', '192.0.2.7'), { wildcard })).rejects.toThrow(/not in zone/);
    await expect(zs.signRrset(x, { wildcard: n('*.com.') })).rejects.toThrow(/not synthesized/);
    await expect(zs.signRrset(A('example.com.', '192.0.2.7'), { wildcard })).rejects.toThrow(/not synthesized/);
    await expect(zs.signRrset(x, { wildcard: n('a.example.com.') })).rejects.toThrow(/not synthesized/);
  });

  it('caches by content: same RRset is a hit, a changed RRset or TTL a miss', async () => {
    const { zs, cache } = setup();
    await zs.signRrset(A('www.example.com.', '192.0.2.1'));
    await zs.signRrset(A('WWW.example.com.', '192.0.2.1'));
    expect(cache.stats).toMatchObject({ misses: 1, hits: 1 });
    await zs.signRrset(A('www.example.com.', '192.0.2.2'));
    await zs.signRrset({ ...A('www.example.com.', '192.0.2.1'), ttl: 60 });
    expect(cache.stats.misses).toBe(3);
  });

  it('a new window period gives new signatures; within a period they are byte-identical (deterministic signer)', async () => {
    const { zs, setNow } = setup();
    const set = A('www.example.com.', '192.0.2.1');
    const [first] = await zs.signRrset(set);
    const other = createZoneSigning({ zone, ksk, zsk, clock: { now: () => T0 + 1 }, cache: new SignatureCache(), negativeTtl: 3600 });
    expect(Buffer.from((await other.signRrset(set))[0].rdata).equals(Buffer.from(first.rdata))).toBe(true);
    setNow(T0 + DEFAULT_VALIDITY);
    const [later] = await zs.signRrset(set);
    expect(parseRrsigRdata(later.rdata).fields.inception).toBeGreaterThan(parseRrsigRdata(first.rdata).fields.inception);
    expect(verifyRrsig(later.rdata, set, zsk.dnskey, { now: T0 + DEFAULT_VALIDITY })).toBe(true);
  });

  it('RFC 4035 §2.2: refuses to sign RRSIG RRsets, names outside the zone, and empty RRsets', async () => {
    const { zs } = setup();
    await expect(zs.signRrset({ ...A('www.example.com.', '1.2.3.4'), type: RRType.RRSIG })).rejects.toThrow(/RRSIG/);
    await expect(zs.signRrset(A('www.example.org.', '1.2.3.4'))).rejects.toThrow(/not in zone/);
    await expect(zs.signRrset(A('www.example.com.'))).rejects.toThrow(/empty/);
  });

  it('presign fills the cache in batches and reports progress and failures', async () => {
    const { zs, cache } = setup();
    const sets = Array.from({ length: 10 }, (_, i) => A(`h${i}.example.com.`, `192.0.2.${i}`));
    const progress: number[] = [];
    const r = await zs.presign([...sets, A('bad.example.org.', '1.1.1.1')], (done, total) => { progress.push(done); expect(total).toBe(11); }, { batch: 4 });
    expect(r.signed).toBe(10);
    expect(r.failed.map((f) => f.rrset.name.key)).toEqual(['bad.example.org.']);
    expect(progress).toEqual([4, 8, 11]);
    await zs.signRrset(sets[3]);
    expect(cache.stats.hits).toBe(1);
  });

  it('works with NodeSigner too (signatures verify)', async () => {
    const zs = createZoneSigning({ zone, ksk: new NodeSigner(kskKey), zsk: new NodeSigner(zskKey), clock: { now: () => T0 }, cache: new SignatureCache(), negativeTtl: 60 });
    const set = A('www.example.com.', '192.0.2.1', '192.0.2.2');
    const [rr] = await zs.signRrset(set);
    expect(verifyRrsig(rr.rdata, set, zskKey.dnskey, { now: T0 })).toBe(true);
  });
});
