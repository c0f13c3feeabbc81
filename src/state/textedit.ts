// Edits of a text by source position, so a zone file keeps every byte an admin change does not touch: its
// comments, alignment, quoting, flow collections, line endings and a missing final newline. yamledit.ts
// finds the positions in the yaml package's node ranges; this file only splices text and writes scalars.
import { isMap, isScalar, isSeq, parseDocument, type Pair } from 'yaml';

export class YamlEditError extends Error {}

interface Splice {
  from: number;
  to: number;
  text: string;
  /** Order of insertion: insertions at one position keep it. */
  seq: number;
}

/** Replacements of ranges of one text, applied together; overlapping ones are a bug and refused. */
export class TextEdit {
  /** The text's line ending (`\r\n` when it has one), used for every line written. */
  readonly eol: string;
  private readonly splices: Splice[] = [];
  /** Start -> length of runs of spaces before trailing comments whose column is kept (keepCommentColumn). */
  private readonly gaps = new Map<number, number>();

  constructor(readonly text: string, eol?: string) {
    this.eol = eol ?? (text.includes('\r\n') ? '\r\n' : '\n');
  }

  get changed(): boolean {
    return this.splices.length > 0;
  }

  replace(from: number, to: number, text: string): void {
    if (from === to && text === '') return;
    this.splices.push({ from, to, text, seq: this.splices.length });
  }

  /** Like replace; a comment after it on its line keeps its column when there is room (aligned comments stay aligned). */
  replaceInLine(from: number, to: number, text: string): void {
    this.replace(from, to, text);
    this.keepCommentColumn(to);
  }

  /** The spaces before a trailing comment after `pos` on its line are fitted to the edits before them when applied. */
  keepCommentColumn(pos: number): void {
    const nl = this.text.indexOf('\n', pos);
    const m = /^([^#'"\n]*?)( +)#/.exec(this.text.slice(pos, nl < 0 ? undefined : nl));
    if (m) this.gaps.set(pos + m[1].length, m[2].length);
  }

  insert(pos: number, text: string): void {
    this.replace(pos, pos, text);
  }

  lineStart(pos: number): number {
    return this.text.lastIndexOf('\n', pos - 1) + 1;
  }

  /** The position after the line that holds `pos`: after its newline, or the end of the text. */
  lineEnd(pos: number): number {
    const i = this.text.indexOf('\n', pos);
    return i < 0 ? this.text.length : i + 1;
  }

  col(pos: number): number {
    return pos - this.lineStart(pos);
  }

  /** Whole lines at `pos`, a line start (the text ends with a line ending: see applyEdits). */
  insertLines(pos: number, lines: string[]): void {
    this.insert(pos, lines.map((l) => l + this.eol).join(''));
  }

  /** Replaces the lines [from, to) (`from` a line start, `to` a line end) with `lines`. */
  replaceLines(from: number, to: number, lines: string[]): void {
    this.replace(from, to, lines.map((l) => l + this.eol).join(''));
  }

  /** The text of [from, to) with the edits inside it applied (default: the whole text). */
  apply(from = 0, to = this.text.length): string {
    const inside = this.splices.filter((s) => s.from >= from && s.to <= to);
    for (const [gap, len] of this.gaps) {
      if (gap < from || gap + len > to) continue;
      const before = inside.filter((s) => s.from >= this.lineStart(gap) && s.to <= gap);
      if (before.some((s) => s.text.includes('\n'))) continue;
      const grown = before.reduce((n, s) => n + s.text.length - (s.to - s.from), 0);
      if (grown !== 0) inside.push({ from: gap, to: gap + len, text: ' '.repeat(Math.max(1, len - grown)), seq: this.splices.length });
    }
    inside.sort((a, b) => a.from - b.from || a.to - b.to || a.seq - b.seq);
    let out = '';
    let at = from;
    for (const s of inside) {
      if (s.from < at) throw new YamlEditError('two edits of the zone file overlap (a bug in tandem); nothing was written');
      out += this.text.slice(at, s.from) + s.text;
      at = s.to;
    }
    return out + this.text.slice(at, to);
  }
}

type Ranged = { range?: [number, number, number] | null };

/**
 * Where a node's content ends: the end of its last scalar or flow collection. (The range of a block
 * collection also covers the comment and blank lines after it, which belong to what follows.)
 */
export function contentEnd(node: unknown): number {
  if ((isMap(node) || isSeq(node)) && !node.flow) {
    const last = node.items[node.items.length - 1];
    if (last === undefined) return node.range![0];
    if (isMap(node)) {
      const p = last as Pair;
      return Math.max(contentEnd(p.key), p.value ? contentEnd(p.value) : 0);
    }
    return contentEnd(last);
  }
  const r = (node as Ranged | null)?.range;
  if (!r) throw new YamlEditError('a zone file node has no source position');
  return r[1];
}

export function startOf(node: unknown): number {
  const r = (node as Ranged | null)?.range;
  if (!r) throw new YamlEditError('a zone file node has no source position');
  return r[0];
}

/** Whether `s` written plain reads back as the string `s` (in a flow collection when `flow`). */
function plainReadsBack(s: string, flow: boolean): boolean {
  if (s === '' || s.trim() !== s || /[\r\n\t]/.test(s)) return false;
  const doc = parseDocument(flow ? `[${s}]` : s);
  if (doc.errors.length > 0) return false;
  const node = flow ? (isSeq(doc.contents) && doc.contents.items.length === 1 ? doc.contents.items[0] : undefined) : doc.contents;
  return isScalar(node) && node.type === 'PLAIN' && node.value === s;
}

/**
 * A scalar as YAML text on one line: plain when that reads back as the same string, else single-quoted
 * (never folded, whatever its length). Numbers and booleans are written plain.
 */
export function yamlScalar(value: string | number | boolean, flow: boolean): string {
  if (typeof value !== 'string') return String(value);
  if (plainReadsBack(value, flow)) return value;
  if (/[\r\n]/.test(value)) throw new YamlEditError('a value to write holds a line break');
  return `'${value.replace(/'/g, "''")}'`;
}

export const pad = (n: number): string => ' '.repeat(n);
