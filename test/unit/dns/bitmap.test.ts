import { describe, expect, it } from 'vitest';
import { encodeTypeBitmap, decodeTypeBitmap } from '../../../src/dns/bitmap.js';
import { RdataError } from '../../../src/dns/rdata.js';
import { RRType } from '../../../src/dns/types.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

// RFC 4034 §4.3: `host.example.com. NSEC ... A MX RRSIG NSEC TYPE1234`, the bitmap part of the wire example.
const rfc4034Example = hex('00 06 40 01 00 00 00 03 04 1b' + ' 00'.repeat(26) + ' 20');

describe('type bitmaps', () => {
  it('RFC 4034 §4.3: A MX RRSIG NSEC TYPE1234 encodes as the RFC example', () => {
    expect(encodeTypeBitmap([RRType.A, RRType.MX, RRType.RRSIG, RRType.NSEC, 1234])).toEqual(rfc4034Example);
  });

  it('RFC 4034 §4.1.2: types are sorted and deduplicated before encoding', () => {
    expect(encodeTypeBitmap([1234, RRType.NSEC, RRType.A, RRType.RRSIG, RRType.MX, RRType.A])).toEqual(rfc4034Example);
  });

  it('RFC 4034 §4.3: decoding the RFC example gives the types in ascending order', () => {
    expect(decodeTypeBitmap(rfc4034Example)).toEqual([1, 15, 46, 47, 1234]);
  });

  it('RFC 9824 §7.1: NXNAME (128) may be set; window 0 grows to 17 octets', () => {
    const b = encodeTypeBitmap([RRType.RRSIG, RRType.NSEC, RRType.NXNAME]);
    expect(b[0]).toBe(0);
    expect(b[1]).toBe(17);
    expect(b[2 + 16]).toBe(0x80);
    expect(decodeTypeBitmap(b)).toEqual([46, 47, 128]);
  });

  it('RFC 4034 §4.1.2: TYPE65283 lands in window 255 with one octet', () => {
    expect(encodeTypeBitmap([65283])).toEqual(hex('ff 01 10'));
    expect(decodeTypeBitmap(hex('ff 01 10'))).toEqual([65283]);
  });

  it('RFC 4034 §4.1.2: an empty set is an empty bitmap (blocks with no types are left out)', () => {
    expect(encodeTypeBitmap([])).toEqual(new Uint8Array(0));
    expect(decodeTypeBitmap(new Uint8Array(0))).toEqual([]);
  });

  it('round-trips a spread of types across windows', () => {
    const types = [0, 1, 255, 256, 511, 4096, 32768, 65535];
    expect(decodeTypeBitmap(encodeTypeBitmap(types))).toEqual(types);
  });

  it('refuses type numbers outside 0..65535', () => {
    expect(() => encodeTypeBitmap([65536])).toThrow(RdataError);
    expect(() => encodeTypeBitmap([-1])).toThrow(RdataError);
  });

  it('RFC 4034 §4.1.2: windows must appear in increasing order', () => {
    expect(() => decodeTypeBitmap(hex('01 01 80 00 01 40'))).toThrow(/out of order/);
    expect(() => decodeTypeBitmap(hex('00 01 40 00 01 40'))).toThrow(/out of order/);
  });

  it('RFC 4034 §4.1.2: bitmap length must be 1..32', () => {
    expect(() => decodeTypeBitmap(hex('00 00'))).toThrow(/length 0/);
    expect(() => decodeTypeBitmap(hex('00 21' + ' 01'.repeat(33)))).toThrow(/length 33/);
  });

  it('RFC 4034 §4.1.2: trailing zero octets must be omitted', () => {
    expect(() => decodeTypeBitmap(hex('00 02 40 00'))).toThrow(/trailing zero/);
  });

  it('refuses a window that runs past the end', () => {
    expect(() => decodeTypeBitmap(hex('00 03 40 01'))).toThrow(/past the end/);
    expect(() => decodeTypeBitmap(hex('00'))).toThrow(/truncated/);
  });
});
