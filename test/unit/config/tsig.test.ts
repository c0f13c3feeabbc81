// TSIG keys in the server config (config/tsig.ts): YAML items, BIND's key statement, files in either syntax, and an
// error naming the file, the key and the problem for each kind of mistake.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, resolveConfig } from '../../../src/config/server.js';
import { formatBindKey, formatYamlKey, parseBindKeys, parseKeyFile } from '../../../src/config/tsig.js';
import { generateSecret } from '../../../src/dns/tsig.js';
import { Name } from '../../../src/dns/name.js';

const S256 = Buffer.from(new Uint8Array(32).fill(1)).toString('base64');
const S512 = Buffer.from(new Uint8Array(64).fill(2)).toString('base64');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-tsig-config-'));
  await mkdir(join(dir, 'keys'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

let n = 0;
async function configWith(text: string): Promise<string> {
  const file = join(dir, `c${n++}.yaml`);
  await writeFile(file, text);
  return file;
}
const keysOf = async (text: string) => (await resolveConfig({}, await configWith(text))).tsig;
const errorOf = async (text: string): Promise<string> => {
  const file = await configWith(text);
  try {
    await resolveConfig({}, file);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message.replaceAll(file, 'CONFIG');
  }
  throw new Error('expected a config error');
};

describe('tsig: in the server config', () => {
  it('defaults to no keys', async () => {
    expect((await resolveConfig({}, await configWith('workers: 1\n'))).tsig).toEqual([]);
  });

  it('YAML items { name, algorithm, secret }; names are DNS names', async () => {
    const keys = await keysOf(`tsig:\n  - { name: xfr-key, algorithm: hmac-sha256, secret: "${S256}" }\n  - name: Other.Key.\n    algorithm: HMAC-SHA512\n    secret: ${S512}\n`);
    expect(keys.map((k) => [k.name.toString(), k.algorithm, k.secret.length])).toEqual([['xfr-key.', 'hmac-sha256', 32], ['Other.Key.', 'hmac-sha512', 64]]);
    expect(keys[1].name.equals(Name.fromText('other.key.'))).toBe(true);
  });

  it("BIND's key statements in a string (several, comments, quoted or bare names)", async () => {
    const bind = `# from tsig-keygen\nkey "xfr-key" {\n\talgorithm hmac-sha256;\n\tsecret "${S256}";\n};\n// another\nkey second { algorithm "hmac-md5"; secret "${Buffer.from('0123456789abcdef').toString('base64')}"; }; /* end */`;
    const keys = await keysOf(`tsig:\n  - |\n${bind.split('\n').map((l) => '    ' + l).join('\n')}\n`);
    expect(keys.map((k) => [k.name.toString(), k.algorithm])).toEqual([['xfr-key.', 'hmac-sha256'], ['second.', 'hmac-md5']]);
    // A lone string is one item too.
    expect((await keysOf(`tsig: 'key k { algorithm hmac-sha1; secret "${S256}"; };'\n`)).map((k) => k.algorithm)).toEqual(['hmac-sha1']);
  });

  it('{ file: PATH } in BIND syntax (what tsig-keygen writes) or YAML, relative to the config file', async () => {
    await writeFile(join(dir, 'keys', 'a.key'), `key "file-a" {\n\talgorithm hmac-sha384;\n\tsecret "${S256}";\n};\n`);
    await writeFile(join(dir, 'keys', 'b.yaml'), `tsig:\n  - { name: file-b, algorithm: hmac-sha224, secret: "${S256}" }\n`);
    await writeFile(join(dir, 'keys', 'c.yaml'), `- { name: file-c, algorithm: hmac-sha256, secret: "${S256}" }\n`);
    const keys = await keysOf(`tsig:\n  - file: keys/a.key\n  - file: keys/b.yaml\n  - { file: ${join(dir, 'keys', 'c.yaml')} }\n`);
    expect(keys.map((k) => [k.name.toString(), k.algorithm])).toEqual([['file-a.', 'hmac-sha384'], ['file-b.', 'hmac-sha224'], ['file-c.', 'hmac-sha256']]);
  });

  it('the printed forms read back (formatYamlKey, formatBindKey)', () => {
    const key = { name: Name.fromText('xfr-key.'), algorithm: 'hmac-sha512' as const, secret: generateSecret('hmac-sha512') };
    for (const text of [`tsig:\n${formatYamlKey(key)}\n`, formatBindKey(key)]) {
      const [back] = parseKeyFile(text, 'printed');
      expect([back.name.toString(), back.algorithm, Buffer.from(back.secret).toString('hex')]).toEqual(['xfr-key.', 'hmac-sha512', Buffer.from(key.secret).toString('hex')]);
    }
  });
});

describe('tsig: errors name the file, the key and the problem', () => {
  it('unknown algorithm', async () => {
    expect(await errorOf(`tsig:\n  - { name: k1, algorithm: hmac-sha3, secret: "${S256}" }\n`))
      .toBe("CONFIG: key \"k1\": unknown algorithm 'hmac-sha3' (one of hmac-sha256, hmac-sha512, hmac-sha384, hmac-sha224, hmac-sha1, hmac-md5)");
  });

  it('bad base64 (RFC 4648: no characters outside the alphabet, padding right), and the secret is never echoed', async () => {
    for (const bad of ['AAAA*AAA', 'AAAAA', 'AA=A', 'AAA']) {
      const msg = await errorOf(`tsig:\n  - { name: k2, algorithm: hmac-sha256, secret: "${bad}" }\n`);
      expect(msg).toBe('CONFIG: key "k2": secret is not valid base64 (RFC 4648 §4)');
    }
    expect(await errorOf(`tsig: 'key k3 { algorithm hmac-sha256; secret "not base64!"; };'\n`)).toMatch(/^CONFIG: tsig item 1: key "k3": secret is not valid base64/);
  });

  it('duplicate names, compared as DNS names, also across a file', async () => {
    expect(await errorOf(`tsig:\n  - { name: dup, algorithm: hmac-sha256, secret: "${S256}" }\n  - { name: DUP., algorithm: hmac-sha1, secret: "${S256}" }\n`))
      .toBe('CONFIG: key "DUP": duplicate key name (also in CONFIG)');
    await writeFile(join(dir, 'keys', 'dup.key'), `key "dup" { algorithm hmac-sha256; secret "${S256}"; };`);
    expect(await errorOf(`tsig:\n  - { name: dup, algorithm: hmac-sha256, secret: "${S256}" }\n  - file: keys/dup.key\n`))
      .toBe(`CONFIG: tsig file ${join(dir, 'keys', 'dup.key')}: key "dup": duplicate key name (also in CONFIG)`);
  });

  it('missing secret, missing algorithm, missing name', async () => {
    expect(await errorOf('tsig:\n  - { name: k4, algorithm: hmac-sha256 }\n')).toBe('CONFIG: key "k4": missing secret');
    expect(await errorOf(`tsig: 'key "k5" { algorithm hmac-sha256; };'\n`)).toBe('CONFIG: tsig item 1: key "k5": missing secret');
    expect(await errorOf(`tsig:\n  - { name: k6, secret: "${S256}" }\n`)).toMatch(/^CONFIG: key "k6": missing algorithm/);
    expect(await errorOf(`tsig:\n  - { algorithm: hmac-sha256, secret: "${S256}" }\n`)).toBe('CONFIG: tsig item 1: missing name');
  });

  it('a bad key name, an unknown setting, a BIND syntax error, an unreadable file', async () => {
    expect(await errorOf(`tsig:\n  - { name: "a..b", algorithm: hmac-sha256, secret: "${S256}" }\n`)).toMatch(/^CONFIG: key "a..b": bad key name: empty label/);
    expect(await errorOf(`tsig:\n  - { name: k7, algorithm: hmac-sha256, secret: "${S256}", fudge: 5 }\n`)).toMatch(/^CONFIG: tsig item 1: unknown setting 'fudge'/);
    expect(await errorOf(`tsig: 'key "k8" { algorithm hmac-sha256 secret "${S256}"; };'\n`)).toMatch(/^CONFIG: tsig item 1: key "k8" line 1: unknown clause|expected ';'/);
    expect(await errorOf(`tsig: 'options { };'\n`)).toMatch(/^CONFIG: tsig item 1: line 1: expected a 'key' statement, found 'options'/);
    expect(await errorOf('tsig:\n  - file: keys/missing.key\n')).toMatch(/^CONFIG: tsig item 1: cannot read .*missing\.key: ENOENT/);
  });

  it('parseBindKeys: the clause order is free, a clause twice is an error', () => {
    expect(parseBindKeys(`key x { secret "${S256}"; algorithm hmac-sha256; };`, 'F')[0].algorithm).toBe('hmac-sha256');
    expect(() => parseBindKeys(`key x { secret "${S256}"; secret "${S256}"; algorithm hmac-sha256; };`, 'F')).toThrow('F: key "x": secret given twice');
  });
});
