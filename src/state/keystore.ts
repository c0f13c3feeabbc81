// The key store: `<state>/keys/<zone>/` holds BIND key file pairs, and those files ARE the store (no
// index file to drift out of sync). The role comes from the flags (257 = KSK, 256 = ZSK, RFC 4034 §2.1.1);
// when several keys of a role are active (Activate <= now < Inactive), the newest Activate signs, ties going
// to the higher key tag, so every process picks the same key. A key set is created once, atomically (a temp
// folder renamed into place), and afterwards only loaded: a damaged or partial file is a KeyStoreError
// naming the file, never a reason to make a new key (a silent new KSK would break the chain of trust).
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Name } from '../dns/name.js';
import { systemClock, type Clock } from '../dnssec/types.js';
import { FLAG_REVOKE, generateKeyAvoiding, isKsk, type KeyPair } from '../dnssec/keys.js';
import {
  bindKeyBase, formatKeyFile, formatPrivateFile, readBindKeyPair, KeyFileError, type BindKey, type KeyTimes,
} from '../dnssec/keyfile.js';
import { ensureDir, fsyncDir, tempName, writeFileAtomic, PRIVATE_FILE_MODE, PUBLIC_FILE_MODE, TEMP_PREFIX } from './atomic.js';

export class KeyStoreError extends Error {
  constructor(readonly file: string, readonly reason: string) {
    super(reason.startsWith(file) ? reason : `${file}: ${reason}`);
  }
}

export interface StoredKey extends BindKey {
  role: 'ksk' | 'zsk';
}

export interface ZoneKeys {
  /** The keys that sign now (one per role). */
  ksk: KeyPair;
  zsk: KeyPair;
  /**
   * Every own key in the DNSKEY RRset now: the signing pair plus keys published without signing (a rollover's
   * new key before it signs, its old key until it is removed; rollover/README.md), sorted by key tag.
   */
  published: KeyPair[];
  /** Every key in the store for the zone (active or not), sorted by key tag. */
  keys: StoredKey[];
  /** True when this call generated the zone's first key set. */
  created: boolean;
}

export interface KeyStoreOptions {
  /** Key tags our new keys must not have (e.g. imported keys' tags, or outside an assigned range). */
  avoidTag?: (tag: number) => boolean;
  clock?: Clock;
}

const KEY_FILE = /^K(.+)\+(\d{3})\+(\d{5})\.(key|private)$/;

/** Folder name of a zone: lower-case presentation form without the trailing dot (`.` for the root). */
function zoneDirName(zone: Name): string {
  const k = zone.key;
  if (k.includes('/')) throw new KeyStoreError(k, 'zone name contains "/" and cannot name a folder');
  return k === '.' ? '.root' : k.slice(0, -1);
}

export function zoneKeyDir(stateDir: string, zone: Name): string {
  return join(stateDir, 'keys', zoneDirName(zone));
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Writes `.private` (0600) then `.key` (0644) atomically into `dir`; returns both paths. */
export async function writeBindKeyPair(dir: string, zone: Name, key: KeyPair, times: KeyTimes = {}): Promise<{ keyPath: string; privatePath: string }> {
  const base = join(dir, bindKeyBase(zone, key.algorithm, key.keyTag));
  const privatePath = `${base}.private`;
  const keyPath = `${base}.key`;
  await writeFileAtomic(privatePath, formatPrivateFile(key, times), PRIVATE_FILE_MODE);
  await writeFileAtomic(keyPath, formatKeyFile(zone, key, times), PUBLIC_FILE_MODE);
  return { keyPath, privatePath };
}

/**
 * May sign (BIND's timing semantics): Activate reached and Inactive not. A key with a Publish time and no
 * Activate is published only (`dnssec-keygen -A none`; a rollover's pre-published key); a key with neither
 * (an imported file without timing metadata) signs.
 */
function isActive(k: BindKey, now: number): boolean {
  if ((k.key.flags & FLAG_REVOKE) !== 0) return false;
  if (k.times.activate === undefined && k.times.publish !== undefined) return false;
  if (k.times.activate !== undefined && k.times.activate > now) return false;
  if (k.times.inactive !== undefined && k.times.inactive <= now) return false;
  return true;
}

/** In the DNSKEY RRset: Publish reached (or unset) and Delete not. */
export function isPublished(k: BindKey, now: number): boolean {
  if ((k.key.flags & FLAG_REVOKE) !== 0) return false;
  if (k.times.publish !== undefined && k.times.publish > now) return false;
  if (k.times.delete !== undefined && k.times.delete <= now) return false;
  return true;
}

/** The signing key of a role: newest Activate (then Created), ties to the higher key tag. */
function pick(keys: StoredKey[], role: 'ksk' | 'zsk', now: number): StoredKey | undefined {
  const when = (k: StoredKey) => k.times.activate ?? k.times.created ?? 0;
  return keys
    .filter((k) => k.role === role && isActive(k, now))
    .sort((a, b) => when(b) - when(a) || b.key.keyTag - a.key.keyTag)[0];
}

/** Reads every key pair in a zone's folder; any damaged, partial or foreign file is a KeyStoreError. */
export async function readZoneKeyDir(dir: string, zone: Name): Promise<StoredKey[]> {
  const stems = new Map<string, { key?: string; private?: string }>();
  for (const f of await readdir(dir)) {
    if (f.startsWith(TEMP_PREFIX)) continue; // an interrupted atomic write; the real file is intact or absent
    const m = KEY_FILE.exec(f);
    if (!m) continue;
    if (m[1] !== zone.key) throw new KeyStoreError(join(dir, f), `file name is for zone ${m[1]}, this folder holds ${zone.key}`);
    const stem = f.slice(0, f.lastIndexOf('.'));
    const e = stems.get(stem) ?? {};
    e[m[4] as 'key' | 'private'] = join(dir, f);
    stems.set(stem, e);
  }
  const keys: StoredKey[] = [];
  for (const [stem, e] of [...stems].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!e.key) throw new KeyStoreError(e.private!, `no matching ${stem}.key (partial key pair; restore it or remove the file)`);
    if (!e.private) throw new KeyStoreError(e.key, `no matching ${stem}.private (partial key pair; restore it or remove the file)`);
    let k: BindKey;
    try {
      k = await readBindKeyPair(e.key, e.private);
    } catch (err) {
      if (err instanceof KeyFileError) throw new KeyStoreError(err.file, err.message);
      throw err;
    }
    if (!k.owner.equals(zone)) throw new KeyStoreError(e.key, `key is for ${k.owner.key}, not ${zone.key}`);
    const m = KEY_FILE.exec(`${stem}.key`)!;
    if (Number(m[3]) !== k.key.keyTag || Number(m[2]) !== k.key.algorithm)
      throw new KeyStoreError(e.key, `file name says algorithm ${Number(m[2])} tag ${Number(m[3])}, the key has ${k.key.algorithm} tag ${k.key.keyTag}`);
    keys.push({ ...k, role: isKsk(k.key.flags) ? 'ksk' : 'zsk' });
  }
  return keys.sort((a, b) => a.key.keyTag - b.key.keyTag);
}

function select(dir: string, keys: StoredKey[], now: number, created: boolean): ZoneKeys {
  const ksk = pick(keys, 'ksk', now);
  const zsk = pick(keys, 'zsk', now);
  if (!ksk) throw new KeyStoreError(dir, 'no active key-signing key (flags 257) in the key store');
  if (!zsk) throw new KeyStoreError(dir, 'no active zone-signing key (flags 256) in the key store');
  const published = keys.filter((k) => k === ksk || k === zsk || isPublished(k, now)).map((k) => k.key);
  return { ksk: ksk.key, zsk: zsk.key, published, keys, created };
}

/** The signing key of each role now, as StoredKeys (the rollover needs their files and times). */
export function signingKeys(keys: StoredKey[], now: number): { ksk?: StoredKey; zsk?: StoredKey } {
  return { ksk: pick(keys, 'ksk', now), zsk: pick(keys, 'zsk', now) };
}

/**
 * A new key of `role` for a rollover, published from now on but not signing (Publish set, no Activate; RFC 6781
 * §4.1.1.1 pre-publication, §4.1.2 a new KSK), its tag distinct from every key in the store and accepted by
 * `avoidTag`. The zone's folder must exist (its first key set is made by loadOrCreateZoneKeys).
 */
export async function addPublishedKey(stateDir: string, zone: Name, role: 'ksk' | 'zsk', opts: KeyStoreOptions = {}): Promise<StoredKey> {
  const now = (opts.clock ?? systemClock).now();
  const dir = zoneKeyDir(stateDir, zone);
  const existing = await readZoneKeyDir(dir, zone);
  const avoid = opts.avoidTag ?? (() => false);
  const key = generateKeyAvoiding(role === 'ksk' ? 257 : 256, (t) => existing.some((k) => k.key.keyTag === t) || avoid(t));
  const times: KeyTimes = { created: now, publish: now };
  const paths = await writeBindKeyPair(dir, zone, key, times);
  return { owner: zone, key, times, keyPath: paths.keyPath, privatePath: paths.privatePath, role } as StoredKey;
}

/** Rewrites the timing metadata of the stored key with this tag (both files, each atomically). */
export async function setKeyTimes(stateDir: string, zone: Name, tag: number, times: KeyTimes): Promise<StoredKey> {
  const dir = zoneKeyDir(stateDir, zone);
  const k = (await readZoneKeyDir(dir, zone)).find((x) => x.key.keyTag === tag);
  if (!k) throw new KeyStoreError(dir, `no key with tag ${tag} in the key store`);
  const merged: KeyTimes = { ...k.times, ...times };
  await writeBindKeyPair(dir, zone, k.key, merged);
  return { ...k, times: merged };
}

/**
 * Writes a complete key set into a fresh temp folder and renames it to `dir`, so the zone's folder is
 * either absent or complete. Returns false when another process created `dir` first.
 */
async function createKeyDir(dir: string, zone: Name, pairs: { key: KeyPair; times: KeyTimes }[]): Promise<boolean> {
  const parent = join(dir, '..');
  await ensureDir(parent);
  const tmp = join(parent, tempName(basename(dir)));
  await ensureDir(tmp);
  try {
    for (const p of pairs) await writeBindKeyPair(tmp, zone, p.key, p.times);
    await fsyncDir(tmp);
    try {
      await rename(tmp, dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTEMPTY') return false;
      throw err;
    }
    await fsyncDir(parent);
    return true;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Loads the zone's keys; on first activation (no folder yet) generates one KSK and one ZSK, with distinct
 * tags that `avoidTag` accepts, and stores them as BIND files. Later starts never regenerate.
 */
export async function loadOrCreateZoneKeys(stateDir: string, zone: Name, opts: KeyStoreOptions = {}): Promise<ZoneKeys> {
  const now = (opts.clock ?? systemClock).now();
  await ensureDir(stateDir);
  const dir = zoneKeyDir(stateDir, zone);
  let created = false;
  if (!(await exists(dir))) {
    const avoid = opts.avoidTag ?? (() => false);
    const ksk = generateKeyAvoiding(257, avoid);
    const zsk = generateKeyAvoiding(256, (t) => t === ksk.keyTag || avoid(t));
    const times: KeyTimes = { created: now, publish: now, activate: now };
    created = await createKeyDir(dir, zone, [{ key: ksk, times }, { key: zsk, times }]);
  }
  return select(dir, await readZoneKeyDir(dir, zone), now, created);
}

/**
 * Imports an existing BIND key pair (e.g. the KSK of a zone moving from BIND or Knot, so no DS change is
 * needed). If the zone has no keys yet, its key set is created with the imported key plus a new key of
 * the other role; otherwise the pair is added (importing the same key twice is a no-op).
 */
export async function importBindKey(
  stateDir: string, zone: Name, keyPath: string, privatePath?: string, opts: KeyStoreOptions = {},
): Promise<ZoneKeys> {
  const now = (opts.clock ?? systemClock).now();
  let imported: BindKey;
  try {
    imported = await readBindKeyPair(keyPath, privatePath);
  } catch (err) {
    if (err instanceof KeyFileError) throw new KeyStoreError(err.file, err.message);
    throw err;
  }
  if (!imported.owner.equals(zone)) throw new KeyStoreError(imported.keyPath, `key is for ${imported.owner.key}, not ${zone.key}`);
  const times = imported.times;
  await ensureDir(stateDir);
  const dir = zoneKeyDir(stateDir, zone);
  if (!(await exists(dir))) {
    const avoid = opts.avoidTag ?? (() => false);
    const role: 256 | 257 = isKsk(imported.key.flags) ? 256 : 257;
    const other = generateKeyAvoiding(role, (t) => t === imported.key.keyTag || avoid(t));
    const ok = await createKeyDir(dir, zone, [
      { key: imported.key, times },
      { key: other, times: { created: now, publish: now, activate: now } },
    ]);
    if (ok) return select(dir, await readZoneKeyDir(dir, zone), now, true);
  }
  const existing = await readZoneKeyDir(dir, zone);
  const same = existing.find((k) => k.key.keyTag === imported.key.keyTag && k.key.algorithm === imported.key.algorithm);
  if (same && Buffer.compare(same.key.dnskey, imported.key.dnskey) !== 0)
    throw new KeyStoreError(same.keyPath, `a different key with tag ${imported.key.keyTag} is already stored`);
  if (!same) await writeBindKeyPair(dir, zone, imported.key, times);
  return select(dir, await readZoneKeyDir(dir, zone), now, false);
}
