import { describe, expect, it } from 'vitest';
import { Name } from '../../../src/dns/name.js';
import { RRClass, RRType } from '../../../src/dns/types.js';
import { buildZone, buildZoneWithWarnings, checkZone, TypeTable, ZoneDataError } from '../../../src/zone/build.js';
import { A, AAAA, apex, CNAME, DNAME, DS, input, MX, n, NS, ORIGIN, rd, rdataName, rr, settings, SOA, TXT, zoneOf } from './helpers.js';

/** Builds and returns the thrown ZoneDataError (fails the test if none is thrown). */
function errorOf(records: Parameters<typeof input>[0], over: Parameters<typeof input>[1] = {}): ZoneDataError {
  try {
    buildZone(input(records, over));
  } catch (e) {
    expect(e).toBeInstanceOf(ZoneDataError);
    return e as ZoneDataError;
  }
  throw new Error('expected a ZoneDataError');
}

describe('buildZone validation', () => {
  it('a valid zone builds and counts its data records', () => {
    const z = zoneOf([A('www', '192.0.2.1'), A('www', '192.0.2.2')]);
    expect(z.recordCount).toBe(5);
    expect(z.nodes.get(n('www').key)!.rrsets.get(RRType.A)!.rdatas).toHaveLength(2);
    expect(z.soa.type).toBe(RRType.SOA);
  });

  it('the error message is "<owner> <TYPE>: <reason> (<RFC ref>)" with the owner relative to the origin', () => {
    const e = errorOf([...apex(), CNAME('www', 'x'), A('www', '192.0.2.1')]);
    expect(e.owner).toBe('www');
    expect(e.type).toBe('CNAME');
    expect(e.message).toMatch(/^www CNAME: CNAME beside A \(RFC 1034 §3\.6\.2; RFC 2181 §10\.1\)$/);
  });

  it('RFC 1034 §4.2: an owner outside the zone is rejected', () => {
    const e = errorOf([...apex(), A('www.example.org.', '192.0.2.1')]);
    expect(e.owner).toBe('www.example.org.');
    expect(e.type).toBe('A');
    expect(e.reason).toMatch(/outside the zone/);
  });

  it('RFC 1035 §3.2.4: records of a class other than IN are rejected', () => {
    const e = errorOf([...apex(), rr('www', RRType.TXT, rd.txt('x'), 300, RRClass.CH)]);
    expect([e.owner, e.type]).toEqual(['www', 'TXT']);
    expect(e.reason).toMatch(/class 3/);
  });

  it('RFC 1034 §3.6.2: CNAME beside other data is rejected', () => {
    const e = errorOf([...apex(), CNAME('www', 'x'), TXT('www', 'hello')]);
    expect([e.owner, e.type]).toEqual(['www', 'CNAME']);
    expect(e.reason).toMatch(/beside TXT/);
  });

  it('RFC 2181 §10.1: CNAME beside RRSIG or NSEC is allowed', () => {
    const z = zoneOf([CNAME('www', 'x'), rr('www', RRType.NSEC, Uint8Array.of(0, 0, 1, 0x40))]);
    expect(z.nodes.get(n('www').key)!.rrsets.has(RRType.CNAME)).toBe(true);
  });

  it('RFC 2181 §10.1: more than one CNAME at a name is rejected', () => {
    const e = errorOf([...apex(), CNAME('www', 'x'), CNAME('www', 'y')]);
    expect([e.owner, e.type]).toEqual(['www', 'CNAME']);
    expect(e.reason).toMatch(/more than one CNAME/);
  });

  it('RFC 1034 §3.6.2: CNAME at the apex is rejected', () => {
    const e = errorOf([...apex(), CNAME('@', 'x.example.net.')]);
    expect([e.owner, e.type]).toEqual(['@', 'CNAME']);
    expect(e.reason).toMatch(/apex/);
  });

  it('DNAME at the apex is rejected', () => {
    const e = errorOf([...apex(), DNAME('@', 'example.net.')]);
    expect([e.owner, e.type]).toEqual(['@', 'DNAME']);
    expect(e.reason).toMatch(/apex/);
  });

  it('RFC 6672 §2.4: more than one DNAME at a name is rejected', () => {
    const e = errorOf([...apex(), DNAME('old', 'a.example.net.'), DNAME('old', 'b.example.net.')]);
    expect([e.owner, e.type]).toEqual(['old', 'DNAME']);
    expect(e.reason).toMatch(/more than one DNAME/);
  });

  it('RFC 6672 §2.4: data below a DNAME is rejected', () => {
    const e = errorOf([...apex(), DNAME('old', 'example.net.'), A('www.old', '192.0.2.1')]);
    expect([e.owner, e.type]).toEqual(['www.old', 'A']);
    expect(e.reason).toMatch(/below the DNAME at old/);
  });

  it('RFC 1035 §5.2: a zone without SOA is rejected', () => {
    const e = errorOf([NS('@', 'ns1')]);
    expect([e.owner, e.type]).toEqual(['@', 'SOA']);
    expect(e.reason).toMatch(/missing SOA/);
  });

  it('RFC 1035 §5.2: more than one SOA is rejected', () => {
    const e = errorOf([...apex(), rr('@', RRType.SOA, rd.soa(300, 2), 3600)]);
    expect([e.owner, e.type]).toEqual(['@', 'SOA']);
    expect(e.reason).toMatch(/more than one SOA/);
  });

  it('RFC 1035 §5.2: SOA below the apex is rejected', () => {
    const e = errorOf([...apex(), SOA({ owner: 'sub' })]);
    expect([e.owner, e.type]).toEqual(['sub', 'SOA']);
    expect(e.reason).toMatch(/below the zone apex/);
  });

  it('RFC 1035 §5.2: no apex NS and no configured nameservers is rejected', () => {
    const e = errorOf([SOA()]);
    expect([e.owner, e.type]).toEqual(['@', 'NS']);
  });

  it('RFC 1035 §5.2: configured nameservers satisfy the apex NS requirement', () => {
    const z = buildZone(input([SOA()], { settings: settings({ nameservers: [n('ns1.tandem.example.')] }) }));
    expect(z.apexNs.rdatas.map((r) => rdataName(r))).toEqual(['ns1.tandem.example.']);
  });

  it('RFC 2181 §8: a TTL above 2147483647 is rejected', () => {
    const e = errorOf([...apex(), A('www', '192.0.2.1', 2147483648)]);
    expect([e.owner, e.type]).toEqual(['www', 'A']);
    expect(e.reason).toMatch(/RFC 2181 §8/);
  });

  it('RFC 2181 §8: a negative TTL is rejected and 2147483647 accepted', () => {
    expect(errorOf([...apex(), A('www', '192.0.2.1', -1)]).reason).toMatch(/TTL -1/);
    expect(zoneOf([A('www', '192.0.2.1', 2147483647)]).nodes.get(n('www').key)!.rrsets.get(RRType.A)!.ttl).toBe(2147483647);
  });

  it('RFC 2181 §5: duplicate records are an error, not merged', () => {
    const e = errorOf([...apex(), A('www', '192.0.2.1'), A('WWW', '192.0.2.1')]);
    expect([e.owner, e.type]).toEqual(['WWW', 'A']);
    expect(e.reason).toMatch(/duplicate/);
  });

  it('RFC 4343: NS RDATA differing only in case are duplicates', () => {
    const e = errorOf([...apex(), NS('sub', 'ns.example.net.'), NS('sub', 'NS.example.net.')]);
    expect([e.owner, e.type]).toEqual(['sub', 'NS']);
  });

  it('RFC 2181 §5.2: different TTLs in one RRset use the smallest, with a warning', () => {
    const { zone, warnings } = buildZoneWithWarnings(input([...apex(), A('www', '192.0.2.1', 600), A('www', '192.0.2.2', 60)]));
    expect(zone.nodes.get(n('www').key)!.rrsets.get(RRType.A)!.ttl).toBe(60);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^www A: .*RFC 2181 §5\.2/);
  });

  it('RFC 1034 §4.2.1: data below a delegation other than glue is occluded', () => {
    const e = errorOf([...apex(), NS('sub', 'ns.sub'), A('ns.sub', '192.0.2.1'), TXT('x.sub', 'hidden')]);
    expect([e.owner, e.type]).toEqual(['x.sub', 'TXT']);
    expect(e.reason).toMatch(/occluded.*delegation point sub/);
  });

  it('RFC 1034 §4.2.1: glue (A/AAAA) below a delegation is accepted', () => {
    const z = zoneOf([NS('sub', 'ns.sub'), A('ns.sub', '192.0.2.1'), AAAA('ns.sub', 1)]);
    expect(z.nodes.get(n('ns.sub').key)!.rrsets.size).toBe(2);
  });

  it('RFC 1034 §4.2.1: non-glue data at a delegation point is occluded', () => {
    const e = errorOf([...apex(), NS('sub', 'ns.example.net.'), MX('sub', 10, 'mail')]);
    expect([e.owner, e.type]).toEqual(['sub', 'MX']);
  });

  it('RFC 4035 §2.4: DS at the apex is rejected', () => {
    const e = errorOf([...apex(), DS('@', 1)]);
    expect([e.owner, e.type]).toEqual(['@', 'DS']);
  });

  it('RFC 4035 §2.4: DS without NS (not a delegation point) is rejected', () => {
    const e = errorOf([...apex(), DS('sub', 1), A('sub', '192.0.2.1')]);
    expect([e.owner, e.type]).toEqual(['sub', 'DS']);
    expect(e.reason).toMatch(/delegation point/);
  });

  it('RFC 4035 §2.4: DS at a delegation point is accepted', () => {
    const z = zoneOf([NS('sub', 'ns.example.net.'), DS('sub', 1)]);
    expect(z.nodes.get(n('sub').key)!.rrsets.has(RRType.DS)).toBe(true);
  });

  it('RFC 4592 §4.2: NS at a wildcard owner is rejected', () => {
    const e = errorOf([...apex(), NS('*.w', 'ns.example.net.')]);
    expect([e.owner, e.type]).toEqual(['*.w', 'NS']);
  });

  it('RFC 4592 §4.6: DS at a wildcard owner is rejected', () => {
    const e = errorOf([...apex(), DS('*', 1), A('*', '192.0.2.1')]);
    expect(e.owner).toBe('*');
    expect(e.type).toBe('DS');
  });

  it('checkZone collects every error', () => {
    const { errors } = checkZone(input([...apex(), A('x.example.org.', '192.0.2.1'), CNAME('www', 'x'), A('www', '192.0.2.1'), DS('@', 1)]));
    expect(errors.map((e) => `${e.owner} ${e.type}`).sort()).toEqual(['@ DS', 'www CNAME', 'x.example.org. A']);
  });
});

describe('buildZone tree', () => {
  it('RFC 4592 §2.2.2: empty non-terminals between the apex and an owner become nodes', () => {
    const z = zoneOf([A('a.b.c', '192.0.2.1')]);
    const b = z.nodes.get(n('b.c').key)!;
    const c = z.nodes.get(n('c').key)!;
    expect(b.rrsets.size).toBe(0);
    expect(c.rrsets.size).toBe(0);
    expect(c.children).toBe(1);
    expect(z.nodes.get(ORIGIN.key)!.children).toBe(1);
    expect(z.nodes.get(n('a.b.c').key)!.children).toBe(0);
  });

  it('the zone is frozen', () => {
    const z = zoneOf([A('www', '192.0.2.1')]);
    expect(Object.isFrozen(z)).toBe(true);
    expect(Object.isFrozen(z.nodes.get(n('www').key)!.rrsets.get(RRType.A)!.rdatas)).toBe(true);
  });

  it('server-provided apex RRsets replace zone data of the same type', () => {
    const dnskey = (b: number) => Uint8Array.of(1, 1, 3, 13, b);
    const z = buildZone(input([...apex(), rr('@', RRType.DNSKEY, dnskey(1))], {
      apexRrsets: [{ name: ORIGIN, type: RRType.DNSKEY, class: RRClass.IN, ttl: 3600, rdatas: [dnskey(2), dnskey(3)] }],
    }));
    const set = z.nodes.get(ORIGIN.key)!.rrsets.get(RRType.DNSKEY)!;
    expect(set.rdatas.map((r) => r[4])).toEqual([2, 3]);
    expect(z.recordCount).toBe(4);
  });
});

describe('served apex NS (ZoneSettings.nameservers / multiProvider)', () => {
  const ours = [Name.fromText('ns1.tandem.example.'), Name.fromText('ns2.tandem.example.')];

  it('without configured nameservers the zone data apex NS is served', () => {
    const z = zoneOf([]);
    expect(z.apexNs.rdatas.map((r) => rdataName(r))).toEqual(['ns1.example.com.', 'ns2.example.net.']);
    expect(z.apexNs.ttl).toBe(300);
    expect(z.nodes.get(ORIGIN.key)!.rrsets.get(RRType.NS)).toBe(z.apexNs);
  });

  it('configured nameservers replace the apex NS data, with settings.nsTtl', () => {
    const z = zoneOf([], { settings: settings({ nameservers: ours, nsTtl: 172800 }) });
    expect(z.apexNs.rdatas.map((r) => rdataName(r))).toEqual(['ns1.tandem.example.', 'ns2.tandem.example.']);
    expect(z.apexNs.ttl).toBe(172800);
    expect(z.nodes.get(ORIGIN.key)!.rrsets.get(RRType.NS)).toBe(z.apexNs);
  });

  it('multiProvider serves our nameservers together with the apex NS data (RFC 8901 §2)', () => {
    const z = zoneOf([NS('@', 'ns1.tandem.example.')], { settings: settings({ nameservers: ours, multiProvider: true }) });
    expect(z.apexNs.rdatas.map((r) => rdataName(r))).toEqual([
      'ns1.tandem.example.', 'ns2.tandem.example.', 'ns1.example.com.', 'ns2.example.net.',
    ]);
    expect(z.nodes.get(ORIGIN.key)!.rrsets.get(RRType.NS)).toBe(z.apexNs);
  });
});

describe('TypeTable (a node\'s RRsets by type)', () => {
  it('keeps insertion order like a Map, replaces in place, and answers get/has/size/keys', () => {
    const t = new TypeTable<{ type: number; v: string }>();
    t.set({ type: 16, v: 'txt' });
    t.set({ type: 1, v: 'a' });
    t.set({ type: 16, v: 'txt2' });
    expect(t.keys()).toEqual([16, 1]);
    expect([...t.values()].map((x) => x.v)).toEqual(['txt2', 'a']);
    expect(t.get(16)!.v).toBe('txt2');
    expect(t.has(28)).toBe(false);
    expect(t.size).toBe(2);
    t.trim();
    expect(t.keys()).toEqual([16, 1]);
  });

  it('an owner listed before its ancestors still gets every empty non-terminal, each counted once as a child', () => {
    const z = zoneOf([A('a.b.c', '192.0.2.1'), A('x.b.c', '192.0.2.2'), A('c', '192.0.2.3')]);
    expect(z.nodes.get(n('b.c').key)!.children).toBe(2);
    expect(z.nodes.get(n('c').key)!.children).toBe(1);
    expect(z.nodes.get(n('b.c').key)!.rrsets.size).toBe(0);
    expect(z.nodes.get(n('c').key)!.rrsets.get(RRType.A)!.rdatas.length).toBe(1);
    expect(z.nodes.get(ORIGIN.key)!.children).toBe(1);
  });
});
