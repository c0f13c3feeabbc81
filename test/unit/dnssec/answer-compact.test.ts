import { describe, expect, it } from 'vitest';
import { Name } from '../../../src/dns/name.js';
import { Rcode } from '../../../src/dns/types.js';
import { parseRrsigRdata } from '../../../src/dnssec/rrsig.js';
import { A } from '../zone/helpers.js';
import { ask, nsecs, sigsFor, signedZone, T, verifyAll } from './denial-fixture.js';

const s = signedZone('compact');
const name = (t: string) => Name.fromText(t);

describe('compact denial of existence (RFC 9824)', () => {
  it('RFC 9824 §3.1: a nonexistent name gets NOERROR, the SOA and one NSEC owned by the name: Next \\000.<name>, RRSIG NSEC NXNAME', async () => {
    const r = await ask(s, 'nope', T.A);
    expect(r.rcode).toBe(Rcode.NOERROR);
    expect(r.aa).toBe(true);
    expect(r.answer).toEqual([]);
    expect(r.authority[0].type).toBe(T.SOA);
    expect(sigsFor(r.authority, name('example.com.'), T.SOA)).toHaveLength(1);
    expect(nsecs(r.authority)).toEqual([{ owner: 'nope.example.com.', next: '\\000.nope.example.com.', types: [T.RRSIG, T.NSEC, T.NXNAME], ttl: 300 }]);
    expect(sigsFor(r.authority, name('nope.example.com.'), T.NSEC)).toHaveLength(1);
    expect(verifyAll(s, r)).toBe(2);
  });

  it('RFC 9824 §5.1: when the query sets CO the same proof comes with RCODE NXDOMAIN', async () => {
    const r = await ask(s, 'nope', T.A, true);
    expect(r.rcode).toBe(Rcode.NXDOMAIN);
    expect(nsecs(r.authority).map((x) => x.types)).toEqual([[T.RRSIG, T.NSEC, T.NXNAME]]);
  });

  it('RFC 9824 §3.1: below an existing name the NSEC is still owned by the query name (no closest encloser proof)', async () => {
    const r = await ask(s, 'x.y.www', T.A);
    expect(nsecs(r.authority).map((x) => [x.owner, x.next])).toEqual([['x.y.www.example.com.', '\\000.x.y.www.example.com.']]);
  });

  it('RFC 9824 §3.2: NODATA at an existing name lists its types plus RRSIG NSEC, Next = immediate successor', async () => {
    const r = await ask(s, 'www', T.MX);
    expect(r.rcode).toBe(Rcode.NOERROR);
    expect(nsecs(r.authority)).toEqual([{ owner: 'www.example.com.', next: '\\000.www.example.com.', types: [T.A, T.AAAA, T.RRSIG, T.NSEC], ttl: 300 }]);
    expect(verifyAll(s, r)).toBe(2);
  });

  it('RFC 9824 §3.2: an empty non-terminal gets an NSEC with only RRSIG NSEC (no NXNAME)', async () => {
    for (const ent of ['b.c', 'c', 'wild']) {
      const r = await ask(s, ent, T.TXT);
      expect(r.rcode).toBe(Rcode.NOERROR);
      expect(nsecs(r.authority).map((x) => [x.owner, x.types])).toEqual([[`${ent}.example.com.`, [T.RRSIG, T.NSEC]]]);
    }
  });

  it('RFC 9824 §3.2: the apex NSEC lists SOA, NS and the key RRsets DNSKEY, CDS, CDNSKEY', async () => {
    const r = await ask(s, 'example.com.', T.TXT);
    expect(nsecs(r.authority)[0].types).toEqual([T.NS, T.SOA, T.RRSIG, T.NSEC, T.DNSKEY, T.CDS, T.CDNSKEY]);
  });

  it('RFC 9824 §3.3: a wildcard answer is signed as an exact match (labels = the query name\'s) with no NSEC', async () => {
    const r = await ask(s, 'x.wild', T.A);
    expect(r.answer[0].name.toString()).toBe('x.wild.example.com.');
    const sig = sigsFor(r.answer, name('x.wild.example.com.'), T.A);
    expect(sig).toHaveLength(1);
    expect(parseRrsigRdata(sig[0].rdata).fields.labels).toBe(4);
    expect(r.authority).toEqual([]);
    expect(verifyAll(s, r)).toBe(1);
  });

  it('RFC 9824 §3.3: wildcard NODATA is one NSEC at the query name with the wildcard\'s types', async () => {
    const r = await ask(s, 'x.wild', T.MX);
    expect(nsecs(r.authority)).toEqual([{ owner: 'x.wild.example.com.', next: '\\000.x.wild.example.com.', types: [T.A, T.TXT, T.RRSIG, T.NSEC], ttl: 300 }]);
    expect(verifyAll(s, r)).toBe(2);
  });

  it('RFC 9824 §3.4: an unsigned referral carries an NSEC at the cut, Next sub\\000.<parent>, bitmap NS RRSIG NSEC', async () => {
    const r = await ask(s, 'host.sub', T.A);
    expect(r.aa).toBe(false);
    expect(r.authority[0].type).toBe(T.NS);
    expect(sigsFor(r.authority, name('sub.example.com.'), T.NS)).toEqual([]);
    expect(nsecs(r.authority)).toEqual([{ owner: 'sub.example.com.', next: 'sub\\000.example.com.', types: [T.NS, T.RRSIG, T.NSEC], ttl: 300 }]);
    expect(verifyAll(s, r)).toBe(1);
  });

  it('RFC 4035 §3.1.4.1: a DS query at an insecure cut is NODATA from the parent: NSEC at the cut with NS RRSIG NSEC (glue types left out)', async () => {
    const z = signedZone('compact', { extra: [A('sub', '192.0.2.78')] });
    const r = await ask(z, 'sub', T.DS);
    expect(r.rcode).toBe(Rcode.NOERROR);
    expect(nsecs(r.authority).map((x) => [x.owner, x.next, x.types])).toEqual([['sub.example.com.', 'sub\\000.example.com.', [T.NS, T.RRSIG, T.NSEC]]]);
    expect(verifyAll(z, r)).toBe(2);
  });

  it('RFC 9824 §3.1 with RFC 6604: a CNAME chain ending at a nonexistent name is signed, with the denial for the final name', async () => {
    const r = await ask(s, 'dangling', T.A, true);
    expect(r.rcode).toBe(Rcode.NXDOMAIN);
    expect(r.answer.map((x) => [x.name.toString(), x.type])).toEqual([['dangling.example.com.', T.CNAME], ['dangling.example.com.', T.RRSIG]]);
    expect(nsecs(r.authority).map((x) => [x.owner, x.types])).toEqual([['nowhere.example.com.', [T.RRSIG, T.NSEC, T.NXNAME]]]);
    expect(verifyAll(s, r)).toBe(3);
  });

  it('RFC 9824 §3.3: a CNAME synthesized from a wildcard in a chain is signed as an exact match too', async () => {
    const r = await ask(s, 'walias', T.A);
    const sig = sigsFor(r.answer, name('x.wild.example.com.'), T.A);
    expect(parseRrsigRdata(sig[0].rdata).fields.labels).toBe(4);
    expect(r.authority).toEqual([]);
    expect(verifyAll(s, r)).toBe(2);
  });

  it('RFC 9077 §3: the NSEC TTL is the negative TTL of the signing layer (min of SOA TTL and MINIMUM)', async () => {
    const r = await ask(s, 'nope', T.A);
    const nsec = r.authority.find((x) => x.type === T.NSEC)!;
    expect(nsec.ttl).toBe(s.signing.negativeTtl);
    expect(sigsFor(r.authority, nsec.name, T.NSEC)[0].ttl).toBe(s.signing.negativeTtl);
  });
});
