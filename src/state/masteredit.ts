// Admin changes written back into a master-file zone (config/masterzone.ts). Only the lines of a changed RRset
// are touched: they are removed, and the RRset's new lines (one record each, owner, TTL and class written
// out) go where its first old line was, or at the end of the main file for a new RRset. Records from an
// $INCLUDEd file are edited in that file. A line right after a changed one that inherited its owner or
// its TTL (RFC 1035 §5.1) from it gets them written out, so it keeps meaning what it meant; every other
// byte stays. The SOA serial is bumped in place; settings changes go to the `<zone>.yaml` beside the file.
import { readFileSync } from 'node:fs';
import { walkMasterFile, type MasterRecord } from '../config/masterfile.js';
import { readSettingsFile, settingsFilesOf } from '../config/masterzone.js';
import { Name } from '../dns/name.js';
import { RRClass, RRType } from '../dns/types.js';
import { rrLine } from '../dns/zonetext.js';
import { applyEdits, joinPieces, YamlEditError, type Piece, type ZoneEdit } from './yamledit.js';
import { Document } from 'yaml';

/** A change that cannot be written into the master file; nothing is written. */
export class MasterEditError extends YamlEditError {}

export interface MasterEdited {
  /** The main file's new text. */
  text: string;
  /** Other files changed: $INCLUDEd files, the settings file (created when missing). */
  others: { file: string; text: string }[];
  /** Reads a file as it is after the change (for parsing the result before anything is written). */
  readText: (path: string) => string;
}

export interface Splice {
  start: number;
  end: number;
  text: string;
}

type RrsetEdit = Extract<ZoneEdit, { op: 'rrset' }>;

const readDisk = (path: string) => readFileSync(path, 'utf8');

/** The lines of an RRset as the editor writes them, owners relative to `origin` (the $ORIGIN where they go). */
function rrsetLines(e: RrsetEdit, owner: Name, origin: Name): string {
  let s = '';
  for (const rdata of e.rdatas) s += rrLine({ name: owner, type: e.type, class: RRClass.IN, ttl: e.ttl, rdata }, origin) + '\n';
  return s;
}

export function spliced(text: string, splices: Splice[]): string {
  return joinPieces(text, splicePieces(text, splices));
}

/** The spliced text as pieces (yamledit.ts Piece): each splice's text, and the spans of `text` between them. */
export function splicePieces(text: string, splices: readonly Splice[]): Piece[] {
  const out: Piece[] = [];
  let at = 0;
  for (const s of splices) {
    if (s.start > at) out.push([at, s.start]);
    if (s.text) out.push(s.text);
    at = s.end;
  }
  if (at < text.length) out.push([at, text.length]);
  return out;
}

/** RFC 1982: the next serial. */
function nextSerial(r: MasterRecord): Splice {
  const tok = r.rdata[2];
  if (!tok || tok.quoted || !/^[0-9]+$/.test(tok.text)) throw new MasterEditError(`${r.file}:${r.line}: the SOA serial ${JSON.stringify(tok?.text)} is not a number`);
  return { start: tok.at, end: tok.at + tok.text.length, text: String((Number(tok.text) + 1) % 0x100000000) };
}

/**
 * The splices that admin RRset edits (and the serial bump) make, found record by record as a walk of the file
 * visits them (walkMasterFile, or walkMasterRange for the ranges that hold the changed owners).
 */
export class MasterEditor {
  readonly sets = new Map<string, { edit: RrsetEdit; owner: Name; placed: boolean }>();
  readonly splices = new Map<string, Splice[]>();
  private readonly bump: boolean;
  // What the new text says before the line being looked at: each part's last owner (owners are inherited
  // within one reading of a file) and the last TTL written anywhere (inherited across files, as in BIND).
  private lastOwner = new Map<number, Name | undefined>();
  private lastTtl: number | undefined;

  constructor(edits: ZoneEdit[]) {
    for (const e of edits) {
      if (e.op !== 'rrset') continue;
      const owner = Name.fromText(e.owner);
      this.sets.set(`${owner.key}|${e.type}`, { edit: e, owner, placed: false });
    }
    this.bump = edits.some((e) => e.op === 'serial');
  }

  /** Forgets what the lines before said (a range read alone starts with a line that writes its owner and TTL). */
  restart(): void {
    this.lastOwner = new Map();
    this.lastTtl = undefined;
  }

  add(f: string, s: Splice): void {
    const list = this.splices.get(f);
    if (list) list.push(s);
    else this.splices.set(f, [s]);
  }

  /** Whether `r` is a record of a changed RRset. */
  changes(r: { name: Name; type: number }): boolean {
    return this.sets.has(`${r.name.key}|${r.type}`);
  }

  visit(r: MasterRecord): void {
    const set = this.sets.get(`${r.name.key}|${r.type}`);
    if (set) {
      let lines = '';
      if (!set.placed) {
        set.placed = true;
        lines = rrsetLines(set.edit, set.owner, r.origin);
        if (lines) {
          this.lastOwner.set(r.part, set.owner);
          this.lastTtl = set.edit.ttl;
        }
      }
      this.add(r.file, { start: r.start, end: r.end, text: lines });
      return;
    }
    const before = this.lastOwner.get(r.part);
    if (!r.ownerWritten && (before === undefined || before.toString() !== r.name.toString())) {
      this.add(r.file, { start: r.start, end: r.start, text: r.name.relativeTo(r.origin) });
    }
    this.lastOwner.set(r.part, r.name);
    if (r.ttlFrom === 'previous' && this.lastTtl !== r.ttl) this.add(r.file, { start: r.restAt, end: r.restAt, text: `${r.ttl} ` });
    if (r.ttlFrom === 'written' || r.ttlFrom === 'previous') this.lastTtl = r.ttl;
    if (this.bump && r.type === RRType.SOA) this.add(r.file, nextSerial(r));
  }

  /** The lines of the RRsets no walked record held (new ones), owners relative to `origin` (the $ORIGIN where they go). */
  unplaced(origin: Name): string {
    let tail = '';
    for (const set of this.sets.values()) if (!set.placed) tail += rrsetLines(set.edit, set.owner, origin);
    return tail;
  }
}

/** `text` with `tail` appended on a line of its own. */
export function withTail(text: string, tail: string): Splice {
  return { start: text.length, end: text.length, text: (text === '' || text.endsWith('\n') ? '' : '\n') + tail };
}

/** Applies admin edits to a master-file zone whose main file is `file` with text `text`. */
export function applyMasterEdits(
  file: string, text: string, originText: string, edits: ZoneEdit[], opts: { readText?: (path: string) => string } = {},
): MasterEdited {
  const origin = Name.fromText(originText);
  const readText = opts.readText ?? readDisk;
  const editor = new MasterEditor(edits);
  const walk = walkMasterFile(file, text, { origin, readText }, (r) => editor.visit(r));
  // New RRsets: at the end of the main file, under the $ORIGIN in effect there.
  const tail = editor.unplaced(walk.files.get(file)!.endOrigin);
  if (tail) editor.add(file, withTail(text, tail));
  const splices = editor.splices;

  const changed = new Map<string, string>();
  for (const [f, list] of splices) {
    const info = walk.files.get(f)!;
    if (info.reads > 1) throw new MasterEditError(`${f} is $INCLUDEd ${info.reads} times; a record in it cannot be changed for one inclusion (edit the file by hand)`);
    changed.set(f, spliced(info.text, list));
  }
  const settings = edits.filter((e): e is Extract<ZoneEdit, { op: 'setting' }> => e.op === 'setting');
  if (settings.length > 0) {
    const found = readSettingsFile(file, readText);
    let out: string;
    if (found && found.text.trim() !== '') {
      // An existing settings file keeps every line but the settings changed (yamledit.ts edits by position).
      out = applyEdits(found.text, originText, settings);
    } else {
      const doc = new Document({ zone: {} });
      for (const e of settings) doc.setIn(['zone', ...e.path], e.value);
      out = doc.toString();
    }
    changed.set(found?.file ?? settingsFilesOf(file)[0], out);
  }
  const main = changed.get(file) ?? text;
  changed.delete(file);
  return {
    text: main,
    others: [...changed].map(([f, t]) => ({ file: f, text: t })),
    readText: (path) => (path === file ? main : changed.get(path) ?? readText(path)),
  };
}
