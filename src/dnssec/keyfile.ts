// BIND key files (`K<zone>.+013+<tag>.key` / `.private`), the format dnssec-keygen writes and that
// dnssec-dsfromkey, ldns-key2ds and Knot's `keymgr import-bind` read. Private-key-format v1.3 (v1.2 read too).
// Formatting and parsing only; state/keystore.ts writes the files (through state/atomic.ts).
import { readFile } from 'node:fs/promises';
import { Name, NameError } from '../dns/name.js';
import { base64Problem } from '../dns/rdata/text.js';
import {
  ALG_ECDSAP256SHA256, KeyError, checkDnskeyRdata, isKsk, keyPairFromScalar, keyTag, leftPad32, privateScalar, type KeyPair,
} from './keys.js';

export class KeyFileError extends Error {
  constructor(readonly file: string, readonly line: number | undefined, readonly reason: string) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${reason}`);
  }
}

/** Key timing metadata (unix seconds), as in BIND's Created/Publish/Activate/Inactive/Delete fields. */
export interface KeyTimes {
  created?: number;
  publish?: number;
  activate?: number;
  inactive?: number;
  delete?: number;
}

const TIME_FIELDS: [keyof KeyTimes, string][] = [
  ['created', 'Created'], ['publish', 'Publish'], ['activate', 'Activate'], ['inactive', 'Inactive'], ['delete', 'Delete'],
];

/** `K<zone>.+013+<tag>`: BIND's file name stem (dst_key_buildfilename); the zone keeps its trailing dot. */
export function bindKeyBase(zone: Name, algorithm: number, tag: number): string {
  const z = zone.key;
  if (z.includes('/')) throw new KeyError(`zone name ${z} cannot be used in a key file name`);
  return `K${z}+${String(algorithm).padStart(3, '0')}+${String(tag).padStart(5, '0')}`;
}

/** BIND timestamp: YYYYMMDDHHMMSS in UTC. */
export function formatKeyTime(t: number): string {
  const d = new Date(t * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

export function parseKeyTime(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  return Date.UTC(y, mo - 1, d, h, mi, s) / 1000;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The human-readable form BIND puts after timestamps in .key comments (ctime style, UTC here). */
function ctime(t: number): string {
  const d = new Date(t * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** The `.key` file: comments as dnssec-keygen writes them, then `<zone> IN DNSKEY <flags> 3 13 <base64>`. */
export function formatKeyFile(zone: Name, key: Pick<KeyPair, 'flags' | 'dnskey' | 'keyTag'>, times: KeyTimes = {}): string {
  const role = isKsk(key.flags) ? 'key-signing key' : 'zone-signing key';
  let out = `; This is a ${role}, keyid ${key.keyTag}, for ${zone.key}\n`;
  for (const [field, label] of TIME_FIELDS) {
    const t = times[field];
    if (t !== undefined) out += `; ${label}: ${formatKeyTime(t)} (${ctime(t)})\n`;
  }
  const pub = Buffer.from(key.dnskey.subarray(4)).toString('base64');
  out += `${zone.key} IN DNSKEY ${key.flags} ${key.dnskey[2]} ${key.dnskey[3]} ${pub}\n`;
  return out;
}

/** The `.private` file, Private-key-format v1.3. */
export function formatPrivateFile(key: Pick<KeyPair, 'algorithm' | 'privateKey'>, times: KeyTimes = {}): string {
  if (key.algorithm !== ALG_ECDSAP256SHA256) throw new KeyError(`cannot write algorithm ${key.algorithm as number}`);
  let out = 'Private-key-format: v1.3\nAlgorithm: 13 (ECDSAP256SHA256)\n';
  out += `PrivateKey: ${Buffer.from(privateScalar(key.privateKey)).toString('base64')}\n`;
  for (const [field, label] of TIME_FIELDS) {
    const t = times[field];
    if (t !== undefined) out += `${label}: ${formatKeyTime(t)}\n`;
  }
  return out;
}

/** Strict base64 (RFC 4648 §4, dns/rdata/text.ts base64Problem): whitespace already removed; padding required. */
function decodeBase64(text: string): Uint8Array | undefined {
  if (text.length === 0 || base64Problem(text) !== undefined) return undefined;
  return new Uint8Array(Buffer.from(text, 'base64'));
}

export interface PublicKeyFile {
  owner: Name;
  ttl?: number;
  flags: number;
  dnskey: Uint8Array;
  keyTag: number;
}

/** Parses a BIND `.key` file: one DNSKEY record (comments, TTL, class and parentheses allowed). */
export function parseKeyFile(text: string, file: string): PublicKeyFile {
  const tokens: { t: string; line: number }[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const semi = raw.indexOf(';');
    const content = (semi >= 0 ? raw.slice(0, semi) : raw).replace(/[()]/g, ' ');
    for (const t of content.split(/\s+/)) if (t) tokens.push({ t, line: i + 1 });
  });
  if (tokens.length === 0) throw new KeyFileError(file, undefined, 'no DNSKEY record (empty or truncated file)');
  const line = tokens[0].line;
  const fail = (reason: string, at = line): never => { throw new KeyFileError(file, at, reason); };
  let owner: Name;
  try {
    owner = Name.fromText(tokens[0].t);
  } catch (err) {
    return fail(`bad owner name ${JSON.stringify(tokens[0].t)}: ${(err as NameError).message}`);
  }
  let i = 1;
  let ttl: number | undefined;
  for (; i < tokens.length && i < 3; i++) {
    const t = tokens[i].t;
    if (/^\d+$/.test(t)) ttl = Number(t);
    else if (/^IN$/i.test(t)) continue;
    else break;
  }
  const type = tokens[i]?.t;
  if (!type || !/^DNSKEY$/i.test(type)) fail(`expected a DNSKEY record, found ${JSON.stringify(type ?? 'end of file')}`);
  const fields = tokens.slice(i + 1);
  if (fields.length < 4) fail('DNSKEY record is incomplete (needs flags, protocol, algorithm and key)');
  const [flags, protocol, algorithm] = fields.slice(0, 3).map((f) => (/^\d+$/.test(f.t) ? Number(f.t) : NaN));
  if (!(flags <= 0xffff) || !(protocol <= 0xff) || !(algorithm <= 0xff)) fail('DNSKEY flags, protocol or algorithm is not a number in range', fields[0].line);
  const b64 = fields.slice(3).map((f) => f.t).join('');
  const pub = decodeBase64(b64);
  if (!pub) return fail('DNSKEY public key is not valid base64', fields[3].line);
  const dnskey = new Uint8Array(4 + pub.length);
  dnskey.set([flags >> 8, flags & 0xff, protocol, algorithm], 0);
  dnskey.set(pub, 4);
  try {
    checkDnskeyRdata(dnskey);
  } catch (err) {
    fail((err as Error).message, fields[0].line);
  }
  return { owner, ttl, flags, dnskey, keyTag: keyTag(dnskey) };
}

export interface PrivateKeyFile {
  format: string;
  algorithm: number;
  scalar: Uint8Array;
  times: KeyTimes;
}

/** Parses a BIND `.private` file (Private-key-format v1.2 or v1.3) for algorithm 13. */
export function parsePrivateFile(text: string, file: string): PrivateKeyFile {
  const fields = new Map<string, { value: string; line: number }>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const l = raw.trim();
    if (l === '' || l.startsWith(';')) return;
    const colon = l.indexOf(':');
    if (colon <= 0) throw new KeyFileError(file, i + 1, `expected "Field: value", found ${JSON.stringify(l.slice(0, 40))}`);
    fields.set(l.slice(0, colon).trim(), { value: l.slice(colon + 1).trim(), line: i + 1 });
  });
  const need = (name: string) => {
    const f = fields.get(name);
    if (!f) throw new KeyFileError(file, undefined, `missing "${name}:" (truncated file?)`);
    return f;
  };
  const fmt = need('Private-key-format');
  if (!/^v1\.[2-9]$/.test(fmt.value)) throw new KeyFileError(file, fmt.line, `unsupported Private-key-format ${fmt.value} (v1.2 or v1.3 expected)`);
  const alg = need('Algorithm');
  const algorithm = Number(/^(\d+)/.exec(alg.value)?.[1] ?? NaN);
  if (algorithm !== ALG_ECDSAP256SHA256) throw new KeyFileError(file, alg.line, `algorithm ${alg.value} is not supported (tandem uses 13, ECDSAP256SHA256)`);
  const pk = need('PrivateKey');
  const scalar = decodeBase64(pk.value.replace(/\s+/g, ''));
  if (!scalar) throw new KeyFileError(file, pk.line, 'PrivateKey is not valid base64');
  // BIND writes the scalar as a big-endian number without leading zero octets (OpenSSL's BN_bn2bin): 31 octets in
  // one key of 256. Fewer than 24 is not a key that generator makes (a chance of 2^-64).
  if (scalar.length > 32 || scalar.length < 24) throw new KeyFileError(file, pk.line, `PrivateKey has ${scalar.length} octets, expected 32 for ECDSAP256SHA256`);
  const times: KeyTimes = {};
  for (const [field, label] of TIME_FIELDS) {
    const f = fields.get(label);
    if (!f) continue;
    const t = parseKeyTime(f.value);
    if (t === undefined) throw new KeyFileError(file, f.line, `bad ${label} time ${JSON.stringify(f.value)} (YYYYMMDDHHMMSS expected)`);
    times[field] = t;
  }
  return { format: fmt.value, algorithm, scalar: leftPad32(scalar), times };
}

export interface BindKey {
  owner: Name;
  key: KeyPair;
  times: KeyTimes;
  keyPath: string;
  privatePath: string;
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new KeyFileError(path, undefined, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Combines parsed files into a key pair; the private scalar must produce the public key of the .key file. */
export function bindKeyFromTexts(keyText: string, keyPath: string, privateText: string, privatePath: string): BindKey {
  const pub = parseKeyFile(keyText, keyPath);
  const priv = parsePrivateFile(privateText, privatePath);
  if (pub.dnskey[3] !== priv.algorithm) throw new KeyFileError(privatePath, undefined, `algorithm ${priv.algorithm} differs from ${keyPath} (${pub.dnskey[3]})`);
  let key: KeyPair;
  try {
    key = keyPairFromScalar(pub.flags, priv.scalar);
  } catch (err) {
    throw new KeyFileError(privatePath, undefined, (err as Error).message);
  }
  if (Buffer.compare(key.dnskey, pub.dnskey) !== 0)
    throw new KeyFileError(privatePath, undefined, `private key does not match the public key in ${keyPath}`);
  return { owner: pub.owner, key, times: priv.times, keyPath, privatePath };
}

/** Reads a BIND key pair; `path` may be the stem (`Kzone.+013+12345`) or either file. */
export async function readBindKeyPair(keyPath: string, privatePath?: string): Promise<BindKey> {
  const stem = keyPath.replace(/\.(key|private)$/, '');
  const kp = keyPath.endsWith('.key') ? keyPath : `${stem}.key`;
  const pp = privatePath ?? `${stem}.private`;
  return bindKeyFromTexts(await readText(kp), kp, await readText(pp), pp);
}
