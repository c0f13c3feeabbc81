// Admin changes written back into a zone's YAML file by source position (textedit.ts): only the lines of the
// records, settings and serial a change touches are written; every other byte stays as the user wrote it
// (issue 13: people keep zone files in git). The yaml package only parses: its node ranges say where things
// are. A large file is edited slice by slice, so only the slices holding a changed owner are parsed at all.
import { isMap, isScalar, isSeq, parseDocument, type Document, type Pair, type YAMLMap, type YAMLSeq } from 'yaml';
import { Name, parentKey } from '../dns/name.js';
import { formatRdata, parseRdata, rdataEquals } from '../dns/rdata.js';
import { RRType, typeFromName, typeName } from '../dns/types.js';
import { octodnsText, SPF_TYPE, toPresentation } from '../config/octodns.js';
import { parseDuration } from '../config/duration.js';
import { toPlain } from '../config/yaml-nodes.js';
import { SLICE_FROM_BYTES, SLICE_LINES, sliceRecords } from '../config/zonefile.js';
import { contentEnd, pad, startOf, TextEdit, yamlScalar, YamlEditError } from './textedit.js';

export { YamlEditError } from './textedit.js';

/** One change to a zone file, as data (so it can be applied on the parser thread, see offthread.ts). */
export type ZoneEdit =
  | RrsetEdit
  | { op: 'setting'; path: string[]; value: string | number | boolean }
  | { op: 'serial' };

/** The whole RRset (owner, type) after the change; no rdatas removes it. */
export interface RrsetEdit {
  op: 'rrset';
  owner: string;
  type: number;
  ttl: number;
  rdatas: Uint8Array[];
  /** The owner has no records in the file (a large file is then not searched for it). */
  isNew?: boolean;
  /** zone.ttl: an entry without `ttl:` keeps none while its TTL stays this; new entries with it get none. */
  defaultTtl?: number;
}

export interface EditOptions {
  sliceFromBytes?: number;
  sliceLines?: number;
  /**
   * Filled when the file was edited slice by slice: the edited `zone:` part and the slices edited (with the
   * number of their first line), which is all a read-back of the change needs to parse (zonefile.ts parseZoneSlices).
   */
  parts?: { head?: string; slices?: { text: string; firstLine: number }[] };
  /** Counts the slices parsed (tests: a change of a large file parses the slices that hold its owners). */
  parsed?: { slices: number };
}

/** Entries written on one line (`{ type: A, value: ... }`) up to this width, else as a block. */
const LINE_WIDTH = 100;

export function openDoc(text: string): Document {
  // Duplicate keys are caught when the result is parsed (yaml-nodes.ts entries); the yaml package's own check is quadratic.
  const doc = parseDocument(text, { keepSourceTokens: false, uniqueKeys: false });
  if (doc.errors.length) throw new YamlEditError(`zone file does not parse: ${doc.errors[0].message}`);
  return doc;
}

function keyText(k: unknown): string {
  return isScalar(k) ? String(k.value ?? '') : String(k);
}

const pairOf = (m: YAMLMap, key: string): Pair | undefined => m.items.find((p) => keyText(p.key) === key) as Pair | undefined;

/** The Name.key of an owner key as written (`''` and `@` are the apex); undefined when it is not a name. */
function ownerKeyOf(k: unknown, origin: Name): string | undefined {
  const t = keyText(k);
  if (t === '' || t === '@') return origin.key;
  try {
    return Name.fromText(t, origin).key;
  } catch {
    return undefined;
  }
}

/** TXT RDATA as one octoDNS text value (`;` escaped as `\;`), when splitting it again gives the same RDATA. */
function txtValue(rdata: Uint8Array): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < rdata.length; ) {
    const len = rdata[i];
    bytes.push(...rdata.subarray(i + 1, i + 1 + len));
    i += 1 + len;
  }
  let s = '';
  for (const b of bytes) {
    if (b === 0x3b) s += '\\;';
    else if (b === 0x5c) s += '\\\\';
    else if (b < 0x20 || b >= 0x7f) s += '\\' + String(b).padStart(3, '0');
    else s += String.fromCharCode(b);
  }
  const again = parseRdata(RRType.TXT, octodnsText(s), Name.ROOT);
  return rdataEquals(again, rdata) ? s : undefined;
}

/** One value as the loader reads it back: presentation form (absolute names end in a dot), octoDNS text for TXT. */
export function valueText(type: number, rdata: Uint8Array): string {
  if (type === RRType.TXT || type === SPF_TYPE) {
    // Strings split at other places than every 255 octets cannot be written as one octoDNS value: generic form.
    return txtValue(rdata) ?? `\\# ${rdata.length} ${Buffer.from(rdata).toString('hex').toUpperCase()}`;
  }
  return formatRdata(type, rdata);
}

// ---- records -----------------------------------------------------------------------------------------------

/** A type entry of an owner (`{ type, ttl, value | values }`) and its type as the loader reads it. */
interface TypeEntry {
  map: YAMLMap;
  type: number;
  typeText: string;
}

function typeEntry(node: unknown): TypeEntry {
  if (!isMap(node)) throw new YamlEditError('an owner holds something other than record entries');
  const typeText = String(keyText(pairOf(node, 'type')?.value)).toUpperCase();
  const type = typeText === 'SPF' ? SPF_TYPE : typeFromName(typeText);
  if (type === undefined) throw new YamlEditError(`unknown record type ${typeText}`);
  return { map: node, type, typeText };
}

/** RDATA of one value node as the loader reads it (relative names against the origin). */
function rdataOf(e: TypeEntry, node: unknown, origin: Name): Uint8Array {
  const text = toPresentation(e.type, e.typeText, toPlain(node)).text;
  return parseRdata(e.type === SPF_TYPE ? RRType.TXT : e.type, text, origin);
}

/** The new entry as one flow line and as block lines (both without indentation). */
function entryTexts(e: RrsetEdit): { flow: string; block: string[] } {
  const values = e.rdatas.map((r) => valueText(e.type, r));
  const ttl = e.ttl === e.defaultTtl ? '' : `ttl: ${e.ttl}`;
  const head = [`type: ${typeName(e.type)}`, ...(ttl ? [ttl] : [])];
  const flowValues = values.length === 1 ? `value: ${yamlScalar(values[0], true)}` : `values: [${values.map((v) => yamlScalar(v, true)).join(', ')}]`;
  const block = values.length === 1 ? [`value: ${yamlScalar(values[0], false)}`] : ['values:', ...values.map((v) => `  - ${yamlScalar(v, false)}`)];
  return { flow: `{ ${[...head, flowValues].join(', ')} }`, block: [...head, ...block] };
}

/** A new entry as items of a block sequence whose dashes are at column `dash`. */
function seqItemLines(e: RrsetEdit, dash: number): string[] {
  const { flow, block } = entryTexts(e);
  if (dash + 2 + flow.length <= LINE_WIDTH) return [`${pad(dash)}- ${flow}`];
  return [`${pad(dash)}- ${block[0]}`, ...block.slice(1).map((l) => pad(dash + 2) + l)];
}

/** A new owner with its entries; `k` is the key as YAML text, at column `indent`. */
function ownerLines(k: string, edits: RrsetEdit[], indent: number, unit: number): string[] {
  if (edits.length === 1) {
    const { flow, block } = entryTexts(edits[0]);
    if (indent + k.length + 2 + flow.length <= LINE_WIDTH) return [`${pad(indent)}${k}: ${flow}`];
    return [`${pad(indent)}${k}:`, ...block.map((l) => pad(indent + unit) + l)];
  }
  return [`${pad(indent)}${k}:`, ...edits.flatMap((e) => seqItemLines(e, indent + unit))];
}

/** Column of the `-` before a block sequence item. */
function dashCol(t: TextEdit, item: unknown): number {
  const at = startOf(item);
  const dash = t.text.lastIndexOf('-', at - 1);
  return dash >= t.lineStart(at) ? t.col(dash) : Math.max(0, t.col(at) - 2);
}

/** Removes the lines of a block sequence item (its comment lines above stay). */
function removeItem(t: TextEdit, item: unknown): void {
  t.replaceLines(t.lineStart(startOf(item)), t.lineEnd(contentEnd(item) - 1), []);
}

/** The source text of a value node when it sits on one line, else its value written anew. */
function sourceOrNew(t: TextEdit, node: unknown, text: () => string, flow: boolean): string {
  const s = t.text.slice(startOf(node), contentEnd(node));
  return s.includes('\n') ? yamlScalar(text(), flow) : s;
}

/**
 * Changes one entry in place to the values and TTL of `e`: values kept stay as written, removed ones lose
 * their line (or their place in a flow list), new ones are added after the last; the TTL is rewritten only
 * when it changes.
 */
function editEntry(t: TextEdit, entry: TypeEntry, e: RrsetEdit, origin: Name, unit: number): void {
  const m = entry.map;
  const flow = m.flow === true;
  const vp = pairOf(m, 'values') ?? pairOf(m, 'value');
  if (!vp) throw new YamlEditError(`${entry.typeText} entry has no value`);
  const seq = isSeq(vp.value) ? (vp.value as YAMLSeq) : undefined;
  const nodes: unknown[] = seq ? seq.items : [vp.value];
  const want = [...e.rdatas];
  const kept = nodes.map((n) => {
    const r = rdataOf(entry, n, origin);
    const i = want.findIndex((w) => rdataEquals(w, r));
    if (i >= 0) want.splice(i, 1);
    return { node: n, keep: i >= 0, rdata: r };
  });
  const added = want.map((r) => valueText(e.type, r));
  const removed = kept.filter((k) => !k.keep);
  const stays = kept.filter((k) => k.keep);
  if (removed.length > 0 || added.length > 0) {
    if (seq && !seq.flow) {
      for (const k of removed) removeItem(t, k.node);
      const last = nodes[nodes.length - 1];
      const dash = dashCol(t, last);
      t.insertLines(t.lineEnd(contentEnd(last) - 1), added.map((v) => `${pad(dash)}- ${yamlScalar(v, false)}`));
    } else if (seq) {
      const last = contentEnd(nodes[nodes.length - 1]);
      if (removed.length === 0) t.replaceInLine(last, last, added.map((v) => `, ${yamlScalar(v, true)}`).join(''));
      else {
        const items = [...stays.map((k) => sourceOrNew(t, k.node, () => valueText(e.type, k.rdata), true)), ...added.map((v) => yamlScalar(v, true))];
        t.replaceInLine(startOf(seq), contentEnd(seq), `[${items.join(', ')}]`);
      }
    } else if (stays.length + added.length === 1) {
      // One value replaced by another.
      const node = vp.value;
      if (isScalar(node)) t.replaceInLine(startOf(node), contentEnd(node), yamlScalar(added[0], flow));
      else t.replace(contentEnd(vp.key), contentEnd(node), `: ${yamlScalar(added[0], flow)}`);
    } else {
      // `value: x` becomes a list.
      const items = [...stays.map((k) => sourceOrNew(t, k.node, () => valueText(e.type, k.rdata), flow)), ...added.map((v) => yamlScalar(v, flow))];
      const key = startOf(vp.key);
      if (flow) t.replaceInLine(key, contentEnd(vp.value), `values: [${items.join(', ')}]`);
      else t.replace(key, contentEnd(vp.value), ['values:', ...items.map((v) => `${pad(t.col(key) + unit)}- ${v}`)].join(t.eol));
    }
  }
  const tp = pairOf(m, 'ttl');
  const current = tp ? parseDuration(String(keyText(tp.value))) : e.defaultTtl;
  if (current === e.ttl) return;
  if (tp && isScalar(tp.value)) t.replaceInLine(startOf(tp.value), contentEnd(tp.value), String(e.ttl));
  else if (tp) t.replace(contentEnd(tp.key), contentEnd(tp.value), `: ${e.ttl}`);
  else {
    const type = pairOf(m, 'type')!;
    if (flow) t.replaceInLine(contentEnd(type.value), contentEnd(type.value), `, ttl: ${e.ttl}`);
    else t.insertLines(t.lineEnd(contentEnd(type.value) - 1), [`${pad(t.col(startOf(type.key)))}ttl: ${e.ttl}`]);
  }
}

/**
 * Applies the RRset edits of one owner already in the file. Entries not edited keep their text; an owner
 * whose value was one entry becomes a list when a type is added (its entry's lines re-indented under a `-`).
 */
function editOwner(t: TextEdit, pair: Pair, edits: RrsetEdit[], origin: Name, unit: number): void {
  const v = pair.value;
  const entries = (isSeq(v) ? v.items : [v]).map(typeEntry);
  const deleted = new Set<TypeEntry>();
  const changed: [TypeEntry, RrsetEdit][] = [];
  const fresh: RrsetEdit[] = [];
  for (const e of edits) {
    const entry = entries.find((x) => x.type === e.type);
    if (!entry) {
      if (e.rdatas.length > 0) fresh.push(e);
    } else if (e.rdatas.length === 0) deleted.add(entry);
    else changed.push([entry, e]);
  }
  const ownerStart = t.lineStart(startOf(pair.key));
  const ownerEnd = t.lineEnd(contentEnd(v) - 1);
  const ownerCol = t.col(startOf(pair.key));
  if (entries.length - deleted.size + fresh.length === 0) {
    t.replaceLines(ownerStart, ownerEnd, []);
    return;
  }
  if (isSeq(v) && !v.flow) {
    for (const [entry, e] of changed) editEntry(t, entry, e, origin, unit);
    for (const entry of deleted) removeItem(t, entry.map);
    const last = v.items[v.items.length - 1];
    t.insertLines(t.lineEnd(contentEnd(last) - 1), fresh.flatMap((e) => seqItemLines(e, dashCol(t, last))));
    return;
  }
  if (isSeq(v)) {
    // A flow list of entries: the list is written again from its kept entries' (edited) texts.
    const local = new TextEdit(t.text, t.eol);
    for (const [entry, e] of changed) editEntry(local, entry, e, origin, unit);
    const items = entries.filter((x) => !deleted.has(x)).map((x) => local.apply(startOf(x.map), contentEnd(x.map)));
    t.replace(startOf(v), contentEnd(v), `[${[...items, ...fresh.map((e) => entryTexts(e).flow)].join(', ')}]`);
    return;
  }
  const entry = entries[0];
  if (deleted.size > 0) {
    // The one entry goes, new types come: the owner is written anew under its key as written.
    const key = t.text.slice(startOf(pair.key), contentEnd(pair.key));
    t.replaceLines(ownerStart, ownerEnd, ownerLines(key, fresh, ownerCol, unit));
    return;
  }
  if (fresh.length === 0) {
    for (const [x, e] of changed) editEntry(t, x, e, origin, unit);
    return;
  }
  const dash = ownerCol + unit;
  if (entry.map.flow) {
    // `www: { ... }` -> `www:` and `- { ... }` on the next line, then the new entries.
    for (const [x, e] of changed) editEntry(t, x, e, origin, unit);
    t.replace(contentEnd(pair.key), startOf(entry.map), `:${t.eol}${pad(dash)}- `);
    t.insertLines(ownerEnd, fresh.flatMap((e) => seqItemLines(e, dash)));
    return;
  }
  // A block mapping under the key: its lines move right under a `-`.
  const local = new TextEdit(t.text, t.eol);
  for (const [x, e] of changed) editEntry(local, x, e, origin, unit);
  const from = t.lineStart(startOf(entry.map));
  const col = t.col(startOf(entry.map));
  const lines = local.apply(from, ownerEnd).split('\n');
  const body = lines.map((l, i) => (i === 0 ? `${l.slice(0, col)}- ${l.slice(col)}` : /^\r?$/.test(l) ? l : `  ${l}`));
  const moved = body.join('\n');
  const inserted = fresh.flatMap((e) => seqItemLines(e, col));
  t.replace(from, ownerEnd, moved + (moved.endsWith('\n') ? inserted.map((l) => l + t.eol).join('') : inserted.map((l) => t.eol + l).join('')));
}

/** The owners of a document (or slice) and where a new owner goes. */
interface Owners {
  pairs: Pair[];
  /** Position of new owner lines. */
  at: number;
  indent: number;
}

/** `records:` when present, else the top level without `zone:` (a plain octoDNS file); a slice is all owners. */
function ownersOf(t: TextEdit, doc: Document, slice: boolean): Owners {
  const top = doc.contents;
  if (!isMap(top)) throw new YamlEditError(slice ? 'records: is not a mapping' : 'zone file is not a mapping');
  const at = (m: YAMLMap) => t.lineEnd(contentEnd(m) - 1);
  const indentOf = (pairs: Pair[], otherwise: number) => (pairs.length ? t.col(startOf(pairs[0].key)) : otherwise);
  if (slice) return { pairs: top.items as Pair[], at: at(top), indent: indentOf(top.items as Pair[], 2) };
  const rec = pairOf(top, 'records');
  if (!rec) {
    const pairs = (top.items as Pair[]).filter((p) => keyText(p.key) !== 'zone');
    return { pairs, at: at(top), indent: 0 };
  }
  const v = rec.value;
  if (isMap(v) && v.items.length > 0) {
    if (v.flow) throw new YamlEditError('records: is a flow mapping ({ ... }); write it as a block mapping to change it through the API');
    return { pairs: v.items as Pair[], at: at(v), indent: indentOf(v.items as Pair[], 2) };
  }
  if (v !== null && !(isScalar(v) && v.value === null) && !(isMap(v) && v.items.length === 0)) throw new YamlEditError('records: is not a mapping');
  // `records:` with nothing (or `{}` / `~`) after it: owners go on the lines below.
  if (v && (v as YAMLMap).range && startOf(v) < contentEnd(v)) t.replace(contentEnd(rec.key), contentEnd(v), ':');
  return { pairs: [], at: t.lineEnd(contentEnd(rec.key)), indent: 2 };
}

type Pending = Map<string, { owner: Name; isNew: boolean; edits: RrsetEdit[] }>;

/** Applies the edits of the owners found in `owners` (removing them from `pending`); true when any was found. */
function editOwners(t: TextEdit, owners: Owners, pending: Pending, origin: Name): boolean {
  let found = false;
  const unit = owners.indent > 0 ? owners.indent : 2;
  for (const pair of owners.pairs) {
    const key = ownerKeyOf(pair.key, origin);
    const p = key === undefined ? undefined : pending.get(key);
    if (!p) continue;
    editOwner(t, pair, p.edits, origin, unit);
    pending.delete(key!);
    found = true;
  }
  return found;
}

/** Appends the owners left in `pending` (not in the file) after the last owner. */
function addOwners(t: TextEdit, owners: Owners, pending: Pending, origin: Name): void {
  const unit = owners.indent > 0 ? owners.indent : 2;
  const lines: string[] = [];
  for (const p of pending.values()) {
    const edits = p.edits.filter((e) => e.rdatas.length > 0);
    const key = yamlScalar(p.owner.equals(origin) ? '' : p.owner.relativeTo(origin), false);
    if (edits.length > 0) lines.push(...ownerLines(key, edits, owners.indent, unit));
  }
  pending.clear();
  t.insertLines(owners.at, lines);
}

// ---- settings and serial -----------------------------------------------------------------------------------

type Setting = string | number | boolean | { [key: string]: Setting };

function blockPair(key: string, value: Setting, col: number, unit: number): string[] {
  if (typeof value !== 'object') return [`${pad(col)}${key}: ${yamlScalar(value, false)}`];
  return [`${pad(col)}${key}:`, ...Object.entries(value).flatMap(([k, v]) => blockPair(k, v, col + unit, unit))];
}

function flowValue(value: Setting): string {
  if (typeof value !== 'object') return yamlScalar(value, true);
  return `{ ${Object.entries(value).map(([k, v]) => `${k}: ${flowValue(v)}`).join(', ')} }`;
}

function zoneMap(doc: Document): YAMLMap {
  const top = doc.contents;
  const zone = isMap(top) ? pairOf(top, 'zone')?.value : undefined;
  if (!isMap(zone)) throw new YamlEditError('zone: is missing or not a mapping');
  return zone;
}

/** Sets `zone.<path>`: the value's own text when the key exists, else one new line (or pair) per missing key. */
function setSetting(t: TextEdit, doc: Document, path: string[], value: string | number | boolean): void {
  let map = zoneMap(doc);
  for (let i = 0; i < path.length; i++) {
    const p = pairOf(map, path[i]);
    let rest: Setting = value;
    for (const k of path.slice(i + 1).reverse()) rest = { [k]: rest };
    if (p && i < path.length - 1 && isMap(p.value)) {
      map = p.value;
      continue;
    }
    if (p && typeof rest !== 'object' && isScalar(p.value) && p.value.value !== null) {
      t.replaceInLine(startOf(p.value), contentEnd(p.value), yamlScalar(rest, map.flow === true));
      return;
    }
    const unit = 2;
    if (p) {
      // `key:` with nothing (or a scalar where a mapping is wanted): write the value after the key.
      const end = p.value ? contentEnd(p.value) : contentEnd(p.key);
      const text = map.flow || typeof rest !== 'object' ? ` ${flowValue(rest)}` : t.eol + blockPair('k', rest, t.col(startOf(p.key)), unit).slice(1).join(t.eol);
      t.replace(contentEnd(p.key), end, `:${text}`);
      return;
    }
    if (map.flow) {
      const last = map.items[map.items.length - 1] as Pair | undefined;
      if (last) t.insert(contentEnd(last.value ?? last.key), `, ${path[i]}: ${flowValue(rest)}`);
      else t.replace(startOf(map), contentEnd(map), `{ ${path[i]}: ${flowValue(rest)} }`);
    } else {
      t.insertLines(t.lineEnd(contentEnd(map) - 1), blockPair(path[i], rest, t.col(startOf((map.items[0] as Pair).key)), unit));
    }
    return;
  }
}

/** RFC 1982: a change must increase the SOA serial; bumps an explicit serial (no serial = file mtime, which moves). */
function bumpSerial(t: TextEdit, doc: Document): void {
  const soa = pairOf(zoneMap(doc), 'soa')?.value;
  const serial = isMap(soa) ? pairOf(soa, 'serial')?.value : undefined;
  if (!isScalar(serial)) return;
  const n = Number(serial.value);
  if (Number.isInteger(n)) t.replaceInLine(startOf(serial), contentEnd(serial), String((n + 1) % 0x100000000));
}

function applyHead(t: TextEdit, doc: Document, edits: ZoneEdit[]): void {
  for (const e of edits) {
    if (e.op === 'setting') setSetting(t, doc, e.path, e.value);
    else if (e.op === 'serial') bumpSerial(t, doc);
  }
}

// ---- the whole file ----------------------------------------------------------------------------------------

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The first label of a name as its key writes it (lower case, escaped). */
export function firstLabelKey(name: Name): string {
  return name.key.slice(0, name.key.length - parentKey(name.key).length - 1);
}

function pendingOf(edits: ZoneEdit[]): Pending {
  const pending: Pending = new Map();
  for (const e of edits) {
    if (e.op !== 'rrset') continue;
    const owner = Name.fromText(e.owner);
    const p = pending.get(owner.key) ?? { owner, isNew: e.isNew === true, edits: [] };
    p.edits.push(e);
    pending.set(owner.key, p);
  }
  return pending;
}

/**
 * Applies edits to a zone file's text and returns the new text, in which only the lines of changed entries,
 * settings and the serial differ. A large file (see sliceRecords) is edited a slice at a time: only the
 * `zone:` part and the slices holding a changed owner are parsed, so memory stays bounded. A new owner goes
 * at the end of the records.
 */
export function applyEdits(file: string, originText: string, edits: ZoneEdit[], opts: EditOptions = {}): string {
  return joinPieces(file, applyEditsPieces(file, originText, edits, opts));
}

/**
 * The new text of applyEdits as pieces: new text, or a span [from, to) of `file` kept as it was. Of a large
 * file, only the `zone:` part and the edited slices are new; the rest are spans, so a caller that writes the
 * result (zone-worker.ts) need never hold a second copy of a 46 MB text, nor its bytes (issue 16).
 */
export function applyEditsPieces(file: string, originText: string, edits: ZoneEdit[], opts: EditOptions = {}): Piece[] {
  const origin = Name.fromText(originText);
  const eol = file.includes('\r\n') ? '\r\n' : '\n';
  // Lines are edited with their line endings: a file without a final newline gets one while it is edited.
  const bare = file.length > 0 && !file.endsWith('\n');
  if (!bare) return applyToText(file, origin, eol, edits, opts);
  const edited = joinPieces(file + eol, applyToText(file + eol, origin, eol, edits, opts));
  return [edited.endsWith('\n') ? edited.slice(0, edited.endsWith('\r\n') ? -2 : -1) : edited];
}

/** Part of an edited text: new text, or the span [from, to) of the text that was edited. */
export type Piece = string | readonly [from: number, to: number];

/** The text the pieces make, spans read from `source`. */
export function joinPieces(source: string, pieces: readonly Piece[]): string {
  return pieces.map((p) => (typeof p === 'string' ? p : source.slice(p[0], p[1]))).join('');
}

function applyToText(text: string, origin: Name, eol: string, edits: ZoneEdit[], opts: EditOptions): Piece[] {
  const pending = pendingOf(edits);
  const sliced = text.length >= (opts.sliceFromBytes ?? SLICE_FROM_BYTES) ? sliceRecords(text, opts.sliceLines ?? SLICE_LINES) : undefined;
  if (!sliced) {
    const t = new TextEdit(text, eol);
    const doc = openDoc(text);
    applyHead(t, doc, edits);
    const owners = ownersOf(t, doc, false);
    editOwners(t, owners, pending, origin);
    addOwners(t, owners, pending, origin);
    return [t.apply()];
  }
  let head = sliced.head;
  if (edits.some((e) => e.op !== 'rrset')) {
    const t = new TextEdit(head, eol);
    applyHead(t, openDoc(head), edits);
    head = t.apply();
  }
  const out = sliced.slices.map((x) => x.text);
  const edited = new Set<number>();
  const visited = new Set<number>();
  const visit = (i: number, addNew = false): void => {
    if (visited.has(i) && !addNew) return;
    visited.add(i);
    if (opts.parsed) opts.parsed.slices++;
    const t = new TextEdit(out[i], eol);
    const owners = ownersOf(t, openDoc(out[i]), true);
    const found = editOwners(t, owners, pending, origin);
    if (addNew) addOwners(t, owners, pending, origin);
    if (found || addNew) {
      out[i] = t.apply();
      edited.add(i);
    }
  };
  // First the slices with a line whose key starts with an owner's first label (the apex: every slice, in order),
  // then, for owners not found that may exist, every other slice. Owners known to be new are not searched for: a
  // short new name ('www') is a substring of many others, and searching the text for it parsed most slices.
  // One case-insensitive search per slice (no lower-cased copy of a 46 MB file); a key written elsewhere than at
  // the start of its line (a flow mapping) is found by the second pass.
  const needles = (): RegExp | undefined => {
    const labels = [...pending.values()].filter((p) => !p.isNew).map((p) => (p.owner.equals(origin) ? '' : escapeRegExp(firstLabelKey(p.owner))));
    return labels.length === 0 ? undefined : new RegExp(`^[ \\t]*["']?(?:${labels.join('|')})(?:[.'":\\s]|$)`, 'im');
  };
  let re = needles();
  for (let i = 0; i < out.length && re; i++) {
    if (!re.test(out[i])) continue;
    const before = pending.size;
    visit(i);
    if (pending.size !== before) re = needles();
  }
  for (let i = 0; i < out.length && [...pending.values()].some((p) => !p.isNew); i++) visit(i);
  // New owners: appended to the last slice (the end of the file).
  if (pending.size > 0) visit(out.length - 1, true);
  if (opts.parts) {
    opts.parts.head = head;
    opts.parts.slices = [...edited].sort((a, b) => a - b).map((i) => ({ text: out[i], firstLine: sliced.slices[i].firstLine }));
  }
  // Unchanged slices stay spans of the text (adjacent ones as one): the slices are cut at line starts and
  // follow each other from the end of the head.
  const pieces: Piece[] = [head === sliced.head ? [0, head.length] : head];
  let at = sliced.head.length;
  for (const [i, sl] of sliced.slices.entries()) {
    const end = at + sl.text.length;
    const last = pieces[pieces.length - 1];
    if (edited.has(i)) pieces.push(out[i]);
    else if (typeof last !== 'string' && last[1] === at) pieces[pieces.length - 1] = [last[0], end];
    else pieces.push([at, end]);
    at = end;
  }
  return pieces;
}
