// The per-answer signing paths: the NXNAME NSEC written from precomputed pieces, one-off signatures that
// bypass the signature cache, RRSIGs of zone RRsets kept per window period, and RRSIG RDATA taken from the
// signed data. Each must give exactly the bytes (and valid signatures) of the general path.
import { describe, expect, it } from 'vitest';
import { Name } from '../../../src/dns/name.js';
import type { RRset } from '../../../src/dns/rr.js';
import { RRType } from '../../../src/dns/types.js';
import { SignatureCache } from '../../../src/dnssec/cache.js';
import { nxnameNsec } from '../../../src/dnssec/denial/compact.js';
import { immediateSuccessor, nsecRrset } from '../../../src/dnssec/denial/nsec.js';
import { rrsigFromSignedData, rrsigRdata, signedData, type RrsigFields } from '../../../src/dnssec/rrsig.js';
import { NobleSigner, verifyRrsig } from '../../../src/dnssec/signer.js';
import { createZoneSigning } from '../../../src/dnssec/zonesigning.js';
import { DEFAULT_VALIDITY } from '../../../src/dnssec/window.js';
import { ask, NOW, signedZone, T, verifyAll } from './denial-fixture.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const NXNAME_TYPES = [RRType.RRSIG, RRType.NSEC, RRType.NXNAME];

describe('RFC 9824 §3.1: the NXNAME NSEC written from precomputed pieces', () => {
  const s = signedZone('compact');
  it('RFC 9824 §3.1: same RRset as the general builder (Next = \\000.<name>, bitmap RRSIG NSEC NXNAME), in the query\'s case', () => {
    for (const t of ['nope.example.com.', 'A.b.Example.COM.', 'x.y.www.example.com.']) {
      const name = Name.fromText(t);
      const fast = nxnameNsec(s.zone, name, 300);
      const general = nsecRrset(s.zone, name, immediateSuccessor(name, s.zone.origin), NXNAME_TYPES, 300);
      expect(fast.name).toBe(name);
      expect({ ...fast, rdatas: fast.rdatas.map(hex) }).toEqual({ ...general, rdatas: general.rdatas.map(hex) });
    }
  });

  it('RFC 4034 §6.1: a name too long for a \\000 label gets the general immediate successor', () => {
    // 254 octets in wire form: `\000.<name>` would exceed 255 (RFC 1035 §3.1).
    const long = Name.fromText(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(48)}.example.com.`);
    expect(long.wireLength).toBe(254);
    const fast = nxnameNsec(s.zone, long, 300);
    const general = nsecRrset(s.zone, long, immediateSuccessor(long, s.zone.origin), NXNAME_TYPES, 300);
    expect(hex(fast.rdatas[0])).toBe(hex(general.rdatas[0]));
    expect(fast.rdatas[0][0]).not.toBe(1); // not the `\000` label
  });
});

describe('one-off signatures (RFC 9824 §3.1) skip the signature cache; everything else is cached', () => {
  it('RFC 9824 §3.1: compact NXDOMAIN answers leave only the SOA signature in the cache, and verify', async () => {
    const s = signedZone('compact');
    const c = new SignatureCache();
    const signing = createZoneSigning({ zone: s.zone.origin, ksk: s.ksk, zsk: s.zsk, clock: { now: () => NOW }, cache: c, negativeTtl: 300 });
    const t = { ...s, signing };
    for (const q of ['r1', 'r2', 'r3', 'r1']) {
      const r = await ask(t, q, T.A);
      expect(verifyAll(t, r)).toBe(2); // SOA and NSEC RRSIGs, both verifiers
    }
    expect(c.size).toBe(1); // the negative SOA only
    expect(c.stats.misses).toBe(1);
    // NODATA proofs are reusable: cached like any RRset.
    await ask(t, 'www', T.MX);
    expect(c.size).toBe(2);
  });

  it('RFC 4035 §3.1.3: with NSEC white lies the proof signatures stay cached', async () => {
    const s = signedZone('nsec');
    const c = new SignatureCache();
    const signing = createZoneSigning({ zone: s.zone.origin, ksk: s.ksk, zsk: s.zsk, clock: { now: () => NOW }, cache: c, negativeTtl: 300 });
    await ask({ ...s, signing }, 'r1', T.A);
    expect(c.size).toBeGreaterThan(1);
  });

  it('signRrset with once: a valid RRSIG, nothing read from or written to the cache', async () => {
    const s = signedZone('compact');
    const c = new SignatureCache();
    const signing = createZoneSigning({ zone: s.zone.origin, ksk: s.ksk, zsk: s.zsk, clock: { now: () => NOW }, cache: c, negativeTtl: 300 });
    const set = nxnameNsec(s.zone, Name.fromText('gone.example.com.'), 300);
    const [rr] = await signing.signRrset(set, { once: true });
    expect(verifyRrsig(rr.rdata, set, s.zsk.dnskey, { now: NOW })).toBe(true);
    expect(c.size).toBe(0);
    expect(c.stats).toEqual({ hits: 0, misses: 0, joined: 0 });
  });
});

describe('RRSIGs of zone RRsets kept per window period', () => {
  const zone = Name.fromText('example.com.');
  const ksk = new NobleSigner(Uint8Array.from({ length: 32 }, (_, i) => i + 1), 257);
  const zsk = new NobleSigner(Uint8Array.from({ length: 32 }, (_, i) => 0x40 + i), 256);
  const A = (ip: string): RRset => ({ name: Name.fromText('www.example.com.'), type: RRType.A, class: 1, ttl: 300, rdatas: [Uint8Array.from(ip.split('.').map(Number))] });

  it('a repeat for the same RRset costs no cache lookup and gives the same RRSIG; a new period signs again', async () => {
    let now = NOW;
    const c = new SignatureCache();
    const zs = createZoneSigning({ zone, ksk, zsk, clock: { now: () => now }, cache: c, negativeTtl: 300 });
    const set = A('192.0.2.1');
    const [first] = await zs.signRrset(set);
    const [again] = await zs.signRrset(set);
    expect(again.rdata).toBe(first.rdata);
    expect(c.stats).toEqual({ hits: 0, misses: 1, joined: 0 });
    // An equal RRset in another object goes through the cache (content-keyed): a hit.
    await zs.signRrset(A('192.0.2.1'));
    expect(c.stats.hits).toBe(1);
    // KSK-forced signing of the same object is a different signature.
    const [byKsk] = await zs.signRrset(set, { ksk: true });
    expect(verifyRrsig(byKsk.rdata, set, ksk.dnskey, { now })).toBe(true);
    expect(hex(byKsk.rdata)).not.toBe(hex(first.rdata));
    now = NOW + DEFAULT_VALIDITY; // a later period: a new window, a new signature
    const [later] = await zs.signRrset(set);
    expect(hex(later.rdata)).not.toBe(hex(first.rdata));
    expect(verifyRrsig(later.rdata, set, zsk.dnskey, { now })).toBe(true);
  });

  it('bounded: with answered = 0 every repeat goes through the signature cache', async () => {
    const c = new SignatureCache();
    const zs = createZoneSigning({ zone, ksk, zsk, clock: { now: () => NOW }, cache: c, negativeTtl: 300, answered: 0 });
    const set = A('192.0.2.1');
    await zs.signRrset(set);
    await zs.signRrset(set);
    expect(c.stats).toMatchObject({ hits: 1, misses: 1 });
  });
});

describe('RFC 4034 §3.1.8.1: RRSIG RDATA from the signed data', () => {
  it('equals the RDATA written from the fields', () => {
    const fields: RrsigFields = {
      typeCovered: RRType.A, algorithm: 13, labels: 3, originalTtl: 3600, expiration: 1_800_000_000, inception: 1_700_000_000,
      keyTag: 4242, signerName: Name.fromText('Example.NET.'),
    };
    const tbs = signedData({ name: Name.fromText('www.example.net.'), type: RRType.A, class: 1, ttl: 3600, rdatas: [Uint8Array.of(192, 0, 2, 1)] }, fields);
    const sig = Uint8Array.from({ length: 64 }, (_, i) => i);
    expect(hex(rrsigFromSignedData(fields, tbs, sig))).toBe(hex(rrsigRdata(fields, sig)));
  });
});
