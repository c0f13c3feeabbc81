import { describe, expect, it } from 'vitest';
import { verify } from 'node:crypto';
import { Name } from '../../../src/dns/name.js';
import type { RRset } from '../../../src/dns/rr.js';
import { RRType } from '../../../src/dns/types.js';
import { parseRdata } from '../../../src/dns/rdata.js';
import { parseKeyTime } from '../../../src/dnssec/keyfile.js';
import { publicKeyObject } from '../../../src/dnssec/keys.js';
import {
  compareSerialTime, fromSerialTime, parseRrsigRdata, rrsigRdata, signedData, signedOwner, toSerialTime, type RrsigFields,
} from '../../../src/dnssec/rrsig.js';

const n = (t: string) => Name.fromText(t);
const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// RFC 6605 §6.1
const VEC_PUB = b64('GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==');
const VEC_SIG = b64('qx6wLYqmh+l9oCKTN6qIc+bw6ya+KJ8oMz0YP107epXAyGmt+3SNruPFKG7tZoLBLlUzGGus7ZwmwWep666VCw==');
const vecFields = (): RrsigFields => ({
  typeCovered: RRType.A, algorithm: 13, labels: 3, originalTtl: 3600,
  expiration: parseKeyTime('20100909100439')!, inception: parseKeyTime('20100812100439')!,
  keyTag: 55648, signerName: n('example.net.'),
});
const set = (name: string, type: number, rdatas: Uint8Array[], ttl = 3600): RRset => ({ name: n(name), type, class: 1, ttl, rdatas });
const a = (ip: string) => Uint8Array.from(ip.split('.').map(Number));
const ecdsaOk = (tbs: Uint8Array, sig: Uint8Array) => verify('sha256', tbs, { key: publicKeyObject(VEC_PUB), dsaEncoding: 'ieee-p1363' }, sig);

describe('RFC 4034 §3.1.8.1 signed data', () => {
  it('RFC 6605 §6.1: the published RRSIG over www.example.net. A 192.0.2.1 verifies against our signed data', () => {
    const tbs = signedData(set('www.example.net.', RRType.A, [a('192.0.2.1')]), vecFields());
    expect(ecdsaOk(tbs, VEC_SIG)).toBe(true);
    // and any change to the layout breaks it
    expect(ecdsaOk(signedData(set('www.example.net.', RRType.A, [a('192.0.2.1')]), { ...vecFields(), originalTtl: 3599 }), VEC_SIG)).toBe(false);
  });

  it('RFC 4034 §6.2: the owner is lower-cased and the signer name is canonical', () => {
    const lower = signedData(set('www.example.net.', RRType.A, [a('192.0.2.1')]), vecFields());
    const upper = signedData(set('WWW.Example.NET.', RRType.A, [a('192.0.2.1')]), { ...vecFields(), signerName: n('EXAMPLE.net.') });
    expect(hex(upper)).toBe(hex(lower));
    expect(ecdsaOk(upper, VEC_SIG)).toBe(true);
  });

  it('RFC 4034 §6.2: names inside RDATA of the listed types (here NS) are lower-cased', () => {
    const origin = n('example.net.');
    const up = signedData(set('example.net.', RRType.NS, [parseRdata(RRType.NS, 'NS1.Example.NET.', origin)]), { ...vecFields(), typeCovered: RRType.NS, labels: 2 });
    const low = signedData(set('example.net.', RRType.NS, [parseRdata(RRType.NS, 'ns1.example.net.', origin)]), { ...vecFields(), typeCovered: RRType.NS, labels: 2 });
    expect(hex(up)).toBe(hex(low));
  });

  it('RFC 4034 §6.3: RRs are sorted by canonical RDATA and duplicates removed', () => {
    const f = vecFields();
    const sorted = signedData(set('www.example.net.', RRType.A, [a('192.0.2.1'), a('192.0.2.2'), a('198.51.100.1')]), f);
    const shuffled = signedData(set('www.example.net.', RRType.A, [a('198.51.100.1'), a('192.0.2.2'), a('192.0.2.1'), a('192.0.2.2')]), f);
    expect(hex(shuffled)).toBe(hex(sorted));
    const header = 18 + n('example.net.').wireLength;
    const rrLen = n('www.example.net.').wireLength + 10 + 4;
    expect(sorted.length).toBe(header + 3 * rrLen);
    const rdataAt = (i: number) => hex(sorted.subarray(header + i * rrLen + rrLen - 4, header + (i + 1) * rrLen));
    expect([rdataAt(0), rdataAt(1), rdataAt(2)]).toEqual(['c0000201', 'c0000202', 'c6336401']);
  });

  it('RFC 4034 §6.3: a shorter RDATA that is a prefix of another sorts first', () => {
    const txt = (s: string) => Uint8Array.from([s.length, ...Buffer.from(s)]);
    const f = { ...vecFields(), typeCovered: RRType.TXT };
    const one = signedData(set('www.example.net.', RRType.TXT, [txt('ab'), txt('a')]), f);
    const two = signedData(set('www.example.net.', RRType.TXT, [txt('a'), txt('ab')]), f);
    expect(hex(one)).toBe(hex(two));
    const first = 18 + n('example.net.').wireLength + n('www.example.net.').wireLength + 10;
    expect(hex(one.subarray(first, first + 2))).toBe(hex(txt('a')));
  });

  it('RFC 4034 §3.1.8.1: the TTL in the signed data is the Original TTL, not the RRset TTL', () => {
    const f = vecFields();
    expect(hex(signedData(set('www.example.net.', RRType.A, [a('192.0.2.1')], 60), f))).toBe(hex(signedData(set('www.example.net.', RRType.A, [a('192.0.2.1')], 3600), f)));
  });

  it('RFC 4035 §5.3.2: with fewer labels than the owner, the signed owner is the wildcard *.<suffix>', () => {
    expect(signedOwner(n('a.b.example.net.'), 2).key).toBe('*.example.net.');
    expect(signedOwner(n('*.example.net.'), 2).key).toBe('*.example.net.');
    const f = { ...vecFields(), labels: 2 };
    const expanded = signedData(set('a.b.example.net.', RRType.A, [a('192.0.2.1')]), f);
    const wildcard = signedData(set('*.example.net.', RRType.A, [a('192.0.2.1')]), f);
    expect(hex(expanded)).toBe(hex(wildcard));
    expect(expanded[3]).toBe(2);
    expect(() => signedData(set('www.example.net.', RRType.A, [a('192.0.2.1')]), { ...vecFields(), labels: 4 })).toThrow(/labels 4/);
  });

  it('refuses an RRSIG whose Type Covered is not the RRset type', () => {
    expect(() => signedData(set('www.example.net.', RRType.AAAA, [new Uint8Array(16)]), vecFields())).toThrow(/covers type 1/);
  });
});

describe('RRSIG RDATA (RFC 4034 §3.1)', () => {
  it('round trips, with the signer name written in lower case', () => {
    const f = { ...vecFields(), signerName: n('Example.NET.') };
    const rd = rrsigRdata(f, VEC_SIG);
    expect(rd.length).toBe(18 + 13 + 64);
    expect(Buffer.from(rd.subarray(18, 31)).toString('latin1')).toBe('\x07example\x03net\x00');
    const back = parseRrsigRdata(rd);
    expect(back.fields.signerName.key).toBe('example.net.');
    expect({ ...back.fields, signerName: undefined }).toEqual({ ...vecFields(), signerName: undefined });
    expect(hex(back.signature)).toBe(hex(VEC_SIG));
  });

  it('RFC 4034 §3.1.5: times are written modulo 2^32 and read back near a reference time', () => {
    const after2106 = 2 ** 32 + 1000;
    const rd = rrsigRdata({ ...vecFields(), expiration: after2106, inception: after2106 - 10 }, VEC_SIG);
    expect(parseRrsigRdata(rd).fields.expiration).toBe(1000);
    expect(parseRrsigRdata(rd, 2 ** 32 - 5).fields.expiration).toBe(after2106);
    expect(toSerialTime(-1)).toBe(2 ** 32 - 1);
    expect(fromSerialTime(5, 2 ** 32 - 100)).toBe(2 ** 32 + 5);
  });

  it('RFC 1982 / RFC 4034 §3.1.5: serial comparison works across the 2^32 wrap', () => {
    expect(compareSerialTime(10, 2 ** 32 - 10)).toBe(1);
    expect(compareSerialTime(2 ** 32 - 10, 10)).toBe(-1);
    expect(compareSerialTime(5, 5)).toBe(0);
    expect(compareSerialTime(100, 200)).toBe(-1);
  });
});
