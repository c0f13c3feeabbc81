import { describe, expect, it } from 'vitest';
import { ZoneFileError } from '../../../src/config/zonefile.js';
import { RRType } from '../../../src/dns/types.js';
import { decodeCharString } from '../../../src/dns/rdata/text.js';
import { decodeOctodns } from '../../../src/config/octodns.js';
import { parseRecords, shown, thrown } from './helpers.js';

const one = (record: string, owner = 'x') => shown(parseRecords(`  ${owner}: ${record}\n`), owner);

describe('octoDNS value shapes -> RDATA', () => {
  it('A and AAAA take address strings, as value or values', () => {
    expect(one('{ type: A, values: [192.0.2.1, 192.0.2.2] }')).toEqual(['A 192.0.2.1', 'A 192.0.2.2']);
    expect(one("{ type: AAAA, value: '2001:db8::1' }")).toEqual(['AAAA 2001:db8::1']);
  });

  it('names in values: absolute with a trailing dot, relative to the origin without one', () => {
    expect(one('{ type: CNAME, value: www.example.net. }')).toEqual(['CNAME www.example.net.']);
    expect(one('{ type: CNAME, value: www }')).toEqual(['CNAME www.example.org.']);
    expect(one('{ type: NS, values: [ns1.example.net., ns2] }')).toEqual(['NS ns1.example.net.', 'NS ns2.example.org.']);
    expect(one('{ type: PTR, value: host.example.org. }')).toEqual(['PTR host.example.org.']);
    expect(one('{ type: DNAME, value: example.net. }')).toEqual(['DNAME example.net.']);
  });

  it('MX {preference, exchange}, and the legacy {priority, value}', () => {
    expect(one('{ type: MX, value: { preference: 10, exchange: mail.example.org. } }')).toEqual(['MX 10 mail.example.org.']);
    expect(one('{ type: MX, value: { priority: 20, value: mx2 } }')).toEqual(['MX 20 mx2.example.org.']);
  });

  it('SRV {priority, weight, port, target}', () => {
    expect(one('{ type: SRV, value: { priority: 10, weight: 5, port: 5060, target: sip.example.org. } }', '_sip._tcp'))
      .toEqual(['SRV 10 5 5060 sip.example.org.']);
  });

  it('CAA {flags, tag, value}; flags default to 0 as in octoDNS', () => {
    expect(one('{ type: CAA, values: [{ flags: 128, tag: issue, value: ca.example.net }, { tag: iodef, value: "mailto:a@example.org" }] }'))
      .toEqual(['CAA 128 issue "ca.example.net"', 'CAA 0 iodef "mailto:a@example.org"']);
  });

  it('NAPTR {order, preference, flags, service, regexp, replacement}', () => {
    expect(one(String.raw`{ type: NAPTR, value: { order: 100, preference: 10, flags: U, service: E2U+sip, regexp: '!^.*$!sip:info@example.org!', replacement: . } }`))
      .toEqual(['NAPTR 100 10 "U" "E2U+sip" "!^.*$!sip:info@example.org!" .']);
  });

  it('SSHFP, TLSA and DS mappings; hex that YAML would read as a number keeps its digits', () => {
    expect(one('{ type: SSHFP, value: { algorithm: 4, fingerprint_type: 2, fingerprint: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef } }'))
      .toEqual(['SSHFP 4 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF']);
    expect(one('{ type: TLSA, value: { certificate_usage: 3, selector: 1, matching_type: 1, certificate_association_data: 0011223344556677889900112233445566778899001122334455667788990011 } }', '_443._tcp'))
      .toEqual(['TLSA 3 1 1 0011223344556677889900112233445566778899001122334455667788990011']);
    const ds = one('[{ type: NS, value: ns.example.net. }, { type: DS, value: { key_tag: 60485, algorithm: 13, digest_type: 2, digest: 0A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F9 } }]', 'child');
    expect(ds).toContain('DS 60485 13 2 0A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F9');
  });

  it("DS in octoDNS's deprecated flags/protocol/algorithm/public_key spelling maps in order, with a warning", () => {
    const z = parseRecords('  child:\n    - { type: NS, value: ns.example.net. }\n    - { type: DS, value: { flags: 60485, protocol: 13, algorithm: 1, public_key: 0A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D } }\n');
    expect(shown(z, 'child')).toContain('DS 60485 13 1 0A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D');
    expect(z.warnings.join('\n')).toMatch(/deprecated/);
  });

  it('SVCB/HTTPS {svcpriority, targetname, svcparams} (RFC 9460 §2.1): lists join with commas, null means a key without value', () => {
    expect(one("{ type: HTTPS, value: { svcpriority: 1, targetname: ., svcparams: { alpn: [h2, h3], port: 8443, ipv4hint: [192.0.2.1, 192.0.2.2], ipv6hint: ['2001:db8::1'], no-default-alpn: ~ } } }"))
      .toEqual(['HTTPS 1 . alpn="h2,h3" no-default-alpn port=8443 ipv4hint=192.0.2.1,192.0.2.2 ipv6hint=2001:db8::1']);
    expect(one('{ type: SVCB, value: { svcpriority: 0, targetname: svc.example.net. } }')).toEqual(['SVCB 0 svc.example.net.']);
  });

  it('URI {priority, weight, target} (RFC 7553)', () => {
    expect(one('{ type: URI, value: { priority: 10, weight: 1, target: "ftp://ftp.example.org/public" } }', '_ftp._tcp'))
      .toEqual(['URI 10 1 "ftp://ftp.example.org/public"']);
  });

  it('any type accepts RDATA presentation text, and TYPEnnn takes the RFC 3597 \\# form', () => {
    expect(one('{ type: MX, value: "10 mail.example.org." }')).toEqual(['MX 10 mail.example.org.']);
    expect(one(String.raw`{ type: TYPE65400, value: '\# 4 0A000001' }`)).toEqual([String.raw`TYPE65400 \# 4 0A000001`]);
    expect(one(String.raw`{ type: A, value: '\# 4 C0000201' }`)).toEqual(['A 192.0.2.1']);
  });
});

describe('TXT values (octoDNS text rules)', () => {
  it('one value is one TXT record with one string', () => {
    expect(one('{ type: TXT, values: [first, second value] }')).toEqual(['TXT "first"', 'TXT "second value"']);
  });

  it('octoDNS rule: ";" must be escaped as "\\;"; the escape stands for a plain ";"', () => {
    expect(one(String.raw`{ type: TXT, value: 'v=DKIM1\; k=ec' }`)).toEqual(['TXT "v=DKIM1; k=ec"']);
    const e = thrown(() => one('{ type: TXT, value: "v=DKIM1; k=ec" }'));
    expect(e).toBeInstanceOf(ZoneFileError);
    expect(e.message).toMatch(/^zones\/example\.org\.yaml:5: x TXT: .*unescaped ';'/);
  });

  it('RFC 1035 §3.3.14: a string over 255 octets becomes several <character-string>s of at most 255', () => {
    const text = 'a'.repeat(255) + 'b'.repeat(45);
    expect(one(`{ type: TXT, value: ${text} }`)).toEqual([`TXT "${'a'.repeat(255)}" "${'b'.repeat(45)}"`]);
    expect(one(`{ type: TXT, value: ${'c'.repeat(255)} }`)).toEqual([`TXT "${'c'.repeat(255)}"`]);
  });

  it('a literal " is kept, backslash escapes are decoded and non-ASCII text is stored as UTF-8', () => {
    expect(one(String.raw`{ type: TXT, value: 'say "hi" \\ \065 é' }`)).toEqual([String.raw`TXT "say \"hi\" \\ A \195\169"`]);
  });

  it('an empty TXT value is one empty string', () => {
    expect(one("{ type: TXT, value: '' }")).toEqual(['TXT ""']);
  });

  it('RFC 1035 §5.1: a TXT value in the quoted multi-string form ("a" "b") is kept as written, with a warning naming octoDNS\'s reading and the forms that keep strings apart', () => {
    const z = parseRecords(`  x: { type: TXT, value: '"v=DKIM1 k=rsa " "p=MIGf"' }\n  y: { type: TXT, value: '"one"' }\n  z: { type: TXT, value: 'say "hi" now' }\n`);
    const txt = (owner: string) => z.input.records.find((r) => r.name.toString().startsWith(owner + '.'))!;
    // Kept literally: one string, quotes and the space between the parts included.
    expect(decodeCharString(shown(z, 'x')[0].slice(5, -1))).toEqual(new TextEncoder().encode('"v=DKIM1 k=rsa " "p=MIGf"'));
    expect(txt('x').rdata[0]).toBe('"v=DKIM1 k=rsa " "p=MIGf"'.length);
    const warnings = z.warnings.join('\n');
    expect(warnings).toMatch(/^x TXT: value "\\"v=DKIM1 k=rsa \\" \\"p=MIGf\\"" is in the quoted multi-string form of a zone file: tandem keeps it as one string, quotes included, where octoDNS would join it into "v=DKIM1 k=rsa p=MIGf"/m);
    expect(warnings).toMatch(/RFC 3597 form \('\\# <length> <hex>'\) or in a master file \(\.zone\)/);
    expect(warnings).toMatch(/^y TXT: value "\\"one\\"" .* would join it into "one"/m);
    // Quotes inside ordinary text are no multi-string form.
    expect(warnings).not.toMatch(/^z TXT/m);
  });

  it('RFC 4408 §3.1.1: SPF (type 99) has the TXT format; accepted with a warning (RFC 7208 §3.1)', () => {
    const z = parseRecords('  x: { type: SPF, value: v=spf1 -all }\n');
    const rr = z.input.records.find((r) => r.type === 99)!;
    expect(rr).toBeDefined();
    expect(Array.from(rr.rdata)).toEqual([11, ...new TextEncoder().encode('v=spf1 -all')]);
    expect(z.warnings.join('\n')).toMatch(/RFC 7208/);
  });
});

describe('refused and malformed values', () => {
  const err = (record: string) => thrown(() => one(record));

  it('ALIAS is refused with a reason', () => {
    expect(err('{ type: ALIAS, value: example.net. }').message).toMatch(/:5: x ALIAS: ALIAS is a provider-side pseudo-type/);
  });

  it('SOA in records is refused: it comes from zone.soa', () => {
    expect(err('{ type: SOA, value: "a. b. 1 2 3 4 5" }').message).toMatch(/SOA comes from zone\.soa/);
  });

  it('records the signer makes are refused (RFC 4035 §2)', () => {
    expect(err('{ type: NSEC3PARAM, value: "1 0 0 -" }').message).toMatch(/made by the signer/);
    expect(err('{ type: RRSIG, value: "A 13 2 3600 20300101000000 20200101000000 1 example.org. AAAA" }').message).toMatch(/made by the signer/);
  });

  it('RFC 6895 §3.1: meta types cannot be stored', () => {
    expect(err(String.raw`{ type: ANY, value: '\# 0' }`).message).toMatch(/ANY is a meta type/);
    expect(err(String.raw`{ type: TYPE128, value: '\# 0' }`).message).toMatch(/TYPE128 is a meta type/);
  });

  it('DNSKEY is refused without dnssec.multi_signer and accepted with it (RFC 8901)', () => {
    const dnskey = '{ type: DNSKEY, value: { flags: 257, protocol: 3, algorithm: 13, public_key: AAAA } }';
    expect(err(dnskey).message).toMatch(/^zones\/example\.org\.yaml:5: x DNSKEY: DNSKEY records are refused unless zone\.dnssec\.multi_signer/);
    const header = 'zone:\n  soa: { mname: ns1.example.org., rname: h.example.org. }\n  nameservers: [ns1.example.org.]\n  dnssec: { enabled: true, multi_signer: true }\n';
    const z = parseRecords(`  '': ${dnskey}\n`, header);
    expect(shown(z, '@')).toContain('DNSKEY 257 3 13 AAAA');
  });

  it('an unknown type names itself, a bad IPv4 address names the value and its line', () => {
    expect(err('{ type: FOO, value: x }').message).toMatch(/^zones\/example\.org\.yaml:5: x FOO: unknown record type "FOO"/);
    const e = thrown(() => parseRecords('  x:\n    type: A\n    values:\n      - 192.0.2.1\n      - 192.0.2.256\n')) as ZoneFileError;
    expect(e.line).toBe(9);
    expect(e.owner).toBe('x');
    expect(e.type).toBe('A');
    expect(e.message).toMatch(/^zones\/example\.org\.yaml:9: x A: bad value "192\.0\.2\.256"/);
  });

  it('a structured value with a misspelt field is an error listing the fields', () => {
    expect(err('{ type: MX, value: { preference: 10, exchnage: mail } }').message).toMatch(/unknown field "exchnage" in MX value \(fields: preference, exchange\)/);
    expect(err('{ type: SRV, value: { priority: 10, weight: 5, target: sip } }').message).toMatch(/SRV value is missing port/);
    expect(err('{ type: MX, value: { preference: 70000, exchange: mail } }').message).toMatch(/MX preference "70000" is not an integer 0\.\.65535/);
    expect(err('{ type: A, value: { address: 192.0.2.1 } }').message).toMatch(/A values are strings/);
  });

  it('record keys other than type/ttl/value/values/octodns are errors; octodns is ignored', () => {
    expect(err('{ type: A, value: 192.0.2.1, tll: 60 }').message).toMatch(/unknown key "tll" in a record/);
    expect(err('{ type: A, value: 192.0.2.1, dynamic: {} }').message).toMatch(/dynamic records are not supported/);
    expect(one('{ type: A, value: 192.0.2.1, octodns: { ignored: true } }')).toEqual(['A 192.0.2.1']);
  });

  it('value and values together, neither, or a list under value are errors', () => {
    expect(err('{ type: A, value: 192.0.2.1, values: [192.0.2.2] }').message).toMatch(/either value or values/);
    expect(err('{ type: A }').message).toMatch(/no value or values/);
    expect(err('{ type: A, value: [192.0.2.1] }').message).toMatch(/use values for a list/);
    expect(err('{ type: A, values: [] }').message).toMatch(/values is empty/);
  });

  it('octoDNS: one entry per owner and type', () => {
    const e = thrown(() => parseRecords('  x:\n    - { type: A, value: 192.0.2.1 }\n    - { type: A, value: 192.0.2.2 }\n'));
    expect(e.message).toMatch(/:7: x A: a second A entry for this owner/);
  });

  it('the record type numbers are kept (type 65400 stays 65400)', () => {
    const z = parseRecords(String.raw`  x: { type: TYPE65400, value: '\# 0' }` + '\n');
    expect(z.input.records.map((r) => r.type)).toEqual([RRType.SOA, 65400]);
  });
});

describe('escapes: one decoder, two rule sets (RFC 1035 §5.1 character-strings; octoDNS text)', () => {
  it('character-strings: \\DDD needs three digits, a bare " is refused, UTF-8 and \\X decode', () => {
    expect([...decodeCharString('a\\065\\;é')]).toEqual([0x61, 0x41, 0x3b, 0xc3, 0xa9]);
    expect(() => decodeCharString('\\12x')).toThrow(/\\DDD needs three decimal digits/);
    expect(() => decodeCharString('\\256')).toThrow(/bad escape \\256/);
    expect(() => decodeCharString('a"b')).toThrow(/unexpected '"'/);
    expect(() => decodeCharString('ab\\')).toThrow(/^dangling backslash$/);
  });

  it('octoDNS text: a short digit escape stands for the digit, " is literal, ; is refused only where asked', () => {
    expect([...decodeOctodns('\\12"', false, 'v')]).toEqual([0x31, 0x32, 0x22]);
    expect([...decodeOctodns('a;b', false, 'v')]).toEqual([0x61, 0x3b, 0x62]);
    expect(() => decodeOctodns('a;b', true, 'TXT value')).toThrow(/^TXT value: unescaped ';'/);
    expect(() => decodeOctodns('ab\\', false, 'v')).toThrow(/^v: dangling backslash at the end$/);
  });
});
