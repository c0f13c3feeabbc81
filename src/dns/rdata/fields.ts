// RDATA field codecs. A type's RDATA is a list of fields (schemas.ts); each field can parse its
// presentation tokens into wire octets and read (validate and print) itself from wire octets.

import { Name, NameError } from '../name.js';
import { typeFromName, typeName } from '../types.js';
import { encodeTypeBitmap, decodeTypeBitmap } from '../bitmap.js';
import { parseSvcParams, checkSvcParams, formatSvcParams } from '../svcb.js';
import { RdataError } from './error.js';
import { Reader, Writer } from './wire.js';
import { parseIPv4, parseIPv6, formatIPv4, formatIPv6 } from './ip.js';
import {
  type Token, decodeCharString, quoteCharString, parseUint, parsePeriod, parseHex, formatHex, parseBase64,
  formatBase64, parseBase32Hex, formatBase32Hex, parseTime, formatTime,
} from './text.js';

/** Thrown when presentation text ends before a required field. */
export class MissingField extends RdataError {}

export class Cursor {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  next(): Token {
    if (this.i >= this.tokens.length) throw new MissingField('missing');
    return this.tokens[this.i++];
  }

  rest(): Token[] {
    const r = this.tokens.slice(this.i);
    this.i = this.tokens.length;
    return r;
  }

  get left(): Token[] {
    return this.tokens.slice(this.i);
  }
}

export interface FoundName {
  offset: number;
  length: number;
  name: Name;
}

export interface ReadCtx {
  /** Collects the embedded names when not null. */
  names: FoundName[] | null;
  /** False when only validating: fields may skip building their text. */
  text: boolean;
}

export interface Field {
  label: string;
  parse(c: Cursor, w: Writer, origin: Name): void;
  /** Reads and validates the field; returns its presentation text ('' for an empty optional list). */
  read(r: Reader, ctx: ReadCtx): string;
}

function readName(r: Reader, ctx: ReadCtx, label: string): Name {
  const offset = r.pos;
  const name = r.name(label);
  ctx.names?.push({ offset, length: r.pos - offset, name });
  return name;
}

function toName(text: string, origin: Name): Name {
  try {
    return Name.fromText(text, origin);
  } catch (e) {
    if (e instanceof NameError) throw new RdataError(`bad name '${text}': ${e.message}`);
    throw e;
  }
}

function nonEmpty(tokens: Token[]): Token[] {
  if (tokens.length === 0) throw new MissingField('missing');
  return tokens;
}

export function uint(label: string, bits: 8 | 16 | 32): Field {
  return {
    label,
    parse(c, w) {
      const v = parseUint(c.next().text, bits);
      if (bits === 8) w.u8(v); else if (bits === 16) w.u16(v); else w.u32(v);
    },
    read: (r) => String(bits === 8 ? r.u8(label) : bits === 16 ? r.u16(label) : r.u32(label)),
  };
}

/** A 32-bit count of seconds that also accepts BIND's `1h30m` form (SOA timers). */
export function period(label: string): Field {
  return { label, parse: (c, w) => w.u32(parsePeriod(c.next().text)), read: (r) => String(r.u32(label)) };
}

export function name(label: string): Field {
  return {
    label,
    parse: (c, w, origin) => w.name(toName(c.next().text, origin)),
    read: (r, ctx) => readName(r, ctx, label).toString(),
  };
}

export function ipv4(label: string): Field {
  return { label, parse: (c, w) => w.bytes(parseIPv4(c.next().text)), read: (r) => formatIPv4(r.bytes(4, label)) };
}

export function ipv6(label: string): Field {
  return { label, parse: (c, w) => w.bytes(parseIPv6(c.next().text)), read: (r) => formatIPv6(r.bytes(16, label)) };
}

/** One <character-string> (RFC 1035 §3.3), at most 255 octets. */
export function charString(label: string): Field {
  return {
    label,
    parse: (c, w) => w.charString(decodeCharString(c.next().text), label),
    read: (r) => quoteCharString(r.charString(label)),
  };
}

/**
 * One or more <character-string>s (TXT, SPF: RFC 1035 §3.3.14). A string longer than 255 octets in
 * presentation is split into 255-octet strings, as BIND and octoDNS do.
 */
export function strings(label: string): Field {
  return {
    label,
    parse(c, w) {
      for (const t of nonEmpty(c.rest())) {
        const b = decodeCharString(t.text);
        if (b.length === 0) w.charString(b, label);
        for (let o = 0; o < b.length; o += 255) w.charString(b.subarray(o, o + 255), label);
      }
    },
    read(r) {
      if (r.remaining === 0) throw new RdataError('needs at least one character-string');
      const parts: string[] = [];
      while (r.remaining > 0) parts.push(quoteCharString(r.charString(label)));
      return parts.join(' ');
    },
  };
}

/** Base64 to the end of the RDATA, possibly split over several tokens (DNSKEY key, RRSIG signature). */
export function base64(label: string): Field {
  return {
    label,
    parse: (c, w) => w.bytes(parseBase64(nonEmpty(c.rest()).map((t) => t.text).join(''))),
    read(r, ctx) {
      const b = r.rest();
      if (b.length === 0) throw new RdataError('missing');
      return ctx.text ? formatBase64(b) : '';
    },
  };
}

/** Hex to the end of the RDATA, possibly split over several tokens (DS digest, TLSA data). */
export function hex(label: string): Field {
  return {
    label,
    parse: (c, w) => w.bytes(parseHex(nonEmpty(c.rest()).map((t) => t.text).join(''))),
    read(r, ctx) {
      const b = r.rest();
      if (b.length === 0) throw new RdataError('missing');
      return ctx.text ? formatHex(b) : '';
    },
  };
}

/** NSEC3 salt (RFC 5155 §3.3): length octet, then hex, or `-` when empty. */
export function salt(label: string): Field {
  return {
    label,
    parse(c, w) {
      const t = c.next().text;
      const b = t === '-' ? new Uint8Array(0) : parseHex(t);
      if (t !== '-' && b.length === 0) throw new RdataError(`empty salt must be written '-'`);
      w.charString(b, label);
    },
    read(r) {
      const b = r.charString(label);
      return b.length === 0 ? '-' : formatHex(b);
    },
  };
}

/** NSEC3 next hashed owner name (RFC 5155 §3.3): length octet, then base32hex without padding. */
export function hashedName(label: string): Field {
  return {
    label,
    parse(c, w) {
      const b = parseBase32Hex(c.next().text);
      if (b.length === 0) throw new RdataError('empty hash');
      w.charString(b, label);
    },
    read(r) {
      const b = r.charString(label);
      if (b.length === 0) throw new RdataError('empty hash');
      return formatBase32Hex(b);
    },
  };
}

function typeNumber(text: string): number {
  const t = typeFromName(text);
  if (t === undefined) throw new RdataError(`unknown type '${text}'`);
  return t;
}

export function rrtype(label: string): Field {
  return { label, parse: (c, w) => w.u16(typeNumber(c.next().text)), read: (r) => typeName(r.u16(label)) };
}

export function time(label: string): Field {
  return { label, parse: (c, w) => w.u32(parseTime(c.next().text)), read: (r) => formatTime(r.u32(label)) };
}

/** Type bit map to the end of the RDATA (RFC 4034 §4.1.2); may be empty. */
export function typeBitmap(label: string): Field {
  return {
    label,
    parse: (c, w) => w.bytes(encodeTypeBitmap(c.rest().map((t) => typeNumber(t.text)))),
    read: (r) => decodeTypeBitmap(r.rest()).map(typeName).join(' '),
  };
}

/** CAA tag (RFC 8659 §4.1): 1..255 ASCII letters and digits. */
export function caaTag(label: string): Field {
  const check = (b: Uint8Array) => {
    const s = String.fromCharCode(...b);
    if (!/^[A-Za-z0-9]+$/.test(s)) throw new RdataError(`bad CAA tag '${s}': letters and digits only (RFC 8659 §4.1)`);
    return s;
  };
  return {
    label,
    parse(c, w) {
      const b = decodeCharString(c.next().text);
      check(b);
      w.charString(b, label);
    },
    read: (r) => check(r.charString(label)),
  };
}

/** Octets to the end of the RDATA, written as one quoted string (CAA value, URI target). */
export function tailString(label: string): Field {
  return {
    label,
    parse: (c, w) => w.bytes(decodeCharString(c.next().text)),
    read: (r) => quoteCharString(r.rest()),
  };
}

/** SVCB/HTTPS SvcParams to the end of the RDATA (RFC 9460 §2.2). */
export function svcParams(label: string): Field {
  return {
    label,
    parse: (c, w) => w.bytes(parseSvcParams(c.rest())),
    read(r, ctx) {
      const b = r.rest();
      checkSvcParams(b);
      return ctx.text ? formatSvcParams(b) : '';
    },
  };
}

/** Octets with no presentation syntax here (NXT's old bitmap): only `\#` can write them. */
export function opaque(label: string): Field {
  return {
    label,
    parse() { throw new RdataError('no presentation syntax; use the RFC 3597 \\# form'); },
    read(r) { r.rest(); return ''; },
  };
}

/** A6 (RFC 2874 §3.1): prefix length, address suffix, and a prefix name when the length is not 0. */
export function a6(label: string): Field {
  const suffixLength = (p: number) => Math.ceil((128 - p) / 8);
  return {
    label,
    parse(c, w, origin) {
      const p = parseUint(c.next().text, 8);
      if (p > 128) throw new RdataError(`prefix length ${p} is more than 128`);
      w.u8(p);
      w.bytes(parseIPv6(c.next().text).subarray(16 - suffixLength(p)));
      if (p > 0) w.name(toName(c.next().text, origin));
    },
    read(r, ctx) {
      const p = r.u8(label);
      if (p > 128) throw new RdataError(`prefix length ${p} is more than 128`);
      const full = new Uint8Array(16);
      full.set(r.bytes(suffixLength(p), label), 16 - suffixLength(p));
      const s = `${p} ${formatIPv6(full)}`;
      return p > 0 ? `${s} ${readName(r, ctx, label).toString()}` : s;
    },
  };
}
