// DNS records <-> Cloudflare's record JSON (CF-GO dns/record.go RecordResponse; data field names from the per-type
// *RecordData structs). Wire RDATA is the source of truth; `content` is its presentation form (dns/rdata.ts) with
// Cloudflare's conventions: names without the trailing dot, MX/SRV/URI priority as a top-level field.
import { Name, NameError } from '../dns/name.js';
import { formatRdata, parseRdata, RdataError, splitTxt } from '../dns/rdata.js';
import { isMetaType, RRType, typeFromName, typeName } from '../dns/types.js';
import type { RecordInput, RecordView, ZoneView } from '../state/types.js';
import { ApiError, Code } from './envelope.js';
import type { RecordBody } from './schemas.js';
import { dataSchemas } from './schemas.js';

/** Cloudflare's "automatic" TTL value, and what it means when the zone gives no default (Cloudflare uses 300). */
export const AUTO_TTL = 1;
export const AUTO_TTL_SECONDS = 300;
/** Cloudflare's TTL range for records (30 s is its Enterprise floor; 86400 its ceiling). */
export const MIN_TTL = 30;
export const MAX_TTL = 86_400;

/**
 * Types the server makes itself (RFC 4034/5155 signing records) or that belong to the zone. CDS/CDNSKEY are
 * the signer's too, but another provider's (for a KSK we do not serve) may be added in a multi-signer zone.
 */
const NOT_WRITABLE = new Set<number>([RRType.SOA, RRType.RRSIG, RRType.NSEC, RRType.NSEC3, RRType.NSEC3PARAM, RRType.SIG, RRType.NXT]);

/** Types whose content is a single domain name. */
const NAME_TYPES = new Set<number>([RRType.NS, RRType.CNAME, RRType.PTR, RRType.DNAME]);

/** Types with Cloudflare's top-level `priority` and content without it: token counts of the short content. */
const PRIORITY_TYPES = new Map<number, number>([[RRType.MX, 1], [RRType.SRV, 3], [RRType.URI, 2]]);

export interface RecordJson {
  id: string;
  zone_id: string;
  zone_name: string;
  name: string;
  type: string;
  content: string;
  priority?: number;
  data?: Record<string, unknown>;
  ttl: number;
  proxied: boolean;
  proxiable: boolean;
  comment: string | null;
  tags: string[];
  /** tandem adds `key_sources` to an imported DNSKEY: who holds the key (docs/api.md "Who holds a key"). */
  meta: { auto_added: boolean; source: string; key_sources?: string[] };
  settings: Record<string, never>;
  created_on: string;
  modified_on: string;
  comment_modified_on?: string;
}

/** FQDN without the trailing dot, as Cloudflare prints names. */
export function fqdn(name: Name): string {
  const s = name.toString();
  return s === '.' ? '.' : s.slice(0, -1);
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex').toUpperCase();
}

function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

/** The `data` object for types Cloudflare describes with one (field names as in its SDK). */
export function rdataToData(type: number, rdata: Uint8Array): Record<string, unknown> | undefined {
  try {
    switch (type) {
      case RRType.DNSKEY:
      case RRType.CDNSKEY:
        return { flags: u16(rdata, 0), protocol: rdata[2], algorithm: rdata[3], public_key: Buffer.from(rdata.subarray(4)).toString('base64') };
      case RRType.DS:
      case RRType.CDS:
        return { key_tag: u16(rdata, 0), algorithm: rdata[2], digest_type: rdata[3], digest: hex(rdata.subarray(4)) };
      case RRType.SRV:
        return { priority: u16(rdata, 0), weight: u16(rdata, 2), port: u16(rdata, 4), target: fqdn(Name.read(rdata, 6).name) };
      case RRType.CAA: {
        const tagLen = rdata[1];
        return {
          flags: rdata[0],
          tag: Buffer.from(rdata.subarray(2, 2 + tagLen)).toString('latin1'),
          value: Buffer.from(rdata.subarray(2 + tagLen)).toString('utf8'),
        };
      }
      case RRType.TLSA:
      case RRType.SMIMEA:
        return { usage: rdata[0], selector: rdata[1], matching_type: rdata[2], certificate: hex(rdata.subarray(3)) };
      case RRType.SSHFP:
        return { algorithm: rdata[0], type: rdata[1], fingerprint: hex(rdata.subarray(2)) };
      case RRType.URI:
        return { weight: u16(rdata, 2), target: Buffer.from(rdata.subarray(4)).toString('utf8') };
      case RRType.CERT:
        return { type: u16(rdata, 0), key_tag: u16(rdata, 2), algorithm: rdata[4], certificate: Buffer.from(rdata.subarray(5)).toString('base64') };
      case RRType.NAPTR: {
        let o = 4;
        const str = (): string => {
          const len = rdata[o];
          const s = Buffer.from(rdata.subarray(o + 1, o + 1 + len)).toString('utf8');
          o += 1 + len;
          return s;
        };
        const flags = str(), service = str(), regex = str();
        return { order: u16(rdata, 0), preference: u16(rdata, 2), flags, service, regex, replacement: fqdn(Name.read(rdata, o).name) };
      }
      case RRType.HTTPS:
      case RRType.SVCB: {
        const text = formatRdata(type, rdata);
        const m = /^(\d+)\s+(\S+)\s*(.*)$/.exec(text);
        if (!m) return undefined;
        return { priority: Number(m[1]), target: m[2] === '.' ? '.' : m[2].replace(/\.$/, ''), value: m[3] };
      }
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

/** Cloudflare-style content for a record (see the file comment), plus its top-level priority. */
export function rdataToContent(type: number, rdata: Uint8Array): { content: string; priority?: number } {
  const text = formatRdata(type, rdata);
  if (text.startsWith('\\#')) return { content: text };
  if (NAME_TYPES.has(type)) return { content: text.replace(/\.$/, '') || '.' };
  if (type === RRType.MX) {
    const [pref, exchange] = text.split(' ');
    return { content: exchange === '.' ? '.' : exchange.replace(/\.$/, ''), priority: Number(pref) };
  }
  if (type === RRType.SRV) {
    const [prio, weight, port, target] = text.split(' ');
    return { content: `${weight} ${port} ${target === '.' ? '.' : target.replace(/\.$/, '')}`, priority: Number(prio) };
  }
  if (type === RRType.URI) {
    const i = text.indexOf(' ');
    return { content: text.slice(i + 1), priority: Number(text.slice(0, i)) };
  }
  return { content: text };
}

export function recordToJson(rec: RecordView, zone: ZoneView): RecordJson {
  const { content, priority } = rdataToContent(rec.type, rec.rdata);
  const json: RecordJson = {
    id: rec.id,
    zone_id: zone.id,
    zone_name: fqdn(zone.name),
    name: fqdn(rec.name),
    type: typeName(rec.type),
    content,
    ttl: rec.ttl,
    proxied: false,
    proxiable: false,
    comment: rec.comment ?? null,
    tags: [],
    meta: { auto_added: false, source: 'primary' },
    settings: {},
    created_on: rec.createdOn,
    modified_on: rec.modifiedOn,
  };
  if (priority !== undefined) json.priority = priority;
  if (rec.keySources) json.meta.key_sources = [...rec.keySources];
  const data = rdataToData(rec.type, rec.rdata);
  if (data) json.data = data;
  return json;
}

function invalid(code: number, message: string): ApiError {
  return new ApiError(400, code, message);
}

/** Record owner from the API: `@`, a name relative to the zone, or an FQDN (with or without the trailing dot). */
export function parseOwner(text: string, zone: Name): Name {
  const t = text.trim();
  if (t === '@' || t === '') {
    if (t === '') throw invalid(Code.INVALID_NAME, 'name: required');
    return zone;
  }
  let name: Name;
  try {
    if (t.endsWith('.')) {
      name = Name.fromText(t);
      if (!name.isSubdomainOf(zone)) throw invalid(Code.INVALID_NAME, `name: ${t} is not in zone ${fqdn(zone)}`);
      return name;
    }
    const abs = Name.fromText(t + '.');
    // Cloudflare: a name that already ends in the zone name is an FQDN, anything else is relative to the zone.
    name = abs.isSubdomainOf(zone) ? abs : Name.fromText(t, zone);
  } catch (e) {
    if (e instanceof NameError) throw invalid(Code.INVALID_NAME, `name: ${e.message}`);
    throw e;
  }
  return name;
}

/** Type from a mnemonic; refuses meta types and the records the server generates itself. */
export function parseType(text: string): number {
  const type = typeFromName(text.trim());
  if (type === undefined || isMetaType(type)) throw invalid(Code.INVALID_TYPE, `type: unknown record type '${text}'`);
  if (NOT_WRITABLE.has(type))
    throw invalid(Code.INVALID_TYPE, `type: ${typeName(type)} records are generated by the server and cannot be written through the API`);
  return type;
}

export function parseTtl(ttl: number | undefined, zoneDefault: number): number {
  if (ttl === undefined || ttl === AUTO_TTL) return zoneDefault;
  if (!Number.isInteger(ttl) || ttl < MIN_TTL || ttl > MAX_TTL)
    throw invalid(Code.INVALID_TTL, `ttl: must be between ${MIN_TTL} and ${MAX_TTL} seconds, or 1 for automatic`);
  return ttl;
}

function quote(s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

function abs(name: string): string {
  return name === '.' || name.endsWith('.') ? name : name + '.';
}

/** Presentation text built from a `data` object, validated with the type's schema. */
function dataToText(type: number, data: unknown): string | Uint8Array {
  const schema = dataSchemas.get(type);
  if (!schema) throw invalid(Code.INVALID_FIELD, `data: not used for ${typeName(type)} records; send content`);
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join('.');
    const code = type === RRType.DS && field === 'key_tag' ? Code.MISSING_DATA : Code.INVALID_FIELD;
    throw invalid(code, `data.${field}: ${issue.message}`);
  }
  const d = parsed.data as Record<string, number & string>;
  switch (type) {
    case RRType.DNSKEY: case RRType.CDNSKEY: return `${d.flags} ${d.protocol} ${d.algorithm} ${d.public_key}`;
    case RRType.DS: case RRType.CDS: return `${d.key_tag} ${d.algorithm} ${d.digest_type} ${d.digest}`;
    case RRType.SRV: return `${d.priority} ${d.weight} ${d.port} ${abs(d.target)}`;
    case RRType.CAA: return `${d.flags} ${d.tag} ${quote(d.value)}`;
    case RRType.TLSA: case RRType.SMIMEA: return `${d.usage} ${d.selector} ${d.matching_type} ${d.certificate}`;
    case RRType.SSHFP: return `${d.algorithm} ${d.type} ${d.fingerprint}`;
    case RRType.URI: return `${d.priority} ${d.weight} ${quote(d.target)}`;
    case RRType.NAPTR: return `${d.order} ${d.preference} ${quote(d.flags)} ${quote(d.service)} ${quote(d.regex)} ${abs(d.replacement)}`;
    case RRType.HTTPS: case RRType.SVCB: return `${d.priority} ${abs(d.target)} ${d.value ?? ''}`.trim();
    case RRType.CERT: {
      // CERT (RFC 4398 §2) has no presentation codec here; build the wire form directly.
      const cert = Buffer.from(d.certificate, 'base64');
      const out = new Uint8Array(5 + cert.length);
      out[0] = d.type >> 8; out[1] = d.type & 0xff; out[2] = d.key_tag >> 8; out[3] = d.key_tag & 0xff; out[4] = d.algorithm;
      out.set(cert, 5);
      return out;
    }
    default: throw invalid(Code.INVALID_FIELD, `data: not used for ${typeName(type)} records; send content`);
  }
}

/** Presentation text from Cloudflare-style content (names are absolute, priority may be separate). */
function contentToText(type: number, content: string, priority: number | undefined, zone: Name): string | Uint8Array {
  const c = content.trim();
  if (NAME_TYPES.has(type)) return c === '@' ? zone.toString() : abs(c);
  const short = PRIORITY_TYPES.get(type);
  if (short !== undefined && !c.startsWith('\\#')) {
    const tokens = c.split(/\s+/).filter((t) => t !== '');
    if (tokens.length === short) {
      if (priority === undefined) throw invalid(Code.INVALID_FIELD, `priority: required for ${typeName(type)} records when content has none`);
      if (type === RRType.MX) return `${priority} ${tokens[0] === '@' ? zone.toString() : abs(tokens[0])}`;
      if (type === RRType.SRV) return `${priority} ${tokens[0]} ${tokens[1]} ${abs(tokens[2])}`;
      return `${priority} ${c}`;
    }
  }
  if ((type === RRType.TXT || type === 99) && !c.startsWith('"') && !c.startsWith('\\#')) return splitTxt(content);
  return content;
}

/** Wire RDATA from content or data; errors name the field and the DNS rule. */
export function inputRdata(type: number, body: { content?: string; data?: unknown; priority?: number }, zone: Name): Uint8Array {
  let text: string | Uint8Array;
  if (body.data !== undefined && body.data !== null && (body.content === undefined || dataSchemas.has(type))) {
    const data = type === RRType.URI && typeof body.data === 'object' && body.priority !== undefined
      ? { priority: body.priority, ...(body.data as object) } : body.data;
    text = dataToText(type, data);
  } else if (body.content !== undefined) {
    text = contentToText(type, body.content, body.priority, zone);
  } else {
    throw invalid(type === RRType.DS ? Code.MISSING_DATA : Code.INVALID_CONTENT,
      dataSchemas.has(type) ? `content or data: required for ${typeName(type)} records` : 'content: required');
  }
  let rdata: Uint8Array;
  if (text instanceof Uint8Array) rdata = text;
  else {
    try {
      // Names in API content are fully qualified (Cloudflare's convention), so parse against the root.
      rdata = parseRdata(type, text, Name.ROOT);
    } catch (e) {
      if (e instanceof RdataError || e instanceof NameError) throw invalid(Code.DNS_VALIDATION, `DNS Validation Error: ${e.message}`);
      throw e;
    }
  }
  // RFC 4034 §2.1.2: the Protocol field MUST be 3; a key with any other value is invalid for validation.
  if ((type === RRType.DNSKEY || type === RRType.CDNSKEY) && rdata[2] !== 3)
    throw invalid(Code.DNS_VALIDATION, `DNS Validation Error: ${typeName(type)} protocol must be 3, not ${rdata[2]} (RFC 4034 §2.1.2)`);
  return rdata;
}

/** A whole record from a POST/PUT body. */
export function recordFromBody(body: RecordBody, zone: ZoneView, zoneDefaultTtl: number): RecordInput {
  if (body.type === undefined) throw invalid(Code.INVALID_TYPE, 'type: required');
  if (body.name === undefined) throw invalid(Code.INVALID_NAME, 'name: required');
  if (body.proxied === true) throw invalid(Code.DNS_VALIDATION, 'proxied: tandem does not proxy; records are DNS only');
  const type = parseType(body.type);
  const name = parseOwner(body.name, zone.name);
  const ttl = parseTtl(body.ttl, zoneDefaultTtl);
  const rdata = inputRdata(type, body, zone.name);
  const rec: RecordInput = { name, type, ttl, rdata };
  if (body.comment !== undefined && body.comment !== null) rec.comment = body.comment;
  return rec;
}

/** PATCH: the body's fields over the stored record; content/data stay unless given (or the type changes). */
export function recordFromPatch(body: RecordBody, base: RecordView, zone: ZoneView, zoneDefaultTtl: number): RecordInput {
  if (body.proxied === true) throw invalid(Code.DNS_VALIDATION, 'proxied: tandem does not proxy; records are DNS only');
  const type = body.type !== undefined ? parseType(body.type) : base.type;
  const name = body.name !== undefined ? parseOwner(body.name, zone.name) : base.name;
  const ttl = body.ttl !== undefined ? parseTtl(body.ttl, zoneDefaultTtl) : base.ttl;
  let rdata: Uint8Array;
  if (body.content !== undefined || (body.data !== undefined && body.data !== null)) rdata = inputRdata(type, body, zone.name);
  else if (type !== base.type) throw invalid(Code.INVALID_CONTENT, 'content: required when the type changes');
  else if (body.priority !== undefined && PRIORITY_TYPES.has(type)) {
    // Only the priority changes: rebuild from the stored content.
    rdata = inputRdata(type, { content: rdataToContent(type, base.rdata).content, priority: body.priority }, zone.name);
  } else rdata = base.rdata;
  const rec: RecordInput = { name, type, ttl, rdata };
  const comment = body.comment === undefined ? base.comment : body.comment;
  if (comment !== undefined && comment !== null && comment !== '') rec.comment = comment;
  return rec;
}
