// TSIG keys (RFC 8945) in the server config: the `tsig:` setting holds YAML items `{ name, algorithm, secret }`,
// strings in BIND's syntax (`key "name" { algorithm hmac-sha256; secret "base64"; };`, several per string), and
// `{ file: PATH }` items naming a file in either syntax (what `tsig-keygen` or `tandem tsig-keygen` writes).
// Also the printed forms `tandem tsig-keygen` uses. Key names are DNS names; secrets strict RFC 4648 base64.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Name, NameError } from '../dns/name.js';
import { parseBase64, formatBase64 } from '../dns/rdata/text.js';
import { RdataError } from '../dns/rdata.js';
import { parseAlgorithm, TSIG_ALGORITHMS, type TsigKey } from '../dns/tsig.js';
import { namedConfTokens, NamedConfSyntaxError, type ConfToken } from './namedconf.js';

/** A bad `tsig:` setting; the message names the file, the key and the problem. */
export class TsigConfigError extends Error {
  override name = 'TsigConfigError';
}

function fail(where: string, what: string, problem: string): never {
  throw new TsigConfigError(`${where}: ${what}: ${problem}`);
}

/** The key name as written in configs and for dig: no final dot (the root stays '.'). */
export function keyLabel(name: Name): string {
  const t = name.toString();
  return t === '.' ? t : t.slice(0, -1);
}

function keyName(text: string, where: string, what: string): Name {
  if (text.trim() === '') fail(where, what, 'empty key name');
  try {
    return Name.fromText(text.endsWith('.') ? text : text + '.');
  } catch (e) {
    if (e instanceof NameError) fail(where, what, `bad key name: ${e.message}`);
    throw e;
  }
}

function makeKey(where: string, what: string, f: { name?: string; algorithm?: string; secret?: string }, stripSpaces: boolean): TsigKey {
  if (f.name === undefined) fail(where, what, 'missing name');
  const name = keyName(f.name, where, what);
  const label = `key ${JSON.stringify(keyLabel(name))}`;
  if (f.algorithm === undefined) fail(where, label, `missing algorithm (one of ${TSIG_ALGORITHMS.join(', ')})`);
  const algorithm = parseAlgorithm(f.algorithm);
  if (!algorithm) fail(where, label, `unknown algorithm '${f.algorithm}' (one of ${TSIG_ALGORITHMS.join(', ')})`);
  if (f.secret === undefined) fail(where, label, 'missing secret');
  // BIND's own parser skips white space inside the secret; YAML takes it as written. Never echo the secret.
  const text = stripSpaces ? f.secret.replace(/\s+/g, '') : f.secret;
  let secret: Uint8Array;
  try {
    secret = parseBase64(text);
  } catch (e) {
    if (e instanceof RdataError) fail(where, label, 'secret is not valid base64 (RFC 4648 §4)');
    throw e;
  }
  if (secret.length === 0) fail(where, label, 'empty secret');
  return { name, algorithm, secret };
}

// ---- BIND syntax -------------------------------------------------------------------------------------------

type Tok = ConfToken;

/** named.conf tokens (namedconf.ts), a syntax error reported like every other problem of the key file. */
function tokens(text: string, where: string): Tok[] {
  try {
    return namedConfTokens(text);
  } catch (err) {
    if (err instanceof NamedConfSyntaxError) fail(where, `line ${err.line}`, err.reason);
    throw err;
  }
}

/** Keys in BIND's `key` syntax (named.conf, tsig-keygen output); several statements allowed. */
export function parseBindKeys(text: string, where: string): TsigKey[] {
  const toks = tokens(text, where);
  const keys: TsigKey[] = [];
  let i = 0;
  const next = (what: string): Tok => {
    if (i >= toks.length) fail(where, 'key statement', `ends before ${what}`);
    return toks[i++];
  };
  const expect = (p: string, what: string) => {
    const t = next(`'${p}'`);
    if (t.quoted || t.text !== p) fail(where, `line ${t.line}`, `expected '${p}' ${what}, found '${t.text}'`);
  };
  while (i < toks.length) {
    const kw = next('key');
    if (kw.quoted || kw.text !== 'key') fail(where, `line ${kw.line}`, `expected a 'key' statement, found '${kw.text}'`);
    const nameTok = next('the key name');
    if (!nameTok.quoted && /^[{};]$/.test(nameTok.text)) fail(where, `line ${nameTok.line}`, 'key statement without a name');
    const what = `key ${JSON.stringify(nameTok.text)}`;
    expect('{', `after ${what}`);
    const f: { name: string; algorithm?: string; secret?: string } = { name: nameTok.text };
    const clause = (k: 'algorithm' | 'secret', v: string) => {
      if (f[k] !== undefined) fail(where, what, `${k} given twice`);
      f[k] = v;
    };
    for (;;) {
      const t = next("'}'");
      if (!t.quoted && t.text === '}') break;
      if (t.quoted || (t.text !== 'algorithm' && t.text !== 'secret')) fail(where, `${what} line ${t.line}`, `unknown clause '${t.text}' (algorithm, secret)`);
      const v = next(`the ${t.text}`);
      if (!v.quoted && /^[{};]$/.test(v.text)) fail(where, `${what} line ${v.line}`, `${t.text} without a value`);
      clause(t.text, v.text);
      expect(';', `after the ${t.text}`);
    }
    expect(';', `after the } of ${what}`);
    keys.push(makeKey(where, what, f, true));
  }
  return keys;
}

// ---- YAML and the `tsig:` setting ---------------------------------------------------------------------------

const ITEM_KEYS = ['name', 'algorithm', 'secret'];

function yamlKey(item: Record<string, unknown>, where: string, what: string): TsigKey {
  for (const k of Object.keys(item)) if (!ITEM_KEYS.includes(k)) fail(where, what, `unknown setting '${k}' (name, algorithm, secret; or file)`);
  const str = (k: string): string | undefined => {
    const v = item[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' && typeof v !== 'number') fail(where, what, `'${k}' must be a string`);
    return String(v);
  };
  const name = str('name');
  return makeKey(where, name === undefined ? what : `key ${JSON.stringify(name)}`, { name, algorithm: str('algorithm'), secret: str('secret') }, false);
}

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Keys in a file: BIND syntax when its first statement is `key`, else YAML (a list, one item, or `tsig:`). */
export function parseKeyFile(text: string, where: string): TsigKey[] {
  const first = tokens(text, where)[0];
  if (first && !first.quoted && first.text === 'key') return parseBindKeys(text, where);
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    return fail(where, 'YAML', (e as Error).message.split('\n')[0]);
  }
  if (isMapping(raw) && 'tsig' in raw) raw = raw.tsig;
  const items = Array.isArray(raw) ? raw : [raw];
  return items.map((item, n) => {
    if (!isMapping(item)) return fail(where, `item ${n + 1}`, "expected { name, algorithm, secret } or BIND's key statement");
    return yamlKey(item, where, `item ${n + 1}`);
  });
}

/**
 * The keys of the server config's `tsig:` value (`where`: the config file; file items are read relative to its
 * folder). Items: `{ name, algorithm, secret }`, a string in BIND syntax, `{ file: PATH }`; a lone string or
 * mapping is one item. Key names must be unique (compared as DNS names).
 */
export async function loadTsigKeys(value: unknown, where: string): Promise<TsigKey[]> {
  const items = Array.isArray(value) ? value : value === null || value === undefined ? [] : [value];
  const keys: TsigKey[] = [];
  const seen = new Map<string, string>();
  const add = (found: TsigKey[], from: string) => {
    for (const k of found) {
      const before = seen.get(k.name.key);
      if (before !== undefined) fail(from, `key ${JSON.stringify(keyLabel(k.name))}`, `duplicate key name (also in ${before})`);
      seen.set(k.name.key, from);
      keys.push(k);
    }
  };
  for (let n = 0; n < items.length; n++) {
    const item: unknown = items[n];
    const what = `tsig item ${n + 1}`;
    if (typeof item === 'string') add(parseBindKeys(item, `${where}: ${what}`), where);
    else if (isMapping(item) && 'file' in item) {
      if (Object.keys(item).length > 1) fail(where, what, "'file' stands alone (the file holds name, algorithm and secret)");
      if (typeof item.file !== 'string' || item.file === '') fail(where, what, "'file' must be a path");
      const path = resolve(dirname(where), item.file as string);
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (e) {
        return fail(where, what, `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      add(parseKeyFile(text, `${where}: tsig file ${path}`), `${where}: tsig file ${path}`);
    } else if (isMapping(item)) add([yamlKey(item, where, what)], where);
    else fail(where, what, "expected { name, algorithm, secret }, { file: PATH } or a string with BIND's key statement");
  }
  return keys;
}

// ---- printed forms (tandem tsig-keygen) ---------------------------------------------------------------------

const plainYaml = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** One item of tandem's `tsig:` list. */
export function formatYamlKey(key: TsigKey): string {
  const n = keyLabel(key.name);
  return `  - { name: ${plainYaml.test(n) ? n : JSON.stringify(n)}, algorithm: ${key.algorithm}, secret: "${formatBase64(key.secret)}" }`;
}

/** BIND's key statement, as tsig-keygen prints it (named.conf, `dig -k`, `nsupdate -k`). */
export function formatBindKey(key: TsigKey): string {
  return `key "${keyLabel(key.name)}" {\n\talgorithm ${key.algorithm};\n\tsecret "${formatBase64(key.secret)}";\n};`;
}

/** Knot's `key:` section (knot.conf). */
export function formatKnotKey(key: TsigKey): string {
  return `key:\n  - id: ${keyLabel(key.name)}\n    algorithm: ${key.algorithm}\n    secret: ${formatBase64(key.secret)}`;
}

/**
 * The `-y` form of dig, kdig and nsupdate, `[ALGORITHM:]NAME:SECRET` (hmac-sha256 when no algorithm is given,
 * as `tandem push-keys --tsig` takes it). The secret is base64, so it holds no colon.
 */
export function parseDigKey(text: string, where: string): TsigKey {
  const parts = text.split(':');
  if (parts.length < 2 || parts.length > 3) fail(where, 'the key', 'expected NAME:SECRET or ALGORITHM:NAME:SECRET');
  const [algorithm, name, secret] = parts.length === 3 ? parts : ['hmac-sha256', ...parts];
  return makeKey(where, 'the key', { name, algorithm, secret }, false);
}

/** The `-y` argument of dig, kdig and nsupdate: ALGORITHM:NAME:SECRET. */
export function formatDigKey(key: TsigKey): string {
  return `${key.algorithm}:${keyLabel(key.name)}:${formatBase64(key.secret)}`;
}
