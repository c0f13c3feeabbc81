import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Name } from '../../../src/dns/name.js';
import { Rcode } from '../../../src/dns/types.js';
import { nsec3Index, nsec3paramRrset } from '../../../src/dnssec/denial/nsec3.js';
import { parseRrsigRdata } from '../../../src/dnssec/rrsig.js';
import { ask, nsec3s, sigsFor, signedZone, T, verifyAll, type Nsec3View } from './denial-fixture.js';

const s = signedZone('nsec3');
const q = (t: string) => Name.fromText(t.endsWith('.') ? t : `${t}.example.com.`);

// An independent hash (RFC 5155 §5 with RFC 9276 parameters) and base32hex, as BigInt for arithmetic.
const MOD = 1n << 160n;
function h(name: Name): bigint {
  return BigInt('0x' + createHash('sha1').update(name.canonicalWire()).digest('hex'));
}
const B32 = '0123456789ABCDEFGHIJKLMNOPQRSTUV';
function unb32(s: string): bigint {
  let v = 0n;
  for (const c of s) v = (v << 5n) | BigInt(B32.indexOf(c));
  return v; // 32 characters = 160 bits exactly
}

function matches(x: Nsec3View, name: Name): boolean {
  return unb32(x.hash) === h(name);
}

function covers(x: Nsec3View, name: Name): boolean {
  const o = unb32(x.hash), n = unb32(x.next), v = h(name);
  return o < n ? o < v && v < n : v > o || v < n;
}

function params(list: Nsec3View[]): void {
  // RFC 9276 §3.1: SHA-1, no opt-out, 0 iterations, empty salt.
  for (const x of list) expect([x.flags, x.iterations, x.salt]).toEqual([0, 0, 0]);
}

/** RFC 5155 narrow mode: no real name's hash is covered (matching records have Next = hash+1). */
function noRealHashCovered(list: Nsec3View[]): void {
  for (const x of list) for (const real of nsec3Index(s.zone).values()) expect(covers(x, real), `${x.hash} covers ${real}`).toBe(false);
}

describe('NSEC3 narrow mode (RFC 5155, RFC 9276)', () => {
  it('RFC 5155 §4, RFC 9276 §3.1: the NSEC3PARAM RRset is `1 0 0 -` at the apex', () => {
    const p = nsec3paramRrset(s.zone);
    expect(p.name.equals(q('example.com.'))).toBe(true);
    expect([...p.rdatas[0]]).toEqual([1, 0, 0, 0, 0]);
  });

  it('RFC 5155 §7.1: the hash index is built once per zone and holds ENTs and cuts but not glue', () => {
    const idx = nsec3Index(s.zone);
    expect(nsec3Index(s.zone)).toBe(idx);
    const names = new Set([...idx.values()].map((n) => n.key));
    for (const k of ['example.com.', 'b.c.example.com.', 'wild.example.com.', 'sub.example.com.', 'secure.example.com.', '*.wild.example.com.']) expect(names.has(k), k).toBe(true);
    expect(names.has('ns.sub.example.com.')).toBe(false);
    for (const [hash, name] of idx) expect(hash).toBe(h(name));
  });

  it('RFC 5155 §7.2.2: NXDOMAIN carries the closest encloser proof and the wildcard covered; owners are base32hex hashes under the apex', async () => {
    const r = await ask(s, 'nope', T.A);
    expect(r.rcode).toBe(Rcode.NXDOMAIN);
    const list = nsec3s(r.authority);
    expect(list).toHaveLength(3);
    params(list);
    const [ce, nc, wc] = list;
    expect(matches(ce, q('example.com.'))).toBe(true);
    // RFC 5155 §3.2.1: the apex bitmap has its types with RRSIG and NSEC3PARAM (published by the lead).
    expect(ce.types).toEqual([T.NS, T.SOA, T.RRSIG, T.DNSKEY, T.NSEC3PARAM, T.CDS, T.CDNSKEY]);
    expect(unb32(ce.next)).toBe((h(q('example.com.')) + 1n) % MOD);
    expect(covers(nc, q('nope'))).toBe(true);
    expect(unb32(nc.hash)).toBe((h(q('nope')) - 1n + MOD) % MOD);
    expect(unb32(nc.next)).toBe((h(q('nope')) + 1n) % MOD);
    expect(covers(wc, q('*'))).toBe(true);
    expect(nc.types).toEqual([]);
    for (const x of list) expect(x.owner.parent().equals(q('example.com.'))).toBe(true);
    noRealHashCovered(list);
    expect(r.authority.filter((x) => x.type === T.NSEC3).every((x) => x.ttl === 300)).toBe(true);
    expect(verifyAll(s, r)).toBe(4);
  });

  it('RFC 5155 §7.2.1: the proof covers the next closer name, not the query name, below a deeper encloser', async () => {
    const r = await ask(s, 'x.y.www', T.A);
    const list = nsec3s(r.authority);
    expect(matches(list[0], q('www'))).toBe(true);
    expect(list[0].types).toEqual([T.A, T.AAAA, T.RRSIG]);
    expect(covers(list[1], q('y.www'))).toBe(true);
    expect(covers(list[2], q('*.www'))).toBe(true);
    noRealHashCovered(list);
    verifyAll(s, r);
  });

  it('RFC 5155 §7.2.3: NODATA is the matching NSEC3 with the name\'s types', async () => {
    const r = await ask(s, 'www', T.MX);
    expect(r.rcode).toBe(Rcode.NOERROR);
    const list = nsec3s(r.authority);
    expect(list).toHaveLength(1);
    expect(matches(list[0], q('www'))).toBe(true);
    expect(list[0].types).toEqual([T.A, T.AAAA, T.RRSIG]);
    expect(verifyAll(s, r)).toBe(2);
  });

  it('RFC 5155 §7.2.3: an empty non-terminal matches with an empty bitmap', async () => {
    const r = await ask(s, 'b.c', T.A);
    const list = nsec3s(r.authority);
    expect(matches(list[0], q('b.c'))).toBe(true);
    expect(list[0].types).toEqual([]);
  });

  it('RFC 5155 §7.2.4: a DS query at an insecure cut matches the cut\'s NSEC3 with NS only (no DS, no RRSIG)', async () => {
    const r = await ask(s, 'sub', T.DS);
    const list = nsec3s(r.authority);
    expect(list).toHaveLength(1);
    expect(matches(list[0], q('sub'))).toBe(true);
    expect(list[0].types).toEqual([T.NS]);
    expect(list[0].flags).toBe(0);
  });

  it('RFC 5155 §7.2.6: a wildcard answer has the wildcard\'s RRSIG labels and an NSEC3 covering the next closer name', async () => {
    const r = await ask(s, 'deep.x.wild', T.A);
    expect(parseRrsigRdata(sigsFor(r.answer, q('deep.x.wild'), T.A)[0].rdata).fields.labels).toBe(3);
    const list = nsec3s(r.authority);
    expect(list).toHaveLength(1);
    expect(covers(list[0], q('x.wild'))).toBe(true);
    noRealHashCovered(list);
    expect(verifyAll(s, r)).toBe(2);
  });

  it('RFC 5155 §7.2.5: wildcard NODATA has the closest encloser proof and the wildcard\'s matching NSEC3', async () => {
    const r = await ask(s, 'x.wild', T.MX);
    expect(r.rcode).toBe(Rcode.NOERROR);
    const list = nsec3s(r.authority);
    expect(list).toHaveLength(3);
    expect(matches(list[0], q('wild'))).toBe(true);
    expect(list[0].types).toEqual([]);
    expect(covers(list[1], q('x.wild'))).toBe(true);
    expect(matches(list[2], q('*.wild'))).toBe(true);
    expect(list[2].types).toEqual([T.A, T.TXT, T.RRSIG]);
    noRealHashCovered(list);
    expect(verifyAll(s, r)).toBe(4);
  });

  it('RFC 5155 §7.2.7: an unsigned referral has the cut\'s matching NSEC3 (NS, no DS); a signed one has DS and no NSEC3', async () => {
    const r = await ask(s, 'host.sub', T.A);
    expect(r.aa).toBe(false);
    const list = nsec3s(r.authority);
    expect(list).toHaveLength(1);
    expect(matches(list[0], q('sub'))).toBe(true);
    expect(list[0].types).toEqual([T.NS]);
    const secure = await ask(s, 'host.secure', T.A);
    expect(nsec3s(secure.authority)).toEqual([]);
    expect(sigsFor(secure.authority, q('secure'), T.DS)).toHaveLength(1);
    const ds = await ask(s, 'secure', T.DS);
    expect(ds.answer.map((x) => x.type)).toEqual([T.DS, T.RRSIG]);
    verifyAll(s, secure);
  });

  it('RFC 5155 §7.2.2 with RFC 6604: a CNAME chain to a nonexistent name proves the final name', async () => {
    const r = await ask(s, 'dangling', T.A);
    expect(r.rcode).toBe(Rcode.NXDOMAIN);
    const list = nsec3s(r.authority);
    expect(list.some((x) => covers(x, q('nowhere')))).toBe(true);
    expect(list.some((x) => matches(x, q('example.com.')))).toBe(true);
    verifyAll(s, r);
  });
});
