import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Name } from '../../../src/dns/name.js';
import { formatKeyTime } from '../../../src/dnssec/keyfile.js';
import { generateKey } from '../../../src/dnssec/keys.js';
import {
  addPublishedKey, importBindKey, KeyStoreError, loadOrCreateZoneKeys, setKeyTimes, writeBindKeyPair, zoneKeyDir,
} from '../../../src/state/keystore.js';

const fixtures = fileURLToPath(new URL('../../fixtures/keys/', import.meta.url));
const zone = Name.fromText('example.net.');
const T = 1_700_000_000;
const clock = { now: () => T };

let state: string;
beforeEach(() => { state = mkdtempSync(join(tmpdir(), 'tandem-keystore-')); });
afterEach(() => rmSync(state, { recursive: true, force: true }));

const dnskeyHex = (k: { dnskey: Uint8Array }) => Buffer.from(k.dnskey).toString('hex');
const files = () => readdirSync(zoneKeyDir(state, zone)).sort();

describe('KeyStore: first activation and restarts', () => {
  it('first activation makes one KSK (257) and one ZSK (256) as BIND files', async () => {
    const k = await loadOrCreateZoneKeys(state, zone, { clock });
    expect(k.created).toBe(true);
    expect([k.ksk.flags, k.zsk.flags]).toEqual([257, 256]);
    expect(k.ksk.keyTag).not.toBe(k.zsk.keyTag);
    const stem = (t: number) => `Kexample.net.+013+${String(t).padStart(5, '0')}`;
    expect(files()).toEqual([`${stem(k.ksk.keyTag)}.key`, `${stem(k.ksk.keyTag)}.private`, `${stem(k.zsk.keyTag)}.key`, `${stem(k.zsk.keyTag)}.private`].sort());
    const priv = readFileSync(join(zoneKeyDir(state, zone), `${stem(k.ksk.keyTag)}.private`), 'utf8');
    expect(priv).toContain(`Activate: ${formatKeyTime(T)}`);
  });

  it('restart loads the same keys and never regenerates', async () => {
    const a = await loadOrCreateZoneKeys(state, zone, { clock });
    const b = await loadOrCreateZoneKeys(state, zone, { clock });
    expect(b.created).toBe(false);
    expect(dnskeyHex(b.ksk)).toBe(dnskeyHex(a.ksk));
    expect(dnskeyHex(b.zsk)).toBe(dnskeyHex(a.zsk));
    expect(b.keys.map((k) => k.role).sort()).toEqual(['ksk', 'zsk']);
  });

  it('modes: state and key folders 0700, .private 0600, .key 0644', async () => {
    const k = await loadOrCreateZoneKeys(state, zone, { clock });
    const dir = zoneKeyDir(state, zone);
    expect(statSync(state).mode & 0o777).toBe(0o700);
    expect(statSync(join(state, 'keys')).mode & 0o777).toBe(0o700);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const f of files()) expect(statSync(join(dir, f)).mode & 0o777).toBe(f.endsWith('.private') ? 0o600 : 0o644);
    expect(k.keys).toHaveLength(2);
  });

  it('concurrent first activations agree on one key set', async () => {
    const [a, b] = await Promise.all([loadOrCreateZoneKeys(state, zone, { clock }), loadOrCreateZoneKeys(state, zone, { clock })]);
    expect(dnskeyHex(a.ksk)).toBe(dnskeyHex(b.ksk));
    expect(dnskeyHex(a.zsk)).toBe(dnskeyHex(b.zsk));
    expect([a.created, b.created].filter(Boolean)).toHaveLength(1);
    expect(files()).toHaveLength(4);
    expect(readdirSync(join(state, 'keys'))).toEqual(['example.net']);
  });

  it('honours avoidTag for new keys', async () => {
    const k = await loadOrCreateZoneKeys(state, zone, { clock, avoidTag: (t) => t % 2 === 1 });
    expect(k.ksk.keyTag % 2).toBe(0);
    expect(k.zsk.keyTag % 2).toBe(0);
  });
});

describe('KeyStore: damaged stores are errors naming the file, never a new key', () => {
  it('a truncated .private is a KeyStoreError naming the file', async () => {
    const k = await loadOrCreateZoneKeys(state, zone, { clock });
    const p = join(zoneKeyDir(state, zone), `Kexample.net.+013+${String(k.zsk.keyTag).padStart(5, '0')}.private`);
    writeFileSync(p, readFileSync(p, 'utf8').slice(0, 40));
    const err = await loadOrCreateZoneKeys(state, zone, { clock }).catch((e) => e);
    expect(err).toBeInstanceOf(KeyStoreError);
    expect(err.file).toBe(p);
    expect(err.message).toContain(p);
    expect(files()).toHaveLength(4); // nothing new was generated
  });

  it('a .key without its .private (and the reverse) is a KeyStoreError', async () => {
    const k = await loadOrCreateZoneKeys(state, zone, { clock });
    const base = join(zoneKeyDir(state, zone), `Kexample.net.+013+${String(k.ksk.keyTag).padStart(5, '0')}`);
    const saved = readFileSync(`${base}.private`);
    unlinkSync(`${base}.private`);
    await expect(loadOrCreateZoneKeys(state, zone, { clock })).rejects.toThrow(new RegExp(`${base.replace(/[.+]/g, '\\$&')}\\.key: no matching .*\\.private`));
    writeFileSync(`${base}.private`, saved);
    unlinkSync(`${base}.key`);
    await expect(loadOrCreateZoneKeys(state, zone, { clock })).rejects.toThrow(KeyStoreError);
  });

  it('a public key that does not match the private key is refused', async () => {
    const k = await loadOrCreateZoneKeys(state, zone, { clock });
    const dir = zoneKeyDir(state, zone);
    const stem = `Kexample.net.+013+${String(k.zsk.keyTag).padStart(5, '0')}`;
    const other = generateKey(256);
    const text = readFileSync(join(dir, `${stem}.key`), 'utf8').replace(/DNSKEY 256 3 13 .*/, `DNSKEY 256 3 13 ${Buffer.from(other.publicKey).toString('base64')}`);
    writeFileSync(join(dir, `${stem}.key`), text);
    await expect(loadOrCreateZoneKeys(state, zone, { clock })).rejects.toThrow(/does not match|file name says/);
  });

  it('a key folder without an active ZSK is an error, not a reason to generate one', async () => {
    const k = await loadOrCreateZoneKeys(state, zone, { clock });
    const base = join(zoneKeyDir(state, zone), `Kexample.net.+013+${String(k.zsk.keyTag).padStart(5, '0')}`);
    unlinkSync(`${base}.key`);
    unlinkSync(`${base}.private`);
    await expect(loadOrCreateZoneKeys(state, zone, { clock })).rejects.toThrow(/no active zone-signing key/);
    expect(files()).toHaveLength(2);
  });

  it('a key for another zone in the folder is refused', async () => {
    const other = Name.fromText('example.org.');
    await loadOrCreateZoneKeys(state, other, { clock });
    copyFileSync(`${fixtures}bind/Kexample.net.+013+18877.key`, join(zoneKeyDir(state, other), 'Kexample.net.+013+18877.key'));
    copyFileSync(`${fixtures}bind/Kexample.net.+013+18877.private`, join(zoneKeyDir(state, other), 'Kexample.net.+013+18877.private'));
    await expect(loadOrCreateZoneKeys(state, other, { clock })).rejects.toThrow(/file name is for zone example\.net\., this folder holds example\.org\./);
    rmSync(join(zoneKeyDir(state, other), 'Kexample.net.+013+18877.key'));
    rmSync(join(zoneKeyDir(state, other), 'Kexample.net.+013+18877.private'));
    copyFileSync(`${fixtures}bind/Kexample.net.+013+18877.key`, join(zoneKeyDir(state, other), 'Kexample.org.+013+18877.key'));
    copyFileSync(`${fixtures}bind/Kexample.net.+013+18877.private`, join(zoneKeyDir(state, other), 'Kexample.org.+013+18877.private'));
    await expect(loadOrCreateZoneKeys(state, other, { clock })).rejects.toThrow(/key is for example\.net\., not example\.org\./);
  });
});

// The fixtures were made by dnssec-keygen with Activate 20261124131324; import tests run after that.
const afterFixtures = { now: () => Date.UTC(2026, 11, 1) / 1000 };

describe('KeyStore: several keys and imports', () => {
  it('the newest active KSK signs; a KSK with a future Activate does not', async () => {
    const first = await loadOrCreateZoneKeys(state, zone, { clock });
    const dir = zoneKeyDir(state, zone);
    const newer = generateKey(257);
    await writeBindKeyPair(dir, zone, newer, { created: T + 10, activate: T + 10 });
    const future = generateKey(257);
    await writeBindKeyPair(dir, zone, future, { created: T + 20, activate: T + 1000 });
    const later = { now: () => T + 100 };
    const k = await loadOrCreateZoneKeys(state, zone, { clock: later });
    expect(k.ksk.keyTag).toBe(newer.keyTag);
    expect(k.zsk.keyTag).toBe(first.zsk.keyTag);
    expect(k.keys).toHaveLength(4);
    const inactive = generateKey(257);
    await writeBindKeyPair(dir, zone, inactive, { activate: T + 50, inactive: T + 60 });
    expect((await loadOrCreateZoneKeys(state, zone, { clock: later })).ksk.keyTag).toBe(newer.keyTag);
  });

  it('importBindKey into an empty store keeps the imported KSK and adds a new ZSK', async () => {
    const k = await importBindKey(state, zone, `${fixtures}bind/Kexample.net.+013+09361.key`, undefined, { clock: afterFixtures });
    expect(k.ksk.keyTag).toBe(9361);
    expect(k.zsk.flags).toBe(256);
    expect(k.zsk.keyTag).not.toBe(9361);
    expect(k.created).toBe(true);
    // before its Activate time the imported KSK is not used
    await expect(loadOrCreateZoneKeys(state, zone, { clock })).rejects.toThrow(/no active key-signing key/);
    const again = await loadOrCreateZoneKeys(state, zone, { clock: afterFixtures });
    expect(again.ksk.keyTag).toBe(9361);
    expect(dnskeyHex(again.zsk)).toBe(dnskeyHex(k.zsk));
  });

  it('importBindKey adds to an existing store, is idempotent, and refuses another zone', async () => {
    await loadOrCreateZoneKeys(state, zone, { clock: afterFixtures });
    const a = await importBindKey(state, zone, `${fixtures}bind/Kexample.net.+013+18877.key`, `${fixtures}bind/Kexample.net.+013+18877.private`, { clock: afterFixtures });
    expect(a.keys.map((k) => k.key.keyTag)).toContain(18877);
    const b = await importBindKey(state, zone, `${fixtures}bind/Kexample.net.+013+18877`, undefined, { clock: afterFixtures });
    expect(b.keys).toHaveLength(3);
    await expect(importBindKey(state, Name.fromText('example.org.'), `${fixtures}bind/Kexample.net.+013+18877.key`)).rejects.toThrow(/key is for example\.net\., not example\.org\./);
    expect(existsSync(zoneKeyDir(state, Name.fromText('example.org.')))).toBe(false);
  });

  it('importBindKey of a damaged file names it', async () => {
    const bad = join(state, 'Kexample.net.+013+00001.key');
    writeFileSync(bad, 'example.net. IN DNSKEY 257 3 13 AAAA\n');
    writeFileSync(join(state, 'Kexample.net.+013+00001.private'), '');
    await expect(importBindKey(state, zone, bad)).rejects.toThrow(KeyStoreError);
    await expect(importBindKey(state, zone, bad)).rejects.toThrow(bad);
  });
});

describe('KeyStore: keys of a rollover (BIND timing metadata)', () => {
  it('a key with Publish and no Activate is published but never signs (dnssec-keygen -A none)', async () => {
    const first = await loadOrCreateZoneKeys(state, zone, { clock });
    const added = await addPublishedKey(state, zone, 'zsk', { clock: { now: () => T + 10 } });
    const k = await loadOrCreateZoneKeys(state, zone, { clock: { now: () => T + 10_000 } });
    expect(k.zsk.keyTag).toBe(first.zsk.keyTag);
    expect(k.published.map((p) => p.keyTag).sort()).toEqual([first.ksk.keyTag, first.zsk.keyTag, added.key.keyTag].sort());
    expect([first.ksk.keyTag, first.zsk.keyTag]).not.toContain(added.key.keyTag);
  });

  it('Activate makes the newest key sign; Inactive stops the old one signing but keeps it published; Delete unpublishes it', async () => {
    const first = await loadOrCreateZoneKeys(state, zone, { clock });
    const added = await addPublishedKey(state, zone, 'zsk', { clock });
    await setKeyTimes(state, zone, added.key.keyTag, { activate: T + 5 });
    await setKeyTimes(state, zone, first.zsk.keyTag, { inactive: T + 5 });
    let k = await loadOrCreateZoneKeys(state, zone, { clock: { now: () => T + 4 } });
    expect(k.zsk.keyTag).toBe(first.zsk.keyTag);
    k = await loadOrCreateZoneKeys(state, zone, { clock: { now: () => T + 5 } });
    expect(k.zsk.keyTag).toBe(added.key.keyTag);
    expect(k.published.map((p) => p.keyTag)).toContain(first.zsk.keyTag);
    await setKeyTimes(state, zone, first.zsk.keyTag, { delete: T + 6 });
    k = await loadOrCreateZoneKeys(state, zone, { clock: { now: () => T + 6 } });
    expect(k.published.map((p) => p.keyTag).sort()).toEqual([first.ksk.keyTag, added.key.keyTag].sort());
    // The metadata is in BIND's files, where dnssec-settime and Knot's import-bind read it.
    const text = readFileSync(join(zoneKeyDir(state, zone), `Kexample.net.+013+${String(first.zsk.keyTag).padStart(5, '0')}.private`), 'utf8');
    expect(text).toContain(`Inactive: ${formatKeyTime(T + 5)}`);
    expect(text).toContain(`Delete: ${formatKeyTime(T + 6)}`);
  });

  it('setKeyTimes on a tag the store does not hold is a KeyStoreError', async () => {
    await loadOrCreateZoneKeys(state, zone, { clock });
    await expect(setKeyTimes(state, zone, 1, { delete: T })).rejects.toThrow(KeyStoreError);
  });
});
