// The key findings of `tandem check` (src/lab/keysets.ts) on providers made in memory: DNSKEY RRsets signed here
// with fresh keys, so each rule of RFC 8901 §3 / §2.1.2 / §8 and RFC 9975 is shown on its own.
import { describe, expect, it } from 'vitest';
import { Name } from '../../../src/dns/name.js';
import { formatRdata } from '../../../src/dns/rdata.js';
import type { RRset } from '../../../src/dns/rr.js';
import { RRType } from '../../../src/dns/types.js';
import { dsRdata, generateKey, type KeyPair } from '../../../src/dnssec/keys.js';
import { rrsigRdata, signedData } from '../../../src/dnssec/rrsig.js';
import { NodeSigner } from '../../../src/dnssec/signer.js';
import type { TrustAnchors } from '../../../src/lab/anchors.js';
import { checkCds, checkKeys, viewKeys, type KeyInput } from '../../../src/lab/keysets.js';
import type { ProviderState } from '../../../src/lab/providers.js';
import { Findings } from '../../../src/lab/report.js';

const zone = Name.fromText('ms.test.');
const NOW = 1_800_000_000;

async function sign(set: RRset, by: KeyPair[]): Promise<Uint8Array[]> {
  return Promise.all(by.map(async (k) => {
    const f = { typeCovered: set.type, algorithm: 13, labels: set.name.rrsigLabels, originalTtl: set.ttl, inception: NOW - 3600, expiration: NOW + 14 * 86400, keyTag: k.keyTag, signerName: zone };
    return rrsigRdata(f, await new NodeSigner(k).sign(signedData(set, f)));
  }));
}

const rrset = (type: number, rdatas: Uint8Array[], ttl = 300): RRset => ({ name: zone, type, class: 1, ttl, rdatas });

async function provider(label: string, keys: Uint8Array[], signers: KeyPair[], cds: KeyPair[] = [], ttl = 300): Promise<ProviderState> {
  const dnskey = rrset(RRType.DNSKEY, keys, ttl);
  const cdsSet = cds.length ? rrset(RRType.CDS, cds.map((k) => dsRdata(zone, k.dnskey, 2))) : undefined;
  return {
    p: { label, server: { host: '127.0.0.1', port: 53 } }, co: false, notAuthoritative: [], failures: [], messages: new Map(),
    soa: { sigs: [] }, ns: { sigs: [] }, cdnskey: { sigs: [] },
    dnskey: { set: dnskey, sigs: await sign(dnskey, signers) },
    cds: cdsSet ? { set: cdsSet, sigs: await sign(cdsSet, signers.filter((k) => k.flags === 257)) } : { sigs: [] },
  };
}

const anchorsFor = (...keys: Uint8Array[]): TrustAnchors => ({ source: 'ds.txt', ds: keys.map((k) => dsRdata(zone, k, 2)), keys: [], otherOwners: [] });

describe('keys across providers', () => {
  const kskA = generateKey(257), zskA = generateKey(256), kskB = generateKey(257), zskB = generateKey(256);
  const all = [kskA.dnskey, zskA.dnskey, kskB.dnskey, zskB.dnskey];

  async function inputs(a: ProviderState, b: ProviderState, anchors?: TrustAnchors): Promise<KeyInput[]> {
    return [
      { st: a, v: viewKeys(a, zone, anchors, NOW), zsks: [zskA.dnskey] },
      { st: b, v: viewKeys(b, zone, anchors, NOW), zsks: [zskB.dnskey] },
    ];
  }

  it('a correct model-2 set-up (every ZSK everywhere, one DS per KSK, the same CDS) has no findings but notes', async () => {
    const a = await provider('a', all, [kskA], [kskA, kskB]);
    const b = await provider('b', all, [kskB], [kskA, kskB]);
    const anchors = anchorsFor(kskA.dnskey, kskB.dnskey);
    const f = new Findings();
    const ps = await inputs(a, b, anchors);
    checkKeys(zone, ps, anchors, f);
    checkCds(zone, ps, anchors, NOW, f);
    expect(f.list.filter((x) => x.level !== 'note')).toEqual([]);
  });

  it('RFC 4034 §2.1.1: a DNSKEY RRset also signed by the ZSK keeps the SEP key as the only KSK (no DS asked for the ZSK)', async () => {
    const a = await provider('a', all, [kskA, zskA]);
    const v = viewKeys(a, zone, anchorsFor(kskA.dnskey), NOW);
    expect(v.ksks.map((k) => formatRdata(RRType.DNSKEY, k))).toEqual([formatRdata(RRType.DNSKEY, kskA.dnskey)]);
    expect(v.trusted).toBeDefined();
  });

  it('RFC 8901 §3: a ZSK missing from the other DNSKEY RRset; RFC 8901 §2.1.2: a KSK without DS; a stale DS', async () => {
    const a = await provider('a', [kskA.dnskey, zskA.dnskey, zskB.dnskey], [kskA]);
    const b = await provider('b', [kskB.dnskey, zskB.dnskey], [kskB]);
    const stale = generateKey(257);
    const anchors = anchorsFor(kskA.dnskey, stale.dnskey);
    const f = new Findings();
    checkKeys(zone, await inputs(a, b, anchors), anchors, f);
    expect(f.list.filter((x) => x.level === 'error').map((x) => `${x.code}: ${x.message}`)).toEqual([
      expect.stringMatching(/^dnskey-untrusted: the DNSKEY RRset of b is not trusted: no key of it matches a trust anchor from ds\.txt/),
      `zsk-missing: the DNSKEY RRset of b lacks ZSK ${zskA.keyTag} that a signs with: resolvers that cached b's DNSKEY RRset fail on a's answers (RFC 8901 §3)`,
      expect.stringMatching(new RegExp(`^ds-missing: KSK ${kskB.keyTag} of b`)),
      expect.stringMatching(new RegExp(`^ds-stale: DS ${stale.keyTag} 13 2 in ds.txt matches no key`)),
    ]);
  });

  it('RFC 9975: CDS differing between providers, and a CDS RRset without one provider\'s KSK (RFC 8901 §8)', async () => {
    const a = await provider('a', all, [kskA], [kskA, kskB]);
    const b = await provider('b', all, [kskB], [kskB]);
    const anchors = anchorsFor(kskA.dnskey, kskB.dnskey);
    const f = new Findings();
    checkCds(zone, await inputs(a, b, anchors), anchors, NOW, f);
    expect(f.list.filter((x) => x.level === 'error').map((x) => x.code)).toEqual(['cds-differs', 'cds-missing-ksk']);
    expect(f.list.find((x) => x.code === 'cds-missing-ksk')!.message).toBe(`the CDS RRset of b has no record for KSK ${kskA.keyTag} of a: a parent following it would drop that provider's DS (RFC 8901 §8)`);
  });

  it('DNSKEY TTLs that differ are a warning', async () => {
    const a = await provider('a', all, [kskA]);
    const b = await provider('b', all, [kskB], [], 3600);
    const f = new Findings();
    checkKeys(zone, await inputs(a, b), undefined, f);
    expect(f.list.filter((x) => x.level === 'warning').map((x) => x.code)).toEqual(['ttl-mismatch', 'no-trust-anchor']);
  });
});
