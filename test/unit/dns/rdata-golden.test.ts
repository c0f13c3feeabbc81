// Wire goldens: our encoder against dns-packet's for the types it supports (test-only dependency).
import { describe, expect, it } from 'vitest';
import dnsPacket from 'dns-packet';
import { parseRdata, formatRdata } from '../../../src/dns/rdata.js';
import { Name } from '../../../src/dns/name.js';
import { typeFromName } from '../../../src/dns/types.js';

const origin = Name.fromText('example.com.');

interface Codec { encode(data: unknown): Buffer }
/** dns-packet's record encoders write RDLENGTH first; strip it to get the RDATA. */
function theirs(type: string, data: unknown): Uint8Array {
  const codec = (dnsPacket as unknown as Record<string, Codec>)[type.toLowerCase()];
  return new Uint8Array(codec.encode(data).subarray(2));
}

const key = Buffer.from('GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==', 'base64');
const sig = Buffer.from('qx6wLYqmh+l9oCKTN6qIc+bw6ya+KJ8oMz0YP107epXAyGmt+3SNruPFKG7tZoLBLlUzGGus7ZwmwWep666VCw==', 'base64');
const digest = Buffer.from('b4c8c1fe2e7477127b27115656ad6256f424625bf5c1e2770ce6d6e37df61d17', 'hex');

const cases: [string, string, unknown][] = [
  ['A', '192.0.2.1', '192.0.2.1'],
  ['AAAA', '2001:db8::1:0:0:1', '2001:db8::1:0:0:1'],
  ['AAAA', '::ffff:192.0.2.1', '::ffff:192.0.2.1'],
  ['MX', '10 Mail.Example.com.', { preference: 10, exchange: 'Mail.Example.com' }],
  ['TXT', '"v=spf1 -all" "second string"', ['v=spf1 -all', 'second string']],
  ['TXT', '""', ['']],
  ['SRV', '0 5 5060 sip.example.com.', { priority: 0, weight: 5, port: 5060, target: 'sip.example.com' }],
  ['CAA', '0 issue "letsencrypt.org"', { flags: 0, tag: 'issue', value: 'letsencrypt.org' }],
  ['CAA', '128 iodef "mailto:x@example.com"', { flags: 128, tag: 'iodef', value: 'mailto:x@example.com' }],
  ['NAPTR', '100 10 "S" "SIP+D2U" "" _sip._udp.example.com.',
    { order: 100, preference: 10, flags: 'S', services: 'SIP+D2U', regexp: '', replacement: '_sip._udp.example.com' }],
  ['DS', `55648 13 2 ${digest.toString('hex')}`, { keyTag: 55648, algorithm: 13, digestType: 2, digest }],
  ['DNSKEY', `257 3 13 ${key.toString('base64')}`, { flags: 257, algorithm: 13, key }],
  ['RRSIG', `A 13 3 3600 20100909100439 20100812100439 55648 example.net. ${sig.toString('base64')}`, {
    typeCovered: 'A', algorithm: 13, labels: 3, originalTTL: 3600,
    expiration: Date.UTC(2010, 8, 9, 10, 4, 39) / 1000, inception: Date.UTC(2010, 7, 12, 10, 4, 39) / 1000,
    keyTag: 55648, signersName: 'example.net', signature: sig,
  }],
  // dns-packet cannot spell TYPE1234, so the RFC 4034 §4.3 example is pinned in bitmap.test.ts instead.
  ['NSEC', 'host.example.com. A MX RRSIG NSEC TLSA', { nextDomain: 'host.example.com', rrtypes: ['A', 'MX', 'RRSIG', 'NSEC', 'TLSA'] }],
  ['NSEC', 'next.example.com. NS SOA RRSIG NSEC DNSKEY CAA',
    { nextDomain: 'next.example.com', rrtypes: ['NS', 'SOA', 'RRSIG', 'NSEC', 'DNSKEY', 'CAA'] }],
  ['NSEC3', '1 1 12 aabbccdd 2t7b4g4vsa5smi47k61mv5bv1a22bojr A RRSIG', {
    algorithm: 1, flags: 1, iterations: 12, salt: Buffer.from('aabbccdd', 'hex'),
    nextDomain: Buffer.from([0x17, 0x4e, 0xb2, 0x40, 0x9f, 0xe2, 0x8b, 0xcb, 0x48, 0x87, 0xa1, 0x83, 0x6f, 0x95, 0x7f, 0x0a, 0x84, 0x25, 0xe2, 0x7b]),
    rrtypes: ['A', 'RRSIG'],
  }],
  ['NSEC3', '1 0 0 - 2t7b4g4vsa5smi47k61mv5bv1a22bojr', {
    algorithm: 1, flags: 0, iterations: 0, salt: Buffer.alloc(0),
    nextDomain: Buffer.from([0x17, 0x4e, 0xb2, 0x40, 0x9f, 0xe2, 0x8b, 0xcb, 0x48, 0x87, 0xa1, 0x83, 0x6f, 0x95, 0x7f, 0x0a, 0x84, 0x25, 0xe2, 0x7b]),
    rrtypes: [],
  }],
  ['TLSA', '3 1 1 0123456789abcdef', { usage: 3, selector: 1, matchingType: 1, certificate: Buffer.from('0123456789abcdef', 'hex') }],
  ['SSHFP', '1 1 0123456789abcdef0123456789abcdef01234567', { algorithm: 1, hash: 1, fingerprint: '0123456789abcdef0123456789abcdef01234567' }],
];

describe('wire goldens checked against dns-packet', () => {
  for (const [type, text, data] of cases) {
    it(`${type} ${text.length > 50 ? text.slice(0, 50) + '...' : text}`, () => {
      const t = typeFromName(type)!;
      const ours = parseRdata(t, text, origin);
      expect(ours).toEqual(theirs(type, data));
      expect(parseRdata(t, formatRdata(t, ours), origin)).toEqual(ours);
    });
  }
});
