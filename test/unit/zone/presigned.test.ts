// The index of a pre-signed zone's DNSSEC records (zone/presigned.ts): built at load, searched per query.
import { describe, expect, it } from 'vitest';
import { parseRdata } from '../../../src/dns/rdata.js';
import { RRType } from '../../../src/dns/types.js';
import { formatBase32Hex } from '../../../src/dns/rdata/text.js';
import { buildZone, buildZoneWithWarnings, ZoneDataError } from '../../../src/zone/build.js';
import { lookup } from '../../../src/zone/lookup.js';
import { coveringNsec, findNsec3, sigsFor, typeCovered } from '../../../src/zone/presigned.js';
import type { PresignedData, Zone } from '../../../src/zone/types.js';
import { A, apex, input, n, NS, ORIGIN, rr } from './helpers.js';

const NSEC = (owner: string, next: string, types = 'A RRSIG NSEC') => rr(owner, RRType.NSEC, parseRdata(RRType.NSEC, `${next} ${types}`, ORIGIN));
const RRSIG = (owner: string, covered: string, tag = 1234) =>
  rr(owner, RRType.RRSIG, parseRdata(RRType.RRSIG, `${covered} 13 ${n(owner).rrsigLabels} 300 20300101000000 20200101000000 ${tag} example.com. AAAA`, ORIGIN));

/** A 20-octet hash whose first octet is `first`, the rest zero. */
const hash = (first: number) => Uint8Array.from([first, ...new Array(19).fill(0)]);
const b32 = (h: Uint8Array) => formatBase32Hex(h);
const NSEC3 = (owner: Uint8Array, next: Uint8Array, params = '1 0 0 -', types = 'A RRSIG') =>
  rr(`${b32(owner)}`, RRType.NSEC3, parseRdata(RRType.NSEC3, `${params} ${b32(next)} ${types}`, ORIGIN));
const NSEC3PARAM = (params = '1 0 0 -') => rr('@', RRType.NSEC3PARAM, parseRdata(RRType.NSEC3PARAM, params, ORIGIN));

function presigned(records: ReturnType<typeof rr>[]): { zone: Zone; data: PresignedData; warnings: string[] } {
  const { zone, warnings } = buildZoneWithWarnings(input([...apex(), ...records], { presigned: true }));
  return { zone, data: zone.presigned!, warnings };
}

describe('the NSEC view of a pre-signed zone', () => {
  // Canonical order (RFC 4034 §6.1): example.com. < a < b < z.b < yy; yy's NSEC wraps to the apex.
  const chain = [NSEC('@', 'a', 'SOA NS RRSIG NSEC'), NSEC('a', 'b'), NSEC('b', 'z.b'), NSEC('z.b', 'yy'), NSEC('yy', '@'),
    A('a', '192.0.2.1'), A('b', '192.0.2.2'), A('z.b', '192.0.2.3'), A('yy', '192.0.2.4')];
  const { data } = presigned(chain);
  const cover = (name: string) => coveringNsec(data, n(name))?.name.toString();

  it('is sorted in canonical order (RFC 4034 §6.1), whatever the order of the data', () => {
    expect(data.nsec.map((s) => s.name.toString())).toEqual(['example.com.', 'a.example.com.', 'b.example.com.', 'z.b.example.com.', 'yy.example.com.']);
    expect(data.denial).toBe('nsec');
  });

  it('RFC 4035 §3.1.3.2: the covering NSEC is the one with the greatest owner before the name', () => {
    expect(cover('aa')).toBe('a.example.com.');
    expect(cover('AA')).toBe('a.example.com.'); // names compare case-insensitively
    expect(cover('c.b')).toBe('b.example.com.'); // b < c.b < z.b: children sort right after their parent
    expect(cover('0')).toBe('example.com.');
  });

  it('RFC 4034 §4.1.1: past the last owner the last NSEC covers, its next name wrapping to the apex', () => {
    expect(cover('zz')).toBe('yy.example.com.');
    expect(cover('a.yy')).toBe('yy.example.com.');
  });

  it('a name that owns an NSEC is not covered (it matches)', () => {
    expect(cover('b')).toBeUndefined();
  });

  it('a gap in the chain (an NSEC missing from the data) covers nothing there', () => {
    const { data: broken } = presigned(chain.filter((r) => !(r.type === RRType.NSEC && r.name.equals(n('z.b')))));
    expect(coveringNsec(broken, n('zz.b'))).toBeUndefined();
    expect(coveringNsec(broken, n('c.b'))?.name.toString()).toBe('b.example.com.');
  });

  it('RFC 4035 §2.3: the NSEC at a delegation point is accepted beside NS and DS', () => {
    const { zone } = presigned([NS('sub', 'ns.sub'), A('ns.sub', '192.0.2.9'), NSEC('sub', '@', 'NS RRSIG NSEC'), NSEC('@', 'sub', 'SOA NS RRSIG NSEC')]);
    expect(zone.nodes.get(n('sub').key)!.rrsets.has(RRType.NSEC)).toBe(true);
  });
});

describe('the NSEC3 chain of a pre-signed zone', () => {
  const [h1, h5, ha] = [hash(0x10), hash(0x50), hash(0xa0)];
  const chain = [NSEC3PARAM(), NSEC3(h5, ha), NSEC3(ha, h1), NSEC3(h1, h5)];

  it('is sorted by hash and its owners are not names of the zone (RFC 5155 §7.2.8)', () => {
    const { zone, data } = presigned(chain);
    expect(data.denial).toBe('nsec3');
    expect(data.nsec3.map((e) => e.hash[0])).toEqual([0x10, 0x50, 0xa0]);
    expect(data.nsec3Params).toEqual({ algorithm: 1, iterations: 0, salt: new Uint8Array(0) });
    const owner = n(b32(h5));
    expect(zone.nodes.has(owner.key)).toBe(false);
    expect(lookup(zone, owner, RRType.NSEC3).kind).toBe('nxdomain');
  });

  it('RFC 5155 §7.2.3: a hash equal to an owner hash matches', () => {
    const { data } = presigned(chain);
    expect(findNsec3(data, h5).match?.name.toString()).toBe(`${b32(h5)}.example.com.`);
  });

  it('RFC 5155 §7.2.1: a hash between two owners is covered by the lower one', () => {
    const { data } = presigned(chain);
    expect(findNsec3(data, hash(0x30)).cover?.name.toString()).toBe(`${b32(h1)}.example.com.`);
    expect(findNsec3(data, hash(0x9f)).cover?.name.toString()).toBe(`${b32(h5)}.example.com.`);
  });

  it('RFC 5155 §3.1.7: the last NSEC3 wraps, covering hashes above it and below the first', () => {
    const { data } = presigned(chain);
    expect(findNsec3(data, hash(0xf0)).cover?.name.toString()).toBe(`${b32(ha)}.example.com.`);
    expect(findNsec3(data, hash(0x01)).cover?.name.toString()).toBe(`${b32(ha)}.example.com.`);
  });

  it('a gap in the chain covers nothing there', () => {
    const { data } = presigned([NSEC3PARAM(), NSEC3(h1, hash(0x40)), NSEC3(h5, ha), NSEC3(ha, h1)]);
    expect(findNsec3(data, hash(0x45))).toEqual({});
    expect(findNsec3(data, hash(0x30)).cover).toBeDefined();
  });

  it('RFC 5155 §4: the NSEC3PARAM picks the chain; records of other parameters are left out, with a warning', () => {
    const other = NSEC3(hash(0x70), hash(0x71), '1 0 5 AABB');
    const { data, warnings } = presigned([...chain, other]);
    expect(data.nsec3).toHaveLength(3);
    expect(warnings.join('\n')).toMatch(/1 NSEC3 record\(s\) belong to another parameter set/);
  });

  it('RFC 5155 §4.1.2: an NSEC3PARAM with non-zero flags is ignored; the first NSEC3 record gives the parameters, with a warning', () => {
    const { data, warnings } = presigned([NSEC3PARAM('1 1 0 -'), NSEC3(h5, ha), NSEC3(ha, h5)]);
    expect(data.denial).toBe('nsec3');
    expect(warnings.join('\n')).toMatch(/no usable NSEC3PARAM/);
  });

  it('RFC 5155 §3: an NSEC3 owner that is not one hash label below the apex is an error', () => {
    const bad = rr(`x.${b32(h5)}`, RRType.NSEC3, NSEC3(h5, ha).rdata);
    expect(() => buildZone(input([...apex(), bad], { presigned: true }))).toThrow(ZoneDataError);
    expect(() => buildZone(input([...apex(), rr('not-base32-w', RRType.NSEC3, NSEC3(h5, ha).rdata)], { presigned: true }))).toThrow(/one base32hex label/);
  });

  it('a zone with neither chain has denial none', () => {
    expect(presigned([A('www', '192.0.2.1')]).data.denial).toBe('none');
  });
});

describe('the RRSIGs of a pre-signed zone', () => {
  it('are kept per owner and covered type, beside the tree (not as an RRset of the node)', () => {
    const { zone, data } = presigned([A('www', '192.0.2.1'), RRSIG('www', 'A', 1), RRSIG('www', 'A', 2), RRSIG('www', 'NSEC', 3), RRSIG('@', 'SOA')]);
    expect(zone.nodes.get(n('www').key)!.rrsets.has(RRType.RRSIG)).toBe(false);
    const a = sigsFor(data, n('WWW'), RRType.A)!;
    expect(a.rdatas).toHaveLength(2);
    expect(a.rdatas.every((r) => typeCovered(r) === RRType.A)).toBe(true);
    expect(sigsFor(data, n('www'), RRType.NSEC)!.rdatas).toHaveLength(1);
    expect(sigsFor(data, n('www'), RRType.AAAA)).toBeUndefined();
    expect(sigsFor(data, ORIGIN, RRType.SOA)).toBeDefined();
  });

  it('a record given twice is kept once (a transfer may repeat records, RFC 5936 §3.3)', () => {
    const sig = RRSIG('www', 'A');
    const { data } = presigned([A('www', '192.0.2.1'), sig, sig]);
    expect(sigsFor(data, n('www'), RRType.A)!.rdatas).toHaveLength(1);
  });

  it('without presigned, a zone keeps no index', () => {
    expect(buildZone(input([...apex(), A('www', '192.0.2.1')])).presigned).toBeUndefined();
  });
});
