// YAML zone files -> ZoneInput -> Zone. A file has tandem's settings under `zone:` and octoDNS-format
// records under `records:` (a plain octoDNS file, owner names at the top level, is accepted too).
// Every error is a ZoneFileError that names file, line, owner, type and the reason (STYLE habit 6).
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isAlias, isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { Name, NameError } from '../dns/name.js';
import { parseRdata, RdataError } from '../dns/rdata.js';
import type { Rr, RRset } from '../dns/rr.js';
import { RRClass, RRType, isMetaType, typeFromName, typeName } from '../dns/types.js';
import { buildZoneWithWarnings, ZoneDataError, type ZoneInput } from '../zone/build.js';
import type { Zone } from '../zone/types.js';
import { ZoneFileError } from './errors.js';
import { SPF_TYPE, toPresentation, ValueError } from './octodns.js';
import { readRecordsSlice, type ReaderContext, type ReadOwner } from './records-reader.js';
import { parseSettings, ttlValue, type ParsedSettings, type ZoneConfig } from './zone-settings.js';
import { asMap, checkKeys, entries, fail, isNull, lineOf, scalarText, toPlain, type Entry, type Source, type Where } from './yaml-nodes.js';

export { ZoneFileError } from './errors.js';
export type { ZoneConfig } from './zone-settings.js';

/** Where things are in the file, so errors found later (buildZone) can still name a line. */
export interface ZoneLocations {
  /** Name.key -> line of the owner's key under `records:`. */
  owners: ReadonlyMap<string, number>;
  /** `${Name.key} ${type number}` -> line of that record entry. */
  records: ReadonlyMap<string, number>;
  soa?: number;
  nameservers?: number;
  /** Name.key -> the file of the owner's line, when not LoadedZone.file (a master file's $INCLUDE). */
  files?: ReadonlyMap<string, string>;
}

export interface LoadedZone {
  /** zone.ttl: the TTL of records written without one (Cloudflare's ttl 1 = automatic). */
  defaultTtl: number;
  file: string;
  input: ZoneInput;
  config: ZoneConfig;
  /** Things accepted but worth telling the operator; buildLoadedZone appends buildZone's warnings. */
  warnings: string[];
  /** True when the SOA serial is the file's mtime, not written in the file (the zone manager's serial policy decides). */
  mtimeSerial?: boolean;
  locations: ZoneLocations;
  /** Other files this zone was read from: a master file's $INCLUDEs (config/masterzone.ts). */
  includes?: string[];
}

export interface ParseOptions {
  /** The file's modification time: the default SOA serial when `zone.soa.serial` is absent. */
  mtime?: Date;
  /** Parse the records in slices from this file size on (default 1 MiB; tests set it lower). */
  sliceFromBytes?: number;
  /** Lines per slice (default 4000). */
  sliceLines?: number;
  /** Receives every record instead of LoadedZone.input.records (which is then empty). */
  onRecord?: (rr: Rr, origin: Name) => void;
  /** Told the line reached as records are read (a sliced file: before each slice), for progress of a large load. */
  onProgress?: (line: number) => void;
  /** Read slices with the records reader first (records-reader.ts; default true; false: the yaml package only). */
  recordsReader?: boolean;
}

const RECORD_KEYS = ['type', 'ttl', 'value', 'values', 'octodns'] as const;

const ALIAS_REFUSED = 'ALIAS is a provider-side pseudo-type with no DNS wire form; use A/AAAA records (or a CNAME below the apex)';

/** Types refused in `records` (and in a master file, config/masterzone.ts), with the reason. */
export function refusal(type: number, text: string, config: ZoneConfig): string | undefined {
  switch (type) {
    case RRType.SOA: return 'SOA comes from zone.soa, not from records';
    case RRType.RRSIG: case RRType.NSEC: case RRType.NSEC3: case RRType.NSEC3PARAM:
      // A pre-signed zone (issue 11) is served as given, its DNSSEC records included.
      if (config.dnssec.presigned) break;
      return `${text} records are made by the signer (RFC 4035 §2), not given as zone data unless zone.dnssec.presigned is true`;
    case RRType.DNSKEY:
      if (!config.dnssec.multiSigner && !config.dnssec.presigned) {
        return 'DNSKEY records are refused unless zone.dnssec.multi_signer (or presigned) is true: the signer publishes its own keys, ' +
          'and only a multi-signer zone imports other providers\' keys (RFC 8901 §2)';
      }
  }
  if (isMetaType(type)) return `${text} is a meta type that cannot be stored in a zone (RFC 6895 §3.1)`;
  return undefined;
}

/**
 * Parses one zone file's text; throws ZoneFileError. Does not build the zone (see buildLoadedZone).
 *
 * A large file's records are parsed in slices of a few thousand lines (see sliceRecords): the yaml
 * package's syntax tree of a million records would need gigabytes at once, a slice's tree is dropped
 * when its records are read. The result is the same as parsing the whole document; when anything fails,
 * the whole document is parsed after all if a slice has a YAML syntax error, so errors are reported
 * as for the whole file.
 */
export function parseZoneFile(file: string, text: string, options: ParseOptions = {}): LoadedZone {
  const sliced = text.length >= (options.sliceFromBytes ?? SLICE_FROM_BYTES) ? sliceRecords(text, options.sliceLines ?? SLICE_LINES) : undefined;
  if (sliced) {
    try {
      return parseParts(file, sliced.head, sliced.slices, options);
    } catch (err) {
      if (!(err instanceof ZoneFileError) || !syntaxClean(sliced)) return parseParts(file, text, [], options);
      throw err;
    }
  }
  return parseParts(file, text, [], options);
}

/**
 * The zone file as parseZoneFile reads it, but of a large file only the `zone:` part and the slices whose text
 * holds the first label of one of `owners` (lower case, as Name.key writes it): what an admin change needs to
 * read back the RRsets it wrote (state/manager.ts), without parsing a million records it did not touch. A file
 * that is not sliced is parsed whole. The records are those of the slices read, not the zone's.
 */
export function parseZoneFileParts(file: string, text: string, owners: readonly string[], options: ParseOptions = {}): LoadedZone {
  const sliced = text.length >= (options.sliceFromBytes ?? SLICE_FROM_BYTES) ? sliceRecords(text, options.sliceLines ?? SLICE_LINES) : undefined;
  if (!sliced) return parseParts(file, text, [], options);
  const picked = sliced.slices.filter((sl) => {
    const lower = sl.text.toLowerCase();
    return owners.some((o) => lower.includes(o));
  });
  return parseParts(file, sliced.head, picked, options);
}

/** The `zone:` part and some slices of a sliced file (yamledit.ts `parts`), parsed as parseZoneFileParts would. */
export function parseZoneSlices(file: string, head: string, slices: readonly Slice[], options: ParseOptions = {}): LoadedZone {
  return parseParts(file, head, [...slices], options);
}

/**
 * Files of this many characters or more have their records parsed in slices, and an admin change edits and reads
 * back only the slices holding its owners (state/yamledit.ts). From 64 KiB: a 10,000-record file (460 KB) edited
 * whole cost 0.5-0.6 s of the main thread's time per change (the yaml package's document of the whole file, twice).
 */
export const SLICE_FROM_BYTES = 64 << 10;
/** Lines per slice (a slice ends at the first owner key after this many): what one change parses, about 40 KB. */
export const SLICE_LINES = 1000;

/** First characters of a line at the owners' indentation that does not start an owner key: a `-` item, a tab, and the `?` / `:` of a complex key. */
const NOT_A_KEY = new Set([0x2d, 0x09, 0x3f, 0x3a]);

/** Part of the `records:` mapping of a large file: text and the number of its first line in the file. */
interface Slice {
  text: string;
  firstLine: number;
}

/**
 * Splits a file whose last top-level key is `records:` (a block mapping of owners) into the text up to
 * and including the `records:` line and slices of the owners, cut before owner keys (lines indented
 * exactly as the first owner, not a comment, a `-` item or part of a `?` complex key). Returns undefined for any other shape,
 * which is then parsed whole. A cut inside a multi-line construct leaves an unterminated flow collection
 * or quoted scalar in the slice before it: a syntax error, so the whole document is parsed instead.
 */
export function sliceRecords(text: string, linesPerSlice: number): { head: string; slices: Slice[] } | undefined {
  const header = /^records:[ \t]*(#.*)?\r?$/m.exec(text);
  if (!header) return undefined;
  let pos = text.indexOf('\n', header.index);
  if (pos < 0) return undefined;
  pos += 1;
  const head = text.slice(0, pos);
  let line = head.split('\n').length; // number of the first body line
  const slices: Slice[] = [];
  let indent = -1;
  let start = pos;
  let startLine = line;
  let count = 0;
  while (pos < text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    let sp = 0;
    while (text.charCodeAt(pos + sp) === 0x20) sp++;
    const c = pos + sp < end ? text.charCodeAt(pos + sp) : -1; // first character after the indentation
    const blank = c === -1 || c === 0x0d || c === 0x23; // empty, CR only or a comment
    if (!blank) {
      if (sp === 0) return undefined; // another top-level key (or a document marker) after records:
      if (indent < 0) {
        if (c === 0x2d || c === 0x09) return undefined;
        indent = sp;
      } else if (sp === indent && count >= linesPerSlice && !NOT_A_KEY.has(c)) {
        slices.push({ text: text.slice(start, pos), firstLine: startLine });
        start = pos;
        startLine = line;
        count = 0;
      }
    }
    count++;
    line++;
    pos = end + 1;
  }
  if (indent < 0) return undefined;
  slices.push({ text: text.slice(start), firstLine: startLine });
  return { head, slices };
}

/** True when the head and every slice parse without a YAML syntax error. */
function syntaxClean(sliced: { head: string; slices: Slice[] }): boolean {
  return [sliced.head, ...sliced.slices.map((s) => s.text)].every((t) => parseDocument(t, { uniqueKeys: false }).errors.length === 0);
}

function parseYaml(src: Source, text: string): ReturnType<typeof parseDocument> {
  const doc = parseDocument(text, { lineCounter: src.lines, uniqueKeys: false, prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const message = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw new ZoneFileError({ file: src.file, line: e.linePos ? e.linePos[0].line + (src.lineOffset ?? 0) : undefined, reason: `YAML syntax error: ${message}` });
  }
  return doc;
}

/**
 * The owner entries of the `records:` mapping, slice by slice: a slice the records reader (records-reader.ts)
 * reads whole gives its owners read (`read`), any other slice is parsed as YAML and gives its entries, each with
 * the Source its nodes belong to. `seen` holds the owner keys of earlier slices (YAML keys are unique) and
 * `owners` their names; a slice read whose owners repeat one of them is parsed as YAML (which reports it).
 */
function* ownerGroups(
  src: Source, first: Entry[], slices: Slice[], ctx: ReaderContext | undefined, owners: ReadonlyMap<string, number>, onProgress?: (line: number) => void,
): Generator<{ src: Source; entries: Entry[]; read?: undefined } | { read: ReadOwner[]; warnings: string[] }> {
  yield { src, entries: first };
  const seen = new Set(first.map((e) => e.key));
  for (const slice of slices) {
    onProgress?.(slice.firstLine - 1);
    const read = ctx && readRecordsSlice(slice.text, slice.firstLine, ctx);
    if (read && read.owners.every((o) => !seen.has(o.key) && !owners.has(o.name.key))) {
      for (const o of read.owners) seen.add(o.key);
      yield { read: read.owners, warnings: read.warnings };
      continue;
    }
    const s: Source = { file: src.file, lines: new LineCounter(), lineOffset: slice.firstLine - 1 };
    const doc = parseYaml(s, slice.text);
    if (doc.contents === null) continue;
    yield { src: s, entries: entries(s, asMap(s, doc.contents, 'records'), {}, seen) };
  }
}

function parseParts(file: string, text: string, slices: Slice[], options: ParseOptions): LoadedZone {
  const src: Source = { file, lines: new LineCounter() };
  const doc = parseYaml(src, text);
  if (doc.contents === null) fail(src, undefined, 'empty zone file: expected `zone:` and `records:` sections');
  const top = entries(src, asMap(src, doc.contents, 'a zone file'));
  const zoneEntry = top.find((e) => e.key === 'zone');
  const recordsEntry = top.find((e) => e.key === 'records');
  let ownerEntries: Entry[];
  if (recordsEntry) {
    checkKeys(src, top, ['zone', 'records'], 'the top level (owner names go under records:)');
    ownerEntries = isNull(recordsEntry.value) ? [] : entries(src, asMap(src, recordsEntry.value, 'records'));
  } else {
    // A plain octoDNS file: every top-level key is an owner name, except the `zone:` settings.
    ownerEntries = top.filter((e) => e !== zoneEntry);
  }

  const parsed = parseSettings(src, zoneEntry?.value, options.mtime);
  if (parsed.config.secondary) {
    // A secondary zone's records and SOA come by zone transfer (the zone manager adds them).
    if (ownerEntries.length) fail(src, recordsEntry?.keyNode ?? ownerEntries[0].keyNode, 'a secondary zone (zone.secondary) has no records: its data comes by zone transfer from its primaries');
    if (parsed.soa) fail(src, zoneEntry?.value, 'a secondary zone (zone.secondary) has no zone.soa: the SOA comes by zone transfer');
    // The DNSSEC mode of the secondary decides whether tandem signs (live, multi-signer) or not (off, presigned).
    const mode = parsed.config.secondary.dnssec;
    const config = {
      ...parsed.config,
      dnssec: { ...parsed.config.dnssec, enabled: mode === 'live' || mode === 'multi-signer', multiSigner: mode === 'multi-signer', presigned: mode === 'presigned' },
    };
    const input: ZoneInput = { origin: parsed.origin, source: file, settings: { ...parsed.settings, dnssec: config.dnssec.enabled }, records: [] };
    return { file, input, config, warnings: [], defaultTtl: parsed.ttl, locations: { owners: new Map(), records: new Map() } };
  }
  if (!parsed.soa) {
    fail(src, zoneEntry?.keyNode, 'missing SOA: add zone.soa with at least mname and rname' +
      (recordsEntry ? '' : ownerEntries.length === 0
        ? ' (or, if this is the settings file of a master-file zone, put <zone>.zone beside it)'
        : ' (a plain octoDNS file needs a zone: section for tandem\'s settings)'));
  }
  const { origin } = parsed;
  const warnings: string[] = [];
  const owners = new Map<string, number>();
  const recordLines = new Map<string, number>();
  const records: Rr[] = [];
  // With onRecord the records are handed over one by one (the parser thread packs them as it goes).
  const add = options.onRecord ? (rr: Rr) => options.onRecord!(rr, origin) : (rr: Rr) => { records.push(rr); };
  add(soaRecord(src, parsed, zoneEntry));

  const ctx: ReaderContext | undefined = options.recordsReader === false ? undefined : { origin, ttl: parsed.ttl, config: parsed.config, refusal };
  for (const group of ownerGroups(src, ownerEntries, slices, ctx, owners, options.onProgress)) {
    if (group.read) {
      for (const o of group.read) {
        owners.set(o.name.key, o.line);
        for (const rr of o.rrs) add(rr);
      }
      warnings.push(...group.warnings);
      continue;
    }
    const gsrc = group.src;
    for (const oe of group.entries) {
      const owner = ownerName(gsrc, oe, origin);
      const where: Where = { owner: owner.relativeTo(origin) };
      const earlier = owners.get(owner.key);
      if (earlier !== undefined) {
        fail(gsrc, oe.keyNode, `owner ${JSON.stringify(oe.key)} is the same name as the owner at line ${earlier} (names compare without case and escapes, RFC 4343 §3); give each owner once`, where);
      }
      owners.set(owner.key, lineOf(gsrc, oe.keyNode) ?? 0);
      if (isAlias(oe.value)) fail(gsrc, oe.value, 'YAML aliases are not supported in zone files', where);
      const items = isSeq(oe.value) ? oe.value.items : [oe.value];
      if (items.length === 0) fail(gsrc, oe.keyNode, 'no records under this owner', where);
      const seen = new Set<number>();
      for (const item of items) {
        const rec = parseRecord(gsrc, item, owner, parsed, where, warnings);
        if (seen.has(rec.type)) {
          fail(gsrc, item, `a second ${typeName(rec.type)} entry for this owner; put all values in one entry's values (octoDNS: one record per name and type)`, { ...where, type: typeName(rec.type) });
        }
        seen.add(rec.type);
        // Record lines below the apex are never looked up (an owner's line names its errors); the apex has
        // the SOA and server-made RRsets that a DNSKEY entry's error is told apart from.
        if (owner.key === origin.key) recordLines.set(`${owner.key} ${rec.type}`, lineOf(gsrc, item) ?? 0);
        for (const rr of rec.rrs) add(rr);
      }
    }
  }

  const input: ZoneInput = { origin, source: file, settings: parsed.settings, records };
  return {
    file, input, config: parsed.config, warnings, defaultTtl: parsed.ttl, ...(parsed.soa!.serialExplicit ? {} : { mtimeSerial: true }),
    locations: { owners, records: recordLines, soa: parsed.soaLine, nameservers: parsed.nameserversLine },
  };
}

function ownerName(src: Source, e: Entry, origin: Name): Name {
  if (e.key === '' || e.key === '@') return origin;
  try {
    return Name.fromText(e.key, origin);
  } catch (err) {
    if (err instanceof NameError) fail(src, e.keyNode, `owner ${JSON.stringify(e.key)} is not a domain name: ${err.message}`);
    throw err;
  }
}

function soaRecord(src: Source, parsed: ParsedSettings, zoneEntry: Entry | undefined): Rr {
  const s = parsed.soa!;
  // Names are written absolute, so the text is independent of the origin (RFC 1035 §3.3.13 field order).
  const text = `${s.mname} ${s.rname} ${s.serial} ${s.refresh} ${s.retry} ${s.expire} ${s.minimum}`;
  const node = zoneEntry && isMap(zoneEntry.value) ? zoneEntry.value.get('soa', true) : undefined;
  const rdata = rdataOf(src, node, RRType.SOA, text, parsed.origin, { owner: '@', type: 'SOA' });
  return { name: parsed.origin, type: RRType.SOA, class: RRClass.IN, ttl: s.ttl, rdata };
}

function rdataOf(src: Source, node: unknown, type: number, text: string, origin: Name, where: Where): Uint8Array {
  try {
    return parseRdata(type, text, origin);
  } catch (err) {
    if (err instanceof RdataError || err instanceof NameError) fail(src, node, `bad value ${JSON.stringify(text)}: ${err.message}`, where);
    throw err;
  }
}

interface ParsedRecord {
  type: number;
  rrs: Rr[];
}

function parseRecord(src: Source, node: unknown, owner: Name, parsed: ParsedSettings, ownerWhere: Where, warnings: string[]): ParsedRecord {
  const items = entries(src, asMap(src, node, 'a record (type, ttl, value/values)', ownerWhere), ownerWhere);
  const typeEntry = items.find((e) => e.key === 'type');
  if (!typeEntry) fail(src, node, 'record has no type', ownerWhere);
  const rawType = scalarText(typeEntry.value);
  if (typeof rawType !== 'string' || rawType === '') fail(src, typeEntry.value, 'type must be a record type such as A or TXT', ownerWhere);
  const typeText = rawType.toUpperCase();
  const where: Where = { ...ownerWhere, type: typeText };
  for (const e of items) {
    if (e.key === 'dynamic' || e.key === 'geo') fail(src, e.keyNode, `octoDNS ${e.key} records are not supported; give plain values`, where);
  }
  checkKeys(src, items, RECORD_KEYS, 'a record', where);
  if (typeText === 'ALIAS') fail(src, typeEntry.value, ALIAS_REFUSED, where);
  const isSpf = typeText === 'SPF';
  const type = isSpf ? SPF_TYPE : typeFromName(typeText);
  if (type === undefined) {
    fail(src, typeEntry.value, `unknown record type ${JSON.stringify(typeText)} (use a mnemonic such as TXT, or TYPEnnn for others, RFC 3597 §5)`, where);
  }
  const refused = refusal(type, typeText, parsed.config);
  if (refused) fail(src, typeEntry.value, refused, where);
  if (isSpf) warnings.push(`${ownerWhere.owner} SPF: the SPF type is obsolete (RFC 7208 §3.1); publish the policy as TXT`);

  const ttlEntry = items.find((e) => e.key === 'ttl');
  const ttl = ttlEntry ? ttlValue(src, ttlEntry.value, 'ttl', where) : parsed.ttl;

  const valueEntry = items.find((e) => e.key === 'value');
  const valuesEntry = items.find((e) => e.key === 'values');
  if (valueEntry && valuesEntry) fail(src, valuesEntry.keyNode, 'give either value or values, not both', where);
  if (!valueEntry && !valuesEntry) fail(src, node, 'record has no value or values', where);
  let valueNodes: unknown[];
  if (valuesEntry) {
    valueNodes = isSeq(valuesEntry.value) ? valuesEntry.value.items : [valuesEntry.value];
    if (valueNodes.length === 0) fail(src, valuesEntry.value, 'values is empty', where);
  } else {
    if (isSeq(valueEntry!.value)) fail(src, valueEntry!.value, 'value holds one value; use values for a list', where);
    valueNodes = [valueEntry!.value];
  }

  const rrs: Rr[] = [];
  for (const vn of valueNodes) {
    if (isAlias(vn)) fail(src, vn, 'YAML aliases are not supported in zone files', where);
    let text: string;
    try {
      const converted = toPresentation(type, typeText, toPlain(vn));
      text = converted.text;
      for (const w of converted.warnings) warnings.push(`${ownerWhere.owner} ${typeText}: ${w}`);
    } catch (err) {
      if (err instanceof ValueError) fail(src, vn, err.message, where);
      throw err;
    }
    // SPF RDATA is TXT's (RFC 4408 §3.1.1), so it is parsed as TXT and stored under type 99.
    const rdata = rdataOf(src, vn, isSpf ? RRType.TXT : type, text, parsed.origin, where);
    rrs.push({ name: owner, type, class: RRClass.IN, ttl, rdata });
  }
  return { type, rrs };
}

/** The error for a zone file that cannot be read (or stat'ed). */
export function unreadable(file: string, err: unknown): ZoneFileError {
  return new ZoneFileError({ file, reason: `cannot read the file: ${(err as Error).message}` });
}

/** Reads and parses a zone file; the file's mtime is the default SOA serial. */
export async function loadZoneFile(file: string): Promise<LoadedZone> {
  let text: string;
  let mtime: Date;
  try {
    [text, mtime] = await Promise.all([readFile(file, 'utf8'), stat(file).then((s) => s.mtime)]);
  } catch (err) {
    throw unreadable(file, err);
  }
  return parseZoneFile(file, text, { mtime });
}

/**
 * Builds the zone (buildZone's RFC checks), adding the server's apex RRsets (DNSKEY, CDS, ...).
 * A ZoneDataError becomes a ZoneFileError at the owner's line; warnings are appended to loaded.warnings.
 */
export function buildLoadedZone(loaded: LoadedZone, apexRrsets?: RRset[]): Zone {
  let input: ZoneInput = apexRrsets ? { ...loaded.input, apexRrsets } : loaded.input;
  // A pre-signed zone's RRSIG and NSEC3 records are indexed beside the tree, never made names (zone/presigned.ts).
  if (loaded.config.dnssec.presigned && !input.presigned) input = { ...input, presigned: true };
  try {
    const { zone, warnings } = buildZoneWithWarnings(input);
    // A zone may be built more than once (e.g. again with NSEC3PARAM); report each warning once.
    for (const w of warnings) if (!loaded.warnings.includes(w)) loaded.warnings.push(w);
    return zone;
  } catch (err) {
    if (err instanceof ZoneDataError) {
      const at = lineForDataError(loaded, err);
      throw new ZoneFileError({ file: at.file ?? loaded.file, line: at.line, owner: err.owner, type: err.type, reason: err.reason });
    }
    throw err;
  }
}

function lineForDataError(loaded: LoadedZone, err: ZoneDataError): { line?: number; file?: string } {
  const { origin } = loaded.input;
  const loc = loaded.locations;
  let key: string;
  try {
    key = err.owner === '@' ? origin.key : Name.fromText(err.owner, origin).key;
  } catch {
    return {};
  }
  const file = loc.files?.get(key);
  const atApex = key === origin.key;
  if (atApex && err.type === 'SOA') return { line: loc.soa, file };
  const line = loc.owners.get(key);
  if (line !== undefined) return { line, file };
  if (atApex && err.type === 'NS') return { line: loc.nameservers };
  const type = typeFromName(err.type);
  return { line: type === undefined ? undefined : loc.records.get(`${key} ${type}`), file };
}

/**
 * Parses every `*.yaml` / `*.yml` file in `dir` (sorted by name). One bad file never stops the others:
 * its error is reported and the rest load. Two files for the same origin: the second is an error.
 */
export async function loadZoneDir(dir: string): Promise<{ zones: LoadedZone[]; errors: ZoneFileError[] }> {
  const zones: LoadedZone[] = [];
  const errors: ZoneFileError[] = [];
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true }))
      .filter((d) => d.isFile() && /\.ya?ml$/i.test(d.name))
      .map((d) => d.name)
      .sort();
  } catch (err) {
    return { zones, errors: [new ZoneFileError({ file: dir, reason: `cannot read the zone directory: ${(err as Error).message}` })] };
  }
  const byOrigin = new Map<string, string>();
  for (const name of names) {
    const file = join(dir, name);
    try {
      const z = await loadZoneFile(file);
      const other = byOrigin.get(z.input.origin.key);
      if (other !== undefined) {
        errors.push(new ZoneFileError({ file, reason: `zone ${z.input.origin} is already loaded from ${other}` }));
        continue;
      }
      byOrigin.set(z.input.origin.key, file);
      zones.push(z);
    } catch (err) {
      errors.push(err instanceof ZoneFileError ? err : new ZoneFileError({ file, reason: `unexpected error: ${(err as Error).message}` }));
    }
  }
  return { zones, errors };
}

