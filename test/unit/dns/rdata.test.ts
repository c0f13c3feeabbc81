import { describe, expect, it } from 'vitest';
import {
  parseRdata, formatRdata, checkRdata, canonicalRdata, rdataNames, additionalTargets, targetName, rdataEquals,
  compareRdata, splitTxt, RdataError,
} from '../../../src/dns/rdata.js';
import { Name } from '../../../src/dns/name.js';
import { RRType, typeFromName } from '../../../src/dns/types.js';

const origin = Name.fromText('example.com.');
// SPF (99, RFC 7208 §3.1) is not in types.ts, so it is looked up by number.
const T = (name: string) => (name === 'SPF' ? 99 : typeFromName(name)!);
const p = (type: string, text: string) => parseRdata(T(type), text, origin);
const fmt = (type: string, rdata: Uint8Array) => formatRdata(T(type), rdata);
const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

// RFC 6605 §6.1 test vector.
const rfc6605Key = 'GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==';
const rfc6605Sig = 'qx6wLYqmh+l9oCKTN6qIc+bw6ya+KJ8oMz0YP107epXAyGmt+3SNruPFKG7tZoLBLlUzGGus7ZwmwWep666VCw==';
const rfc6605Digest = 'b4c8c1fe2e7477127b27115656ad6256f424625bf5c1e2770ce6d6e37df61d17';

describe('presentation -> wire -> presentation', () => {
  // [type, input, expected presentation (as BIND prints it, checked against named-compilezone 9.18)]
  const cases: [string, string, string][] = [
    ['A', '192.0.2.1', '192.0.2.1'],
    ['AAAA', '2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // RFC 5952 §4.2.3: first of equal runs
    ['AAAA', '2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
    ['AAAA', '2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // RFC 5952 §4.2.2: a single zero group stays
    ['AAAA', '2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // RFC 5952 §4.2.3: the longest run
    ['AAAA', '2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'], // RFC 5952 §4.1: no leading zeros
    ['AAAA', '::ffff:1.2.3.4', '::ffff:1.2.3.4'], // RFC 5952 §5: IPv4-mapped in mixed notation
    ['AAAA', '::ffff:102:304', '::ffff:1.2.3.4'],
    ['AAAA', '::1.2.3.4', '::1.2.3.4'],
    ['AAAA', '::', '::'],
    ['AAAA', '::1', '::1'],
    ['AAAA', '1::', '1::'],
    ['AAAA', '1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['NS', 'ns1', 'ns1.example.com.'],
    ['NS', '@', 'example.com.'],
    ['CNAME', 'Target.Example.NET.', 'Target.Example.NET.'],
    ['DNAME', 'example.net.', 'example.net.'],
    ['PTR', 'host.example.org.', 'host.example.org.'],
    ['SOA', 'ns1 hostmaster 2024010101 1h 15m 2w 300', 'ns1.example.com. hostmaster.example.com. 2024010101 3600 900 1209600 300'],
    ['SOA', 'ns1.example.com. h\\.master.example.com. ( 1 2 3 4 5 )', 'ns1.example.com. h\\.master.example.com. 1 2 3 4 5'],
    ['MX', '10 mail', '10 mail.example.com.'],
    ['MX', '0 .', '0 .'],
    ['TXT', '"v=spf1 -all"', '"v=spf1 -all"'],
    ['TXT', 'hello world', '"hello" "world"'],
    ['TXT', '"a\\"b\\\\c" "x y" "\\200\\009"', '"a\\"b\\\\c" "x y" "\\200\\009"'],
    ['TXT', 'semi\\;colon', '"semi;colon"'],
    ['TXT', '"caf\u00e9"', '"caf\\195\\169"'],
    ['TXT', '""', '""'],
    ['SPF', '"v=spf1 -all"', '"v=spf1 -all"'],
    ['HINFO', '"INTEL" "LINUX"', '"INTEL" "LINUX"'],
    ['HINFO', 'RFC8482 ""', '"RFC8482" ""'],
    ['SRV', '0 5 5060 sipserver', '0 5 5060 sipserver.example.com.'],
    ['CAA', '0 issue "letsencrypt.org"', '0 issue "letsencrypt.org"'],
    ['CAA', '128 tbs "Unknown"', '128 tbs "Unknown"'],
    ['CAA', '0 issue ";"', '0 issue ";"'],
    ['CAA', '0 iodef "mailto:security@example.com"', '0 iodef "mailto:security@example.com"'],
    ['NAPTR', '100 10 "S" "SIP+D2U" "" _sip._udp', '100 10 "S" "SIP+D2U" "" _sip._udp.example.com.'],
    ['NAPTR', '10 100 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .', '10 100 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .'],
    ['DS', `55648 13 2 ${rfc6605Digest}`, `55648 13 2 ${rfc6605Digest.toUpperCase()}`],
    ['DS', `55648 13 2 ${rfc6605Digest.slice(0, 20)} ${rfc6605Digest.slice(20)}`, `55648 13 2 ${rfc6605Digest.toUpperCase()}`],
    ['CDS', '0 0 0 00', '0 0 0 00'], // RFC 8078 §4 delete
    ['DNSKEY', `257 3 13 ${rfc6605Key}`, `257 3 13 ${rfc6605Key}`],
    ['DNSKEY', `257 3 13 ${rfc6605Key.slice(0, 30)} ${rfc6605Key.slice(30)}`, `257 3 13 ${rfc6605Key}`],
    ['CDNSKEY', '0 3 0 AA==', '0 3 0 AA=='], // RFC 8078 §4 delete
    ['RRSIG', `A 13 3 3600 20100909100439 20100812100439 55648 example.net. ${rfc6605Sig}`,
      `A 13 3 3600 20100909100439 20100812100439 55648 example.net. ${rfc6605Sig}`],
    ['RRSIG', `TYPE65280 13 2 0 20380119031408 19700101000000 1 . ${rfc6605Sig}`,
      `TYPE65280 13 2 0 20380119031408 19700101000000 1 . ${rfc6605Sig}`],
    ['NSEC', '\\000.a.example.com. RRSIG NSEC NXNAME', '\\000.a.example.com. RRSIG NSEC NXNAME'], // RFC 9824 §3.1
    ['NSEC', 'sub\\000 NS RRSIG NSEC', 'sub\\000.example.com. NS RRSIG NSEC'], // RFC 9824 §3.4
    ['NSEC', 'host.example.com. A MX RRSIG NSEC TYPE1234', 'host.example.com. A MX RRSIG NSEC TYPE1234'],
    ['NSEC', 'next.example.com.', 'next.example.com.'],
    ['NSEC', 'a.example.com. TYPE65283 A', 'a.example.com. A TYPE65283'],
    ['NSEC3', '1 1 12 aabbccdd 2t7b4g4vsa5smi47k61mv5bv1a22bojr MX DNSKEY NS SOA NSEC3PARAM RRSIG',
      '1 1 12 AABBCCDD 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR NS SOA MX RRSIG DNSKEY NSEC3PARAM'], // RFC 5155 Appendix A
    ['NSEC3', '1 0 0 - 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR', '1 0 0 - 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR'],
    ['NSEC3', '1 0 0 - 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR NXNAME', '1 0 0 - 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR NXNAME'],
    ['NSEC3PARAM', '1 0 0 -', '1 0 0 -'], // RFC 9276 §3.1
    ['NSEC3PARAM', '1 0 12 aabbccdd', '1 0 12 AABBCCDD'],
    ['TLSA', '3 1 1 0123456789abcdef', '3 1 1 0123456789ABCDEF'],
    ['SMIMEA', '3 0 0 ab cd', '3 0 0 ABCD'],
    ['SSHFP', '4 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
      '4 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF'],
    ['HTTPS', '1 . alpn=h2,h3', '1 . alpn="h2,h3"'],
    ['URI', '10 1 "ftp://ftp1.example.com/public"', '10 1 "ftp://ftp1.example.com/public"'],
    ['OPENPGPKEY', 'AAECAwQF BgcI', 'AAECAwQFBgcI'],
    ['CSYNC', '66 3 A NS AAAA', '66 3 A NS AAAA'],
    ['ZONEMD', '2018031500 1 1 ' + 'ab'.repeat(48), '2018031500 1 1 ' + 'AB'.repeat(48)],
    ['DHCID', 'AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=', 'AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA='],
    ['RP', 'mbox txt.example.net.', 'mbox.example.com. txt.example.net.'],
    ['AFSDB', '1 afs', '1 afs.example.com.'],
    ['KX', '10 kx.example.net.', '10 kx.example.net.'],
    ['MINFO', 'rm em', 'rm.example.com. em.example.com.'],
    ['A6', '0 2001:db8::1', '0 2001:db8::1'],
    ['A6', '64 ::1:2:3:4 prefix.example.net.', '64 ::1:2:3:4 prefix.example.net.'],
  ];
  for (const [type, input, want] of cases) {
    it(`${type} ${input}`, () => {
      const w = p(type, input);
      const f = fmt(type, w);
      expect(f).toBe(want);
      expect(p(type, f)).toEqual(w);
      expect(() => checkRdata(T(type), w)).not.toThrow();
    });
  }

  it('RFC 4034 §3.2: RRSIG times may be given as seconds since the epoch', () => {
    const secs = Date.UTC(2010, 8, 9, 10, 4, 39) / 1000;
    const a = p('RRSIG', `A 13 3 3600 ${secs} 20100812100439 55648 example.net. ${rfc6605Sig}`);
    expect(a).toEqual(p('RRSIG', `A 13 3 3600 20100909100439 20100812100439 55648 example.net. ${rfc6605Sig}`));
  });

  it('RFC 1035 §3.3.14: a TXT string longer than 255 octets in presentation is split into 255-octet strings', () => {
    const w = p('TXT', `"${'x'.repeat(300)}"`);
    expect(w.length).toBe(302);
    expect(w[0]).toBe(255);
    expect(w[256]).toBe(45);
    expect(fmt('TXT', w)).toBe(`"${'x'.repeat(255)}" "${'x'.repeat(45)}"`);
  });

  it('RFC 1035 §5.1: a \\000 label in a name survives the round trip', () => {
    const w = p('NSEC', '\\000.a.example.com. A');
    expect(w.subarray(0, 2)).toEqual(hex('01 00'));
  });
});

describe('RFC 3597 §5: the \\# generic form', () => {
  it('RFC 3597 §5: \\# for a known type equals its normal form', () => {
    expect(p('A', '\\# 4 C0000201')).toEqual(p('A', '192.0.2.1'));
    const mx = p('MX', '10 mail.example.com.');
    expect(p('MX', `\\# ${mx.length} ${toHex(mx)}`)).toEqual(mx);
  });

  it('RFC 3597 §5: hex may be split over several words', () => {
    expect(p('A', '\\# 4 c000 02 01')).toEqual(p('A', '192.0.2.1'));
  });

  it('RFC 3597 §5: unknown types parse and print in the generic form', () => {
    const w = parseRdata(65280, '\\# 3 0a0B0c', origin);
    expect(w).toEqual(hex('0a0b0c'));
    expect(formatRdata(65280, w)).toBe('\\# 3 0A0B0C');
  });

  it('RFC 3597 §5: \\# 0 is empty RDATA', () => {
    const w = parseRdata(65280, '\\# 0', origin);
    expect(w.length).toBe(0);
    expect(formatRdata(65280, w)).toBe('\\# 0');
  });

  it('RFC 3597 §5: the length must match the data', () => {
    expect(() => parseRdata(65280, '\\# 5 0a0b0c', origin)).toThrow(/length 5 but 3 octets/);
  });

  it('RFC 3597 §5: \\# for a known type must be valid RDATA of that type', () => {
    expect(() => p('A', '\\# 3 C00002')).toThrow(RdataError);
    expect(() => p('A', '\\# 3 C00002')).toThrow(/A address: .*past the end/);
  });

  it('unknown types need the \\# form', () => {
    expect(() => parseRdata(65280, 'hello', origin)).toThrow(/\\# <length> <hex>/);
  });

  it('malformed wire RDATA of a known type prints in the generic form', () => {
    expect(fmt('A', hex('c00002'))).toBe('\\# 3 C00002');
  });
});

describe('bad input is an RdataError saying what is wrong', () => {
  const bad: [string, string, RegExp][] = [
    ['A', '1.2.3', /^A address: bad IPv4 address '1\.2\.3'$/],
    ['A', '1.2.3.256', /bad IPv4 address/],
    ['A', '01.2.3.4', /bad IPv4 address/],
    ['A', '192.0.2.1 192.0.2.2', /^A: trailing garbage '192\.0\.2\.2'$/],
    ['A', '', /^A: missing address$/],
    ['AAAA', '1:2:3:4:5:6:7:8:9', /bad IPv6 address/],
    ['AAAA', '1::2::3', /bad IPv6 address/],
    ['AAAA', '::ffff:1.2.3', /bad IPv6 address/],
    ['AAAA', '1:2:3:4:5:6::7:8', /bad IPv6 address/],
    ['AAAA', 'fe80::1%eth0', /bad IPv6 address/],
    ['AAAA', '12345::', /bad IPv6 address/],
    ['AAAA', ':1::', /bad IPv6 address/],
    ['DNSKEY', '257 3 13 not*base64', /DNSKEY public key: bad base64/],
    ['DNSKEY', '257 3 13 AAA', /bad base64/],
    ['DNSKEY', '257 3 13', /DNSKEY: missing public key/],
    ['MX', '70000 mail', /^MX preference: 70000 is out of range 0\.\.65535$/],
    ['MX', '-1 mail', /not an unsigned decimal number/],
    ['MX', '10', /^MX: missing exchange$/],
    ['MX', '10 a..b', /MX exchange: bad name/],
    ['SOA', 'ns1 hostmaster 1 2 3 4', /SOA: missing minimum/],
    ['SOA', 'ns1 hostmaster 1 2 3 4 1x', /SOA minimum/],
    ['HINFO', `"${'x'.repeat(256)}" ""`, /HINFO cpu: .*256 octets, more than 255/],
    ['RRSIG', `A 13 3 3600 20101309100439 20100812100439 55648 example.net. ${rfc6605Sig}`, /RRSIG expiration: .*no such date/],
    ['RRSIG', `BOGUS 13 3 3600 20100909100439 20100812100439 55648 example.net. ${rfc6605Sig}`, /unknown type 'BOGUS'/],
    ['DS', '1 13 2 abcd', /DS: digest type 2 needs a 32-octet digest, not 2/], // RFC 4509 §2.2
    ['DS', '1 13 1 abcd', /20-octet digest/], // RFC 4034 §5.1.4
    ['DS', '1 13 2 abc', /bad hex/],
    ['TXT', 'a;b', /';'/],
    ['TXT', '"unterminated', /unterminated/],
    ['TXT', '"a"b', /after quoted string/],
    ['TXT', 'bad\\3', /bad escape/],
    ['NSEC', 'next.example.com. A BOGUS', /NSEC type bitmap: unknown type 'BOGUS'/],
    ['NSEC3', '1 0 0 - 2t7b4g4vsa5smi47k61mv5bv1a22boj! A', /bad base32hex/],
    ['NSEC3PARAM', '1 0 0 xyz', /bad hex/],
    ['NSEC3PARAM', '1 0 0 - extra', /trailing garbage/],
    ['CAA', '0 is-sue "x"', /bad CAA tag/],
    ['CAA', '0 issue two words', /trailing garbage/],
    ['TLSA', '3 1 1', /TLSA: missing data/],
    ['A6', '129 ::1', /prefix length 129/],
  ];
  for (const [type, text, re] of bad) {
    it(`${type} '${text.length > 40 ? text.slice(0, 40) + '...' : text}' -> ${re}`, () => {
      expect(() => p(type, text)).toThrow(RdataError);
      expect(() => p(type, text)).toThrow(re);
    });
  }
});

describe('checkRdata: wire RDATA', () => {
  it('accepts what parseRdata made', () => {
    expect(() => checkRdata(RRType.MX, p('MX', '10 mail'))).not.toThrow();
  });

  const bad: [string, string, RegExp][] = [
    ['A', 'c0000201 00', /A: 1 octets of trailing garbage/],
    ['AAAA', '20010db8', /AAAA address: .*past the end/],
    ['TXT', '05 6162', /TXT text: .*past the end/], // a length octet promising more than there is
    ['TXT', '', /TXT text: needs at least one character-string/], // RFC 1035 §3.3.14
    ['MX', '000a c00c', /compression pointer/], // RFC 3597 §4: stored RDATA is uncompressed
    ['MX', '000a 04 6d61696c', /past the end/], // name without its root label
    ['MX', '000a 40', /unknown label type/],
    ['SRV', '0000 0005', /SRV port: .*past the end/],
    ['DNSKEY', '0101 03 0d', /DNSKEY public key: missing/],
    ['RRSIG', '0001 0d 03 00000e10 4c88b1b7 4c63c7b7 d960 00', /RRSIG signature: missing/],
    ['NSEC', '00 0002 4000', /trailing zero/], // RFC 4034 §4.1.2
    ['NSEC3', '01 00 0000 00 00', /NSEC3 next hashed owner: empty hash/],
    ['CAA', '00 00', /bad CAA tag/],
    ['CNAME', ('3f' + '61'.repeat(63)).repeat(5) + '00', /longer than 255/], // RFC 1035 §3.1
  ];
  for (const [type, wire, re] of bad) {
    it(`${type} ${wire || '(empty)'} -> ${re}`, () => {
      expect(() => checkRdata(T(type), hex(wire))).toThrow(RdataError);
      expect(() => checkRdata(T(type), hex(wire))).toThrow(re);
    });
  }

  it('RFC 3597: unknown types are opaque and always valid', () => {
    expect(() => checkRdata(65280, hex('c00c'))).not.toThrow();
    expect(() => checkRdata(65280, new Uint8Array(0))).not.toThrow();
  });

  it('RFC 1035 §3.2.1: RDATA is at most 65535 octets', () => {
    expect(() => checkRdata(65280, new Uint8Array(65536))).toThrow(/65535/);
  });
});

describe('RFC 4034 §6.2: canonical RDATA', () => {
  it('RFC 4034 §6.2: MX exchange is lower-cased', () => {
    const w = p('MX', '10 MAIL.Example.COM.');
    const c = canonicalRdata(RRType.MX, w);
    expect(c).toEqual(p('MX', '10 mail.example.com.'));
    expect(w).toEqual(p('MX', '10 MAIL.Example.COM.')); // the input is untouched
  });

  it('returns the same object when nothing changes', () => {
    const w = p('MX', '10 mail.example.com.');
    expect(canonicalRdata(RRType.MX, w)).toBe(w);
  });

  it('RFC 6840 §5.1: NSEC next name is not lower-cased', () => {
    const w = p('NSEC', 'Next.Example.COM. A RRSIG NSEC');
    expect(canonicalRdata(RRType.NSEC, w)).toBe(w);
  });

  it('RFC 2136 §2.5.2: the empty RDATA of a class ANY delete has no canonical names to find (fuzz seed 1762759103)', () => {
    const empty = new Uint8Array(0);
    expect(canonicalRdata(RRType.RT, empty)).toBe(empty);
    expect(canonicalRdata(RRType.MX, empty)).toBe(empty);
  });

  it('RFC 3597 §7: names in unknown types are never lower-cased', () => {
    const w = hex('04 4d41494c 00'); // would be "MAIL." if it were a name
    expect(canonicalRdata(65280, w)).toBe(w);
  });

  it('RFC 4034 §6.2: RRSIG signer name is lower-cased, the signature octets are not', () => {
    const w = p('RRSIG', 'A 13 3 3600 20100909100439 20100812100439 55648 Example.NET. QUJD'); // signature "ABC"
    const c = canonicalRdata(RRType.RRSIG, w);
    expect(c).toEqual(p('RRSIG', 'A 13 3 3600 20100909100439 20100812100439 55648 example.net. QUJD'));
    expect(Buffer.from(c.subarray(c.length - 3)).toString()).toBe('ABC');
  });

  it('RFC 4034 §6.2: both SOA names, SRV target, DNAME target, NAPTR replacement are lower-cased', () => {
    expect(canonicalRdata(RRType.SOA, p('SOA', 'NS1.Example.COM. Host.Example.COM. 1 2 3 4 5')))
      .toEqual(p('SOA', 'ns1.example.com. host.example.com. 1 2 3 4 5'));
    expect(canonicalRdata(RRType.SRV, p('SRV', '0 5 5060 SIP.Example.COM.'))).toEqual(p('SRV', '0 5 5060 sip.example.com.'));
    expect(canonicalRdata(RRType.DNAME, p('DNAME', 'Example.NET.'))).toEqual(p('DNAME', 'example.net.'));
    expect(canonicalRdata(RRType.NAPTR, p('NAPTR', '1 1 "S" "X" "" Svc.Example.COM.')))
      .toEqual(p('NAPTR', '1 1 "S" "X" "" svc.example.com.'));
  });

  it('RFC 4034 §6.2: only names change; TXT-like data in the same RDATA keeps its case', () => {
    const w = p('NAPTR', '1 1 "S" "SIP+D2U" "" Svc.Example.COM.');
    expect(fmt('NAPTR', canonicalRdata(RRType.NAPTR, w))).toBe('1 1 "S" "SIP+D2U" "" svc.example.com.');
  });

  it('RFC 4034 §6.2: SVCB is not in the list, so its TargetName keeps its case', () => {
    const w = p('SVCB', '1 Svc.Example.COM.');
    expect(canonicalRdata(RRType.SVCB, w)).toBe(w);
  });
});

describe('rdataNames', () => {
  it('RFC 3597 §4: MX exchange is compressible, at offset 2', () => {
    const w = p('MX', '10 mail.example.com.');
    const [n] = rdataNames(RRType.MX, w);
    expect(n.offset).toBe(2);
    expect(n.length).toBe(w.length - 2);
    expect(n.name.toString()).toBe('mail.example.com.');
    expect(n.compressible).toBe(true);
  });

  it('RFC 3597 §4: both SOA names are compressible', () => {
    const ns = rdataNames(RRType.SOA, p('SOA', 'ns1 host 1 2 3 4 5'));
    expect(ns.map((n) => [n.offset, n.name.toString(), n.compressible])).toEqual([
      [0, 'ns1.example.com.', true],
      [17, 'host.example.com.', true],
    ]);
  });

  it('RFC 2782: SRV target is not compressible', () => {
    expect(rdataNames(RRType.SRV, p('SRV', '0 5 5060 sip')).map((n) => [n.offset, n.compressible])).toEqual([[6, false]]);
  });

  it('RFC 6672 §2.5: DNAME target is not compressible', () => {
    expect(rdataNames(RRType.DNAME, p('DNAME', 'example.net.'))[0].compressible).toBe(false);
  });

  it('RFC 3597 §4: names in newer types (RRSIG, NSEC, NAPTR, SVCB) are not compressible', () => {
    const rrsig = rdataNames(RRType.RRSIG, p('RRSIG', `A 13 3 3600 20100909100439 20100812100439 55648 example.net. ${rfc6605Sig}`));
    expect(rrsig.map((n) => [n.offset, n.name.toString(), n.compressible])).toEqual([[18, 'example.net.', false]]);
    expect(rdataNames(RRType.NSEC, p('NSEC', 'next A'))[0].compressible).toBe(false);
    expect(rdataNames(RRType.NAPTR, p('NAPTR', '1 1 "S" "X" "" svc'))[0].compressible).toBe(false);
    expect(rdataNames(RRType.SVCB, p('SVCB', '1 svc'))[0].compressible).toBe(false);
  });

  it('types without names, and unknown types, have none', () => {
    expect(rdataNames(RRType.A, p('A', '192.0.2.1'))).toEqual([]);
    expect(rdataNames(65280, hex('0000'))).toEqual([]);
  });
});

describe('additionalTargets and targetName', () => {
  it('RFC 1035 §3.3.11, §3.3.9, RFC 2782: NS, MX and SRV targets', () => {
    expect(additionalTargets(RRType.NS, p('NS', 'ns1')).map(String)).toEqual(['ns1.example.com.']);
    expect(additionalTargets(RRType.MX, p('MX', '10 mail')).map(String)).toEqual(['mail.example.com.']);
    expect(additionalTargets(RRType.SRV, p('SRV', '0 0 443 svc')).map(String)).toEqual(['svc.example.com.']);
  });

  it('RFC 9460 §4.1: SVCB/HTTPS TargetName, but not "."', () => {
    expect(additionalTargets(RRType.HTTPS, p('HTTPS', '1 svc alpn=h2')).map(String)).toEqual(['svc.example.com.']);
    expect(additionalTargets(RRType.HTTPS, p('HTTPS', '1 . alpn=h2'))).toEqual([]);
  });

  it('other types have no additional targets', () => {
    expect(additionalTargets(RRType.CNAME, p('CNAME', 'x'))).toEqual([]);
  });

  it('targetName gives the one name of CNAME, DNAME, NS, PTR', () => {
    expect(targetName(RRType.CNAME, p('CNAME', 'www')).toString()).toBe('www.example.com.');
    expect(targetName(RRType.DNAME, p('DNAME', 'example.net.')).toString()).toBe('example.net.');
    expect(targetName(RRType.PTR, p('PTR', 'host')).toString()).toBe('host.example.com.');
    expect(() => targetName(RRType.MX, p('MX', '10 mail'))).toThrow(RdataError);
  });
});

describe('RFC 4034 §6.3: RDATA order and equality', () => {
  it('RFC 4034 §6.3: compares as left-justified octet strings, a prefix first', () => {
    expect(compareRdata(hex('0102'), hex('010200'))).toBeLessThan(0);
    expect(compareRdata(hex('0103'), hex('010209'))).toBeGreaterThan(0);
    expect(compareRdata(hex('0102'), hex('0102'))).toBe(0);
  });

  it('RFC 4034 §6.3: sorts A records numerically by octets', () => {
    const rs = ['192.0.2.10', '192.0.2.9', '198.51.100.1'].map((a) => p('A', a));
    expect(rs.sort(compareRdata).map((r) => fmt('A', r))).toEqual(['192.0.2.9', '192.0.2.10', '198.51.100.1']);
  });

  it('rdataEquals compares octets', () => {
    expect(rdataEquals(p('A', '192.0.2.1'), p('A', '\\# 4 c0000201'))).toBe(true);
    expect(rdataEquals(p('A', '192.0.2.1'), p('A', '192.0.2.2'))).toBe(false);
    expect(rdataEquals(hex('01'), hex('0100'))).toBe(false);
  });
});

describe('splitTxt', () => {
  it('RFC 1035 §3.3.14: cuts a long value into 255-octet character-strings', () => {
    const w = splitTxt('a'.repeat(600));
    expect(w.length).toBe(603);
    expect([w[0], w[256], w[512]]).toEqual([255, 255, 90]);
    expect(() => checkRdata(RRType.TXT, w)).not.toThrow();
  });

  it('takes the value literally (no escape processing) and round-trips through presentation', () => {
    const w = splitTxt('v=DKIM1; k=rsa; p="\\x"');
    expect(fmt('TXT', w)).toBe('"v=DKIM1; k=rsa; p=\\"\\\\x\\""');
    expect(p('TXT', fmt('TXT', w))).toEqual(w);
  });

  it('an empty value is one empty character-string', () => {
    expect(splitTxt('')).toEqual(hex('00'));
  });
});
