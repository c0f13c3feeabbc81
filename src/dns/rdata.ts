// RDATA codecs: presentation (RFC 1035 §5.1, RFC 3597 §5) <-> uncompressed wire form, validation,
// canonical form (RFC 4034 §6.2, §6.3) and the names embedded in RDATA. The per-type layouts live
// in rdata/schemas.ts; types without one are handled as unknown (RFC 3597).

import { Name } from './name.js';
import { RRType, typeName } from './types.js';
import { RdataError } from './rdata/error.js';
import { CompressedReader, Reader, Writer } from './rdata/wire.js';
import { type Token, tokenize, parseUint, parseHex, formatHex } from './rdata/text.js';
import { Cursor, MissingField, type ReadCtx, type FoundName } from './rdata/fields.js';
import { typeSpec } from './rdata/schemas.js';

export { RdataError } from './rdata/error.js';
export { encodeTypeBitmap, decodeTypeBitmap } from './bitmap.js';

export interface RdataName {
  offset: number;
  length: number;
  name: Name;
  /** True when a message writer may compress this name (RFC 3597 §4). */
  compressible: boolean;
}

const MAX_RDATA = 0xffff;

function wrap(e: unknown, prefix: string): never {
  if (e instanceof MissingField) throw new RdataError(`${prefix}: missing`);
  if (e instanceof RdataError) throw new RdataError(`${prefix}: ${e.message}`);
  throw e;
}

/** RFC 3597 §5: `\# <length> <hex>...`, valid for every type. */
function parseGeneric(type: number, tokens: Token[]): Uint8Array {
  const t = typeName(type);
  if (tokens.length < 2) throw new RdataError(`${t}: \\# needs a length`);
  let len: number;
  try { len = parseUint(tokens[1].text, 16); } catch (e) { wrap(e, `${t} \\# length`); }
  let data: Uint8Array;
  try { data = parseHex(tokens.slice(2).map((x) => x.text).join('')); } catch (e) { wrap(e, `${t} \\# data`); }
  if (data.length !== len) throw new RdataError(`${t}: \\# length ${len} but ${data.length} octets of data`);
  if (typeSpec(type)) checkRdata(type, data);
  return data;
}

function formatGeneric(rdata: Uint8Array): string {
  return rdata.length === 0 ? '\\# 0' : `\\# ${rdata.length} ${formatHex(rdata)}`;
}

/**
 * Parses the RDATA part of a master-file line. Names are relative to `origin` unless they end in
 * '.'; `\#` works for every type. Throws RdataError naming the type and field.
 */
export function parseRdata(type: number, text: string, origin: Name): Uint8Array {
  let tokens: Token[];
  try { tokens = tokenize(text); } catch (e) { wrap(e, typeName(type)); }
  return parseRdataTokens(type, tokens, origin);
}

/** parseRdata for text already split into tokens (a master file's lexer makes them, config/masterfile.ts). */
export function parseRdataTokens(type: number, tokens: Token[], origin: Name): Uint8Array {
  const t = typeName(type);
  if (tokens.length > 0 && !tokens[0].quoted && tokens[0].text === '\\#') return parseGeneric(type, tokens);
  const spec = typeSpec(type);
  if (!spec || !spec.text) throw new RdataError(`${t}: no presentation syntax known; use the RFC 3597 form '\\# <length> <hex>'`);
  const c = new Cursor(tokens);
  const w = new Writer();
  for (const field of spec.fields) {
    try { field.parse(c, w, origin); } catch (e) {
      if (e instanceof MissingField) throw new RdataError(`${t}: missing ${field.label}`);
      wrap(e, `${t} ${field.label}`);
    }
  }
  if (c.left.length > 0) throw new RdataError(`${t}: trailing garbage '${c.left.map((x) => x.text).join(' ')}'`);
  if (w.length > MAX_RDATA) throw new RdataError(`${t}: RDATA of ${w.length} octets is longer than 65535`);
  const rdata = w.finish();
  checkRdata(type, rdata);
  return rdata;
}

/** Reads every field of a known type; throws RdataError if the RDATA is malformed. */
function walk(type: number, rdata: Uint8Array, ctx: ReadCtx): string[] {
  const spec = typeSpec(type)!;
  const t = typeName(type);
  const r = new Reader(rdata);
  const parts: string[] = [];
  for (const field of spec.fields) {
    try { parts.push(field.read(r, ctx)); } catch (e) { wrap(e, `${t} ${field.label}`); }
  }
  if (r.remaining > 0) throw new RdataError(`${t}: ${r.remaining} octets of trailing garbage`);
  if (spec.check) try { spec.check(rdata); } catch (e) { wrap(e, t); }
  return parts;
}

/** Throws RdataError if the wire RDATA is malformed for the type. Unknown types only have a length limit. */
export function checkRdata(type: number, rdata: Uint8Array): void {
  if (rdata.length > MAX_RDATA) throw new RdataError(`${typeName(type)}: RDATA longer than 65535 octets`);
  if (typeSpec(type)) walk(type, rdata, { names: null, text: false });
}

/**
 * Presentation form as BIND prints it (names absolute, hex upper-case, NSEC3 hashes in upper-case
 * base32hex, RRSIG times as YYYYMMDDHHmmSS), except that base64 and hex are never split by spaces.
 * Unknown types, and RDATA that is malformed for its type, are printed in the RFC 3597 `\#` form.
 */
export function formatRdata(type: number, rdata: Uint8Array): string {
  const spec = typeSpec(type);
  if (!spec || !spec.text) return formatGeneric(rdata);
  try {
    return walk(type, rdata, { names: null, text: true }).filter((p) => p !== '').join(' ');
  } catch (e) {
    if (e instanceof RdataError) return formatGeneric(rdata);
    throw e;
  }
}

function names(type: number, rdata: Uint8Array): FoundName[] {
  const found: FoundName[] = [];
  walk(type, rdata, { names: found, text: false });
  return found;
}

/**
 * Canonical RDATA (RFC 4034 §6.2 item 3): names lower-cased only for the legacy types listed there,
 * not NSEC (RFC 6840 §5.1) and never unknown types (RFC 3597 §7). Returns `rdata` itself when
 * nothing changes.
 */
export function canonicalRdata(type: number, rdata: Uint8Array): Uint8Array {
  // Empty RDATA (an UPDATE delete or prerequisite of class ANY/NONE, RFC 2136 §2.4, §2.5) holds no name.
  if (rdata.length === 0 || !typeSpec(type)?.lower) return rdata;
  let out = rdata;
  for (const n of names(type, rdata)) {
    let upper = false;
    for (let i = n.offset; i < n.offset + n.length; i++) if (rdata[i] >= 0x41 && rdata[i] <= 0x5a) { upper = true; break; }
    if (!upper) continue;
    if (out === rdata) out = rdata.slice();
    out.set(n.name.canonicalWire(), n.offset);
  }
  return out;
}

/**
 * Types defined after RFC 1035 whose names some senders compress anyway; RFC 3597 §4 asks receivers to
 * decompress them too (the RFC 1035 types are those whose spec says `compress`).
 */
const DECOMPRESS_ALSO = new Set<number>([RRType.RP, RRType.AFSDB, RRType.RT, RRType.SIG, RRType.PX, RRType.NXT, RRType.NAPTR, RRType.SRV]);

/**
 * The RDATA of a record inside a message (`length` octets at `start`), in uncompressed wire form: names of the
 * types RFC 3597 §4 lets senders compress are expanded, every other RDATA is copied as it is (a pointer there
 * would be read as data, as RFC 3597 §4 says for unknown types). Throws RdataError when the RDATA is malformed
 * for a type with a layout here, so a transfer or UPDATE never brings a record into a zone that a zone file
 * could not hold (found by fuzzing: a KX of 0 octets came through and later broke canonical ordering).
 */
export function readRdata(type: number, msg: Uint8Array, start: number, length: number): Uint8Array {
  const end = start + length;
  const spec = typeSpec(type);
  if (!spec || !(spec.compress || DECOMPRESS_ALSO.has(type))) {
    const rdata = msg.slice(start, end);
    if (spec) walk(type, rdata, { names: null, text: false });
    return rdata;
  }
  const t = typeName(type);
  const r = new CompressedReader(msg.subarray(0, end), start);
  const found: FoundName[] = [];
  for (const field of spec.fields) {
    try { field.read(r, { names: found, text: false }); } catch (e) { wrap(e, `${t} ${field.label}`); }
  }
  if (r.remaining > 0) throw new RdataError(`${t}: ${r.remaining} octets of trailing garbage`);
  let grow = 0;
  for (const n of found) grow += n.name.wireLength - n.length;
  if (grow === 0) return msg.slice(start, end);
  const out = new Uint8Array(length + grow);
  let from = start, o = 0;
  for (const n of found) {
    out.set(msg.subarray(from, n.offset), o);
    o += n.offset - from;
    n.name.writeInto(out, o, false);
    o += n.name.wireLength;
    from = n.offset + n.length;
  }
  out.set(msg.subarray(from, end), o);
  if (out.length > MAX_RDATA) throw new RdataError(`${t}: RDATA longer than 65535 octets once decompressed`);
  return out;
}

/** The domain names inside the RDATA, with their offsets; empty for unknown types. */
export function rdataNames(type: number, rdata: Uint8Array): RdataName[] {
  const spec = typeSpec(type);
  if (!spec) return [];
  return names(type, rdata).map((n) => ({ ...n, compressible: spec.compress }));
}

/**
 * Names whose addresses belong in the additional section: NS (RFC 1035 §3.3.11), MX (§3.3.9),
 * SRV (RFC 2782), and the SVCB/HTTPS TargetName unless it is '.' (RFC 9460 §4.1; '.' means "the
 * owner" in ServiceMode and "no service" in AliasMode, which the caller must handle).
 */
export function additionalTargets(type: number, rdata: Uint8Array): Name[] {
  switch (type) {
    case RRType.NS:
    case RRType.MX:
    case RRType.SRV:
      return names(type, rdata).map((n) => n.name);
    case RRType.SVCB:
    case RRType.HTTPS:
      return names(type, rdata).map((n) => n.name).filter((n) => !n.isRoot());
    default:
      return [];
  }
}

const singleName = new Set<number>([RRType.CNAME, RRType.DNAME, RRType.NS, RRType.PTR]);

/** The one name of a CNAME, DNAME, NS or PTR record. */
export function targetName(type: number, rdata: Uint8Array): Name {
  if (!singleName.has(type)) throw new RdataError(`${typeName(type)} has no single target name`);
  return names(type, rdata)[0].name;
}

export function rdataEquals(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** RFC 4034 §6.3: RDATA compared as left-justified unsigned octet strings; a prefix sorts first. */
export function compareRdata(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

const utf8 = new TextEncoder();

/**
 * TXT RDATA for one long literal value (no escape processing): its UTF-8 octets cut into
 * character-strings of at most 255 octets (RFC 1035 §3.3.14, RFC 7208 §3.3). '' gives one empty string.
 */
export function splitTxt(text: string): Uint8Array {
  const b = utf8.encode(text);
  const w = new Writer();
  if (b.length === 0) w.u8(0);
  for (let o = 0; o < b.length; o += 255) w.charString(b.subarray(o, o + 255), 'TXT string');
  if (w.length > MAX_RDATA) throw new RdataError(`TXT: RDATA of ${w.length} octets is longer than 65535`);
  return w.finish();
}
