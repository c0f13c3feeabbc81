// Presentation-format helpers (RFC 1035 §5.1): tokens, <character-string>s with \DDD and \X escapes,
// numbers, hex, base64 (RFC 4648 §4), base32hex (RFC 4648 §7) and DNSSEC times (RFC 4034 §3.2).

import { RdataError } from './error.js';

const utf8 = new TextEncoder();

export interface Token {
  /** The token's text with escapes intact; without the surrounding quotes when `quoted`. */
  text: string;
  /** True when the whole token was one quoted string. */
  quoted: boolean;
}

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

/** Index just past the closing quote of a quoted section starting at `i` (which holds the `"`). */
function skipQuoted(s: string, i: number): number {
  let j = i + 1;
  while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
  if (j >= s.length) throw new RdataError(`unterminated quoted string in ${JSON.stringify(s)}`);
  return j + 1;
}

/**
 * Splits RDATA presentation text into tokens. Parentheses only group lines in master files
 * (RFC 1035 §5.1), so they are dropped. An unescaped ';' would start a comment there; in a lone
 * RDATA string that silently loses data, so it is refused.
 */
export function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (isSpace(c) || c === '(' || c === ')') { i++; continue; }
    if (c === ';') throw new RdataError(`unescaped ';' (a master-file comment) in RDATA; quote or escape it`);
    if (c === '"') {
      const end = skipQuoted(s, i);
      if (end < s.length && !isSpace(s[end]) && s[end] !== '(' && s[end] !== ')')
        throw new RdataError(`unexpected text after quoted string in ${JSON.stringify(s)}`);
      out.push({ text: s.slice(i + 1, end - 1), quoted: true });
      i = end;
      continue;
    }
    let j = i;
    while (j < s.length && !isSpace(s[j]) && s[j] !== '(' && s[j] !== ')') {
      if (s[j] === '\\') {
        if (j + 1 >= s.length) throw new RdataError(`dangling backslash in ${JSON.stringify(s)}`);
        j += 2;
      } else if (s[j] === '"') j = skipQuoted(s, j); // key="value" (RFC 9460 §2.1)
      else if (s[j] === ';') throw new RdataError(`unescaped ';' (a master-file comment) in RDATA; quote or escape it`);
      else j++;
    }
    out.push({ text: s.slice(i, j), quoted: false });
    i = j;
  }
  return out;
}

/**
 * Octets of presentation text with RFC 1035 §5.1 escapes (`\DDD` decimal, `\X` for X itself); other
 * non-ASCII text becomes UTF-8. `refuse` is asked about each unescaped character and returns the reason it
 * may not stand there; `fail` turns a reason into the caller's error. A `\` followed by fewer than three
 * digits is an error when `strictDigits`, else the digit stands for itself.
 */
export function decodeEscaped(text: string, opts: {
  fail: (reason: string) => Error;
  refuse?: (c: string) => string | undefined;
  strictDigits: boolean;
  dangling?: string;
}): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') {
      const d = text.slice(i + 1, i + 4);
      if (/^[0-9]{3}$/.test(d)) {
        if (Number(d) > 255) throw opts.fail(`bad escape \\${d}`);
        out.push(Number(d));
        i += 3;
        continue;
      }
      if (opts.strictDigits && /^[0-9]/.test(d)) throw opts.fail(`bad escape \\${d}: \\DDD needs three decimal digits`);
      if (i + 1 >= text.length) throw opts.fail(opts.dangling ?? 'dangling backslash');
      i++;
    } else {
      const reason = opts.refuse?.(c);
      if (reason !== undefined) throw opts.fail(reason);
    }
    const cp = text.codePointAt(i)!;
    if (cp < 0x80) out.push(cp);
    else {
      const ch = String.fromCodePoint(cp);
      for (const b of utf8.encode(ch)) out.push(b);
      i += ch.length - 1;
    }
  }
  return Uint8Array.from(out);
}

/** Decodes the escapes of a <character-string> body (RFC 1035 §5.1); non-ASCII text becomes UTF-8. */
export function decodeCharString(text: string): Uint8Array {
  return decodeEscaped(text, {
    fail: (reason) => new RdataError(reason),
    refuse: (c) => (c === '"' ? `unexpected '"' in ${JSON.stringify(text)}` : undefined),
    strictDigits: true,
  });
}

/** Escapes octets for a quoted <character-string> the way BIND prints them. */
export function escapeCharString(b: Uint8Array): string {
  let s = '';
  for (const x of b) {
    if (x < 0x20 || x >= 0x7f) s += '\\' + x.toString().padStart(3, '0');
    else if (x === 0x22 || x === 0x5c) s += '\\' + String.fromCharCode(x);
    else s += String.fromCharCode(x);
  }
  return s;
}

export function quoteCharString(b: Uint8Array): string {
  return '"' + escapeCharString(b) + '"';
}

export function parseUint(text: string, bits: 8 | 16 | 32): number {
  if (!/^[0-9]+$/.test(text)) throw new RdataError(`'${text}' is not an unsigned decimal number`);
  const v = Number(text);
  const max = bits === 32 ? 0xffffffff : (1 << bits) - 1;
  if (v > max) throw new RdataError(`${text} is out of range 0..${max}`);
  return v;
}

const unitSeconds: Record<string, number> = { w: 604800, d: 86400, h: 3600, m: 60, s: 1 };

/** A 32-bit period: plain seconds, or BIND's unit form such as `1h30m` (SOA timers). */
export function parsePeriod(text: string): number {
  if (/^[0-9]+$/.test(text)) return parseUint(text, 32);
  if (!/^([0-9]+[wdhmsWDHMS])+$/.test(text)) throw new RdataError(`'${text}' is not a number or period like 1h30m`);
  let total = 0;
  for (const m of text.matchAll(/([0-9]+)([wdhmsWDHMS])/g)) total += Number(m[1]) * unitSeconds[m[2].toLowerCase()];
  if (total > 0xffffffff) throw new RdataError(`${text} is more than 2^32-1 seconds`);
  return total;
}

export function parseHex(text: string): Uint8Array {
  if (!/^([0-9a-fA-F]{2})*$/.test(text)) throw new RdataError(`bad hex '${text}'`);
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function formatHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s.toUpperCase();
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function describeChar(c: string): string {
  switch (c) {
    case '\n': return 'a line break';
    case '\r': return 'a carriage return';
    case ' ': return 'a space';
    case '\t': return 'a tab';
    case '=': return "'=' (padding belongs at the end only)";
    default: return `'${c}' (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`;
  }
}

/**
 * Why `text` is not base64 as RFC 4648 §4 defines it, decoded strictly, or undefined when it is: no line breaks,
 * spaces or other characters outside the alphabet (§3.3), padded with '=' to a multiple of 4 characters (§3.2),
 * pad bits zero (§3.5, so each byte string has one encoding). Node's own decoder skips what it does not know and
 * never says any of this, so every base64 input is checked here first. '' is the encoding of no octets.
 */
export function base64Problem(text: string): string | undefined {
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '=' && B64.indexOf(text[i]) < 0) return `${describeChar(text[i])} at position ${i + 1} is not in the base64 alphabet (RFC 4648 §3.3)`;
  }
  let end = text.length;
  while (end > 0 && text[end - 1] === '=') end--;
  const inside = text.indexOf('=');
  if (inside >= 0 && inside < end) return `${describeChar('=')} at position ${inside + 1} (RFC 4648 §3.2)`;
  const pad = text.length - end;
  if (text.length % 4 !== 0 || pad > 2) return `${text.length} characters with ${pad} '=': base64 is padded with '=' to a multiple of 4 characters (RFC 4648 §3.2, §4)`;
  const last = end > 0 ? B64.indexOf(text[end - 1]) : 0;
  if ((pad === 1 && (last & 0x3) !== 0) || (pad === 2 && (last & 0xf) !== 0)) return 'the bits before the padding are not zero (RFC 4648 §3.5)';
  return undefined;
}

/** Strict base64 (base64Problem) to octets; RdataError naming the problem otherwise. */
export function parseBase64(text: string): Uint8Array {
  const problem = base64Problem(text);
  if (problem) throw new RdataError(`bad base64 '${text.length > 40 ? text.slice(0, 40) + '...' : text}': ${problem}`);
  return new Uint8Array(Buffer.from(text, 'base64'));
}

export function formatBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

const b32 = '0123456789ABCDEFGHIJKLMNOPQRSTUV';

/** base32hex without padding (RFC 4648 §7), as NSEC3 hashes are written (RFC 5155 §3.3). */
export function formatBase32Hex(b: Uint8Array): string {
  let s = '', acc = 0, bits = 0;
  for (const x of b) {
    acc = (acc << 8) | x;
    bits += 8;
    while (bits >= 5) { s += b32[(acc >>> (bits - 5)) & 31]; bits -= 5; }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) s += b32[(acc << (5 - bits)) & 31];
  return s;
}

export function parseBase32Hex(text: string): Uint8Array {
  const up = text.toUpperCase();
  if (!/^[0-9A-V]*$/.test(up) || [1, 3, 6].includes(up.length % 8)) throw new RdataError(`bad base32hex '${text}'`);
  const out: number[] = [];
  let acc = 0, bits = 0;
  for (const ch of up) {
    acc = (acc << 5) | b32.indexOf(ch);
    bits += 5;
    if (bits >= 8) { out.push((acc >>> (bits - 8)) & 0xff); bits -= 8; }
    acc &= (1 << bits) - 1;
  }
  if (acc !== 0) throw new RdataError(`bad base32hex '${text}': non-zero padding bits`);
  return Uint8Array.from(out);
}

/** RRSIG times (RFC 4034 §3.2): YYYYMMDDHHmmSS in UTC, or seconds since the epoch. */
export function parseTime(text: string): number {
  const m = /^([0-9]{4})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})$/.exec(text);
  if (!m) {
    if (/^[0-9]{1,10}$/.test(text)) return parseUint(text, 32);
    throw new RdataError(`bad time '${text}': expected YYYYMMDDHHmmSS or seconds`);
  }
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59)
    throw new RdataError(`bad time '${text}': no such date`);
  const secs = ms / 1000;
  if (secs < 0 || secs > 0xffffffff) throw new RdataError(`time '${text}' is outside 1970..2106`);
  return secs;
}

export function formatTime(secs: number): string {
  const d = new Date(secs * 1000);
  const p = (n: number, w = 2) => n.toString().padStart(w, '0');
  return p(d.getUTCFullYear(), 4) + p(d.getUTCMonth() + 1) + p(d.getUTCDate()) + p(d.getUTCHours()) + p(d.getUTCMinutes()) + p(d.getUTCSeconds());
}
