import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { Name } from '../../../src/dns/name.js';
import {
  checkDnskeyRdata, dnskeyFromPublic, dsRdata, generateKey, generateKeyAvoiding, KeyError, keyPairFromScalar, keyTag,
  parseDnskeyRdata, privateScalar, publicKeyBytes, validatePublicKey,
} from '../../../src/dnssec/keys.js';

// RFC 6605 §6.1
const VEC_PRIV = 'GU6SnQ/Ou+xC5RumuIUIuJZteXT2z0O/ok1s38Et6mQ=';
const VEC_PUB = 'GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==';
const VEC_DS = 'b4c8c1fe2e7477127b27115656ad6256f424625bf5c1e2770ce6d6e37df61d17';
const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const vecDnskey = () => Uint8Array.from([1, 1, 3, 13, ...b64(VEC_PUB)]);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('key tags and DS (RFC 4034 §5.1.4, Appendix B; RFC 6605 §6.1)', () => {
  it('RFC 4034 Appendix B: key tag of the RFC 6605 §6.1 DNSKEY is 55648', () => {
    expect(keyTag(vecDnskey())).toBe(55648);
  });

  it('RFC 4034 Appendix B: key tags match those dnssec-keygen put in file names (fixtures 9361, 18877)', () => {
    // example.net. DNSKEY 257/256 3 13 from test/fixtures/keys/bind
    const ksk = Uint8Array.from([1, 1, 3, 13, ...b64('CXnq2pWKAPrmiracJ0PIs/ke3VyVr/ec9qjsVw/zc4odEv/h+kp4PbT9xJDecm+rZzf/tbGVnf+03zcPhXC/OQ==')]);
    const zsk = Uint8Array.from([1, 0, 3, 13, ...b64('kbjUEoN1XX7HR+a6tNgM8oVydWPRBwSUSe7OXCVVzY85NOQqt6vt01h2p3PxP/xWx+jydyXF0fgpXBIEj1uGRw==')]);
    expect(keyTag(ksk)).toBe(9361);
    expect(keyTag(zsk)).toBe(18877);
  });

  it('RFC 4034 §5.1.4 / RFC 4509: the SHA-256 DS of the RFC 6605 §6.1 key', () => {
    const ds = dsRdata(Name.fromText('example.net.'), vecDnskey(), 2);
    expect([(ds[0] << 8) | ds[1], ds[2], ds[3]]).toEqual([55648, 13, 2]);
    expect(hex(ds.subarray(4))).toBe(VEC_DS);
  });

  it('RFC 4034 §5.1.4: the digest covers the canonical (lower-case) owner name', () => {
    const upper = dsRdata(Name.fromText('EXAMPLE.Net.'), vecDnskey(), 2);
    expect(hex(upper.subarray(4))).toBe(VEC_DS);
  });

  it('RFC 6605 §2: digest type 4 is SHA-384 over owner | DNSKEY RDATA (48 octets)', () => {
    const ds = dsRdata(Name.fromText('example.net.'), vecDnskey(), 4);
    expect(ds[3]).toBe(4);
    expect(ds.length).toBe(4 + 48);
    const expected = createHash('sha384').update(Uint8Array.of(7, ...Buffer.from('example'), 3, ...Buffer.from('net'), 0)).update(vecDnskey()).digest();
    expect(hex(ds.subarray(4))).toBe(expected.toString('hex'));
  });
});

describe('key material (RFC 6605 §4)', () => {
  it('RFC 6605 §4: the §6.1 private scalar yields the §6.1 public key (x || y, no 0x04 prefix)', () => {
    const kp = keyPairFromScalar(257, b64(VEC_PRIV));
    expect(Buffer.from(kp.publicKey).toString('base64')).toBe(VEC_PUB);
    expect(hex(kp.dnskey)).toBe(hex(vecDnskey()));
    expect(kp.keyTag).toBe(55648);
    expect(Buffer.from(privateScalar(kp.privateKey)).toString('base64')).toBe(VEC_PRIV);
  });

  it('RFC 4034 §2.1: generated keys have flags, protocol 3, algorithm 13 and a 64-octet point', () => {
    for (const flags of [256, 257] as const) {
      const k = generateKey(flags);
      expect(k.flags).toBe(flags);
      expect(k.publicKey.length).toBe(64);
      expect(Array.from(k.dnskey.subarray(0, 4))).toEqual([flags >> 8, flags & 0xff, 3, 13]);
      expect(hex(k.dnskey.subarray(4))).toBe(hex(k.publicKey));
      expect(k.keyTag).toBe(keyTag(k.dnskey));
      expect(hex(publicKeyBytes(k.privateKey))).toBe(hex(k.publicKey));
      expect(() => validatePublicKey(13, k.publicKey)).not.toThrow();
    }
  });

  it('RFC 6605 §4: a public key that is not on P-256 is rejected', () => {
    const pub = b64(VEC_PUB);
    pub[63] ^= 1;
    expect(() => validatePublicKey(13, pub)).toThrow(KeyError);
    expect(() => dnskeyFromPublic(257, pub)).toThrow(/not a point/);
    expect(() => validatePublicKey(13, b64(VEC_PUB).subarray(1))).toThrow(/64/);
    expect(() => validatePublicKey(8, b64(VEC_PUB))).toThrow(/algorithm 8/);
  });

  it('RFC 4034 §2.1.1/§2.1.2: DNSKEYs need protocol 3 and the Zone Key flag', () => {
    const noZone = vecDnskey();
    noZone[0] = 0;
    expect(() => checkDnskeyRdata(noZone)).toThrow(/Zone Key/);
    const proto = vecDnskey();
    proto[2] = 2;
    expect(() => checkDnskeyRdata(proto)).toThrow(/protocol/);
    expect(parseDnskeyRdata(vecDnskey())).toMatchObject({ flags: 257, protocol: 3, algorithm: 13 });
  });

  it('private scalars outside 0 < d < n are rejected', () => {
    expect(() => keyPairFromScalar(256, new Uint8Array(32))).toThrow(/out of range/);
    expect(() => keyPairFromScalar(256, new Uint8Array(32).fill(0xff))).toThrow(/out of range/);
    expect(() => keyPairFromScalar(256, new Uint8Array(31).fill(1))).toThrow(/32/);
  });

  it('generateKeyAvoiding regenerates until the tag is acceptable', () => {
    const k = generateKeyAvoiding(256, (t) => t % 4 !== 0);
    expect(k.keyTag % 4).toBe(0);
    expect(() => generateKeyAvoiding(256, () => true, 3)).toThrow(/no acceptable key tag/);
  });
});
