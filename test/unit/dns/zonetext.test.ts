// The master-file writer (dns/zonetext.ts) against the parser (config/masterfile.ts): parse(format(x)) = x for
// every type with an RDATA schema, for RFC 3597 unknown types, and for owner names that need escapes.
import { describe, expect, it } from 'vitest';
import { parseMasterFile } from '../../../src/config/masterfile.js';
import { Name } from '../../../src/dns/name.js';
import { parseRdata } from '../../../src/dns/rdata.js';
import { typeSpec } from '../../../src/dns/rdata/schemas.js';
import type { Rr } from '../../../src/dns/rr.js';
import { RRClass, RRType, typeName } from '../../../src/dns/types.js';
import { formatMasterFile, masterFileText, rrLine } from '../../../src/dns/zonetext.js';

const origin = Name.fromText('example.com.');
const key = 'GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==';
const digest = 'B4C8C1FE2E7477127B27115656AD6256F424625BF5C1E2770CE6D6E37DF61D17';

/** One presentation sample per type number; the test below fails when a schema has no sample. */
const SAMPLES: Record<number, string> = {
  [RRType.A]: '192.0.2.1',
  [RRType.NS]: 'ns1',
  [RRType.MD]: 'md.example.net.',
  [RRType.MF]: 'mf.example.net.',
  [RRType.CNAME]: 'Target.Example.NET.',
  [RRType.SOA]: 'ns1 h\\.master 2024010101 1h 15m 2w 300',
  [RRType.MB]: 'mb.example.net.',
  [RRType.MG]: 'mg.example.net.',
  [RRType.MR]: 'mr.example.net.',
  [RRType.PTR]: 'host.example.org.',
  [RRType.HINFO]: '"INTEL" "LINUX"',
  [RRType.MINFO]: 'rm.example.net. em.example.net.',
  [RRType.MX]: '10 mail',
  [RRType.TXT]: '"v=spf1 -all" "a;b" "q\\"\\\\\\000\\255" ""',
  [RRType.RP]: 'mbox.example.net. txt.example.net.',
  [RRType.AFSDB]: '1 afs.example.net.',
  [RRType.RT]: '10 rt.example.net.',
  [RRType.PX]: '10 map822.example.net. mapx400.example.net.',
  [RRType.AAAA]: '2001:db8::1',
  [RRType.NXT]: '\\# 19 04686F7374076578616D706C6503636F6D0040',
  [RRType.SRV]: '0 5 5060 sip',
  [RRType.NAPTR]: '100 10 "S" "SIP+D2U" "!^.*$!sip:info@example.com!" _sip._udp',
  [RRType.KX]: '10 kx.example.net.',
  [RRType.A6]: '64 ::1:2:3:4 prefix.example.net.',
  [RRType.DNAME]: 'example.net.',
  [RRType.DS]: `55648 13 2 ${digest}`,
  [RRType.SSHFP]: '4 2 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6',
  [RRType.RRSIG]: `A 13 3 3600 20100909100439 20100812100439 55648 example.net. ${key}`,
  [RRType.SIG]: `A 13 3 3600 20100909100439 20100812100439 55648 example.net. ${key}`,
  [RRType.NSEC]: '\\000.a.example.com. A MX RRSIG NSEC TYPE1234',
  [RRType.DNSKEY]: `257 3 13 ${key}`,
  [RRType.DHCID]: 'AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=',
  [RRType.NSEC3]: '1 1 12 AABBCCDD 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR NS SOA MX RRSIG DNSKEY NSEC3PARAM',
  [RRType.NSEC3PARAM]: '1 0 0 -',
  [RRType.TLSA]: '3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6',
  [RRType.SMIMEA]: '3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6',
  [RRType.CDS]: '0 0 0 00',
  [RRType.CDNSKEY]: `257 3 13 ${key}`,
  [RRType.OPENPGPKEY]: 'mQINBFit2jsBEADrbl5vjVxYeAE0g0IDYCBpHirv1Sjlqxx5gjtPhb2YhvyDMXjq',
  [RRType.CSYNC]: '66 3 A NS AAAA',
  // RFC 9859 §2.2's example: NOTIFY for CDS at port 5359 of a target host.
  [RRType.DSYNC]: 'CDS 1 5359 cds-scanner.example.net.',
  [RRType.ZONEMD]: `2018031500 1 1 ${'A'.repeat(96)}`,
  [RRType.SVCB]: '1 . alpn=h2,h3 port=8443 ipv4hint=192.0.2.1 key65333=ex1',
  [RRType.HTTPS]: '0 pool.svc.example.',
  [RRType.SPF]: '"v=spf1 -all"',
  [RRType.URI]: '10 1 "ftp://ftp1.example.com/public"',
  [RRType.CAA]: '0 issue "letsencrypt.org; validationmethods=dns-01"',
};

const rr = (name: string, type: number, text: string, ttl = 300): Rr => ({
  name: Name.fromText(name, origin), type, class: RRClass.IN, ttl, rdata: parseRdata(type, text, origin),
});

/** A record as comparable data (a Name caches its text once printed). */
const plain = (x: Rr) => ({ name: x.name.toString(), type: x.type, class: x.class, ttl: x.ttl, rdata: Buffer.from(x.rdata).toString('hex') });

function reparse(text: string): ReturnType<typeof plain>[] {
  return parseMasterFile('x.zone', text, { origin }).records.map(plain);
}

describe('parse(format(x)) = x', () => {
  const schemaTypes: number[] = [];
  for (let t = 0; t <= 0xffff; t++) if (typeSpec(t)) schemaTypes.push(t);

  it('every type with an RDATA schema has a sample here', () => {
    expect(schemaTypes.filter((t) => SAMPLES[t] === undefined).map(typeName)).toEqual([]);
  });

  it.each(schemaTypes.map((t) => [typeName(t), t]))('%s', (_name, type) => {
    const soa = rr('@', RRType.SOA, SAMPLES[RRType.SOA], 3600);
    const records = [soa, rr('a.b', type as number, SAMPLES[type as number], 42)];
    for (const relative of [true, false]) {
      const back = reparse(masterFileText(origin, records, { relative }));
      expect(back).toEqual(records.map(plain));
    }
  });

  it('RFC 3597 §5: an unknown type is written as TYPEnnn with \\# and read back', () => {
    const records = [rr('@', RRType.SOA, SAMPLES[RRType.SOA]), rr('u', 65400, '\\# 3 ABCDEF'), rr('e', 65401, '\\# 0')];
    const text = masterFileText(origin, records);
    expect(text).toContain('u\t300\tIN\tTYPE65400\t\\# 3 ABCDEF');
    expect(reparse(text)).toEqual(records.map(plain));
  });

  it('RFC 1035 §5.1: owners that need escapes ($, @, ;, (, space, a dot in a label, octet 0) survive', () => {
    const names = ['\\$x', '\\@', 'a\\;b', '\\(p\\)', 'sp\\032ace', 'dot\\.ted', '\\000', '\\"q'];
    const records = [rr('@', RRType.SOA, SAMPLES[RRType.SOA]), ...names.map((n, i) => rr(n, RRType.A, `192.0.2.${i}`))];
    const back = parseMasterFile('x.zone', masterFileText(origin, records), { origin }).records;
    expect(back.map((x) => x.name.key)).toEqual(records.map((x) => x.name.key));
    expect(back.map((x) => x.name.labels[0])).toEqual(records.map((x) => x.name.labels[0]));
  });
});

describe('layout', () => {
  it('$ORIGIN first, SOA first from an array, one tab-separated record per line', () => {
    const records = [rr('www', RRType.A, '192.0.2.1'), rr('@', RRType.SOA, SAMPLES[RRType.SOA], 3600), rr('other.net.', RRType.A, '192.0.2.2')];
    const text = masterFileText(origin, records, { comment: ['zone example.com.'] });
    expect(text.split('\n')).toEqual([
      '; zone example.com.',
      '$ORIGIN example.com.',
      '@\t3600\tIN\tSOA\tns1.example.com. h\\.master.example.com. 2024010101 3600 900 1209600 300',
      'www\t300\tIN\tA\t192.0.2.1',
      'other.net.\t300\tIN\tA\t192.0.2.2',
      '',
    ]);
  });

  it('from any other iterable the SOA must come first', () => {
    function* gen() { yield rr('www', RRType.A, '192.0.2.1'); yield rr('@', RRType.SOA, SAMPLES[RRType.SOA]); }
    expect(() => masterFileText(origin, gen())).toThrow(/SOA must come before/);
  });

  it('yields chunks of at most chunkLines records, so a large zone is never one string', () => {
    const records = [rr('@', RRType.SOA, SAMPLES[RRType.SOA])];
    for (let i = 0; i < 2500; i++) records.push(rr(`h${i}`, RRType.A, '192.0.2.1'));
    const chunks = [...formatMasterFile(origin, records.values(), { chunkLines: 1000 })];
    expect(chunks.length).toBe(4); // $ORIGIN, then 1000 + 1000 + 501 lines
    expect(chunks[1].split('\n').length - 1).toBe(1000);
    expect(chunks.join('')).toBe(masterFileText(origin, records));
  });

  it('rrLine without an origin writes absolute owners (tandem dump)', () => {
    expect(rrLine(rr('www', RRType.A, '192.0.2.1'))).toBe('www.example.com.\t300\tIN\tA\t192.0.2.1');
  });
});
