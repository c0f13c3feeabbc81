// SVCB/HTTPS SvcParams (RFC 9460 §2.1, §2.2, §7, §8): presentation <-> wire, and validation.
// Wire: a sequence of `key(16) | length(16) | value`, keys in strictly increasing order.

import { RdataError } from './rdata/error.js';
import { parseIPv4, parseIPv6, formatIPv4, formatIPv6 } from './rdata/ip.js';
import { type Token, decodeCharString, quoteCharString, parseBase64, formatBase64, parseUint } from './rdata/text.js';

/** SvcParamKeys registered by RFC 9460 §14.3.2, RFC 9461 (dohpath) and RFC 9540 (ohttp). */
export const SvcParamKey = {
  mandatory: 0, alpn: 1, 'no-default-alpn': 2, port: 3, ipv4hint: 4, ech: 5, ipv6hint: 6, dohpath: 7, ohttp: 8,
} as const;

const keyNames = new Map<number, string>(Object.entries(SvcParamKey).map(([k, v]) => [v, k]));
/** RFC 9460 §14.3.2: 65535 is the "Invalid key". */
const INVALID_KEY = 65535;

export function svcParamKeyName(key: number): string {
  return keyNames.get(key) ?? `key${key}`;
}

/** Key number for a name or `keyNNNNN` (RFC 9460 §2.1). */
export function svcParamKeyFromName(name: string): number {
  const lower = name.toLowerCase();
  const known = (SvcParamKey as Record<string, number>)[lower];
  if (known !== undefined) return known;
  const m = /^key([0-9]{1,5})$/.exec(lower);
  if (!m) throw new RdataError(`unknown SvcParamKey '${name}'`);
  const n = Number(m[1]);
  if (n === INVALID_KEY) throw new RdataError(`SvcParamKey key65535 is reserved as invalid (RFC 9460 §14.3.2)`);
  if (n > 0xffff) throw new RdataError(`SvcParamKey '${name}' is out of range`);
  return n;
}

const ascii = (b: Uint8Array) => String.fromCharCode(...b);

/** RFC 9460 Appendix A.1: a value-list splits at unescaped commas; `\,` and `\\` are literal. */
function splitValueList(b: Uint8Array, key: string): Uint8Array[] {
  const items: Uint8Array[] = [];
  let cur: number[] = [];
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0x5c) {
      if (i + 1 >= b.length) throw new RdataError(`${key}: dangling backslash in value list`);
      cur.push(b[++i]);
    } else if (b[i] === 0x2c) {
      items.push(Uint8Array.from(cur));
      cur = [];
    } else cur.push(b[i]);
  }
  items.push(Uint8Array.from(cur));
  if (items.some((it) => it.length === 0)) throw new RdataError(`${key}: empty item in value list`);
  return items;
}

function valueOf(key: number, v: Uint8Array | undefined): Uint8Array {
  const name = svcParamKeyName(key);
  const noValue = key === SvcParamKey['no-default-alpn'] || key === SvcParamKey.ohttp;
  if (noValue) {
    if (v !== undefined && v.length > 0) throw new RdataError(`${name} takes no value`);
    return new Uint8Array(0);
  }
  const known = keyNames.has(key);
  if (v === undefined && !known) return new Uint8Array(0); // keyNNNNN with no value
  if (v === undefined || (v.length === 0 && known)) throw new RdataError(`${name} needs a value`);
  const out: number[] = [];
  switch (key) {
    case SvcParamKey.mandatory: {
      const keys = ascii(v).split(',').map((k) => {
        if (k === '') throw new RdataError('mandatory: empty key in list');
        return svcParamKeyFromName(k);
      });
      if (new Set(keys).size !== keys.length) throw new RdataError('mandatory: duplicate key in list');
      for (const k of keys.sort((a, b) => a - b)) out.push(k >> 8, k & 0xff);
      break;
    }
    case SvcParamKey.alpn:
      for (const id of splitValueList(v, name)) {
        if (id.length > 255) throw new RdataError(`alpn: alpn-id longer than 255 octets`);
        out.push(id.length, ...id);
      }
      break;
    case SvcParamKey.port:
      try { const p = parseUint(ascii(v), 16); out.push(p >> 8, p & 0xff); } catch (e) { throw new RdataError(`port: ${(e as Error).message}`); }
      break;
    case SvcParamKey.ipv4hint:
      for (const a of ascii(v).split(',')) out.push(...parseIPv4(a));
      break;
    case SvcParamKey.ipv6hint:
      for (const a of ascii(v).split(',')) out.push(...parseIPv6(a));
      break;
    case SvcParamKey.ech:
      out.push(...parseBase64(ascii(v)));
      break;
    default:
      out.push(...v); // dohpath and keyNNNNN: the octets themselves
  }
  if (out.length > 0xffff) throw new RdataError(`${name}: value longer than 65535 octets`);
  return Uint8Array.from(out);
}

/** Parses `key` / `key=value` / `key="value"` tokens into wire SvcParams (ascending key order). */
export function parseSvcParams(tokens: Token[]): Uint8Array {
  const params = new Map<number, Uint8Array>();
  for (const t of tokens) {
    if (t.quoted) throw new RdataError(`SvcParam must be key or key=value, not a quoted string "${t.text}"`);
    const eq = t.text.indexOf('=');
    const keyText = eq < 0 ? t.text : t.text.slice(0, eq);
    const key = svcParamKeyFromName(keyText);
    if (params.has(key)) throw new RdataError(`duplicate SvcParamKey '${svcParamKeyName(key)}' (RFC 9460 §2.2)`);
    let raw: string | undefined = eq < 0 ? undefined : t.text.slice(eq + 1);
    if (raw !== undefined && raw.startsWith('"')) {
      let j = 1;
      while (j < raw.length && raw[j] !== '"') j += raw[j] === '\\' ? 2 : 1;
      if (j !== raw.length - 1) throw new RdataError(`${keyText}: bad quoted value ${raw}`);
      raw = raw.slice(1, -1);
    }
    const value = raw === undefined ? undefined : decodeCharString(raw);
    params.set(key, valueOf(key, value));
  }
  const out: number[] = [];
  for (const key of [...params.keys()].sort((a, b) => a - b)) {
    const v = params.get(key)!;
    out.push(key >> 8, key & 0xff, v.length >> 8, v.length & 0xff, ...v);
  }
  return Uint8Array.from(out);
}

/** The SvcParams as a key -> value map, refusing out-of-order or truncated params (RFC 9460 §2.2). */
export function decodeSvcParams(b: Uint8Array): Map<number, Uint8Array> {
  const params = new Map<number, Uint8Array>();
  let o = 0, prev = -1;
  while (o < b.length) {
    if (o + 4 > b.length) throw new RdataError('SvcParam header runs past the end of the RDATA');
    const key = (b[o] << 8) | b[o + 1], len = (b[o + 2] << 8) | b[o + 3];
    if (key === prev) throw new RdataError(`duplicate SvcParamKey '${svcParamKeyName(key)}' (RFC 9460 §2.2)`);
    if (key < prev) throw new RdataError(`SvcParamKeys out of order: ${svcParamKeyName(key)} after ${svcParamKeyName(prev)} (RFC 9460 §2.2)`);
    if (o + 4 + len > b.length) throw new RdataError(`${svcParamKeyName(key)}: value runs past the end of the RDATA`);
    params.set(key, b.subarray(o + 4, o + 4 + len));
    prev = key;
    o += 4 + len;
  }
  return params;
}

function alpnIds(v: Uint8Array): Uint8Array[] {
  const ids: Uint8Array[] = [];
  for (let o = 0; o < v.length; ) {
    const len = v[o];
    if (len === 0) throw new RdataError('alpn: empty alpn-id');
    if (o + 1 + len > v.length) throw new RdataError('alpn: alpn-id runs past the end of the value (RFC 9460 §7.1.1)');
    ids.push(v.subarray(o + 1, o + 1 + len));
    o += 1 + len;
  }
  return ids;
}

/** Validates wire SvcParams: order, value formats (RFC 9460 §7) and self-consistency (§2.4.3, §8). */
export function checkSvcParams(b: Uint8Array): void {
  const params = decodeSvcParams(b);
  for (const [key, v] of params) {
    const name = svcParamKeyName(key);
    switch (key) {
      case SvcParamKey.mandatory: {
        if (v.length === 0 || v.length % 2 !== 0) throw new RdataError('mandatory: value must be a non-empty list of 16-bit keys');
        let last = -1;
        for (let o = 0; o < v.length; o += 2) {
          const k = (v[o] << 8) | v[o + 1];
          if (k === SvcParamKey.mandatory) throw new RdataError(`mandatory must not list itself (RFC 9460 §8)`);
          if (k <= last) throw new RdataError('mandatory: keys must be in strictly increasing order (RFC 9460 §8)');
          if (!params.has(k)) throw new RdataError(`mandatory lists ${svcParamKeyName(k)}, which is missing (RFC 9460 §8)`);
          last = k;
        }
        break;
      }
      case SvcParamKey.alpn:
        if (alpnIds(v).length === 0) throw new RdataError('alpn: needs at least one alpn-id (RFC 9460 §7.1.1)');
        break;
      case SvcParamKey['no-default-alpn']:
        if (v.length !== 0) throw new RdataError('no-default-alpn: value must be empty (RFC 9460 §7.1.1)');
        if (!params.has(SvcParamKey.alpn)) throw new RdataError('no-default-alpn without alpn (RFC 9460 §7.1.1)');
        break;
      case SvcParamKey.port:
        if (v.length !== 2) throw new RdataError(`port: value must be 2 octets, not ${v.length}`);
        break;
      case SvcParamKey.ipv4hint:
        if (v.length === 0 || v.length % 4 !== 0) throw new RdataError(`ipv4hint: value must be a non-empty multiple of 4 octets`);
        break;
      case SvcParamKey.ipv6hint:
        if (v.length === 0 || v.length % 16 !== 0) throw new RdataError(`ipv6hint: value must be a non-empty multiple of 16 octets`);
        break;
      case SvcParamKey.ech:
      case SvcParamKey.dohpath:
        if (v.length === 0) throw new RdataError(`${name}: value must not be empty`);
        break;
      case SvcParamKey.ohttp:
        if (v.length !== 0) throw new RdataError('ohttp: value must be empty (RFC 9540 §4)');
        break;
      case INVALID_KEY:
        throw new RdataError('SvcParamKey 65535 is reserved as invalid (RFC 9460 §14.3.2)');
    }
  }
}

/** Escapes an alpn-id for a value-list (RFC 9460 Appendix A.1) before char-string escaping. */
function listEscape(id: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (const x of id) {
    if (x === 0x2c || x === 0x5c) out.push(0x5c);
    out.push(x);
  }
  return Uint8Array.from(out);
}

/** Presentation form of wire SvcParams (assumed valid), as BIND prints them. */
export function formatSvcParams(b: Uint8Array): string {
  const parts: string[] = [];
  for (const [key, v] of decodeSvcParams(b)) {
    const name = svcParamKeyName(key);
    const list = (size: number, f: (x: Uint8Array) => string) => {
      const xs: string[] = [];
      for (let o = 0; o < v.length; o += size) xs.push(f(v.subarray(o, o + size)));
      return xs.join(',');
    };
    switch (key) {
      case SvcParamKey.mandatory:
        parts.push(`${name}=${list(2, (x) => svcParamKeyName((x[0] << 8) | x[1]))}`);
        break;
      case SvcParamKey.alpn: {
        const joined = alpnIds(v).map(listEscape);
        const all: number[] = [];
        joined.forEach((id, i) => { if (i > 0) all.push(0x2c); all.push(...id); });
        parts.push(`${name}=${quoteCharString(Uint8Array.from(all))}`);
        break;
      }
      case SvcParamKey.port:
        parts.push(`${name}=${(v[0] << 8) | v[1]}`);
        break;
      case SvcParamKey.ipv4hint:
        parts.push(`${name}=${list(4, formatIPv4)}`);
        break;
      case SvcParamKey.ipv6hint:
        parts.push(`${name}=${list(16, formatIPv6)}`);
        break;
      case SvcParamKey.ech:
        parts.push(`${name}=${formatBase64(v)}`);
        break;
      default:
        parts.push(v.length === 0 ? name : `${name}=${quoteCharString(v)}`);
    }
  }
  return parts.join(' ');
}
