// Admin changes written back into a zone's YAML file through the yaml package's document API, so comments
// and the layout of untouched entries survive (the zone file stays the one source of records and settings).
import { isMap, isScalar, isSeq, parseDocument, YAMLMap, type Document } from 'yaml';
import { Name, parentKey } from '../dns/name.js';
import { formatRdata, parseRdata, rdataEquals } from '../dns/rdata.js';
import { RRType, typeFromName, typeName } from '../dns/types.js';
import { octodnsText } from '../config/octodns.js';
import { SLICE_FROM_BYTES, SLICE_LINES, sliceRecords } from '../config/zonefile.js';

export class YamlEditError extends Error {}

export function openDoc(text: string): Document {
  // Duplicate keys are caught when the result is parsed (yaml-nodes.ts entries); the yaml package's own check is quadratic.
  const doc = parseDocument(text, { keepSourceTokens: false, uniqueKeys: false });
  if (doc.errors.length) throw new YamlEditError(`zone file does not parse: ${doc.errors[0].message}`);
  return doc;
}

/** The records map: `records:` when present, else the top level (a plain octoDNS file). */
function recordsMap(doc: Document): YAMLMap {
  const top = doc.contents;
  if (!isMap(top)) throw new YamlEditError('zone file is not a mapping');
  const rec = top.get('records', true);
  if (rec === undefined || rec === null || (isScalar(rec) && rec.value === null)) {
    const m = new YAMLMap();
    top.set('records', m);
    return m;
  }
  if (!isMap(rec)) throw new YamlEditError('records: is not a mapping');
  return rec as YAMLMap;
}

function ownerKey(owner: Name, origin: Name): string {
  return owner.equals(origin) ? '' : owner.relativeTo(origin);
}

function keyText(k: unknown): string {
  return isScalar(k) ? String(k.value ?? '') : String(k);
}

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

function sameOwner(k: unknown, owner: Name, origin: Name): boolean {
  return ownerKeyOf(k, origin) === owner.key;
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
  if (type === RRType.TXT || type === RRType.SPF) {
    // Strings split at other places than every 255 octets cannot be written as one octoDNS value: generic form.
    return txtValue(rdata) ?? `\\# ${rdata.length} ${Buffer.from(rdata).toString('hex').toUpperCase()}`;
  }
  return formatRdata(type, rdata);
}

/**
 * Replaces the entry for (owner, type) with `rdatas` (all of them, one TTL); an empty list removes the entry,
 * and the owner when nothing is left under it. Other entries are untouched.
 */
export function setRrset(doc: Document, origin: Name, owner: Name, type: number, ttl: number, rdatas: Uint8Array[]): void {
  setRrsetIn(doc, recordsMap(doc), origin, owner, type, ttl, rdatas);
}

function setRrsetIn(doc: Document, records: YAMLMap, origin: Name, owner: Name, type: number, ttl: number, rdatas: Uint8Array[]): void {
  const pair = records.items.find((p) => sameOwner(p.key, owner, origin));
  const entry = () => {
    const values = rdatas.map((r) => valueText(type, r));
    const m = doc.createNode(values.length === 1 ? { type: typeName(type), ttl, value: values[0] } : { type: typeName(type), ttl, values });
    return m;
  };
  if (!pair) {
    if (rdatas.length === 0) return;
    records.add(doc.createPair(ownerKey(owner, origin), entry()));
    return;
  }
  const cur = pair.value;
  const items: unknown[] = isSeq(cur) ? cur.items : [cur];
  const idx = items.findIndex((it) => isMap(it) && typeFromName(String((it as YAMLMap).get('type') ?? '')) === type);
  const next = [...items];
  if (idx >= 0) {
    if (rdatas.length === 0) next.splice(idx, 1);
    else {
      // Keep the entry node (and its comment) but replace its values.
      const m = next[idx] as YAMLMap;
      m.delete('value');
      m.delete('values');
      m.set('ttl', ttl);
      const values = rdatas.map((r) => valueText(type, r));
      if (values.length === 1) m.set('value', values[0]);
      else m.set('values', doc.createNode(values));
    }
  } else if (rdatas.length > 0) next.push(entry());
  if (next.length === 0) records.delete(pair.key);
  else if (next.length === 1) pair.value = next[0] as never;
  else pair.value = doc.createNode(next) as never;
  if (next.length > 1 && !isSeq(cur)) pair.value = doc.createNode(next) as never;
}

/** Sets `zone.<path>` (creating maps on the way). */
export function setSetting(doc: Document, path: string[], value: unknown): void {
  doc.setIn(['zone', ...path], value);
}

/** RFC 1982: a change must increase the SOA serial; bumps an explicit serial (no serial = file mtime, which moves). */
export function bumpSerial(doc: Document): void {
  const s = doc.getIn(['zone', 'soa', 'serial']);
  if (s === undefined || s === null) return;
  const n = Number(s);
  if (Number.isInteger(n)) doc.setIn(['zone', 'soa', 'serial'], (n + 1) % 0x100000000);
}

/** The first label of a name as its key writes it (lower case, escaped). */
function firstLabelKey(name: Name): string {
  return name.key.slice(0, name.key.length - parentKey(name.key).length - 1);
}

/** One change to a zone file, as data (so it can be applied on the parser thread, see offthread.ts). */
export type ZoneEdit =
  /** `isNew`: the owner has no records in the file (a large file is then not searched for it). */
  | { op: 'rrset'; owner: string; type: number; ttl: number; rdatas: Uint8Array[]; isNew?: boolean }
  | { op: 'setting'; path: string[]; value: unknown }
  | { op: 'serial' };

export interface EditOptions {
  sliceFromBytes?: number;
  sliceLines?: number;
}

/**
 * Applies edits to a zone file's text and returns the new text. A large file (see sliceRecords) is edited a
 * slice at a time: only the `zone:` part and the slices holding a changed owner are parsed into documents
 * and written anew, so memory stays bounded and the rest of the file is kept byte for byte. A new owner
 * goes at the end of the records.
 */
export function applyEdits(text: string, originText: string, edits: ZoneEdit[], opts: EditOptions = {}): string {
  const origin = Name.fromText(originText);
  const sliced = text.length >= (opts.sliceFromBytes ?? SLICE_FROM_BYTES) ? sliceRecords(text, opts.sliceLines ?? SLICE_LINES) : undefined;
  const apply = (doc: Document, e: ZoneEdit) => {
    if (e.op === 'rrset') setRrset(doc, origin, Name.fromText(e.owner), e.type, e.ttl, e.rdatas);
    else if (e.op === 'setting') setSetting(doc, e.path, e.value);
    else bumpSerial(doc);
  };
  if (!sliced) {
    const doc = openDoc(text);
    for (const e of edits) apply(doc, e);
    return doc.toString();
  }
  let head = sliced.head;
  const headEdits = edits.filter((e) => e.op !== 'rrset');
  if (headEdits.length > 0) {
    const doc = openDoc(head);
    for (const e of headEdits) apply(doc, e);
    head = doc.toString();
  }
  // Owner key -> its edits, until the slice that holds the owner is found.
  const pending = new Map<string, { owner: Name; isNew: boolean; edits: Extract<ZoneEdit, { op: 'rrset' }>[] }>();
  for (const e of edits) {
    if (e.op !== 'rrset') continue;
    const owner = Name.fromText(e.owner);
    const p = pending.get(owner.key) ?? { owner, isNew: e.isNew === true, edits: [] };
    p.edits.push(e);
    pending.set(owner.key, p);
  }
  const out = sliced.slices.map((x) => x.text);
  const indent = /^( +)[^ #\r\n]/m.exec(out[0])?.[1] ?? '  ';
  const write = (i: number, doc: Document, records: YAMLMap) => {
    out[i] = records.items.length === 0 ? '' : doc.toString().replace(/^(?=.)/gm, indent);
  };
  const docs = new Map<number, { doc: Document; records: YAMLMap }>();
  const visit = (i: number): void => {
    if (docs.has(i)) return;
    const doc = openDoc(out[i]);
    if (!isMap(doc.contents)) return;
    const records = doc.contents as YAMLMap;
    docs.set(i, { doc, records });
    let changed = false;
    for (const pair of [...records.items]) {
      const key = ownerKeyOf(pair.key, origin);
      const p = key === undefined ? undefined : pending.get(key);
      if (!p) continue;
      for (const e of p.edits) setRrsetIn(doc, records, origin, p.owner, e.type, e.ttl, e.rdatas);
      pending.delete(p.owner.key);
      changed = true;
    }
    if (changed) write(i, doc, records);
  };
  // First the slices whose text holds an owner's first label (the apex: every slice, in order), then,
  // for owners not found that may exist, every other slice. Owners known to be new are not searched for.
  const needles = () => [...pending.values()].map((p) => (p.owner.equals(origin) ? '' : firstLabelKey(p.owner)));
  for (let i = 0; i < out.length && pending.size > 0; i++) {
    const lower = out[i].toLowerCase();
    if (needles().some((x) => lower.includes(x))) visit(i);
  }
  for (let i = 0; i < out.length && [...pending.values()].some((p) => !p.isNew); i++) visit(i);
  const last = out.length - 1;
  if (pending.size > 0) {
    // New owners: appended to the last slice.
    visit(last);
    const at = docs.get(last);
    if (!at) throw new YamlEditError('records: is not a mapping');
    for (const p of pending.values()) for (const e of p.edits) setRrsetIn(at.doc, at.records, origin, p.owner, e.type, e.ttl, e.rdatas);
    write(last, at.doc, at.records);
  }
  return head + out.join('');
}
