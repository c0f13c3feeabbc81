import { describe, expect, it } from 'vitest';
import { Name } from '../../../src/dns/name.js';
import type { Rr } from '../../../src/dns/rr.js';
import { Rcode } from '../../../src/dns/types.js';
import { signAnswer } from '../../../src/dnssec/answer.js';
import { parseRrsigRdata } from '../../../src/dnssec/rrsig.js';
import type { ZoneSigning } from '../../../src/dnssec/types.js';
import { lookup } from '../../../src/zone/lookup.js';
import { toSections } from '../../../src/zone/sections.js';
import type { DenialMode } from '../../../src/zone/types.js';
import { ask, sigsFor, signedZone, T, verifyAll } from './denial-fixture.js';

const q = (t: string) => Name.fromText(t.endsWith('.') ? t : `${t}.example.com.`);
const MODES: DenialMode[] = ['compact', 'nsec', 'nsec3'];
const DNSSEC_TYPES = new Set<number>([T.RRSIG, T.NSEC, T.NSEC3]);
const strip = (rrs: Rr[]) => rrs.filter((r) => !DNSSEC_TYPES.has(r.type));
const show = (rrs: Rr[]) => rrs.map((r) => `${r.name} ${r.ttl} ${r.type} ${Buffer.from(r.rdata).toString('hex')}`);

const QUERIES: [string, number][] = [
  ['www', T.A], ['www', T.MX], ['nope', T.A], ['x.y.www', T.AAAA], ['b.c', T.TXT], ['example.com.', T.NS],
  ['example.com.', T.DNSKEY], ['example.com.', T.CDS], ['mail', T.MX], ['_sip._tcp', T.SRV], ['alias', T.A],
  ['ext', T.A], ['dangling', T.A], ['walias', T.A], ['x.wild', T.A], ['x.wild', T.MX], ['a.dn', T.A],
  ['host.sub', T.A], ['sub', T.DS], ['host.secure', T.AAAA], ['secure', T.DS], ['www', T.ANY],
];

describe('signAnswer (RFC 4035 §3.1)', () => {
  for (const mode of MODES) {
    it(`RFC 4035 §3.1.1: without its RRSIGs and denial records the ${mode} answer is the unsigned answer`, async () => {
      const s = signedZone(mode);
      for (const [name, type] of QUERIES) {
        const result = lookup(s.zone, q(name), type);
        const plain = toSections(s.zone, result);
        const signed = await signAnswer(s.zone, s.signing, result, { name: q(name), type, co: false });
        const label = `${mode} ${name} ${type}`;
        expect(show(strip(signed.answer)), label).toEqual(show(plain.answer));
        expect(show(strip(signed.authority)), label).toEqual(show(plain.authority));
        expect(show(signed.additional.filter((r) => r.type !== T.RRSIG)), label).toEqual(show(plain.additional));
        expect(signed.aa, label).toBe(plain.aa);
        // Compact denial answers nonexistent names with NOERROR unless CO (RFC 9824 §3.1, §5.1).
        if (!(mode === 'compact' && plain.rcode === Rcode.NXDOMAIN)) expect(signed.rcode, label).toBe(plain.rcode);
        verifyAll(s, signed);
      }
    });
  }

  it('RFC 4035 §3.1.1: every authoritative RRset in the answer is followed by its RRSIG (CNAME chain)', async () => {
    const s = signedZone('nsec');
    const r = await ask(s, 'alias', T.A);
    expect(r.answer.map((x) => [x.name.toString(), x.type])).toEqual([
      ['alias.example.com.', T.CNAME], ['alias.example.com.', T.RRSIG], ['www.example.com.', T.A], ['www.example.com.', T.RRSIG],
    ]);
    expect(verifyAll(s, r)).toBe(2);
  });

  it('RFC 4035 §2.1, RFC 7344 §4.1: DNSKEY and CDS/CDNSKEY are signed by the KSK, other data by the ZSK', async () => {
    const s = signedZone('compact');
    for (const [type, tag] of [[T.DNSKEY, s.ksk.keyTag], [T.CDS, s.ksk.keyTag], [T.CDNSKEY, s.ksk.keyTag], [T.NS, s.zsk.keyTag]]) {
      const r = await ask(s, 'example.com.', type);
      const sig = sigsFor(r.answer, q('example.com.'), type);
      expect(sig.map((x) => parseRrsigRdata(x.rdata).fields.keyTag), `type ${type}`).toEqual([tag]);
      verifyAll(s, r);
    }
  });

  it('RFC 6672 §5.3.1: the DNAME is signed, the CNAME synthesized from it is not', async () => {
    const s = signedZone('nsec3');
    const r = await ask(s, 'a.dn', T.A);
    expect(r.answer.map((x) => [x.name.toString(), x.type])).toEqual([
      ['dn.example.com.', T.DNAME], ['dn.example.com.', T.RRSIG], ['a.dn.example.com.', T.CNAME],
    ]);
    expect(verifyAll(s, r)).toBe(1);
  });

  it('RFC 4035 §3.1.1, §2.2: additional addresses of in-zone targets are signed; glue below a cut is not', async () => {
    const s = signedZone('compact');
    const r = await ask(s, 'example.com.', T.NS);
    const own = r.additional.filter((x) => x.name.equals(q('ns1')));
    expect(own.map((x) => x.type)).toEqual([T.A, T.RRSIG]);
    const glue = r.additional.filter((x) => x.name.equals(q('ns.sub')));
    expect(glue.map((x) => x.type)).toEqual([T.A]);
    const mx = await ask(s, 'mail', T.MX);
    expect(mx.additional.map((x) => [x.name.toString(), x.type])).toEqual([['mx.example.com.', T.A], ['mx.example.com.', T.RRSIG]]);
    expect(verifyAll(s, mx)).toBe(2);
  });

  it('RFC 4035 §3.1.4: a referral to a signed child has the DS RRset and its RRSIG; NS and glue are unsigned', async () => {
    const s = signedZone('compact');
    const r = await ask(s, 'www.secure', T.A);
    expect(r.aa).toBe(false);
    expect(r.authority.map((x) => [x.name.toString(), x.type])).toEqual([
      ['secure.example.com.', T.NS], ['secure.example.com.', T.DS], ['secure.example.com.', T.RRSIG],
    ]);
    expect(verifyAll(s, r)).toBe(1);
  });

  it('RFC 2308 §5: the negative answer\'s SOA has TTL min(SOA TTL, MINIMUM) and an RRSIG with that original TTL', async () => {
    const s = signedZone('nsec');
    const r = await ask(s, 'www', T.TXT);
    const soa = r.authority[0];
    expect(soa.type).toBe(T.SOA);
    expect(soa.ttl).toBe(300);
    expect(parseRrsigRdata(sigsFor(r.authority, q('example.com.'), T.SOA)[0].rdata).fields.originalTtl).toBe(300);
  });

  it('STYLE 13 (fail closed): a signing error rejects the answer (the caller sends SERVFAIL, never unsigned data)', async () => {
    const s = signedZone('compact');
    const failing: ZoneSigning = { zone: s.signing.zone, negativeTtl: 300, signRrset: () => Promise.reject(new Error('HSM unavailable')) };
    for (const [name, type] of [['www', T.A], ['nope', T.A], ['host.sub', T.A]] as [string, number][]) {
      await expect(signAnswer(s.zone, failing, lookup(s.zone, q(name), type), { name: q(name), type, co: false })).rejects.toThrow('HSM unavailable');
    }
  });

  it('STYLE 15: answers signed with node:crypto keys verify too (both verifiers)', async () => {
    for (const mode of MODES) {
      const s = signedZone(mode, { node: true });
      for (const [name, type] of QUERIES) verifyAll(s, await ask(s, name, type));
    }
  });

  it('STYLE 14: with the deterministic signer and a fixed clock the signed answer is byte-stable', async () => {
    const a = await ask(signedZone('nsec3'), 'nope', T.A);
    const b = await ask(signedZone('nsec3'), 'nope', T.A);
    expect(show(a.authority)).toEqual(show(b.authority));
  });
});
