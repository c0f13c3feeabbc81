import { describe, expect, it } from 'vitest';
import { Name } from '../../../src/dns/name.js';
import { RRType } from '../../../src/dns/types.js';
import { lookup, MAX_CHAIN } from '../../../src/zone/lookup.js';
import type { AnswerRRset, LookupResult } from '../../../src/zone/types.js';
import { A, AAAA, CNAME, DNAME, DS, MX, n, NS, ORIGIN, rdataName, SRV, TXT, zoneOf } from './helpers.js';

const zone = zoneOf([
  A('ns1', '192.0.2.53'),
  A('www', '192.0.2.1', 300), AAAA('www', 1, 60),
  CNAME('alias', 'www'),
  CNAME('chain1', 'chain2'), CNAME('chain2', 'www'),
  CNAME('out', 'www.example.net.'),
  CNAME('dangling', 'missing'),
  CNAME('loop1', 'loop2'), CNAME('loop2', 'loop1'),
  // wildcard *.wild, blocked below the existing x.wild and at the empty non-terminal ent.wild
  A('*.wild', '192.0.2.9'), TXT('x.wild', 'exists'), A('deep.ent.wild', '192.0.2.10'),
  CNAME('*.cn', 'www'),
  // delegations
  NS('sub', 'ns.sub'), NS('sub', 'ns.example.net.'), NS('sub', 'ns1'), A('ns.sub', '192.0.2.77'), DS('sub', 4242),
  NS('nods', 'ns.example.net.'),
  // additional-section targets
  MX('mail', 10, 'mx1'), MX('mail', 20, 'mail.example.net.'), MX('mail', 30, 'host.sub'), A('mx1', '192.0.2.25'),
  A('host.sub', '192.0.2.78'),
  SRV('_sip._tcp', 'srvhost'), AAAA('srvhost', 5),
  // DNAME
  DNAME('old', 'new.example.com.', 1800), A('www.new', '192.0.2.2'),
  DNAME('ext', 'example.net.'),
]);

function q(name: string, type: number): LookupResult {
  return lookup(zone, Name.fromText(name, ORIGIN), type);
}
function answers(r: LookupResult): AnswerRRset[] {
  if (r.kind !== 'answer') throw new Error(`expected an answer, got ${r.kind}`);
  return r.answers;
}
function summary(a: AnswerRRset[]): string[] {
  return a.map(({ rrset }) => `${rrset.name} ${rrset.type}`);
}

describe('RFC 1034 §4.3.2 exact match', () => {
  it('RFC 1034 §4.3.2 step 3a: an exact match answers the RRset', () => {
    const a = answers(q('www', RRType.A));
    expect(a).toHaveLength(1);
    expect(a[0].rrset.rdatas).toEqual([Uint8Array.of(192, 0, 2, 1)]);
    expect(a[0].wildcard).toBeUndefined();
  });

  it('RFC 4343 §3: matching is case-insensitive and the answer keeps the query case', () => {
    const a = answers(q('WwW.Example.COM.', RRType.A));
    expect(a[0].rrset.name.toString()).toBe('WwW.Example.COM.');
    expect(a[0].rrset.rdatas).toEqual([Uint8Array.of(192, 0, 2, 1)]);
  });

  it('RFC 2308 §2.2: an existing name without the type is NODATA with the sorted types', () => {
    const r = q('www', RRType.TXT);
    expect(r.kind).toBe('nodata');
    if (r.kind !== 'nodata') return;
    expect(r.types).toEqual([RRType.A, RRType.AAAA]);
    expect(r.name.toString()).toBe('www.example.com.');
    expect(r.soa).toBe(zone.soa);
    expect(r.wildcard).toBeUndefined();
  });

  it('RFC 2308 §2.1: a name that does not exist is NXDOMAIN with its closest encloser', () => {
    const r = q('a.b.nothere', RRType.A);
    expect(r.kind).toBe('nxdomain');
    if (r.kind !== 'nxdomain') return;
    expect(r.name.toString()).toBe('a.b.nothere.example.com.');
    expect(r.closestEncloser.toString()).toBe('example.com.');
    expect(r.chain).toEqual([]);
  });

  it('RFC 4592 §2.2.2: an empty non-terminal exists: NODATA with no types', () => {
    const r = q('ent.wild', RRType.A);
    expect(r.kind).toBe('nodata');
    if (r.kind !== 'nodata') return;
    expect(r.types).toEqual([]);
    expect(r.wildcard).toBeUndefined();
  });

  it('throws for a name outside the zone', () => {
    expect(() => lookup(zone, Name.fromText('www.example.org.'), RRType.A)).toThrow(RangeError);
  });
});

describe('RFC 1034 §4.3.2 CNAME', () => {
  it('RFC 1034 §4.3.2 step 3a: a CNAME is followed to its in-zone target', () => {
    const a = answers(q('alias', RRType.A));
    expect(summary(a)).toEqual(['alias.example.com. 5', 'www.example.com. 1']);
  });

  it('RFC 1034 §3.6.2: a chain of CNAMEs is followed in order', () => {
    const a = answers(q('chain1', RRType.A));
    expect(summary(a)).toEqual(['chain1.example.com. 5', 'chain2.example.com. 5', 'www.example.com. 1']);
  });

  it('a CNAME query returns the CNAME without following it', () => {
    expect(summary(answers(q('alias', RRType.CNAME)))).toEqual(['alias.example.com. 5']);
  });

  it('the chain stops at an out-of-zone target', () => {
    const a = answers(q('out', RRType.A));
    expect(summary(a)).toEqual(['out.example.com. 5']);
    expect(rdataName(a[0].rrset.rdatas[0])).toBe('www.example.net.');
  });

  it('a CNAME loop terminates with the chain', () => {
    const a = answers(q('loop1', RRType.A));
    expect(summary(a)).toEqual(['loop1.example.com. 5', 'loop2.example.com. 5']);
  });

  it(`a chain longer than ${MAX_CHAIN} steps is cut`, () => {
    const recs = [];
    for (let i = 0; i < 30; i++) recs.push(CNAME(`c${i}`, `c${i + 1}`));
    recs.push(A('c30', '192.0.2.30'));
    const z = zoneOf(recs);
    const r = lookup(z, n('c0'), RRType.A);
    expect(r.kind).toBe('answer');
    if (r.kind !== 'answer') return;
    expect(r.answers).toHaveLength(MAX_CHAIN);
    expect(r.answers.every((x) => x.rrset.type === RRType.CNAME)).toBe(true);
  });

  it('RFC 6604 §2: a CNAME to a missing in-zone name ends in NXDOMAIN for the target, with the chain', () => {
    const r = q('dangling', RRType.A);
    expect(r.kind).toBe('nxdomain');
    if (r.kind !== 'nxdomain') return;
    expect(r.name.toString()).toBe('missing.example.com.');
    expect(summary(r.chain)).toEqual(['dangling.example.com. 5']);
  });

  it('a CNAME to a name that lacks the type ends in NODATA with the chain', () => {
    const r = q('alias', RRType.MX);
    expect(r.kind).toBe('nodata');
    if (r.kind !== 'nodata') return;
    expect(r.name.toString()).toBe('www.example.com.');
    expect(r.chain).toHaveLength(1);
  });
});

describe('RFC 4592 wildcards', () => {
  it('RFC 4592 §3.3.1: a wildcard answers a nonexistent name with owner = QNAME', () => {
    const a = answers(q('Foo.wild', RRType.A));
    expect(a).toHaveLength(1);
    expect(a[0].rrset.name.toString()).toBe('Foo.wild.example.com.');
    expect(a[0].wildcard!.toString()).toBe('*.wild.example.com.');
    expect(a[0].rrset.rdatas).toEqual([Uint8Array.of(192, 0, 2, 9)]);
  });

  it('RFC 4592 §3.3.1: a wildcard matches several labels below the closest encloser', () => {
    const a = answers(q('a.b.wild', RRType.A));
    expect(a[0].rrset.name.toString()).toBe('a.b.wild.example.com.');
    expect(a[0].wildcard!.toString()).toBe('*.wild.example.com.');
  });

  it('RFC 4592 §2.2.2: an existing name is not matched by the wildcard', () => {
    const r = q('x.wild', RRType.A);
    expect(r.kind).toBe('nodata');
    if (r.kind === 'nodata') expect(r.wildcard).toBeUndefined();
  });

  it('RFC 4592 §2.2.2: an existing name blocks the wildcard for names below it', () => {
    const r = q('q.x.wild', RRType.A);
    expect(r.kind).toBe('nxdomain');
    if (r.kind === 'nxdomain') expect(r.closestEncloser.toString()).toBe('x.wild.example.com.');
  });

  it('RFC 4592 §2.2.3: an empty non-terminal blocks the wildcard below it', () => {
    const r = q('q.ent.wild', RRType.A);
    expect(r.kind).toBe('nxdomain');
    if (r.kind === 'nxdomain') expect(r.closestEncloser.toString()).toBe('ent.wild.example.com.');
  });

  it('RFC 4592 §4.3: a wildcard CNAME is synthesized at QNAME and followed', () => {
    const a = answers(q('any.cn', RRType.A));
    expect(summary(a)).toEqual(['any.cn.example.com. 5', 'www.example.com. 1']);
    expect(a[0].wildcard!.toString()).toBe('*.cn.example.com.');
    expect(a[1].wildcard).toBeUndefined();
  });

  it('RFC 4035 §3.1.3.4: a wildcard without the type is NODATA carrying the wildcard', () => {
    const r = q('foo.wild', RRType.TXT);
    expect(r.kind).toBe('nodata');
    if (r.kind !== 'nodata') return;
    expect(r.name.toString()).toBe('foo.wild.example.com.');
    expect(r.wildcard!.toString()).toBe('*.wild.example.com.');
    expect(r.closestEncloser!.toString()).toBe('wild.example.com.');
    expect(r.types).toEqual([RRType.A]);
  });

  it('RFC 4592 §2.1.1: a query for the wildcard name itself is an exact match', () => {
    const a = answers(q('*.wild', RRType.A));
    expect(a[0].wildcard).toBeUndefined();
    expect(a[0].rrset.name.toString()).toBe('*.wild.example.com.');
  });
});

describe('RFC 1034 §4.3.2 step 3b delegations', () => {
  it('RFC 1034 §4.3.2: a name below a cut gets a referral with NS, glue and DS', () => {
    const r = q('www.sub', RRType.A);
    expect(r.kind).toBe('referral');
    if (r.kind !== 'referral') return;
    expect(r.cut.toString()).toBe('sub.example.com.');
    expect(r.ns.rdatas.map((x) => rdataName(x))).toEqual(['ns.sub.example.com.', 'ns.example.net.', 'ns1.example.com.']);
    expect(r.glue.map((s) => `${s.name} ${s.type}`)).toEqual(['ns.sub.example.com. 1', 'ns1.example.com. 1']);
    expect(r.ds!.type).toBe(RRType.DS);
  });

  it('RFC 1034 §4.3.2: an NS query at the cut is a referral, not an answer', () => {
    expect(q('sub', RRType.NS).kind).toBe('referral');
  });

  it('RFC 1034 §4.3.2: glue names below the cut are referrals, not answers', () => {
    expect(q('ns.sub', RRType.A).kind).toBe('referral');
  });

  it('a referral for an unsigned child has no DS', () => {
    const r = q('x.nods', RRType.A);
    expect(r.kind).toBe('referral');
    if (r.kind === 'referral') { expect(r.ds).toBeUndefined(); expect(r.glue).toEqual([]); }
  });

  it('RFC 4035 §3.1.4.1: a DS query at the cut is answered from the parent side', () => {
    const a = answers(q('sub', RRType.DS));
    expect(summary(a)).toEqual(['sub.example.com. 43']);
  });

  it('RFC 4035 §3.1.4.1: a DS query at a cut without DS is NODATA from the parent side', () => {
    const r = q('nods', RRType.DS);
    expect(r.kind).toBe('nodata');
    if (r.kind === 'nodata') expect(r.types).toEqual([RRType.NS]);
  });

  it('RFC 4035 §3.1.4.1: a DS query below the cut is a referral', () => {
    expect(q('x.sub', RRType.DS).kind).toBe('referral');
  });
});

describe('additional section', () => {
  it('RFC 1035 §3.3.9: MX answers carry A/AAAA of in-zone targets, not out-of-zone or below-cut ones', () => {
    const r = q('mail', RRType.MX);
    expect(r.kind).toBe('answer');
    if (r.kind !== 'answer') return;
    expect(r.additional.map((s) => `${s.name} ${s.type}`)).toEqual(['mx1.example.com. 1']);
  });

  it('RFC 1035 §3.3.11: apex NS answers carry the addresses of in-zone nameservers', () => {
    const r = q('@', RRType.NS);
    expect(r.kind).toBe('answer');
    if (r.kind !== 'answer') return;
    expect(r.additional.map((s) => `${s.name} ${s.type}`)).toEqual(['ns1.example.com. 1']);
  });

  it('RFC 2782: SRV answers carry the addresses of in-zone targets', () => {
    const r = q('_sip._tcp', RRType.SRV);
    expect(r.kind).toBe('answer');
    if (r.kind !== 'answer') return;
    expect(r.additional.map((s) => `${s.name} ${s.type}`)).toEqual(['srvhost.example.com. 28']);
  });

  it('answers of other types carry no additional data', () => {
    const r = q('www', RRType.A);
    if (r.kind === 'answer') expect(r.additional).toEqual([]);
  });
});

describe('RFC 8482 ANY', () => {
  it('RFC 8482 §4.2: ANY is answered with a synthesized HINFO "RFC8482" "" at the smallest TTL of the node', () => {
    const a = answers(q('www', RRType.ANY));
    expect(a).toHaveLength(1);
    expect(a[0].rrset.type).toBe(RRType.HINFO);
    expect(a[0].rrset.name.toString()).toBe('www.example.com.');
    expect(a[0].rrset.ttl).toBe(60);
    const rdata = a[0].rrset.rdatas[0];
    expect(new TextDecoder().decode(rdata.subarray(1, 1 + rdata[0]))).toBe('RFC8482');
    expect(rdata[1 + rdata[0]]).toBe(0);
    expect(rdata.length).toBe(2 + rdata[0]);
  });

  it('RFC 1034 §4.3.2 step 3a: ANY at an alias returns the CNAME (ANY matches CNAME) without following it', () => {
    expect(summary(answers(q('alias', RRType.ANY)))).toEqual(['alias.example.com. 5']);
  });

  it('RFC 8482 §4.2: ANY at a name that does not exist is still NXDOMAIN', () => {
    expect(q('nothere', RRType.ANY).kind).toBe('nxdomain');
  });
});

describe('RFC 6672 DNAME', () => {
  it('RFC 6672 §3.1: a name below a DNAME gets the DNAME, a synthesized CNAME and the target data', () => {
    const a = answers(q('www.old', RRType.A));
    expect(summary(a)).toEqual(['old.example.com. 39', 'www.old.example.com. 5', 'www.new.example.com. 1']);
    const cname = a[1];
    expect(cname.synthesized).toBe(true);
    expect(cname.rrset.ttl).toBe(1800);
    expect(rdataName(cname.rrset.rdatas[0])).toBe('www.new.example.com.');
    expect(a[0].synthesized).toBeUndefined();
  });

  it('RFC 6672 §3.1: the substitution keeps the query case of the replaced labels', () => {
    const a = answers(q('WWW.old', RRType.A));
    expect(rdataName(a[1].rrset.rdatas[0])).toBe('WWW.new.example.com.');
  });

  it('RFC 6672 §2.3: a DNAME query at its owner returns the DNAME itself', () => {
    expect(summary(answers(q('old', RRType.DNAME)))).toEqual(['old.example.com. 39']);
  });

  it('RFC 6672 §2.3: the owner of a DNAME is not redirected', () => {
    expect(q('old', RRType.A).kind).toBe('nodata');
  });

  it('RFC 6672 §3.1: an out-of-zone DNAME target ends the answer after the synthesized CNAME', () => {
    const a = answers(q('a.ext', RRType.A));
    expect(summary(a)).toEqual(['ext.example.com. 39', 'a.ext.example.com. 5']);
    expect(rdataName(a[1].rrset.rdatas[0])).toBe('a.example.net.');
  });

  it('RFC 6672 §2.2: a substituted name longer than 255 octets is treated as nonexistent', () => {
    const long = `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.example.net.`; // 196 octets
    const z = zoneOf([DNAME('d', long)]);
    const qname = Name.fromText(`${'x'.repeat(60)}.y.d.example.com.`); // substitution: 196 + 63 octets
    const r = lookup(z, qname, RRType.A);
    expect(r.kind).toBe('nxdomain');
    if (r.kind === 'nxdomain') expect(summary(r.chain)).toEqual(['d.example.com. 39']);
  });
});
