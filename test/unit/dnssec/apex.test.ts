import { describe, expect, it } from 'vitest';
import { Name } from '../../../src/dns/name.js';
import { RRType } from '../../../src/dns/types.js';
import { parseRdata } from '../../../src/dns/rdata.js';
import { apexRrsets, CDNSKEY_DELETE, CDS_DELETE } from '../../../src/dnssec/apex.js';
import { dsRdata, generateKey } from '../../../src/dnssec/keys.js';

const zone = Name.fromText('example.com.');
const ksk = generateKey(257);
const zsk = generateKey(256);
const foreignZsk = generateKey(256);
const foreignKsk = generateKey(257);
const hexes = (l: Uint8Array[]) => l.map((b) => Buffer.from(b).toString('hex')).sort();

describe('apex DNSKEY, CDS and CDNSKEY RRsets', () => {
  it('RFC 8901 §2.1.2: DNSKEY = own KSK + own ZSK + imported keys, without duplicates', () => {
    const r = apexRrsets({ zone, keys: { ksk, zsk }, imported: [foreignZsk.dnskey, foreignKsk.dnskey, zsk.dnskey], dnskeyTtl: 3600, cds: 'none' });
    expect(r.dnskey).toMatchObject({ type: RRType.DNSKEY, class: 1, ttl: 3600 });
    expect(r.dnskey.name.equals(zone)).toBe(true);
    expect(hexes(r.dnskey.rdatas)).toEqual(hexes([ksk.dnskey, zsk.dnskey, foreignZsk.dnskey, foreignKsk.dnskey]));
    expect(r.cds).toBeUndefined();
    expect(r.cdnskey).toBeUndefined();
  });

  it('RFC 7344 §3 / RFC 8901 §8: CDS (SHA-256) and CDNSKEY for every KSK in the set, own and imported', () => {
    const r = apexRrsets({ zone, keys: { ksk, zsk }, imported: [foreignZsk.dnskey, foreignKsk.dnskey], dnskeyTtl: 600, cds: 'publish' });
    expect(r.cds).toMatchObject({ type: RRType.CDS, ttl: 600 });
    expect(hexes(r.cds!.rdatas)).toEqual(hexes([dsRdata(zone, ksk.dnskey, 2), dsRdata(zone, foreignKsk.dnskey, 2)]));
    expect(r.cds!.rdatas.every((d) => d[3] === 2)).toBe(true);
    expect(r.cdnskey).toMatchObject({ type: RRType.CDNSKEY, ttl: 600 });
    expect(hexes(r.cdnskey!.rdatas)).toEqual(hexes([ksk.dnskey, foreignKsk.dnskey]));
  });

  it('RFC 8078 §4: delete forms are CDS 0 0 0 00 and CDNSKEY 0 3 0 AA==', () => {
    const r = apexRrsets({ zone, keys: { ksk, zsk }, dnskeyTtl: 3600, cds: 'delete' });
    expect(hexes(r.cds!.rdatas)).toEqual(hexes([parseRdata(RRType.CDS, '0 0 0 00', zone)]));
    expect(hexes(r.cdnskey!.rdatas)).toEqual(hexes([parseRdata(RRType.CDNSKEY, '0 3 0 AA==', zone)]));
    expect(Array.from(CDS_DELETE)).toEqual([0, 0, 0, 0, 0]);
    expect(Array.from(CDNSKEY_DELETE)).toEqual([0, 0, 3, 0, 0]);
    expect(hexes(r.dnskey.rdatas)).toHaveLength(2);
  });

  it('RFC 8901 §4: imported keys of another algorithm, or not zone keys, are refused', () => {
    const rsa = Uint8Array.from([1, 0, 3, 8, ...new Uint8Array(64)]);
    expect(() => apexRrsets({ zone, keys: { ksk, zsk }, imported: [rsa], dnskeyTtl: 3600, cds: 'none' })).toThrow(/imported DNSKEY 0: unsupported DNSSEC algorithm 8/);
    const notZone = foreignZsk.dnskey.slice();
    notZone[0] = 0;
    expect(() => apexRrsets({ zone, keys: { ksk, zsk }, imported: [notZone], dnskeyTtl: 3600, cds: 'none' })).toThrow(/Zone Key/);
  });
});
