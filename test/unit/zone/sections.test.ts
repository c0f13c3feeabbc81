import { describe, expect, it } from 'vitest';
import { RRType, Rcode } from '../../../src/dns/types.js';
import { buildZone } from '../../../src/zone/build.js';
import { lookup } from '../../../src/zone/lookup.js';
import { toSections, type Sections } from '../../../src/zone/sections.js';
import { negativeSoa } from '../../../src/dns/soa.js';
import type { Zone } from '../../../src/zone/types.js';
import { A, CNAME, DS, input, MX, n, NS, SOA, TXT } from './helpers.js';

function zoneWithSoa(ttl: number, minimum: number): Zone {
  return buildZone(input([
    SOA({ ttl, minimum }), NS('@', 'ns1'), A('ns1', '192.0.2.53'), A('www', '192.0.2.1'),
    CNAME('dangling', 'missing'), CNAME('tosub', 'x.sub'), MX('mail', 10, 'mx1'), A('mx1', '192.0.2.25'),
    TXT('a.ent', 't'), NS('sub', 'ns.sub'), A('ns.sub', '192.0.2.77'), DS('sub', 7),
  ]));
}

const zone = zoneWithSoa(3600, 300);
const sections = (z: Zone, name: string, type: number): Sections => toSections(z, lookup(z, n(name), type));
const rrs = (list: { name: { toString(): string }; type: number; ttl: number }[]) => list.map((r) => `${r.name} ${r.type} ${r.ttl}`);

describe('toSections (unsigned responses)', () => {
  it('RFC 1034 §4.3.2: a positive answer is authoritative, with no NS in authority (minimal responses)', () => {
    const s = sections(zone, 'www', RRType.A);
    expect(s.rcode).toBe(Rcode.NOERROR);
    expect(s.aa).toBe(true);
    expect(rrs(s.answer)).toEqual(['www.example.com. 1 300']);
    expect(s.authority).toEqual([]);
    expect(s.additional).toEqual([]);
  });

  it('RFC 1034 §4.3.2 step 6: additional data of a positive answer comes from the lookup', () => {
    const s = sections(zone, 'mail', RRType.MX);
    expect(rrs(s.additional)).toEqual(['mx1.example.com. 1 300']);
  });

  it('RFC 2308 §2.1: NXDOMAIN is rcode 3, authoritative, SOA in authority', () => {
    const s = sections(zone, 'nothere', RRType.A);
    expect(s.rcode).toBe(Rcode.NXDOMAIN);
    expect(s.aa).toBe(true);
    expect(s.answer).toEqual([]);
    expect(s.authority.map((r) => r.type)).toEqual([RRType.SOA]);
  });

  it('RFC 2308 §2.2: NODATA is rcode 0, authoritative, SOA in authority', () => {
    const s = sections(zone, 'www', RRType.TXT);
    expect(s.rcode).toBe(Rcode.NOERROR);
    expect(s.aa).toBe(true);
    expect(s.answer).toEqual([]);
    expect(s.authority.map((r) => r.type)).toEqual([RRType.SOA]);
  });

  it('RFC 2308 §2.2: an empty non-terminal is NODATA, not NXDOMAIN', () => {
    const s = sections(zone, 'ent', RRType.A);
    expect(s.rcode).toBe(Rcode.NOERROR);
    expect(s.authority.map((r) => r.type)).toEqual([RRType.SOA]);
  });

  it('RFC 6604 §3: NXDOMAIN after a CNAME chain keeps rcode 3 and the chain in the answer', () => {
    const s = sections(zone, 'dangling', RRType.A);
    expect(s.rcode).toBe(Rcode.NXDOMAIN);
    expect(rrs(s.answer)).toEqual(['dangling.example.com. 5 300']);
  });

  it('RFC 2308 §5 / RFC 9077: the negative SOA TTL is the SOA MINIMUM when smaller than the SOA TTL', () => {
    const s = sections(zone, 'nothere', RRType.A);
    expect(s.authority[0].ttl).toBe(300);
  });

  it('RFC 2308 §5 / RFC 9077: the negative SOA TTL is the SOA TTL when smaller than the MINIMUM', () => {
    const z = zoneWithSoa(60, 900);
    expect(sections(z, 'nothere', RRType.A).authority[0].ttl).toBe(60);
    expect(sections(z, 'www', RRType.TXT).authority[0].ttl).toBe(60);
    expect(negativeSoa(z.soa).ttl).toBe(60);
  });

  it('RFC 1034 §4.3.2 step 3b: a referral clears AA, carries NS and DS in authority and glue in additional', () => {
    const s = sections(zone, 'www.sub', RRType.A);
    expect(s.rcode).toBe(Rcode.NOERROR);
    expect(s.aa).toBe(false);
    expect(s.answer).toEqual([]);
    expect(s.authority.map((r) => r.type)).toEqual([RRType.NS, RRType.DS]);
    expect(rrs(s.additional)).toEqual(['ns.sub.example.com. 1 300']);
  });

  it('RFC 1035 §4.1.1: a referral after an in-zone CNAME is authoritative for the CNAME', () => {
    const s = sections(zone, 'tosub', RRType.A);
    expect(s.aa).toBe(true);
    expect(rrs(s.answer)).toEqual(['tosub.example.com. 5 300']);
    expect(s.authority.map((r) => r.type)).toEqual([RRType.NS, RRType.DS]);
  });
});
