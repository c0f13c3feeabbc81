import { describe, expect, it } from 'vitest';
import { parseRdata, formatRdata, checkRdata, RdataError } from '../../../src/dns/rdata.js';
import { decodeSvcParams, svcParamKeyFromName, svcParamKeyName } from '../../../src/dns/svcb.js';
import { Name } from '../../../src/dns/name.js';
import { RRType } from '../../../src/dns/types.js';

const origin = Name.fromText('example.com.');
const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const svcb = (text: string) => parseRdata(RRType.SVCB, text, origin);
const fooCom = '03 666f6f 07 6578616d706c65 03 636f6d 00';
const fooOrg = '03 666f6f 07 6578616d706c65 03 6f7267 00';

describe('SVCB/HTTPS RDATA: RFC 9460 Appendix D test vectors', () => {
  it('RFC 9460 D.1: AliasMode', () => {
    const w = parseRdata(RRType.HTTPS, '0 foo.example.com.', origin);
    expect(w).toEqual(hex('0000' + fooCom));
    expect(formatRdata(RRType.HTTPS, w)).toBe('0 foo.example.com.');
  });

  it('RFC 9460 D.2: TargetName "." in ServiceMode', () => {
    expect(svcb('1 .')).toEqual(hex('0001 00'));
  });

  it('RFC 9460 D.2: port', () => {
    const w = svcb('16 foo.example.com. port=53');
    expect(w).toEqual(hex('0010' + fooCom + '0003 0002 0035'));
    expect(formatRdata(RRType.SVCB, w)).toBe('16 foo.example.com. port=53');
  });

  it('RFC 9460 D.2: generic key and unquoted value', () => {
    expect(svcb('1 foo.example.com. key667=hello')).toEqual(hex('0001' + fooCom + '029b 0005 68656c6c6f'));
  });

  it('RFC 9460 D.2: generic key and quoted value with a decimal escape', () => {
    const w = svcb('1 foo.example.com. key667="hello\\210qoo"');
    expect(w).toEqual(hex('0001' + fooCom + '029b 0009 68656c6c6f d2 716f6f'));
    expect(formatRdata(RRType.SVCB, w)).toBe('1 foo.example.com. key667="hello\\210qoo"');
  });

  it('RFC 9460 D.2: two quoted IPv6 hints', () => {
    const w = svcb('1 foo.example.com. ipv6hint="2001:db8::1,2001:db8::53:1"');
    expect(w).toEqual(hex('0001' + fooCom + '0006 0020 20010db8000000000000000000000001 20010db8000000000000000000530001'));
    expect(formatRdata(RRType.SVCB, w)).toBe('1 foo.example.com. ipv6hint=2001:db8::1,2001:db8::53:1');
  });

  it('RFC 9460 D.2: an IPv6 hint written with an embedded IPv4 address', () => {
    expect(svcb('1 example.com. ipv6hint="2001:db8:122:344::192.0.2.33"')).toEqual(
      hex('0001 07 6578616d706c65 03 636f6d 00 0006 0010 20010db8012203440000 0000 c0000221'));
  });

  it('RFC 9460 D.2: params sorted by key on the wire, mandatory keys sorted', () => {
    const w = svcb('16 foo.example.org. (alpn=h2,h3-19 mandatory=ipv4hint,alpn ipv4hint=192.0.2.1)');
    expect(w).toEqual(hex('0010' + fooOrg + '0000 0004 0001 0004' + '0001 0009 02 6832 05 68332d3139' + '0004 0004 c0000201'));
    // RFC 9460 §2.2: written in ascending key order.
    expect(formatRdata(RRType.SVCB, w)).toBe('16 foo.example.org. mandatory=alpn,ipv4hint alpn="h2,h3-19" ipv4hint=192.0.2.1');
  });

  it('RFC 9460 D.2 / Appendix A.1: alpn with escaped backslash and comma, both spellings', () => {
    const want = hex('0010' + fooOrg + '0001 000c 08 665c6f6f2c626172 02 6832');
    const a = svcb('16 foo.example.org. alpn="f\\\\\\\\oo\\\\,bar,h2"');
    const b = svcb('16 foo.example.org. alpn=f\\\\\\092oo\\092,bar,h2');
    expect(a).toEqual(want);
    expect(b).toEqual(want);
    expect(formatRdata(RRType.SVCB, a)).toBe('16 foo.example.org. alpn="f\\\\\\\\oo\\\\,bar,h2"');
  });
});

describe('SVCB/HTTPS RDATA: RFC 9460 D.3 failure cases and §2.1/§8 rules', () => {
  const bad: [string, string, RegExp][] = [
    ['duplicate keys', '1 foo.example.com. key123=abc key123=def', /duplicate SvcParamKey 'key123'/],
    ['mandatory without value', '1 foo.example.com. mandatory', /mandatory needs a value/],
    ['alpn without value', '1 foo.example.com. alpn', /alpn needs a value/],
    ['port without value', '1 foo.example.com. port', /port needs a value/],
    ['ipv4hint without value', '1 foo.example.com. ipv4hint', /ipv4hint needs a value/],
    ['ipv6hint without value', '1 foo.example.com. ipv6hint', /ipv6hint needs a value/],
    ['no-default-alpn with a value', '1 foo.example.com. alpn=h2 no-default-alpn=abc', /no-default-alpn takes no value/],
    ['mandatory key missing', '1 foo.example.com. mandatory=key123', /mandatory lists key123, which is missing/],
    ['mandatory lists itself', '1 foo.example.com. mandatory=mandatory', /must not list itself/],
    ['mandatory lists a key twice', '1 foo.example.com. mandatory=key123,key123 key123=abc', /duplicate key/],
    ['duplicate named keys', '1 . alpn=h2 alpn=h3', /duplicate SvcParamKey 'alpn'/],
    ['key65535', '1 . key65535=x', /65535/],
    ['unknown key name', '1 . foo=bar', /unknown SvcParamKey 'foo'/],
    ['port out of range', '1 . port=65536', /port: .*out of range/],
    ['bad ipv4hint', '1 . ipv4hint=192.0.2', /bad IPv4 address/],
    ['empty alpn-id', '1 . alpn=h2,,h3', /empty item/],
    ['no-default-alpn without alpn (§7.1.1 self-consistency)', '1 . no-default-alpn', /no-default-alpn without alpn/],
    ['AliasMode with SvcParams (§2.4.2)', '0 foo.example.com. alpn=h2', /AliasMode/],
    ['missing TargetName', '1', /missing TargetName/],
    ['bad ech base64', '1 . ech=@@@', /bad base64/],
  ];
  for (const [what, text, re] of bad) {
    it(`RFC 9460: refuses ${what}`, () => {
      expect(() => svcb(text)).toThrow(RdataError);
      expect(() => svcb(text)).toThrow(re);
    });
  }

  it('RFC 9460 §2.2: wire SvcParams out of order are malformed', () => {
    expect(() => checkRdata(RRType.SVCB, hex('0001 00 0003 0002 01bb 0001 0003 02 6832'))).toThrow(/out of order/);
  });

  it('RFC 9460 §2.2: a repeated key on the wire is malformed', () => {
    expect(() => checkRdata(RRType.SVCB, hex('0001 00 0003 0002 01bb 0003 0002 01bb'))).toThrow(/duplicate/);
  });

  it('RFC 9460 §7.2: a port value must be exactly two octets', () => {
    expect(() => checkRdata(RRType.SVCB, hex('0001 00 0003 0003 01bb00'))).toThrow(/port: value must be 2 octets/);
  });

  it('RFC 9460 §7.3: ipv4hint must be a multiple of 4 octets', () => {
    expect(() => checkRdata(RRType.SVCB, hex('0001 00 0004 0003 c00002'))).toThrow(/ipv4hint/);
  });

  it('RFC 9460 §7.1.1: alpn-ids must exactly fill the value', () => {
    expect(() => checkRdata(RRType.SVCB, hex('0001 00 0001 0003 05 6832'))).toThrow(/alpn/);
  });

  it('RFC 9460 §8: mandatory keys on the wire must be strictly increasing', () => {
    const w = hex('0001 00 0000 0004 0003 0001 0001 0003 02 6832 0003 0002 01bb');
    expect(() => checkRdata(RRType.SVCB, w)).toThrow(/strictly increasing/);
  });

  it('RFC 9460 §2.2: a param header running past the end is malformed', () => {
    expect(() => checkRdata(RRType.SVCB, hex('0001 00 0003 00'))).toThrow(RdataError);
    expect(() => checkRdata(RRType.SVCB, hex('0001 00 0003 0004 01bb'))).toThrow(/past the end/);
  });
});

describe('SVCB/HTTPS presentation', () => {
  it('RFC 9460 §2.1: every defined key round-trips and prints in ascending key order', () => {
    const text = '1 svc.example.net. ipv6hint=2001:db8::1 ech=AEP+DQA= port=8443 no-default-alpn alpn=h3,h2 mandatory=port ' +
      'ipv4hint=192.0.2.1,192.0.2.2 dohpath="/dns-query{?dns}" ohttp key65000 key999="x y"';
    const w = parseRdata(RRType.HTTPS, text, origin);
    const f = formatRdata(RRType.HTTPS, w);
    expect(f).toBe('1 svc.example.net. mandatory=port alpn="h3,h2" no-default-alpn port=8443 ipv4hint=192.0.2.1,192.0.2.2 ' +
      'ech=AEP+DQA= ipv6hint=2001:db8::1 dohpath="/dns-query{?dns}" ohttp key999="x y" key65000');
    expect(parseRdata(RRType.HTTPS, f, origin)).toEqual(w);
  });

  it('RFC 9460 §2.1: keyNNNNN names a known key too', () => {
    expect(svcb('1 . key3=443 key1=h2')).toEqual(svcb('1 . port=443 alpn=h2'));
  });

  it('TargetName is relative to the origin unless absolute', () => {
    expect(formatRdata(RRType.SVCB, svcb('1 svc'))).toBe('1 svc.example.com.');
  });

  it('decodeSvcParams exposes the values by key', () => {
    const params = decodeSvcParams(svcb('1 . port=443 ipv4hint=192.0.2.1').subarray(3));
    expect([...params.keys()]).toEqual([3, 4]);
    expect(params.get(3)).toEqual(hex('01bb'));
  });

  it('key names map both ways', () => {
    expect(svcParamKeyFromName('no-default-alpn')).toBe(2);
    expect(svcParamKeyName(2)).toBe('no-default-alpn');
    expect(svcParamKeyName(12345)).toBe('key12345');
  });
});
