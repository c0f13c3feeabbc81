// The precomputed chains of `denial: nsec3-chain` and `nsec-chain` (dnssec/chain.ts): what they hold (RFC 4035
// §2.3, RFC 5155 §7.1), how a new zone version patches them (only the neighbours of a changed name get new
// links, and only those are signed again), and the answers they give.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Name } from '../../../src/dns/name.js';
import type { Rr, RRset } from '../../../src/dns/rr.js';
import { Rcode, RRType } from '../../../src/dns/types.js';
import { decodeTypeBitmap } from '../../../src/dns/bitmap.js';
import { apexRrsets } from '../../../src/dnssec/apex.js';
import { SignatureCache } from '../../../src/dnssec/cache.js';
import { buildDenialChain, changedNames, type ChainKind, type DenialChain } from '../../../src/dnssec/chain.js';
import { nsec3paramRrset } from '../../../src/dnssec/denial/nsec3.js';
import { FLAGS_KSK, FLAGS_ZSK } from '../../../src/dnssec/keys.js';
import { NobleSigner } from '../../../src/dnssec/signer.js';
import type { Signer } from '../../../src/dnssec/types.js';
import { createZoneSigning, type ZoneSigningImpl } from '../../../src/dnssec/zonesigning.js';
import type { Zone } from '../../../src/zone/types.js';
import { rng } from '../../helpers/random.js';
import { A, MX, NS, ORIGIN, SOA, TXT, n, settings, zoneOf } from '../zone/helpers.js';
import { ask, nsec3s, nsecs, NOW, records, signedZone, T, verifyAll } from './denial-fixture.js';

/** A signer that counts its signatures (the deterministic one underneath). */
class CountingSigner implements Signer {
  calls = 0;
  constructor(private readonly inner: Signer) {}
  get algorithm() { return this.inner.algorithm; }
  get keyTag() { return this.inner.keyTag; }
  get dnskey() { return this.inner.dnskey; }
  sign(tbs: Uint8Array): Promise<Uint8Array> {
    this.calls++;
    return this.inner.sign(tbs);
  }
}

const KSK = new NobleSigner(Uint8Array.from({ length: 32 }, (_, i) => i + 1), FLAGS_KSK);
const ZSK = new NobleSigner(Uint8Array.from({ length: 32 }, (_, i) => 0x40 + i), FLAGS_ZSK);

/** One version of the test zone (denial-fixture's records plus `extra`, minus the owners in `drop`), as the loader builds it. */
function version(kind: ChainKind, recs: Rr[]): Zone {
  const apex = apexRrsets({ zone: ORIGIN, keys: { ksk: KSK, zsk: ZSK }, dnskeyTtl: 3600, cds: 'publish' });
  const soa = SOA();
  const sets: RRset[] = [apex.dnskey];
  if (kind === 'nsec3') sets.push(nsec3paramRrset({ origin: ORIGIN, soa: { name: ORIGIN, type: soa.type, class: soa.class, ttl: soa.ttl, rdatas: [soa.rdata] } }));
  return zoneOf(recs, { settings: settings({ dnssec: true, denial: kind === 'nsec3' ? 'nsec3-chain' : 'nsec-chain' }), apexRrsets: sets });
}

function signingFor(zsk: Signer = ZSK, clock: { now(): number } = { now: () => NOW }): ZoneSigningImpl {
  return createZoneSigning({ zone: ORIGIN, ksk: KSK, zsk, clock, cache: new SignatureCache(), negativeTtl: 300 });
}

const links = (c: DenialChain) => c.links();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
/** A chain as text: owner and RDATA of every link, in order. */
const text = (c: DenialChain) => links(c).map((l) => `${l.name.key} ${hex(l.rdatas[0])}`);
const h = (name: Name) => createHash('sha1').update(name.canonicalWire()).digest('hex');

describe('what the chain holds', () => {
  it('RFC 5155 §7.1, RFC 9276 §3.1: one NSEC3 per authoritative name (ENTs and cuts, no glue), in hash order, each Next the following hash, the last wrapping; `1 0 0 -`', () => {
    const c = buildDenialChain(version('nsec3', records()), signingFor(), { kind: 'nsec3' });
    const owners = ['@', 'ns1', 'www', 'mail', 'mx', '_sip._tcp', '_tcp', 'a.b.c', 'b.c', 'c', '*.wild', 'wild', 'alias', 'ext', 'dangling', 'walias', 'dn', 'sub', 'secure'];
    const hashes = owners.map((o) => h(o === '@' ? ORIGIN : n(o))).sort();
    const list = nsec3s(links(c).flatMap((l) => l.rdatas.map((rdata) => ({ name: l.name, type: l.type, class: l.class, ttl: l.ttl, rdata }))));
    expect(list.map((x) => Buffer.from(x.hash.toLowerCase(), 'utf8').length)).toEqual(list.map(() => 32));
    expect(c.index.nsec3.map((e) => hex(e.hash))).toEqual(hashes); // glue ns.sub is not there
    for (const [i, x] of list.entries()) {
      expect(x.next).toBe(list[(i + 1) % list.length].hash);
      expect([x.flags, x.iterations, x.salt]).toEqual([0, 0, 0]);
    }
    expect(links(c).every((l) => l.ttl === 300)).toBe(true); // RFC 9077 §3: min(SOA TTL, MINIMUM)
  });

  it('RFC 5155 §3.2.1: an ENT has an empty bitmap, an insecure cut NS only, a secure cut NS DS RRSIG, the apex its types with NSEC3PARAM', () => {
    const c = buildDenialChain(version('nsec3', records()), signingFor(), { kind: 'nsec3' });
    const typesOf = (name: Name) => decodeTypeBitmap(c.index.nsec3.find((e) => hex(e.hash) === h(name))!.rrset.rdatas[0].subarray(26));
    expect(typesOf(n('b.c'))).toEqual([]);
    expect(typesOf(n('sub'))).toEqual([T.NS]);
    expect(typesOf(n('secure'))).toEqual([T.NS, T.DS, T.RRSIG]);
    expect(typesOf(ORIGIN)).toEqual([T.NS, T.SOA, T.RRSIG, T.DNSKEY, T.NSEC3PARAM]);
  });

  it('RFC 4035 §2.3: one NSEC per name with data and per cut (no ENT, no glue), in canonical order, the last pointing at the apex', () => {
    const c = buildDenialChain(version('nsec', records()), signingFor(), { kind: 'nsec' });
    const list = nsecs(links(c).map((l) => ({ name: l.name, type: l.type, class: l.class, ttl: l.ttl, rdata: l.rdatas[0] })));
    const owners = list.map((x) => x.owner);
    expect(owners).toEqual([...owners].sort((a, b) => Name.fromText(a).compare(Name.fromText(b))));
    expect(owners).toContain('sub.example.com.');
    expect(owners).not.toContain('b.c.example.com.');
    expect(owners).not.toContain('ns.sub.example.com.');
    for (const [i, x] of list.entries()) expect(x.next).toBe(list[(i + 1) % list.length].owner);
    expect(list.at(-1)!.next).toBe('example.com.');
    expect(list.find((x) => x.owner === 'sub.example.com.')!.types).toEqual([T.NS, T.RRSIG, T.NSEC]);
    expect(list.find((x) => x.owner === 'secure.example.com.')!.types).toEqual([T.NS, T.DS, T.RRSIG, T.NSEC]);
  });

  it('RFC 5155 §6, §7.1: with opt-out an insecure delegation has no NSEC3 and every NSEC3 has the Opt-Out flag', () => {
    const c = buildDenialChain(version('nsec3', records()), signingFor(), { kind: 'nsec3', optOut: true });
    expect(c.index.nsec3.some((e) => hex(e.hash) === h(n('sub')))).toBe(false);
    expect(c.index.nsec3.some((e) => hex(e.hash) === h(n('secure')))).toBe(true);
    expect(c.index.nsec3.every((e) => e.rrset.rdatas[0][1] === 1)).toBe(true);
  });
});

describe('answers from the chain (the RRSIGs verify; no answer makes a signature once the chain is signed)', () => {
  for (const mode of ['nsec3-chain', 'nsec-chain'] as const) {
    it(`${mode}: NXDOMAIN, NODATA, ENT, wildcard, wildcard NODATA and insecure referral carry verifying proofs, and a second ask signs nothing`, async () => {
      const s = signedZone(mode);
      for (const [q, t, rcode] of [['nope', T.A, Rcode.NXDOMAIN], ['www', T.MX, Rcode.NOERROR], ['b.c', T.A, Rcode.NOERROR], ['x.wild', T.A, Rcode.NOERROR], ['x.wild', T.MX, Rcode.NOERROR], ['host.sub', T.A, Rcode.NOERROR], ['sub', T.DS, Rcode.NOERROR]] as const) {
        const r = await ask(s, q, t);
        expect(r.rcode, `${q} ${t}`).toBe(rcode);
        expect(verifyAll(s, r), `${q} ${t}`).toBeGreaterThan(0);
        const proof = r.authority.filter((x) => x.type === (mode === 'nsec-chain' ? T.NSEC : T.NSEC3));
        expect(proof.length, `${q} ${t}`).toBeGreaterThan(0);
        // Every proof record is a link of the chain, byte for byte.
        for (const p of proof) expect(links(s.signing.chain!).some((l) => l.name.equals(p.name) && hex(l.rdatas[0]) === hex(p.rdata))).toBe(true);
      }
      // The links answers needed were signed once and kept; signing the chain signs only the others.
      const chain = s.signing.chain!;
      const used = chain.links().filter((l) => chain.isSigned(l)).length;
      expect(used).toBeGreaterThan(0);
      expect((await chain.sign()).signed).toBe(chain.links().length - used);
      expect(chain.links().every((l) => chain.isSigned(l))).toBe(true);
    });
  }

  it('RFC 5155 §7.2.7: with opt-out an insecure referral is proven by the closest provable encloser and an Opt-Out NSEC3 covering the cut', async () => {
    const s = signedZone('nsec3-chain', { optOut: true });
    const r = await ask(s, 'host.sub', T.A);
    const list = nsec3s(r.authority);
    expect(list).toHaveLength(2);
    expect(list.map((x) => x.flags)).toEqual([1, 1]);
    expect(verifyAll(s, r)).toBe(2);
  });
});

describe('signing periods', () => {
  it('when the signing period turns, a kept RRSIG is not served again: the link is signed anew with the new window, once', async () => {
    const clock = { t: NOW, now() { return this.t; } };
    const zsk = new CountingSigner(ZSK);
    const chain = buildDenialChain(version('nsec3', records()), signingFor(zsk, clock), { kind: 'nsec3' });
    await chain.sign();
    const link = chain.links()[0];
    const inception = (rrs: Rr[]) => new DataView(rrs[0].rdata.buffer, rrs[0].rdata.byteOffset).getUint32(12);
    const before = await chain.rrsigs(link);
    const calls = zsk.calls;
    clock.t = chain.refreshAt() + 1;
    expect(chain.isSigned(link)).toBe(false);
    const after = await chain.rrsigs(link);
    expect(inception(after)).toBeGreaterThan(inception(before));
    expect(await chain.rrsigs(link)).toBe(after); // kept for the new period
    expect(zsk.calls - calls).toBe(1);
  });
});

describe('a new version patches the chain: only the neighbours of a changed name are made and signed again', () => {
  for (const kind of ['nsec3', 'nsec'] as const) {
    it(`${kind}: adding a name makes two links (its own and its predecessor's); the others are the same objects, with their RRSIGs`, async () => {
      const zsk = new CountingSigner(ZSK);
      const v1 = version(kind, records());
      const c1 = buildDenialChain(v1, signingFor(zsk), { kind });
      await c1.sign();
      expect(zsk.calls).toBe(c1.links().length);
      const v2 = version(kind, [...records(), A('new', '192.0.2.99')]);
      const c2 = buildDenialChain(v2, signingFor(zsk), { kind }, { previous: { zone: v1, chain: c1 } });
      expect(c2.stats).toMatchObject({ full: false, made: 2, links: c1.links().length + 1, examined: 1 });
      const kept = c2.links().filter((l) => c1.links().includes(l));
      expect(kept).toHaveLength(c2.links().length - 2);
      const calls = zsk.calls;
      await c2.sign();
      expect(zsk.calls - calls).toBe(2);
      // The patched chain is the chain a full build makes.
      expect(text(c2)).toEqual(text(buildDenialChain(v2, signingFor(), { kind })));
    });

    it(`${kind}: removing a name makes one link (its predecessor's); changing a name's types makes its own`, async () => {
      const zsk = new CountingSigner(ZSK);
      const v1 = version(kind, records());
      const c1 = buildDenialChain(v1, signingFor(zsk), { kind });
      await c1.sign();
      const v2 = version(kind, records().filter((r) => !r.name.equals(n('mail'))));
      const c2 = buildDenialChain(v2, signingFor(zsk), { kind }, { previous: { zone: v1, chain: c1 } });
      expect(c2.stats).toMatchObject({ full: false, made: 1, links: c1.links().length - 1 });
      expect(text(c2)).toEqual(text(buildDenialChain(v2, signingFor(), { kind })));
      const v3 = version(kind, [...records().filter((r) => !r.name.equals(n('mail'))), MX('www', 10, 'mx')]);
      const c3 = buildDenialChain(v3, signingFor(zsk), { kind }, { previous: { zone: v2, chain: c2 } });
      expect(c3.stats).toMatchObject({ made: 1, links: c2.links().length });
      expect(text(c3)).toEqual(text(buildDenialChain(v3, signingFor(), { kind })));
      const calls = zsk.calls;
      await c3.sign();
      expect(zsk.calls - calls).toBe(2); // c2's new link, then c3's
    });

    it(`${kind}: a name becoming a delegation takes the names below it out of the chain (RFC 4035 §2.2: now glue)`, () => {
      const extra = [A('host.www', '192.0.2.7'), A('a.host.www', '192.0.2.8')];
      const v1 = version(kind, [...records(), ...extra]);
      const c1 = buildDenialChain(v1, signingFor(), { kind });
      const v2 = version(kind, [...records().filter((r) => !r.name.equals(n('www'))), NS('www', 'ns.example.net.'), ...extra]);
      expect(changedNames(v1, v2).map((x) => x.key).sort()).toEqual(['a.host.www.example.com.', 'host.www.example.com.', 'www.example.com.']);
      const c2 = buildDenialChain(v2, signingFor(), { kind }, { previous: { zone: v1, chain: c1 } });
      expect(c2.stats.full).toBe(false);
      expect(text(c2)).toEqual(text(buildDenialChain(v2, signingFor(), { kind })));
      expect(c2.links().some((l) => l.name.equals(n('host.www')))).toBe(false);
    });

    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 0xffffffff);
    it(`${kind}: random changes (seed ${seed}, FUZZ_SEED replays) always patch to the chain a full build makes`, () => {
      const next01 = rng(seed);
      let recs = records();
      let zone = version(kind, recs);
      let chain = buildDenialChain(zone, signingFor(), { kind });
      const labels = ['p', 'q', 'r.s', 't.r.s', 'u.v.w', 'www', 'mx', 'z', '*.z', 'deep.a.b.c'];
      for (let step = 0; step < 40; step++) {
        const owner = labels[Math.floor(next01() * labels.length)];
        const roll = next01();
        let changed: Rr[];
        // Remove the owner's records, add an address, or make it a delegation point (its descendants turn into glue).
        if (roll < 0.4) changed = recs.filter((r) => !r.name.equals(n(owner)));
        else if (roll < 0.8) changed = [...recs.filter((r) => !(r.name.equals(n(owner)) && r.type === RRType.A)), A(owner, `192.0.2.${step}`)];
        else changed = [...recs.filter((r) => !r.name.equals(n(owner)) || r.type === RRType.A), NS(owner, 'ns.example.net.')];
        let next: Zone;
        try {
          next = version(kind, changed);
        } catch {
          continue; // a change the zone refuses (e.g. data other than addresses below a delegation)
        }
        recs = changed;
        const patched = buildDenialChain(next, signingFor(), { kind }, { previous: { zone, chain } });
        expect(text(patched), `seed ${seed} step ${step} ${owner}`).toEqual(text(buildDenialChain(next, signingFor(), { kind })));
        zone = next;
        chain = patched;
      }
    });
  }

  it('another ZSK, TTL or opt-out setting builds the chain whole (no RRSIG of another key is reused)', () => {
    const v1 = version('nsec3', records());
    const c1 = buildDenialChain(v1, signingFor(), { kind: 'nsec3' });
    const other = new NobleSigner(Uint8Array.from({ length: 32 }, (_, i) => 0x20 + i), FLAGS_ZSK);
    expect(buildDenialChain(v1, signingFor(other), { kind: 'nsec3' }, { previous: { zone: v1, chain: c1 } }).stats.full).toBe(true);
    expect(buildDenialChain(v1, signingFor(), { kind: 'nsec3', optOut: true }, { previous: { zone: v1, chain: c1 } }).stats.full).toBe(true);
    expect(buildDenialChain(v1, signingFor(), { kind: 'nsec3' }, { previous: { zone: v1, chain: c1 } }).stats).toMatchObject({ full: false, made: 0, examined: 0 });
  });
});
