import { describe, expect, it } from 'vitest';
import { Name } from '../../../src/dns/name.js';
import { Rcode } from '../../../src/dns/types.js';
import { parseRrsigRdata } from '../../../src/dnssec/rrsig.js';
import type { Zone } from '../../../src/zone/types.js';
import { NS, TXT } from '../zone/helpers.js';
import { ask, nsecs, sigsFor, signedZone, T, verifyAll, type NsecView, type Signed } from './denial-fixture.js';

const s = signedZone('nsec');
const name = (t: string) => Name.fromText(t);
const q = (t: string) => name(`${t}.example.com.`);

/** Zone names a validator sees in the NSEC chain (not the glue below `sub`). */
function authoritative(zone: Zone): Name[] {
  return [...zone.nodes.values()].map((n) => n.name).filter((n) => !n.isSubdomainOf(name('sub.example.com.')) || n.equals(name('sub.example.com.')));
}

function covers(x: NsecView, n: Name): boolean {
  const o = name(x.owner), nx = name(x.next);
  return o.compare(nx) < 0 ? o.compare(n) < 0 && n.compare(nx) < 0 : o.compare(n) < 0 || n.compare(nx) < 0;
}

function shared(a: Name, b: Name): number {
  let k = 0;
  while (k < Math.min(a.labelCount, b.labelCount) && a.suffix(k + 1).equals(b.suffix(k + 1))) k++;
  return k;
}

/** How a validator finds the closest encloser from the covering NSEC (unbound val_nsec.c nsec_closest_encloser). */
function derivedEncloser(x: NsecView, qname: Name): number {
  return Math.max(shared(name(x.owner), qname), shared(name(x.next), qname));
}

/** RFC 4470 §2 safety: a white lie covers no zone name, and an owner that is a zone name carries its true types. */
function noRealNameCovered(z: Signed, list: NsecView[]): void {
  for (const x of list) {
    for (const real of authoritative(z.zone)) expect(covers(x, real), `${x.owner} -> ${x.next} covers ${real}`).toBe(false);
    if (!z.zone.nodes.has(name(x.owner).key)) expect(x.types).toEqual([T.RRSIG, T.NSEC]);
  }
}

describe('minimally covering NSEC (RFC 4470)', () => {
  it('RFC 4035 §3.1.3.2: NXDOMAIN with an NSEC covering the name and one covering the wildcard at the closest encloser', async () => {
    const r = await ask(s, 'nope', T.A);
    expect(r.rcode).toBe(Rcode.NXDOMAIN);
    const list = nsecs(r.authority);
    expect(list).toHaveLength(2);
    const [first, second] = list;
    expect(covers(first, q('nope'))).toBe(true);
    expect(covers(second, q('*'))).toBe(true);
    // RFC 4470 §2 / RFC 4471: owner = predecessor of `nope`, Next = `nope\000`; bitmaps RRSIG NSEC only.
    expect(first.owner).toBe(`nopd${'\\255'.repeat(59)}.example.com.`);
    expect(first.next).toBe('nope\\000.example.com.');
    expect(second.next).toBe('*\\000.example.com.');
    expect(list.every((x) => x.types.join() === [T.RRSIG, T.NSEC].join() && x.ttl === 300)).toBe(true);
    noRealNameCovered(s, list);
    expect(verifyAll(s, r)).toBe(3);
  });

  it('RFC 4035 §5.4: the closest encloser a validator derives from the covering NSEC is the true one, and its wildcard is covered', async () => {
    const cases = [['x.y.www', 'www.example.com.'], ['a.b.nope', 'example.com.'], ['q.b.c', 'b.c.example.com.'], ['zz.a.b.c', 'a.b.c.example.com.'], ['_x._tcp', '_tcp.example.com.']];
    for (const [qname, ce] of cases) {
      const r = await ask(s, qname, T.A);
      expect(r.rcode, qname).toBe(Rcode.NXDOMAIN);
      const qn = q(qname), enc = name(ce);
      const list = nsecs(r.authority);
      const cover = list.find((x) => covers(x, qn))!;
      expect(cover, qname).toBeDefined();
      expect(derivedEncloser(cover, qn), qname).toBe(enc.labelCount);
      expect(list.some((x) => covers(x, enc.child('*'))), `${qname}: wildcard at ${enc} covered`).toBe(true);
      noRealNameCovered(s, list);
      verifyAll(s, r);
    }
  });

  it('RFC 4470 §2: the two NSECs coincide into one when the covering NSEC also covers the wildcard; a lie is never a wildcard owner', async () => {
    const odd = Name.fromLabels([Uint8Array.of(0x2a, 0), ...name('example.com.').labels]); // `*\000`: just after `*`
    const r = await ask(s, odd.toString(), T.A);
    const list = nsecs(r.authority);
    expect(list).toHaveLength(1);
    expect(covers(list[0], odd)).toBe(true);
    expect(covers(list[0], q('*'))).toBe(true);
    expect(name(list[0].owner).isWildcard()).toBe(false);
    noRealNameCovered(s, list);
  });

  it('RFC 4470 §2: when the predecessor lie is a zone name, the owner is \\000.<real predecessor>, or at a cut the real predecessor with its types', async () => {
    const pred = `nopd${'\\255'.repeat(59)}`;
    const withName = signedZone('nsec', { extra: [TXT(pred, 'in the way')] });
    let list = nsecs((await ask(withName, 'nope', T.A)).authority);
    expect(list[0].owner).toBe(`\\000.${pred}.example.com.`);
    expect(list[0].types).toEqual([T.RRSIG, T.NSEC]);
    noRealNameCovered(withName, list);
    const withCut = signedZone('nsec', { extra: [NS(pred, 'ns.example.net.')] });
    const r = await ask(withCut, 'nope', T.A);
    list = nsecs(r.authority);
    expect(list[0].owner).toBe(`${pred}.example.com.`);
    expect(list[0].types).toEqual([T.NS, T.RRSIG, T.NSEC]);
    expect(covers(list[0], q('nope'))).toBe(true);
    verifyAll(withCut, r);
  });

  it('RFC 4035 §3.1.3.1: NODATA is an NSEC at the name listing its types plus RRSIG NSEC, Next \\000.<name>', async () => {
    const r = await ask(s, 'www', T.MX);
    expect(r.rcode).toBe(Rcode.NOERROR);
    expect(nsecs(r.authority)).toEqual([{ owner: 'www.example.com.', next: '\\000.www.example.com.', types: [T.A, T.AAAA, T.RRSIG, T.NSEC], ttl: 300 }]);
    expect(verifyAll(s, r)).toBe(2);
  });

  it('RFC 4470 §2: an empty non-terminal gets a matching NSEC with RRSIG NSEC', async () => {
    const r = await ask(s, 'b.c', T.A);
    expect(nsecs(r.authority).map((x) => [x.owner, x.next, x.types])).toEqual([['b.c.example.com.', '\\000.b.c.example.com.', [T.RRSIG, T.NSEC]]]);
  });

  it('RFC 4035 §2.3: the apex NSEC lists the apex types including DNSKEY, CDS and CDNSKEY', async () => {
    const r = await ask(s, 'example.com.', T.AAAA);
    expect(nsecs(r.authority)[0].types).toEqual([T.NS, T.SOA, T.RRSIG, T.NSEC, T.DNSKEY, T.CDS, T.CDNSKEY]);
  });

  it('RFC 4035 §3.1.3.3: a wildcard answer has the wildcard\'s RRSIG labels and an NSEC proving no closer match', async () => {
    const r = await ask(s, 'x.wild', T.A);
    const sig = sigsFor(r.answer, q('x.wild'), T.A);
    expect(parseRrsigRdata(sig[0].rdata).fields.labels).toBe(3);
    const list = nsecs(r.authority);
    expect(list).toHaveLength(1);
    expect(covers(list[0], q('x.wild'))).toBe(true);
    // unbound's val_nsec_proves_positive_wildcard: the derived encloser must be the wildcard's parent.
    expect(derivedEncloser(list[0], q('x.wild'))).toBe(3);
    noRealNameCovered(s, list);
    expect(verifyAll(s, r)).toBe(2);
  });

  it('RFC 4035 §3.1.3.4: wildcard NODATA has an NSEC covering the name and the wildcard\'s NSEC without the type', async () => {
    const r = await ask(s, 'deeper.x.wild', T.MX);
    expect(r.rcode).toBe(Rcode.NOERROR);
    const list = nsecs(r.authority);
    expect(list).toHaveLength(2);
    expect(covers(list[0], q('deeper.x.wild'))).toBe(true);
    expect(derivedEncloser(list[0], q('deeper.x.wild'))).toBe(3);
    expect(list[1]).toEqual({ owner: '*.wild.example.com.', next: '\\000.*.wild.example.com.', types: [T.A, T.TXT, T.RRSIG, T.NSEC], ttl: 300 });
    noRealNameCovered(s, list);
    expect(verifyAll(s, r)).toBe(3);
  });

  it('RFC 4035 §3.1.4: an unsigned referral has an NSEC at the cut with NS RRSIG NSEC and no DS; NS and glue stay unsigned', async () => {
    const r = await ask(s, 'host.sub', T.A);
    expect(r.aa).toBe(false);
    expect(nsecs(r.authority)).toEqual([{ owner: 'sub.example.com.', next: '\\000.sub.example.com.', types: [T.NS, T.RRSIG, T.NSEC], ttl: 300 }]);
    expect(r.authority.filter((x) => x.type === T.RRSIG)).toHaveLength(1);
    expect(r.additional.map((x) => x.type)).toEqual([T.A]);
    expect(verifyAll(s, r)).toBe(1);
  });

  it('RFC 4035 §3.1.4.1: a DS query at an insecure cut is proven by the NSEC at the cut', async () => {
    const r = await ask(s, 'sub', T.DS);
    expect(nsecs(r.authority).map((x) => [x.owner, x.types])).toEqual([['sub.example.com.', [T.NS, T.RRSIG, T.NSEC]]]);
  });

  it('RFC 4035 §3.1.3.2 with RFC 6604: a CNAME to a nonexistent name is signed and the final name is denied', async () => {
    const r = await ask(s, 'dangling', T.A);
    expect(r.rcode).toBe(Rcode.NXDOMAIN);
    expect(sigsFor(r.answer, q('dangling'), T.CNAME)).toHaveLength(1);
    const list = nsecs(r.authority);
    expect(list.some((x) => covers(x, q('nowhere')))).toBe(true);
    expect(list.some((x) => covers(x, q('*')))).toBe(true);
    noRealNameCovered(s, list);
    verifyAll(s, r);
  });

  it('RFC 4034 §6.1: names with upper case and odd octets are covered in canonical order', async () => {
    for (const qname of ['NoPe', 'ZZZZ', '0', '\\000', '\\255\\255', 'wwv', 'wwx', 'a\\@b']) {
      const r = await ask(s, qname, T.A);
      const list = nsecs(r.authority);
      expect(list.some((x) => covers(x, q(qname))), qname).toBe(true);
      noRealNameCovered(s, list);
    }
  });
});
