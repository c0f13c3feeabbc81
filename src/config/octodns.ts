// octoDNS record values -> RDATA presentation text (RFC 1035 §5.1 and each type's RFC). The text then goes
// through the one RDATA parser (dns/rdata.ts), so this file only knows octoDNS's value shapes, not wire formats.
// Shapes follow octoDNS's docs/records.md and octodns/record/*.py; any type also accepts a plain presentation
// string (`value: "10 mail.example.com."`, `value: '\# 4 0A000001'`).
import { RRType } from '../dns/types.js';
import { decodeEscaped } from '../dns/rdata/text.js';
import type { Plain } from './yaml-nodes.js';

/** A value that cannot be turned into presentation text; the caller adds file, line, owner and type. */
export class ValueError extends Error {}

type Kind = 'u8' | 'u16' | 'u32' | 'name' | 'token' | 'quoted' | 'data' | 'decimal';

interface Field {
  key: string;
  kind: Kind;
  /** Legacy octoDNS spellings accepted for this field (MX `priority` / `value`). */
  aliases?: string[];
  /** Used when the field is absent (CAA flags default to 0, as in octoDNS). */
  otherwise?: string;
  /** Appended to the field's text (LOC metres). */
  suffix?: string;
}

const f = (key: string, kind: Kind, more: Partial<Field> = {}): Field => ({ key, kind, ...more });

const DS_FIELDS = [f('key_tag', 'u16'), f('algorithm', 'u8'), f('digest_type', 'u8'), f('digest', 'data')];
const DNSKEY_FIELDS = [f('flags', 'u16'), f('protocol', 'u8', { otherwise: '3' }), f('algorithm', 'u8'), f('public_key', 'data')];
const TLSA_FIELDS = [f('certificate_usage', 'u8'), f('selector', 'u8'), f('matching_type', 'u8'), f('certificate_association_data', 'data')];

/** The structured value shapes, field order = presentation order. */
const SHAPES: ReadonlyMap<number, readonly Field[]> = new Map<number, readonly Field[]>([
  [RRType.MX, [f('preference', 'u16', { aliases: ['priority'] }), f('exchange', 'name', { aliases: ['value'] })]],
  [RRType.SRV, [f('priority', 'u16'), f('weight', 'u16'), f('port', 'u16'), f('target', 'name')]],
  [RRType.CAA, [f('flags', 'u8', { otherwise: '0' }), f('tag', 'token'), f('value', 'quoted')]],
  [RRType.NAPTR, [f('order', 'u16'), f('preference', 'u16'), f('flags', 'quoted'), f('service', 'quoted'), f('regexp', 'quoted'), f('replacement', 'name')]],
  [RRType.SSHFP, [f('algorithm', 'u8'), f('fingerprint_type', 'u8'), f('fingerprint', 'data')]],
  [RRType.TLSA, TLSA_FIELDS],
  [RRType.SMIMEA, TLSA_FIELDS],
  [RRType.DS, DS_FIELDS],
  [RRType.CDS, DS_FIELDS],
  [RRType.DNSKEY, DNSKEY_FIELDS],
  [RRType.CDNSKEY, DNSKEY_FIELDS],
  [RRType.URI, [f('priority', 'u16'), f('weight', 'u16'), f('target', 'quoted')]],
  [RRType.LOC, [
    f('lat_degrees', 'decimal'), f('lat_minutes', 'decimal'), f('lat_seconds', 'decimal'), f('lat_direction', 'token'),
    f('long_degrees', 'decimal'), f('long_minutes', 'decimal'), f('long_seconds', 'decimal'), f('long_direction', 'token'),
    f('altitude', 'decimal', { suffix: 'm' }), f('size', 'decimal', { suffix: 'm' }),
    f('precision_horz', 'decimal', { suffix: 'm' }), f('precision_vert', 'decimal', { suffix: 'm' }),
  ]],
]);

/** The octoDNS field names of a type's structured form, for messages and docs. */
export function shapeFields(type: number): string[] | undefined {
  if (type === RRType.SVCB || type === RRType.HTTPS) return ['svcpriority', 'targetname', 'svcparams'];
  return SHAPES.get(type)?.map((x) => x.key);
}

/** Types whose octoDNS string values are text (RFC 1035 §3.3.14), not presentation: TXT and SPF (RFC 4408 §3.1.1). */
export const SPF_TYPE = 99;
const isTextType = (type: number) => type === RRType.TXT || type === SPF_TYPE;

export interface Converted {
  text: string;
  warnings: string[];
}

/** Presentation text of one octoDNS value of `type` (`typeText` is its mnemonic, for messages). */
export function toPresentation(type: number, typeText: string, value: Plain): Converted {
  if (value === null) throw new ValueError('empty value');
  if (Array.isArray(value)) {
    throw new ValueError(`a value must be a string${shapeFields(type) ? ' or a mapping' : ''}, not a list` +
      (isTextType(type) ? ' (one TXT value is one record; long strings are split into 255-octet parts automatically)' : ''));
  }
  if (typeof value === 'string') {
    if (isTextType(type) && !value.startsWith('\\# ')) return { text: octodnsText(value), warnings: quotedTextWarning(value) };
    if (value.trim() === '') throw new ValueError('empty value');
    return { text: value, warnings: [] };
  }
  if (type === RRType.SVCB || type === RRType.HTTPS) return { text: svcbText(value), warnings: [] };
  const fields = SHAPES.get(type);
  if (!fields) {
    throw new ValueError(`${typeText} values are strings in presentation form, not mappings`);
  }
  const warnings: string[] = [];
  let v = value;
  if ((type === RRType.DS || type === RRType.CDS) && ('public_key' in v || 'flags' in v)) {
    // octoDNS's deprecated DS spelling reused DNSKEY field names for the DS fields, in order.
    v = { key_tag: v.flags ?? null, algorithm: v.protocol ?? null, digest_type: v.algorithm ?? null, digest: v.public_key ?? null };
    for (const k of Object.keys(value)) if (!['flags', 'protocol', 'algorithm', 'public_key'].includes(k)) v[k] = value[k];
    warnings.push(`${typeText} value uses octoDNS's deprecated fields flags/protocol/algorithm/public_key; write key_tag/algorithm/digest_type/digest`);
  }
  return { text: structuredText(typeText, fields, v), warnings };
}

function structuredText(typeText: string, fields: readonly Field[], v: { [key: string]: Plain }): string {
  const known = new Set(fields.flatMap((x) => [x.key, ...(x.aliases ?? [])]));
  for (const k of Object.keys(v)) {
    if (!known.has(k)) throw new ValueError(`unknown field ${JSON.stringify(k)} in ${typeText} value (fields: ${fields.map((x) => x.key).join(', ')})`);
  }
  const parts: string[] = [];
  for (const field of fields) {
    const key = [field.key, ...(field.aliases ?? [])].find((k) => k in v);
    const raw = key === undefined ? field.otherwise : v[key];
    if (raw === undefined || raw === null) throw new ValueError(`${typeText} value is missing ${field.key}`);
    if (typeof raw !== 'string') throw new ValueError(`${typeText} ${field.key} must be a scalar, not a ${Array.isArray(raw) ? 'list' : 'mapping'}`);
    parts.push(fieldText(typeText, field, raw) + (field.suffix ?? ''));
  }
  return parts.join(' ');
}

const MAX: Record<string, number> = { u8: 0xff, u16: 0xffff, u32: 0xffffffff };

function fieldText(typeText: string, field: Field, raw: string): string {
  const what = `${typeText} ${field.key}`;
  switch (field.kind) {
    case 'u8': case 'u16': case 'u32':
      if (!/^[0-9]+$/.test(raw) || Number(raw) > MAX[field.kind]) throw new ValueError(`${what} ${JSON.stringify(raw)} is not an integer 0..${MAX[field.kind]}`);
      return String(Number(raw));
    case 'decimal':
      if (!/^-?[0-9]+(\.[0-9]+)?$/.test(raw)) throw new ValueError(`${what} ${JSON.stringify(raw)} is not a number`);
      return raw;
    case 'name': case 'token':
      if (raw === '' || /[\s"();]/.test(raw)) throw new ValueError(`${what} ${JSON.stringify(raw)} is not a ${field.kind === 'name' ? 'domain name' : 'single word'}`);
      return raw;
    case 'data':
      if (raw.trim() === '') throw new ValueError(`${what} is empty`);
      return raw;
    case 'quoted':
      return quoteBytes(decodeOctodns(raw, false, what));
  }
}

// ---- text -----------------------------------------------------------------------------------------

/**
 * Octets of an octoDNS string. Backslashes are master-file escapes (`\;`, `\\`, `\DDD`, RFC 1035 §5.1), as
 * octoDNS writes values into zone files verbatim; a `"` is literal. In TXT/SPF values octoDNS requires `;`
 * to be escaped (`\;`), so an unescaped one is refused rather than guessed at.
 */
export function decodeOctodns(s: string, semicolonRule: boolean, what: string): Uint8Array {
  return decodeEscaped(s, {
    fail: (reason) => new ValueError(`${what}: ${reason}`),
    refuse: (c) => (c === ';' && semicolonRule ? `unescaped ';' (octoDNS requires \\; in TXT values, e.g. "v=DKIM1\\; k=ec")` : undefined),
    strictDigits: false,
    dangling: 'dangling backslash at the end',
  });
}

/** One quoted <character-string> (RFC 1035 §5.1) with `"`, `\` and non-printable octets escaped. */
export function quoteBytes(b: Uint8Array): string {
  let s = '"';
  for (const x of b) {
    if (x < 0x20 || x >= 0x7f) s += '\\' + String(x).padStart(3, '0');
    else if (x === 0x22 || x === 0x5c) s += '\\' + String.fromCharCode(x);
    else s += String.fromCharCode(x);
  }
  return s + '"';
}

/**
 * A TXT value written as a zone file writes it, `"a" "b"` (or one quoted `"a"`): tandem keeps the text as written,
 * quotes and all, while octoDNS strips the outer quotes and joins the parts (`ab`). Both readings are plausible,
 * so the value is kept and the difference told, with the forms that keep string boundaries.
 */
function quotedTextWarning(value: string): string[] {
  const v = value.trim();
  if (!/^"(?:[^"\\]|\\.)*"(?:\s+"(?:[^"\\]|\\.)*")*$/.test(v)) return [];
  const joined = v.slice(1, -1).split(/"\s+"/).join('');
  const shown = (t: string) => JSON.stringify(t.length > 60 ? t.slice(0, 57) + '...' : t);
  return [`value ${shown(v)} is in the quoted multi-string form of a zone file: tandem keeps it as one string, quotes included, ` +
    `where octoDNS would join it into ${shown(joined)}. Write the text without quotes for one string (split into 255-octet ` +
    `strings when longer); to keep separate strings, give the record in RFC 3597 form ('\\# <length> <hex>') or in a master file (.zone)`];
}

/** Longest <character-string> (RFC 1035 §3.3: one length octet). */
export const MAX_CHARSTRING = 255;

/**
 * One octoDNS TXT value -> one TXT record: the text split into 255-octet <character-string>s
 * (RFC 1035 §3.3.14; RFC 7208 §3.3 and RFC 6376 §3.6.2.2 join them without separators).
 */
export function octodnsText(s: string): string {
  const bytes = decodeOctodns(s, true, 'TXT value');
  if (bytes.length === 0) return '""';
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i += MAX_CHARSTRING) parts.push(quoteBytes(bytes.subarray(i, i + MAX_CHARSTRING)));
  return parts.join(' ');
}

// ---- SVCB / HTTPS (RFC 9460 §2.1) ----------------------------------------------------------------

/** SvcParams that take no value (RFC 9460 §7.1.1 no-default-alpn; RFC 9540 ohttp). */
const FLAG_PARAMS = new Set(['no-default-alpn', 'ohttp']);

function svcbText(v: { [key: string]: Plain }): string {
  for (const k of Object.keys(v)) {
    if (!['svcpriority', 'targetname', 'svcparams'].includes(k)) {
      throw new ValueError(`unknown field ${JSON.stringify(k)} in SVCB value (fields: svcpriority, targetname, svcparams)`);
    }
  }
  const head = structuredText('SVCB', [f('svcpriority', 'u16'), f('targetname', 'name')], { svcpriority: v.svcpriority ?? null, targetname: v.targetname ?? null });
  const params = v.svcparams ?? null;
  if (params === null) return head;
  if (typeof params !== 'object' || Array.isArray(params)) throw new ValueError('SVCB svcparams must be a mapping of key: value');
  const parts = [head];
  for (const [key, val] of Object.entries(params)) {
    if (!/^[a-z0-9-]+$/.test(key)) throw new ValueError(`SVCB svcparam key ${JSON.stringify(key)} is not a SvcParamKey (RFC 9460 §2.1)`);
    if (val === null || (FLAG_PARAMS.has(key) && val === 'true')) { parts.push(key); continue; }
    if (FLAG_PARAMS.has(key) && val === 'false') continue;
    let text: string;
    if (Array.isArray(val)) {
      const items = val.map((item) => {
        if (typeof item !== 'string' || item === '' || /[,\\]/.test(item)) {
          throw new ValueError(`SVCB ${key} item ${JSON.stringify(item)} must be a non-empty string without ',' or '\\' (write the whole record as a presentation string for those)`);
        }
        return item;
      });
      text = items.join(',');
    } else if (typeof val === 'string') text = val;
    else throw new ValueError(`SVCB ${key} must be a string or a list, not a mapping`);
    parts.push(`${key}=${/^[!#-'*-:<-[\]-~]+$/.test(text) ? text : '"' + text.replace(/"/g, '\\"') + '"'}`);
  }
  return parts.join(' ');
}
