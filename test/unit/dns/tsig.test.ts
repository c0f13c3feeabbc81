// TSIG (RFC 8945, dns/tsig.ts). dnspython's dns.tsig (test/fixtures/tsig.py) is the independent peer: it signs
// byte for byte what we sign, verifies our answers and streams, and we verify its requests and answers.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Name } from '../../../src/dns/name.js';
import { readMessage } from '../../../src/dns/reader.js';
import { RRType } from '../../../src/dns/types.js';
import { encodeQuery, encodeResponse } from '../../../src/dns/writer.js';
import { parseRdata } from '../../../src/dns/rdata.js';
import {
  generateSecret, Keyring, macLength, parseAlgorithm, signRequest, TSIG_ALGORITHMS, TsigError, verifyRequest,
  type TsigAlgorithm, type TsigKey, type TsigSigner,
} from '../../../src/dns/tsig.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../../fixtures/tsig.py', import.meta.url));
const T = 1_800_000_000;
const zone = Name.fromText('example.com.');

// dnspython names MD5 by its RR name.
const pyKey = (k: TsigKey) => ({
  name: k.name.toString(), algorithm: k.algorithm === 'hmac-md5' ? 'hmac-md5.sig-alg.reg.int.' : k.algorithm,
  secret: Buffer.from(k.secret).toString('base64'),
});
function py<R = Record<string, unknown>>(req: Record<string, unknown>): R {
  const r = spawnSync(PYTHON, [SCRIPT], { input: JSON.stringify(req), encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`tsig.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as R;
}
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

const keyOf = (algorithm: TsigAlgorithm, name = 'xfr-key.'): TsigKey => ({ name: Name.fromText(name), algorithm, secret: generateSecret(algorithm) });
const query = (id = 4321) => encodeQuery(Name.fromText('www.example.com.'), RRType.A, { id });

/** An answer to the query with one A record (the question copied). */
function answerTo(id: number, records = 1): Uint8Array {
  const answer = Array.from({ length: records }, (_, i) => ({
    name: Name.fromText(`h${i}.example.com.`), type: RRType.A, class: 1, ttl: 300, rdata: parseRdata(RRType.A, `192.0.2.${i % 250}`, zone),
  }));
  return encodeResponse({ id, opcode: 0, aa: true, rd: false, cd: false, rcode: 0, question: { name: Name.fromText('www.example.com.'), type: RRType.A, class: 1 }, answer, authority: [], additional: [] }, 65535);
}

function mustSign(r: ReturnType<typeof verifyRequest>): TsigSigner {
  if (r.kind !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(r)}`);
  return r.signer;
}

describe('TSIG golden vector', () => {
  it('RFC 8945 §4.3.1: SOA query for example.com, key golden-key. (hmac-sha256, secret 00..1f), time 1700000000, fudge 300: the bytes dnspython 2.3 makes', () => {
    const key: TsigKey = { name: Name.fromText('golden-key.'), algorithm: 'hmac-sha256', secret: Uint8Array.from({ length: 32 }, (_, i) => i) };
    const q = encodeQuery(zone, RRType.SOA, { id: 0x2a2a, edns: false });
    expect(hex(q)).toBe('2a2a00000001000000000000076578616d706c6503636f6d0000060001');
    expect(hex(signRequest(q, key, 1_700_000_000, { fudge: 300 }).wire)).toBe(
      '2a2a00000001000000000001076578616d706c6503636f6d0000060001' + // the query, ARCOUNT 1
      '0a676f6c64656e2d6b657900' + '00fa' + '00ff' + '00000000' + '003d' + // golden-key. TSIG ANY TTL 0 RDLENGTH 61
      '0b686d61632d73686132353600' + '00006553f100' + '012c' + // hmac-sha256. time 1700000000, fudge 300
      '0020' + 'aa19248cbb9a41579dc78de1ae4f2148b4a9365f8feb948322c6792ea5ab4071' + // MAC size 32, MAC
      '2a2a' + '0000' + '0000', // original ID, error, other length
    );
  });
});

describe('TSIG against dnspython (dns.tsig)', () => {
  for (const algorithm of TSIG_ALGORITHMS) {
    it(`RFC 8945 §4.3.1: a ${algorithm} request is byte for byte dnspython's, and each verifies the other's`, () => {
      const key = keyOf(algorithm);
      const s = py<{ unsigned: string; signed: string; mac: string }>({ op: 'sign', wire: hex(query()), key: pyKey(key), time: T, fudge: 300 });
      const ours = signRequest(unhex(s.unsigned), key, T, { fudge: 300 });
      expect(hex(ours.wire)).toBe(s.signed);
      expect(verifyRequest(unhex(s.signed), new Keyring([key]), T).kind).toBe('ok');
      expect(py({ op: 'verify', wire: hex(ours.wire), key: pyKey(key), time: T })).toEqual({ ok: true });
    });

    it(`RFC 8945 §4.3.2: ${algorithm} answers: dnspython accepts ours (over its request MAC), we accept its`, () => {
      const key = keyOf(algorithm);
      const s = py<{ signed: string; mac: string }>({ op: 'sign', wire: hex(query(7)), key: pyKey(key), time: T });
      const signed = mustSign(verifyRequest(unhex(s.signed), new Keyring([key]), T)).sign(answerTo(7), T + 1);
      expect(py({ op: 'verify', wire: hex(signed), key: pyKey(key), time: T + 1, request_mac: s.mac })).toEqual({ ok: true });
      // The answer is bound to that request: over another request MAC it fails.
      expect(py({ op: 'verify', wire: hex(signed), key: pyKey(key), time: T + 1, request_mac: '00'.repeat(macLength(algorithm)) })).toMatchObject({ ok: false, error: 'BadSignature' });

      const req = signRequest(query(9), key, T);
      const r = py<{ response: string }>({ op: 'respond', wire: hex(req.wire), key: pyKey(key), time: T });
      expect(req.verifier.verify(unhex(r.response), T)).toEqual({ ok: true, signed: true });
      expect(req.verifier.finish()).toEqual({ ok: true });
    });
  }

  it('RFC 8945 §4.2: a key name dnspython compresses (it equals the question name) still verifies', () => {
    const key = keyOf('hmac-sha256', 'www.example.com.');
    const s = py<{ signed: string }>({ op: 'sign', wire: hex(query()), key: pyKey(key), time: T });
    const wire = unhex(s.signed);
    const t = readMessage(wire).ok && (readMessage(wire) as { message: { tsig: { offset: number } } }).message.tsig;
    expect(wire[(t as { offset: number }).offset] & 0xc0).toBe(0xc0); // the TSIG owner is a pointer
    expect(verifyRequest(wire, new Keyring([key]), T).kind).toBe('ok');
  });

  it('RFC 8945 §5.3.1: a 40-message stream signed by TsigSigner (unsigned messages in between) verifies in dnspython and in TsigVerifier', () => {
    const key = keyOf('hmac-sha256');
    const req = signRequest(query(3), key, T);
    const signer = mustSign(verifyRequest(req.wire, new Keyring([key]), T));
    const wires: Uint8Array[] = [];
    for (let i = 0; i < 40; i++) {
      const m = answerTo(3, 50);
      // Messages 5..9 and 20..30 go out unsigned; the first and the last are always signed.
      if ((i >= 5 && i < 10) || (i >= 20 && i <= 30)) { signer.unsigned(m); wires.push(m); } else wires.push(signer.sign(m, T + i));
    }
    const requestMac = readMessage(req.wire).ok ? (readMessage(req.wire) as { ok: true; message: { tsig: { mac: Uint8Array } } }).message.tsig.mac : new Uint8Array(0);
    expect(py({ op: 'stream', wires: wires.map(hex), key: pyKey(key), time: T + 20, request_mac: hex(requestMac) })).toEqual({ ok: true, messages: 40, records: 2000 });
    const results = wires.map((w, i) => req.verifier.verify(w, T + i));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(results.filter((r) => r.ok && r.signed)).toHaveLength(40 - 5 - 11);
    expect(req.verifier.finish()).toEqual({ ok: true });

    // One changed octet in an unsigned message breaks the next signed one, for both verifiers.
    const bad = wires.map((w) => Uint8Array.from(w));
    bad[7][bad[7].length - 1] ^= 1;
    const again = signRequest(query(3), key, T + 1);
    expect(py({ op: 'stream', wires: bad.map(hex), key: pyKey(key), time: T + 20, request_mac: hex(requestMac) })).toMatchObject({ ok: false, index: 10, error: 'BadSignature' });
    // (a fresh request has another MAC, so the whole stream fails at once for it)
    expect(again.verifier.verify(bad[0], T).ok).toBe(false);
  });
});

describe('TSIG: a server checks a request (RFC 8945 §5.2)', () => {
  const key = keyOf('hmac-sha256');
  const ring = new Keyring([key]);

  it('no TSIG: none', () => {
    expect(verifyRequest(query(), ring, T)).toEqual({ kind: 'none' });
  });

  it('§5.2.1: an unknown key is BADKEY, answered with an empty MAC (§5.3.2)', () => {
    const other = keyOf('hmac-sha256', 'nobody.');
    const r = verifyRequest(signRequest(query(5), other, T).wire, ring, T);
    expect(r).toMatchObject({ kind: 'error', error: TsigError.BADKEY });
    if (r.kind !== 'error') return;
    const out = r.signer.sign(answerTo(5), T);
    const t = (readMessage(out) as { ok: true; message: { tsig: { mac: Uint8Array; error: number; name: Name } } }).message.tsig;
    expect([t.mac.length, t.error, t.name.toString()]).toEqual([0, TsigError.BADKEY, 'nobody.']);
    expect(out.length - answerTo(5).length).toBe(r.signer.overhead);
  });

  it('§5.2.1: a known key name with another algorithm is BADKEY', () => {
    const r = verifyRequest(signRequest(query(), { ...key, algorithm: 'hmac-sha512' }, T).wire, ring, T);
    expect(r).toMatchObject({ kind: 'error', error: TsigError.BADKEY });
  });

  it('§5.2.2: a wrong secret is BADSIG, answered with an empty MAC (§5.3.2)', () => {
    const r = verifyRequest(signRequest(query(6), { ...key, secret: generateSecret('hmac-sha256') }, T).wire, ring, T);
    expect(r).toMatchObject({ kind: 'error', error: TsigError.BADSIG, key });
    if (r.kind !== 'error') return;
    const t = (readMessage(r.signer.sign(answerTo(6), T)) as { ok: true; message: { tsig: { mac: Uint8Array; error: number } } }).message.tsig;
    expect([t.mac.length, t.error]).toEqual([0, TsigError.BADSIG]);
  });

  it('§5.2.2: one changed octet in the signed message is BADSIG', () => {
    const wire = Uint8Array.from(signRequest(query(), key, T).wire);
    wire[13] ^= 0x20; // the question name's case
    expect(verifyRequest(wire, ring, T)).toMatchObject({ kind: 'error', error: TsigError.BADSIG });
  });

  it('§5.2.3: outside the fudge is BADTIME, answered signed with our time as other data (§5.3.2), which the client verifies', () => {
    const req = signRequest(query(8), key, T - 301, { fudge: 300 });
    expect(verifyRequest(signRequest(query(8), key, T - 300).wire, ring, T).kind).toBe('ok');
    const r = verifyRequest(req.wire, ring, T);
    expect(r).toMatchObject({ kind: 'error', error: TsigError.BADTIME });
    if (r.kind !== 'error') return;
    const out = r.signer.sign(answerTo(8), T);
    expect(out.length - answerTo(8).length).toBe(r.signer.overhead);
    const t = (readMessage(out) as { ok: true; message: { tsig: { mac: Uint8Array; error: number; other: Uint8Array; timeSigned: number } } }).message.tsig;
    expect([t.mac.length, t.error, hex(t.other), t.timeSigned]).toEqual([32, TsigError.BADTIME, T.toString(16).padStart(12, '0'), T - 301]); // the request's time, ours in other data
    // The client's verifier checks that MAC before it reports the error.
    expect(req.verifier.verify(out, T - 301)).toMatchObject({ ok: false, error: TsigError.BADTIME });
    const forged = Uint8Array.from(out);
    forged[forged.length - 1] ^= 1; // the server time in other data
    expect(signRequest(query(8), key, T - 301).verifier.verify(forged, T - 301)).toMatchObject({ ok: false });
  });

  it('§5.2.3: the order is key, MAC, time: a wrong MAC at a wrong time is BADSIG', () => {
    const r = verifyRequest(signRequest(query(), { ...key, secret: generateSecret('hmac-sha256') }, T - 5000).wire, ring, T);
    expect(r).toMatchObject({ kind: 'error', error: TsigError.BADSIG });
  });

  /** The signed request with its MAC cut to `n` octets (MAC size and RDLENGTH fixed up). */
  function truncated(n: number, wire = signRequest(query(), key, T).wire): Uint8Array {
    const r = readMessage(wire);
    if (!r.ok || !r.message.tsig) throw new Error('no tsig');
    const t = r.message.tsig;
    const macAt = t.offset + t.name.wireLength + 10 + t.algorithm.wireLength + 8;
    const out = Uint8Array.from([...wire.subarray(0, macAt + 2 + Math.min(n, t.mac.length)), ...new Uint8Array(Math.max(0, n - t.mac.length)), ...wire.subarray(macAt + 2 + t.mac.length)]);
    out[macAt] = n >> 8; out[macAt + 1] = n & 0xff;
    const rdAt = t.offset + t.name.wireLength + 8;
    const rdlen = ((wire[rdAt] << 8) | wire[rdAt + 1]) + n - t.mac.length;
    out[rdAt] = rdlen >> 8; out[rdAt + 1] = rdlen & 0xff;
    return out;
  }

  it('§5.2.2.1: a MAC truncated to half the hash (16 of 32 octets) is accepted and compared on its length', () => {
    expect(verifyRequest(truncated(16), ring, T).kind).toBe('ok');
    expect(verifyRequest(truncated(31), ring, T).kind).toBe('ok');
    const bad = truncated(16);
    bad[bad.length - 8] ^= 1; // inside the truncated MAC
    expect(verifyRequest(bad, ring, T)).toMatchObject({ kind: 'error', error: TsigError.BADSIG });
  });

  it('§5.2.2.1: a MAC under half the hash, under 10 octets, or longer than the hash is FORMERR', () => {
    expect(verifyRequest(truncated(15), ring, T).kind).toBe('formerr');
    expect(verifyRequest(truncated(0), ring, T).kind).toBe('formerr');
    expect(verifyRequest(truncated(33), ring, T).kind).toBe('formerr');
    const md5 = keyOf('hmac-md5');
    expect(verifyRequest(truncated(10, signRequest(query(), md5, T).wire), new Keyring([md5]), T).kind).toBe('ok');
    expect(verifyRequest(truncated(9, signRequest(query(), md5, T).wire), new Keyring([md5]), T).kind).toBe('formerr');
  });

  it('§5.1: a TSIG that is not the last record, or a second TSIG, is FORMERR', () => {
    const wire = signRequest(query(), key, T).wire;
    const t = (readMessage(wire) as { ok: true; message: { tsig: { offset: number } } }).message.tsig;
    const two = Uint8Array.from([...wire, ...wire.subarray(t.offset)]);
    two[11] += 1;
    expect(verifyRequest(two, ring, T).kind).toBe('formerr');
  });
});

describe('TSIG: a client checks the answers (RFC 8945 §5.3.1, §5.4)', () => {
  const key = keyOf('hmac-sha256');
  const ring = new Keyring([key]);
  const serve = (id: number, at = T) => {
    const req = signRequest(query(id), key, at);
    return { req, signer: mustSign(verifyRequest(req.wire, ring, T)) };
  };

  it('§5.3.1: an unsigned first message is an error', () => {
    const { req } = serve(1);
    expect(req.verifier.verify(answerTo(1), T)).toMatchObject({ ok: false });
    expect(req.verifier.finish().ok).toBe(false);
  });

  it('§5.3.1: 99 unsigned messages in a row are accepted, the 100th is not', () => {
    const { req, signer } = serve(2);
    expect(req.verifier.verify(signer.sign(answerTo(2), T), T).ok).toBe(true);
    for (let i = 0; i < 99; i++) {
      const m = answerTo(2);
      signer.unsigned(m);
      expect(req.verifier.verify(m, T)).toEqual({ ok: true, signed: false });
    }
    expect(req.verifier.verify(answerTo(2), T)).toMatchObject({ ok: false, reason: expect.stringMatching(/99/) });
  });

  it('§5.3.1: a stream whose last message is unsigned fails at finish()', () => {
    const { req, signer } = serve(3);
    expect(req.verifier.verify(signer.sign(answerTo(3), T), T).ok).toBe(true);
    expect(req.verifier.verify(answerTo(3), T).ok).toBe(true);
    expect(req.verifier.finish()).toMatchObject({ ok: false, reason: expect.stringMatching(/last message/) });
  });

  it('an answer signed for another request, with another key, or too late does not verify', () => {
    const a = serve(4), b = serve(4, T + 1); // same question, another time: another request MAC
    expect(a.req.verifier.verify(b.signer.sign(answerTo(4), T), T)).toMatchObject({ ok: false, error: TsigError.BADSIG });
    const other = keyOf('hmac-sha256', 'other.');
    const c = signRequest(query(5), key, T);
    const foreign = mustSign(verifyRequest(signRequest(query(5), other, T).wire, new Keyring([other]), T)).sign(answerTo(5), T);
    expect(c.verifier.verify(foreign, T)).toMatchObject({ ok: false, reason: expect.stringMatching(/other\./) });
    const d = serve(6);
    expect(d.req.verifier.verify(d.signer.sign(answerTo(6), T), T + 301)).toMatchObject({ ok: false, error: TsigError.BADTIME });
  });

  it('§5.3.2: an unsigned BADKEY answer is reported with its error', () => {
    const req = signRequest(query(7), keyOf('hmac-sha256', 'unknown.'), T);
    const r = verifyRequest(req.wire, ring, T);
    if (r.kind !== 'error') throw new Error('expected an error');
    expect(req.verifier.verify(r.signer.sign(answerTo(7), T), T)).toMatchObject({ ok: false, error: TsigError.BADKEY });
  });
});

describe('keys', () => {
  it('RFC 8945 §6: generateSecret makes keys as long as the hash output', () => {
    for (const a of TSIG_ALGORITHMS) expect(generateSecret(a).length).toBe(macLength(a));
    expect(hex(generateSecret('hmac-sha256'))).not.toBe(hex(generateSecret('hmac-sha256')));
  });

  it('parseAlgorithm takes the usual spellings and the MD5 RR name', () => {
    expect(parseAlgorithm('HMAC-SHA256')).toBe('hmac-sha256');
    expect(parseAlgorithm('hmac-sha512.')).toBe('hmac-sha512');
    expect(parseAlgorithm('hmac-md5.sig-alg.reg.int')).toBe('hmac-md5');
    expect(parseAlgorithm('hmac-sha3')).toBeUndefined();
  });

  it('Keyring: names compare as DNS names; duplicates are refused', () => {
    const k = keyOf('hmac-sha1', 'Xfr-Key.');
    const ring = new Keyring([k]);
    expect(ring.find(Name.fromText('xfr-key.'))).toBe(k);
    expect(ring.byName('XFR-KEY')).toBe(k);
    expect(ring.byName('xfr-key.')).toBe(k);
    expect(ring.byName('other')).toBeUndefined();
    expect(ring.byName('bad..name')).toBeUndefined();
    expect(() => new Keyring([k, keyOf('hmac-sha256', 'xfr-key.')])).toThrow(/duplicate/);
  });
});
