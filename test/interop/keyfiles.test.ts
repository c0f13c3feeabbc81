// Interop: the BIND key files tandem writes are read by BIND (dnssec-dsfromkey), ldns (ldns-key2ds) and
// Knot (keymgr import-bind); each tool decides the DS / key tag, and tandem's dsRdata must agree.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Name } from '../../src/dns/name.js';
import { bindKeyBase, readBindKeyPair } from '../../src/dnssec/keyfile.js';
import { dsRdata, type KeyPair } from '../../src/dnssec/keys.js';
import { loadOrCreateZoneKeys, zoneKeyDir } from '../../src/state/keystore.js';

const fixtures = fileURLToPath(new URL('../fixtures/keys/', import.meta.url));

/** Finds a tool on PATH (plus the sbin folders, where keymgr lives); fails loudly naming the package. */
function tool(cmd: string, pkg: string): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const d of dirs) if (d && existsSync(join(d, cmd))) return join(d, cmd);
  throw new Error(`${cmd} is not installed: install the Debian package ${pkg} (apt-get install ${pkg}) to run this interop test`);
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** `tag alg type hexdigest` from the first DS line of a tool's output. */
function dsOf(output: string): string {
  const m = /\bDS\s+(\d+)\s+(\d+)\s+(\d+)\s+([0-9A-Fa-f]+)/.exec(output);
  if (!m) throw new Error(`no DS record in output: ${output}`);
  return `${m[1]} ${m[2]} ${m[3]} ${m[4].toLowerCase()}`;
}

function ours(zone: Name, key: KeyPair, digest: 2 | 4): string {
  const ds = dsRdata(zone, key.dnskey, digest);
  return `${(ds[0] << 8) | ds[1]} ${ds[2]} ${ds[3]} ${Buffer.from(ds.subarray(4)).toString('hex')}`;
}

const zone = Name.fromText('interop.example.');
let state: string;
let keys: { ksk: KeyPair; zsk: KeyPair };
const keyFile = (k: KeyPair) => join(zoneKeyDir(state, zone), `${bindKeyBase(zone, 13, k.keyTag)}.key`);

beforeAll(async () => {
  state = mkdtempSync(join(tmpdir(), 'tandem-interop-keys-'));
  keys = await loadOrCreateZoneKeys(state, zone);
});
afterAll(() => rmSync(state, { recursive: true, force: true }));

describe('BIND dnssec-dsfromkey decides the DS of our .key files', () => {
  it('RFC 4509: SHA-256 DS of our KSK and ZSK', () => {
    const bin = tool('dnssec-dsfromkey', 'bind9-utils');
    for (const k of [keys.ksk, keys.zsk]) expect(dsOf(run(bin, ['-2', keyFile(k)]))).toBe(ours(zone, k, 2));
  });

  it('RFC 6605 §2: SHA-384 DS of our KSK', () => {
    const bin = tool('dnssec-dsfromkey', 'bind9-utils');
    expect(dsOf(run(bin, ['-a', 'SHA-384', keyFile(keys.ksk)]))).toBe(ours(zone, keys.ksk, 4));
  });

  it('a key pair written by dnssec-keygen gives the same DS in tandem as in BIND', async () => {
    const bin = tool('dnssec-dsfromkey', 'bind9-utils');
    const path = `${fixtures}bind/Kexample.net.+013+09361.key`;
    const k = await readBindKeyPair(path);
    expect(dsOf(run(bin, ['-2', path]))).toBe(ours(k.owner, k.key, 2));
  });
});

describe('ldns-key2ds decides the DS of our .key files', () => {
  it('RFC 4509 / RFC 6605: SHA-256 and SHA-384 DS of our KSK and ZSK', () => {
    const bin = tool('ldns-key2ds', 'ldnsutils');
    for (const k of [keys.ksk, keys.zsk]) {
      // -f: also for keys without the SEP flag (our ZSK)
      expect(dsOf(run(bin, ['-n', '-f', '-2', keyFile(k)]))).toBe(ours(zone, k, 2));
      expect(dsOf(run(bin, ['-n', '-f', '-4', keyFile(k)]))).toBe(ours(zone, k, 4));
    }
  });

  it('RFC 3757: ldns-key2ds sees the SEP flag on our KSK and not on our ZSK', () => {
    const bin = tool('ldns-key2ds', 'ldnsutils');
    expect(dsOf(run(bin, ['-n', '-2', keyFile(keys.ksk)]))).toBe(ours(zone, keys.ksk, 2));
    expect(run(bin, ['-n', '-2', keyFile(keys.zsk)])).not.toMatch(/\bDS\b/);
  });
});

describe('Knot keymgr imports our key pairs', () => {
  it('keymgr import-bind accepts the KSK and ZSK and lists the same tags, roles and DS', () => {
    const bin = tool('keymgr', 'knot');
    const kasp = mkdtempSync(join(tmpdir(), 'tandem-kasp-'));
    try {
      for (const k of [keys.ksk, keys.zsk]) run(bin, ['-D', kasp, zone.key, 'import-bind', keyFile(k).replace(/\.key$/, '')]);
      const listed = JSON.parse(run(bin, ['-D', kasp, '-j', zone.key, 'list'])) as { tag: number; ksk: boolean; algorithm: number; 'public-only': boolean }[];
      const byTag = new Map(listed.map((e) => [e.tag, e]));
      expect(byTag.get(keys.ksk.keyTag)).toMatchObject({ ksk: true, algorithm: 13, 'public-only': false });
      expect(byTag.get(keys.zsk.keyTag)).toMatchObject({ ksk: false, algorithm: 13, 'public-only': false });
      expect(dsOf(run(bin, ['-D', kasp, zone.key, 'ds', String(keys.ksk.keyTag)]))).toBe(ours(zone, keys.ksk, 2));
      const dnskey = run(bin, ['-D', kasp, zone.key, 'dnskey', String(keys.zsk.keyTag)]);
      expect(dnskey.replace(/\s+/g, ' ')).toContain(`DNSKEY 256 3 13 ${Buffer.from(keys.zsk.publicKey).toString('base64')}`);
    } finally {
      rmSync(kasp, { recursive: true, force: true });
    }
  });
});
