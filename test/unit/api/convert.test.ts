import { describe, expect, it } from 'vitest';
import { Name } from '../../../src/dns/name.js';
import { parseRdata } from '../../../src/dns/rdata.js';
import { RRType } from '../../../src/dns/types.js';
import { ApiError } from '../../../src/api/envelope.js';
import { inputRdata, parseOwner, parseTtl, rdataToContent, rdataToData } from '../../../src/api/records.js';

const zone = Name.fromText('example.com.');

describe('record <-> JSON conversion', () => {
  it('owner names: @, relative, FQDN with and without the dot; outside names are relative (Cloudflare)', () => {
    expect(parseOwner('@', zone).toString()).toBe('example.com.');
    expect(parseOwner('www', zone).toString()).toBe('www.example.com.');
    expect(parseOwner('www.example.com', zone).toString()).toBe('www.example.com.');
    expect(parseOwner('WWW.Example.COM.', zone).key).toBe('www.example.com.');
    expect(parseOwner('www.other.com', zone).toString()).toBe('www.other.com.example.com.');
    expect(() => parseOwner('www.other.com.', zone)).toThrow(ApiError);
    expect(() => parseOwner('a..b', zone)).toThrow(ApiError);
  });

  it('RFC 1035 §5.1: names inside content are absolute whether or not they end in a dot', () => {
    const a = inputRdata(RRType.CNAME, { content: 'target.example.net' }, zone);
    const b = inputRdata(RRType.CNAME, { content: 'target.example.net.' }, zone);
    expect(a).toEqual(b);
    expect(a).toEqual(parseRdata(RRType.CNAME, 'target.example.net.', Name.ROOT));
    expect(inputRdata(RRType.CNAME, { content: '@' }, zone)).toEqual(zone.wire());
  });

  it('RFC 4034 §2.2: DNSKEY data and content give the same RDATA; data fields come back by name', () => {
    const pk = Buffer.alloc(64, 7).toString('base64');
    const fromData = inputRdata(RRType.DNSKEY, { data: { flags: 257, protocol: 3, algorithm: 13, public_key: pk } }, zone);
    const fromContent = inputRdata(RRType.DNSKEY, { content: `257 3 13 ${pk}` }, zone);
    expect(fromData).toEqual(fromContent);
    expect(rdataToData(RRType.DNSKEY, fromData)).toEqual({ flags: 257, protocol: 3, algorithm: 13, public_key: pk });
    expect(rdataToContent(RRType.DNSKEY, fromData)).toEqual({ content: `257 3 13 ${pk}` });
  });

  it('RFC 4034 §2.1.2: a DNSKEY protocol other than 3 is refused (1004), from content and from data', () => {
    const pk = Buffer.alloc(64, 7).toString('base64');
    for (const body of [{ content: `256 2 13 ${pk}` }, { data: { flags: 256, protocol: 2, algorithm: 13, public_key: pk } }]) {
      try {
        inputRdata(RRType.DNSKEY, body, zone);
        expect.unreachable('protocol 2 accepted');
      } catch (e) {
        expect(e).toBeInstanceOf(ApiError);
        expect((e as ApiError).errors[0]).toMatchObject({ code: 1004, message: expect.stringMatching(/protocol must be 3/) });
      }
    }
  });

  it('MX/SRV/URI: priority is split out of content and put back in', () => {
    const mx = inputRdata(RRType.MX, { content: 'mx.example.net', priority: 5 }, zone);
    expect(rdataToContent(RRType.MX, mx)).toEqual({ content: 'mx.example.net', priority: 5 });
    const srv = inputRdata(RRType.SRV, { content: '1 443 host.example.net', priority: 10 }, zone);
    expect(rdataToContent(RRType.SRV, srv)).toEqual({ content: '1 443 host.example.net', priority: 10 });
    const uri = inputRdata(RRType.URI, { content: '1 "https://example.net/"', priority: 10 }, zone);
    expect(rdataToContent(RRType.URI, uri)).toEqual({ content: '1 "https://example.net/"', priority: 10 });
    expect(rdataToData(RRType.URI, uri)).toEqual({ weight: 1, target: 'https://example.net/' });
  });

  it('TTL: 1 is automatic (the zone default); 30..86400 otherwise', () => {
    expect(parseTtl(1, 3600)).toBe(3600);
    expect(parseTtl(undefined, 3600)).toBe(3600);
    expect(parseTtl(30, 3600)).toBe(30);
    expect(() => parseTtl(29, 3600)).toThrow(ApiError);
    expect(() => parseTtl(86401, 3600)).toThrow(ApiError);
  });
});
