// A dedicated reader of the records section of a large YAML zone file, one slice at a time (zonefile.ts
// sliceRecords): the common shapes of owner entries (flow and block maps and sequences of one-line
// scalars, plain or quoted, comments, blank lines) are read straight into records, without the yaml
// package's syntax tree (issue 16: the YAML parser was most of a 1M-record zone's load).
//
// It never reports an error. Whatever it does not fully understand, or finds wrong (a bad value, an
// unknown type, a duplicate key, a multi-line scalar, an anchor, a tab, non-ASCII text, the apex, SPF...),
// makes it give up on the whole slice, which the generic path then parses (and reports with file and line,
// exactly as before). So it only has to be right about what it accepts: the same records, warnings and
// owner lines as the generic path (test/unit/config/records-reader.test.ts compares both).
import { Name } from '../dns/name.js';
import { parseRdata } from '../dns/rdata.js';
import type { Rr } from '../dns/rr.js';
import { RRClass, typeFromName } from '../dns/types.js';
import { MAX_TTL, parseDuration } from './duration.js';
import { toPresentation } from './octodns.js';
import type { Plain } from './yaml-nodes.js';
import type { ZoneConfig } from './zone-settings.js';

/** One owner entry read from a slice. */
export interface ReadOwner {
  /** The key as written (YAML keys are unique: zonefile.ts checks it across slices). */
  key: string;
  name: Name;
  /** Line of the key in the file. */
  line: number;
  rrs: Rr[];
}

/** What the records depend on besides their text. */
export interface ReaderContext {
  origin: Name;
  /** zone.ttl: the TTL of records without one. */
  ttl: number;
  config: ZoneConfig;
  /** The record policy (zonefile.ts refusal): a refused type makes the reader give up. */
  refusal: (type: number, text: string, config: ZoneConfig) => string | undefined;
}

/** Thrown inside the reader to give up on a slice; never leaves this module. */
class GiveUp {}
const GIVE_UP = new GiveUp();
function giveUp(): never {
  throw GIVE_UP;
}

/**
 * Characters the generic path may treat otherwise: tabs, controls and other non-printables (YAML 1.2 §5.1), a
 * BOM, line separators, any surrogate, and a CR that does not end a line. A slice holding one goes the generic way.
 */
const UNUSUAL = /[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]|\r(?!\n)/;

/**
 * The owner entries of one slice of the `records:` mapping (`text`, its first line `firstLine` in the file) and
 * their warnings (octoDNS value conversion notes), or undefined when the reader gives up (then the generic
 * path parses the slice). Owners are checked against each other, not against other slices (the caller does).
 */
export function readRecordsSlice(text: string, firstLine: number, ctx: ReaderContext): { owners: ReadOwner[]; warnings: string[] } | undefined {
  if (UNUSUAL.test(text)) return undefined;
  try {
    const warnings: string[] = [];
    const owners = new Reader(contentLines(text, firstLine), ctx, warnings).owners();
    return { owners, warnings };
  } catch (err) {
    if (err === GIVE_UP) return undefined;
    throw err;
  }
}

interface Line {
  indent: number;
  /** The line after its indentation, CR removed. */
  text: string;
  no: number;
}

/** The lines that hold something (not blank, not only a comment). */
function contentLines(text: string, firstLine: number): Line[] {
  const out: Line[] = [];
  let no = firstLine;
  for (let pos = 0; pos < text.length; no++) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    let sp = pos;
    while (text.charCodeAt(sp) === 0x20) sp++;
    const stop = text.charCodeAt(end - 1) === 0x0d ? end - 1 : end;
    if (sp < stop && text.charCodeAt(sp) !== 0x23) out.push({ indent: sp - pos, text: text.slice(sp, stop), no });
    pos = end + 1;
  }
  return out;
}

/** Characters that may not start a plain scalar here (YAML 1.2 §7.3.3 indicators, a few kept out to stay simple). */
const INDICATOR = new Set([...'-?:,[]{}#&*!|>\'"%@`'].map((c) => c.charCodeAt(0)));
/** YAML 1.2 core schema nulls: a plain scalar spelled so is null, which no record field may be. */
const NULLS = new Set(['', '~', 'null', 'Null', 'NULL']);
const RECORD_KEYS = new Set(['type', 'ttl', 'value', 'values', 'octodns']);

class Reader {
  private i = 0;
  /** Position in the current line's text (inline values). */
  private p = 0;
  private s = '';

  constructor(private readonly lines: Line[], private readonly ctx: ReaderContext, private readonly warnings: string[]) {}

  owners(): ReadOwner[] {
    const out: ReadOwner[] = [];
    if (this.lines.length === 0) return out;
    const indent = this.lines[0].indent;
    if (indent === 0) giveUp();
    const keys = new Set<string>();
    const names = new Set<string>();
    while (this.i < this.lines.length) {
      const line = this.lines[this.i];
      if (line.indent !== indent) giveUp();
      this.start(line);
      const key = this.key();
      if (keys.has(key)) giveUp();
      keys.add(key);
      const value = this.valueAfterKey(indent);
      out.push(this.owner(key, line.no, value, names));
    }
    return out;
  }

  // ---- records from values (zonefile.ts parseParts / parseRecord, the accepting path only)

  private owner(key: string, line: number, value: Plain, names: Set<string>): ReadOwner {
    const { origin } = this.ctx;
    if (key === '' || key === '@') giveUp(); // the apex: its record lines are kept (zonefile.ts), left to the generic path
    let name: Name;
    try {
      name = Name.fromText(key, origin);
    } catch {
      giveUp();
    }
    if (name.key === origin.key || names.has(name.key)) giveUp();
    names.add(name.key);
    const items = Array.isArray(value) ? value : [value];
    if (items.length === 0) giveUp();
    const relative = name.relativeTo(origin);
    const types = new Set<number>();
    const rrs: Rr[] = [];
    for (const item of items) {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) giveUp();
      const type = this.record(item, name, relative, rrs);
      if (types.has(type)) giveUp();
      types.add(type);
    }
    return { key, name, line, rrs };
  }

  private record(item: { [key: string]: Plain }, name: Name, relative: string, rrs: Rr[]): number {
    for (const k of Object.keys(item)) if (!RECORD_KEYS.has(k)) giveUp();
    const rawType = item.type;
    if (typeof rawType !== 'string' || rawType === '') giveUp();
    const typeText = rawType.toUpperCase();
    // ALIAS, SPF (a warning) and unknown types: the generic path has their messages.
    const type = typeFromName(typeText);
    if (type === undefined || typeText === 'SPF' || typeText === 'ALIAS') giveUp();
    if (this.ctx.refusal(type, typeText, this.ctx.config) !== undefined) giveUp();
    let ttl = this.ctx.ttl;
    if ('ttl' in item) {
      const t = item.ttl;
      const v = typeof t === 'string' ? parseDuration(t) : undefined;
      if (v === undefined || v > MAX_TTL) giveUp();
      ttl = v;
    }
    const hasValue = 'value' in item;
    const hasValues = 'values' in item;
    if (hasValue === hasValues) giveUp();
    let values: Plain[];
    if (hasValues) {
      const v = item.values;
      values = Array.isArray(v) ? v : [v];
      if (values.length === 0) giveUp();
    } else {
      if (Array.isArray(item.value)) giveUp();
      values = [item.value];
    }
    for (const v of values) {
      let text: string;
      let rdata: Uint8Array;
      try {
        const converted = toPresentation(type, typeText, v);
        text = converted.text;
        for (const w of converted.warnings) this.warnings.push(`${relative} ${typeText}: ${w}`);
        rdata = parseRdata(type, text, this.ctx.origin);
      } catch {
        giveUp();
      }
      rrs.push({ name, type, class: RRClass.IN, ttl, rdata });
    }
    return type;
  }

  // ---- block structure

  private start(line: Line): void {
    this.s = line.text;
    this.p = 0;
  }

  /** The next content line is deeper than `indent` (then it belongs to what is being read). */
  private deeper(indent: number): boolean {
    return this.i < this.lines.length && this.lines[this.i].indent > indent;
  }

  /**
   * The value of a `key:` at `indent` whose key was just read on the current line: inline on the line, or
   * the block below it (a sequence may sit at the key's own indentation, YAML 1.2 §8.2.1).
   */
  private valueAfterKey(indent: number): Plain {
    this.spaces();
    if (this.p < this.s.length && !this.commentHere()) {
      const v = this.inline();
      this.i++;
      if (this.deeper(indent)) giveUp(); // a multi-line scalar or something stranger
      return v;
    }
    this.i++;
    if (this.deeper(indent)) return this.block(this.lines[this.i].indent);
    if (this.i < this.lines.length && this.lines[this.i].indent === indent && isItem(this.lines[this.i].text)) return this.seq(indent);
    return giveUp(); // null
  }

  private block(indent: number): Plain {
    return isItem(this.lines[this.i].text) ? this.seq(indent) : this.map(indent);
  }

  /** A block mapping whose keys are at `indent`, from the current line; `first` when the first key is already read. */
  private map(indent: number, first?: { key: string; value: Plain }): Plain {
    const out: { [key: string]: Plain } = {};
    if (first) out[first.key] = first.value;
    while (this.i < this.lines.length) {
      const line = this.lines[this.i];
      if (line.indent < indent) break;
      if (line.indent > indent || isItem(line.text)) giveUp();
      this.start(line);
      const key = this.key();
      if (Object.hasOwn(out, key)) giveUp();
      out[key] = this.valueAfterKey(indent);
    }
    return out;
  }

  /** A block sequence whose `-` are at `indent`, from the current line. */
  private seq(indent: number): Plain {
    const out: Plain[] = [];
    while (this.i < this.lines.length) {
      const line = this.lines[this.i];
      if (line.indent < indent || (line.indent === indent && !isItem(line.text))) break;
      if (line.indent > indent) giveUp();
      this.start(line);
      this.p = 1;
      this.spaces();
      if (this.p >= this.s.length || this.commentHere()) {
        // `-` alone: the item is the block below.
        this.i++;
        if (!this.deeper(indent)) giveUp();
        out.push(this.block(this.lines[this.i].indent));
        continue;
      }
      const column = indent + this.p;
      const c = this.s.charCodeAt(this.p);
      if (c !== 0x7b && c !== 0x5b && this.keyAhead()) {
        // `- key: value`: a mapping whose keys are at the column of the first.
        const key = this.key();
        const value = this.valueAfterKey(column);
        out.push(this.map(column, { key, value }));
        continue;
      }
      out.push(this.inline());
      this.i++;
      if (this.deeper(indent)) giveUp();
    }
    return out;
  }

  // ---- one line: keys, scalars, flow collections

  private spaces(): void {
    while (this.s.charCodeAt(this.p) === 0x20) this.p++;
  }

  /** At a `#` that starts a comment (YAML needs white space before it, which `spaces` just skipped). */
  private commentHere(): boolean {
    return this.s.charCodeAt(this.p) === 0x23 && this.p > 0 && this.s.charCodeAt(this.p - 1) === 0x20;
  }

  /** The rest of the line must be empty or a comment. */
  private endOfLine(): void {
    this.spaces();
    if (this.p < this.s.length && !this.commentHere()) giveUp();
  }

  /** A block key and its `:` (followed by a space or the end of the line). */
  private key(): string {
    const key = this.scalar(false, true);
    if (key === null) giveUp();
    return key;
  }

  /** True when the current position starts `key:` (a scalar followed by a colon). */
  private keyAhead(): boolean {
    const p = this.p;
    try {
      this.scalar(false, true);
      return true;
    } catch (err) {
      if (err !== GIVE_UP) throw err;
      return false;
    } finally {
      this.p = p;
    }
  }

  /** A value on the current line: a flow collection or a scalar, then nothing but a comment. */
  private inline(): Plain {
    const c = this.s.charCodeAt(this.p);
    const v = c === 0x7b || c === 0x5b ? this.flow() : this.scalar(false, false);
    if (v === null) giveUp();
    this.endOfLine();
    return v;
  }

  /** `{...}` or `[...]` on this line (a flow collection over several lines gives up: the line ends first). */
  private flow(): Plain {
    const open = this.s.charCodeAt(this.p++);
    if (open === 0x7b) {
      const out: { [key: string]: Plain } = {};
      this.spaces();
      if (this.s.charCodeAt(this.p) === 0x7d) { this.p++; return out; }
      for (;;) {
        this.spaces();
        const key = this.scalar(true, true);
        if (key === null || Object.hasOwn(out, key)) giveUp();
        this.spaces();
        out[key] = this.flowValue();
        this.spaces();
        const c = this.s.charCodeAt(this.p++);
        if (c === 0x7d) return out;
        if (c !== 0x2c) giveUp();
      }
    }
    const out: Plain[] = [];
    this.spaces();
    if (this.s.charCodeAt(this.p) === 0x5d) { this.p++; return out; }
    for (;;) {
      this.spaces();
      out.push(this.flowValue());
      this.spaces();
      const c = this.s.charCodeAt(this.p++);
      if (c === 0x5d) return out;
      if (c !== 0x2c) giveUp();
    }
  }

  private flowValue(): Plain {
    const c = this.s.charCodeAt(this.p);
    const v = c === 0x7b || c === 0x5b ? this.flow() : this.scalar(true, false);
    if (v === null) giveUp();
    return v;
  }

  /**
   * A plain or quoted scalar on this line; null for a plain null. With `asKey` it must be followed by `:` (and a
   * space, the line's end or, in a flow collection, a flow indicator), which is consumed; without, a following
   * `:` of that kind gives up (it would make a mapping).
   */
  private scalar(inFlow: boolean, asKey: boolean): string | null {
    const s = this.s;
    const c = s.charCodeAt(this.p);
    let v: string | null;
    // (`__proto__` as a key of a plain object would set its prototype, not a key: left to the generic path.)
    if (c === 0x27 || c === 0x22) v = this.quoted(c);
    else {
      if (this.p >= s.length || INDICATOR.has(c)) giveUp();
      const from = this.p;
      let p = from;
      for (; p < s.length; p++) {
        const ch = s.charCodeAt(p);
        if (ch === 0x3a && colonEnds(s.charCodeAt(p + 1), inFlow)) break;
        if (ch === 0x23 && s.charCodeAt(p - 1) === 0x20) break;
        if (inFlow && (ch === 0x2c || ch === 0x5b || ch === 0x5d || ch === 0x7b || ch === 0x7d)) break;
      }
      let to = p;
      while (to > from && s.charCodeAt(to - 1) === 0x20) to--;
      this.p = to;
      const text = s.slice(from, to);
      v = NULLS.has(text) ? null : text;
    }
    this.spaces();
    const colon = s.charCodeAt(this.p) === 0x3a && colonEnds(s.charCodeAt(this.p + 1), inFlow);
    if (asKey !== colon || (asKey && v === '__proto__')) giveUp();
    if (colon) this.p++;
    return v;
  }

  /** A quoted scalar that ends on this line; double quotes with no escape but `\\` and `\"`. */
  private quoted(q: number): string {
    const s = this.s;
    let out = '';
    let from = ++this.p;
    for (;;) {
      const at = s.indexOf(q === 0x27 ? "'" : '"', this.p);
      const esc = q === 0x22 ? s.indexOf('\\', this.p) : -1;
      if (at < 0) giveUp();
      if (esc >= 0 && esc < at) {
        const next = s.charCodeAt(esc + 1);
        if (next !== 0x5c && next !== 0x22) giveUp();
        out += s.slice(from, esc) + String.fromCharCode(next);
        this.p = from = esc + 2;
        continue;
      }
      if (q === 0x27 && s.charCodeAt(at + 1) === 0x27) {
        out += s.slice(from, at + 1);
        this.p = from = at + 2;
        continue;
      }
      out += s.slice(from, at);
      this.p = at + 1;
      return out;
    }
  }
}

/** A `:` ends a plain scalar (YAML 1.2 §7.3.3) when a space, the end of the line or, in flow, a flow indicator follows. */
function colonEnds(next: number, inFlow: boolean): boolean {
  return Number.isNaN(next) || next === 0x20 || (inFlow && (next === 0x2c || next === 0x5b || next === 0x5d || next === 0x7b || next === 0x7d));
}

/** A block sequence item: `-` then a space or nothing. */
function isItem(text: string): boolean {
  return text.charCodeAt(0) === 0x2d && (text.length === 1 || text.charCodeAt(1) === 0x20);
}
