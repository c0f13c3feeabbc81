import { describe, expect, it } from 'vitest';
import { sign as nodeSign } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { Name } from '../../../src/dns/name.js';
import type { RRset } from '../../../src/dns/rr.js';
import { RRType } from '../../../src/dns/types.js';
import { parseKeyTime } from '../../../src/dnssec/keyfile.js';
import { generateKey, keyPairFromScalar, privateScalar } from '../../../src/dnssec/keys.js';
import { rrsigRdata, signedData, type RrsigFields } from '../../../src/dnssec/rrsig.js';
import { NobleSigner, NodeSigner, verifyRrsig, verifyRrsigNoble } from '../../../src/dnssec/signer.js';
import type { Signer } from '../../../src/dnssec/types.js';

const n = (t: string) => Name.fromText(t);
const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

const VEC_PRIV = b64('GU6SnQ/Ou+xC5RumuIUIuJZteXT2z0O/ok1s38Et6mQ=');
const VEC_SIG = b64('qx6wLYqmh+l9oCKTN6qIc+bw6ya+KJ8oMz0YP107epXAyGmt+3SNruPFKG7tZoLBLlUzGGus7ZwmwWep666VCw==');
const INCEPTION = parseKeyTime('20100812100439')!;
const EXPIRATION = parseKeyTime('20100909100439')!;
const www: RRset = { name: n('www.example.net.'), type: RRType.A, class: 1, ttl: 3600, rdatas: [Uint8Array.of(192, 0, 2, 1)] };
const vecKey = () => keyPairFromScalar(257, VEC_PRIV);

function fieldsFor(s: Signer, rrset: RRset = www): RrsigFields {
  return {
    typeCovered: rrset.type, algorithm: 13, labels: rrset.name.rrsigLabels, originalTtl: rrset.ttl,
    expiration: EXPIRATION, inception: INCEPTION, keyTag: s.keyTag, signerName: n('example.net.'),
  };
}

async function signWith(s: Signer, rrset: RRset = www): Promise<Uint8Array> {
  const f = fieldsFor(s, rrset);
  return rrsigRdata(f, await s.sign(signedData(rrset, f)));
}

describe('RFC 6605 §6.1 vector', () => {
  it('verifies with node:crypto and with noble, inside its validity period only', () => {
    const rd = rrsigRdata({ ...fieldsFor({ keyTag: 55648 } as Signer) }, VEC_SIG);
    const dnskey = vecKey().dnskey;
    expect(verifyRrsig(rd, www, dnskey)).toBe(true);
    expect(verifyRrsigNoble(rd, www, dnskey)).toBe(true);
    expect(verifyRrsig(rd, www, dnskey, { now: INCEPTION + 86400 })).toBe(true);
    expect(verifyRrsig(rd, www, dnskey, { now: EXPIRATION + 1 })).toBe(false);
    expect(verifyRrsig(rd, www, dnskey, { now: INCEPTION - 1 })).toBe(false);
  });
});

// One contract, two implementations (STYLE habit 15).
const implementations: [string, () => Signer][] = [
  ['NodeSigner', () => new NodeSigner(generateKey(256))],
  ['NobleSigner', () => new NobleSigner(privateScalar(generateKey(256).privateKey), 256)],
];

describe.each(implementations)('Signer contract: %s', (_name, make) => {
  it('RFC 6605 §4: signatures are 64 octets (r || s) and verify with node:crypto and noble', async () => {
    const s = make();
    expect(s.algorithm).toBe(13);
    const rd = await signWith(s);
    expect(rd.length).toBe(18 + 13 + 64);
    expect(verifyRrsig(rd, www, s.dnskey)).toBe(true);
    expect(verifyRrsigNoble(rd, www, s.dnskey)).toBe(true);
  });

  it('a signature does not verify for other data, another key, or a wrong key tag', async () => {
    const s = make();
    const rd = await signWith(s);
    const other: RRset = { ...www, rdatas: [Uint8Array.of(192, 0, 2, 2)] };
    expect(verifyRrsig(rd, other, s.dnskey)).toBe(false);
    expect(verifyRrsig(rd, www, make().dnskey)).toBe(false);
    const badTag = rd.slice();
    badTag[16] ^= 1;
    expect(verifyRrsig(badTag, www, s.dnskey)).toBe(false);
    const badSig = rd.slice();
    badSig[badSig.length - 1] ^= 1;
    expect(verifyRrsig(badSig, www, s.dnskey)).toBe(false);
    expect(verifyRrsigNoble(badSig, www, s.dnskey)).toBe(false);
  });

  it('RFC 4035 §5.3.1: the RRSIG must cover the RRset type and the signer must enclose the owner', async () => {
    const s = make();
    const rd = await signWith(s);
    expect(verifyRrsig(rd, { ...www, type: RRType.AAAA }, s.dnskey)).toBe(false);
    expect(verifyRrsig(rd, { ...www, name: n('www.example.org.') }, s.dnskey)).toBe(false);
  });
});

describe('cross-implementation checks', () => {
  it('NodeSigner and NobleSigner with the same key each verify with the other library', async () => {
    const key = vecKey();
    const node = new NodeSigner(key);
    const noble = new NobleSigner(VEC_PRIV, 257);
    expect(hex(noble.dnskey)).toBe(hex(node.dnskey));
    expect(noble.keyTag).toBe(55648);
    const fromNode = await signWith(node);
    const fromNoble = await signWith(noble);
    expect(verifyRrsigNoble(fromNode, www, noble.dnskey)).toBe(true);
    expect(verifyRrsig(fromNoble, www, node.dnskey)).toBe(true);
  });

  it('NobleSigner is deterministic (RFC 6979); NodeSigner is randomized', async () => {
    const noble = new NobleSigner(VEC_PRIV, 257);
    expect(hex(await signWith(noble))).toBe(hex(await signWith(noble)));
    const node = new NodeSigner(vecKey());
    expect(hex(await signWith(node))).not.toBe(hex(await signWith(node)));
  });

  it('high-S signatures (which node:crypto makes) verify with both verifiers', () => {
    const key = vecKey();
    const f = fieldsFor({ keyTag: key.keyTag } as Signer);
    const tbs = signedData(www, f);
    const half = p256.Point.Fn.ORDER / 2n;
    let sig: Uint8Array | undefined;
    for (let i = 0; i < 200 && !sig; i++) {
      const s = new Uint8Array(nodeSign('sha256', tbs, { key: key.privateKey, dsaEncoding: 'ieee-p1363' }));
      if (BigInt('0x' + hex(s.subarray(32))) > half) sig = s;
    }
    expect(sig).toBeDefined();
    const rd = rrsigRdata(f, sig!);
    expect(verifyRrsig(rd, www, key.dnskey)).toBe(true);
    expect(verifyRrsigNoble(rd, www, key.dnskey)).toBe(true);
  });
});
