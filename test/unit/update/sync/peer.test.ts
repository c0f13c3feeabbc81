// What key sync publishes at a peer (update/sync/peer.ts) and how the ddns and cloudflare methods say it.
import { describe, expect, it } from 'vitest';
import { Name } from '../../../../src/dns/name.js';
import { parseRdata } from '../../../../src/dns/rdata.js';
import { RRClass, RRType } from '../../../../src/dns/types.js';
import { dsRdata } from '../../../../src/dnssec/keys.js';
import { cloudflareTtl } from '../../../../src/update/sync/cloudflare.js';
import { updateRecords } from '../../../../src/update/sync/ddns.js';
import { isEmpty, minus, wanted } from '../../../../src/update/sync/peer.js';

const origin = Name.fromText('example.com.');
const key = (flags: number, fill: number) => parseRdata(RRType.DNSKEY, `${flags} 3 13 ${Buffer.alloc(64, fill).toString('base64')}`, Name.ROOT);
const ksk = key(257, 1);
const zsk = key(256, 2);
const own = { ksk, zsk, cds: true };

describe('what of ours a peer publishes', () => {
  it('RFC 8901 §3: our ZSK always; the KSK only with ksk: true; CDS (SHA-256) and CDNSKEY of our KSK unless cds: false', () => {
    expect(wanted(origin, own, { ksk: false, cds: true }, 300)).toEqual({ dnskey: [zsk], cds: [dsRdata(origin, ksk, 2)], cdnskey: [ksk], ttl: 300 });
    expect(wanted(origin, own, { ksk: true, cds: false }, 300)).toEqual({ dnskey: [zsk, ksk], cds: [], cdnskey: [], ttl: 300 });
  });

  it('RFC 8078 §4: while our zone publishes no CDS for the KSK (DNSSEC going off), none is published at the peer', () => {
    expect(wanted(origin, { ...own, cds: false }, { ksk: false, cds: true }, 300)).toMatchObject({ cds: [], cdnskey: [] });
  });

  it('RFC 8901 §6/§8: a rollover\'s key published without signing travels too (a next ZSK always; a next KSK in CDS/CDNSKEY, and in DNSKEY with ksk: true)', () => {
    const zsk2 = key(256, 4), ksk2 = key(257, 5);
    expect(wanted(origin, { ...own, extra: [zsk2] }, { ksk: false, cds: true }, 300).dnskey).toEqual([zsk, zsk2]);
    const w = wanted(origin, { ...own, extra: [ksk2] }, { ksk: true, cds: true }, 300);
    expect(w.dnskey).toEqual([zsk, ksk, ksk2]);
    expect(w.cds).toEqual([dsRdata(origin, ksk, 2), dsRdata(origin, ksk2, 2)]);
    expect(w.cdnskey).toEqual([ksk, ksk2]);
    expect(wanted(origin, { ...own, extra: [ksk2] }, { ksk: false, cds: true }, 300).dnskey).toEqual([zsk]);
  });

  it('a key of ours that left (a rollover) is withdrawn: minus(before, after)', () => {
    const zsk2 = key(256, 3);
    const before = wanted(origin, own, { ksk: false, cds: true }, 300);
    const after = wanted(origin, { ...own, zsk: zsk2 }, { ksk: false, cds: true }, 300);
    expect(minus(before, after)).toEqual({ dnskey: [zsk], cds: [], cdnskey: [], ttl: 300 });
    expect(isEmpty(minus(after, after))).toBe(true);
  });

  it('RFC 2136 §2.5.4 then §2.5.1: deletes of single RRs (class NONE, TTL 0) come before the adds', () => {
    const rrs = updateRecords(origin, { dnskey: [key(256, 3)], cds: [], cdnskey: [], ttl: 300 }, { dnskey: [zsk], cds: [], cdnskey: [], ttl: 300 });
    expect(rrs.map((r) => [r.type, r.class, r.ttl])).toEqual([[RRType.DNSKEY, RRClass.NONE, 0], [RRType.DNSKEY, RRClass.IN, 300]]);
    expect(rrs.every((r) => r.name.equals(origin))).toBe(true);
  });

  it('Cloudflare takes TTLs of 30 s to 1 day or 1 (automatic): a shorter TTL goes as automatic', () => {
    expect([cloudflareTtl(2), cloudflareTtl(30), cloudflareTtl(3600), cloudflareTtl(200000)]).toEqual([1, 30, 3600, 86400]);
  });
});
