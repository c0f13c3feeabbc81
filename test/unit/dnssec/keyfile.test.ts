import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Name } from '../../../src/dns/name.js';
import {
  bindKeyBase, bindKeyFromTexts, formatKeyFile, formatKeyTime, formatPrivateFile, KeyFileError, parseKeyFile,
  parseKeyTime, parsePrivateFile, readBindKeyPair,
} from '../../../src/dnssec/keyfile.js';
import { generateKey, privateScalar } from '../../../src/dnssec/keys.js';

const fixtures = fileURLToPath(new URL('../../fixtures/keys/', import.meta.url));
const zone = Name.fromText('example.net.');
const T = 1_700_000_000;

describe('BIND key files', () => {
  it('file names follow BIND: K<zone>.+<alg 3 digits>+<tag 5 digits>', () => {
    expect(bindKeyBase(zone, 13, 9361)).toBe('Kexample.net.+013+09361');
    expect(bindKeyBase(Name.fromText('Example.NET.'), 13, 55648)).toBe('Kexample.net.+013+55648');
  });

  it('reads a key pair written by dnssec-keygen (v1.3, base64 split by a space)', async () => {
    const k = await readBindKeyPair(`${fixtures}bind/Kexample.net.+013+09361`);
    expect(k.owner.key).toBe('example.net.');
    expect(k.key.flags).toBe(257);
    expect(k.key.keyTag).toBe(9361);
    expect(k.times.activate).toBe(parseKeyTime('20261124131324'));
    const z = await readBindKeyPair(`${fixtures}bind/Kexample.net.+013+18877.key`);
    expect([z.key.flags, z.key.keyTag]).toEqual([256, 18877]);
  });

  it('reads the RFC 6605 §6.1 key as an older v1.2 file with TTL and parentheses', async () => {
    const k = await readBindKeyPair(`${fixtures}rfc6605/Kexample.net.+013+55648.key`, `${fixtures}rfc6605/Kexample.net.+013+55648.private`);
    expect(k.key.keyTag).toBe(55648);
    expect(parsePrivateFile(readFileSync(k.privatePath, 'utf8'), k.privatePath).format).toBe('v1.2');
    expect(parseKeyFile(readFileSync(k.keyPath, 'utf8'), k.keyPath).ttl).toBe(3600);
  });

  it('writes what BIND writes and reads it back (round trip)', () => {
    const key = generateKey(257);
    const times = { created: T, publish: T, activate: T };
    const keyText = formatKeyFile(zone, key, times);
    const privText = formatPrivateFile(key, times);
    expect(keyText).toContain(`; This is a key-signing key, keyid ${key.keyTag}, for example.net.\n`);
    expect(keyText).toContain(`; Activate: ${formatKeyTime(T)} (`);
    expect(keyText).toMatch(new RegExp(`^example\\.net\\. IN DNSKEY 257 3 13 ${Buffer.from(key.publicKey).toString('base64').replace(/[+/]/g, '\\$&')}$`, 'm'));
    expect(privText.split('\n').slice(0, 3)).toEqual([
      'Private-key-format: v1.3', 'Algorithm: 13 (ECDSAP256SHA256)', expect.stringMatching(/^PrivateKey: [A-Za-z0-9+/]{43}=$/),
    ]);
    expect(privText).toContain(`Created: ${formatKeyTime(T)}\nPublish: ${formatKeyTime(T)}\nActivate: ${formatKeyTime(T)}\n`);
    const back = bindKeyFromTexts(keyText, 'a.key', privText, 'a.private');
    expect(Buffer.from(back.key.dnskey).equals(Buffer.from(key.dnskey))).toBe(true);
    expect(back.times).toEqual(times);
    expect(formatKeyFile(zone, generateKey(256))).toContain('; This is a zone-signing key');
  });

  it('BIND timestamps are YYYYMMDDHHMMSS in UTC', () => {
    expect(formatKeyTime(parseKeyTime('20100909100439')!)).toBe('20100909100439');
    expect(parseKeyTime('20100909100439')).toBe(Date.UTC(2010, 8, 9, 10, 4, 39) / 1000);
    expect(parseKeyTime('2010090910043')).toBeUndefined();
    expect(parseKeyTime('20101309100439')).toBeUndefined();
  });
});

describe('damaged key files are errors naming the file and line', () => {
  const key = generateKey(256);
  const keyText = formatKeyFile(zone, key, { created: T });
  const privText = formatPrivateFile(key, { created: T });

  it('a truncated .private (no PrivateKey line) names the file', () => {
    const cut = privText.split('\n').slice(0, 2).join('\n');
    expect(() => bindKeyFromTexts(keyText, 'z.key', cut, '/s/z.private')).toThrow(KeyFileError);
    expect(() => bindKeyFromTexts(keyText, 'z.key', cut, '/s/z.private')).toThrow(/^\/s\/z\.private: missing "PrivateKey:"/);
  });

  it('bad base64 in PrivateKey names file and line', () => {
    const bad = privText.replace(/PrivateKey: .*/, 'PrivateKey: abc$');
    expect(() => parsePrivateFile(bad, 'z.private')).toThrow(/^z\.private:3: PrivateKey is not valid base64/);
    const short = privText.replace(/PrivateKey: .*/, 'PrivateKey: AAAA');
    expect(() => parsePrivateFile(short, 'z.private')).toThrow(/^z\.private:3: PrivateKey has 3 octets/);
  });

  it('a PrivateKey without its leading zero octet (BIND writes the scalar as a number: 1 key in 256) is the same key', () => {
    // A generated key whose scalar starts with a zero octet, as BIND would write it: 31 octets.
    let k = generateKey(256);
    for (let i = 0; i < 5000 && privateScalar(k.privateKey)[0] !== 0; i++) k = generateKey(256);
    const d = privateScalar(k.privateKey);
    expect(d[0]).toBe(0);
    const z = Name.fromText('lead.example.');
    const priv = formatPrivateFile(k, { created: T }).replace(/PrivateKey: .*/, `PrivateKey: ${Buffer.from(d.subarray(1)).toString('base64')}`);
    expect(parsePrivateFile(priv, 'z.private').scalar).toEqual(d);
    expect(bindKeyFromTexts(formatKeyFile(z, k, { created: T }), 'z.key', priv, 'z.private').key.keyTag).toBe(k.keyTag);
  });

  it('a .private whose key does not match the .key is refused', () => {
    const other = formatPrivateFile(generateKey(256));
    expect(() => bindKeyFromTexts(keyText, 'z.key', other, 'z.private')).toThrow(/z\.private: private key does not match the public key in z\.key/);
  });

  it('an empty .key, a wrong record type, and bad base64 are located', () => {
    expect(() => parseKeyFile('; only a comment\n', 'e.key')).toThrow(/^e\.key: no DNSKEY record/);
    expect(() => parseKeyFile('; c\nexample.net. IN A 192.0.2.1\n', 'e.key')).toThrow(/^e\.key:2: expected a DNSKEY record/);
    expect(() => parseKeyFile('example.net. IN DNSKEY 257 3 13 !!!!\n', 'e.key')).toThrow(/^e\.key:1: DNSKEY public key is not valid base64/);
    const trunc = keyText.slice(0, keyText.length - 20);
    expect(() => parseKeyFile(trunc, 'e.key')).toThrow(/^e\.key:\d+: /);
  });

  it('algorithms other than 13 are refused with the reason', () => {
    const rsa = privText.replace('Algorithm: 13 (ECDSAP256SHA256)', 'Algorithm: 8 (RSASHA256)');
    expect(() => parsePrivateFile(rsa, 'r.private')).toThrow(/^r\.private:2: algorithm 8 \(RSASHA256\) is not supported/);
    expect(() => parsePrivateFile(privText.replace('v1.3', 'v2.0'), 'r.private')).toThrow(/^r\.private:1: unsupported Private-key-format/);
  });
});
