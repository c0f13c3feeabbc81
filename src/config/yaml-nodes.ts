// Located access to a parsed YAML document: every value keeps the line it came from, so errors can say
// `file:line`. Scalars are read as the text the user wrote (a digest `0123` stays `0123`, not 123).
import { isMap, isScalar, isSeq, type LineCounter, type Node, type Pair, type YAMLMap } from 'yaml';
import { ZoneFileError } from './errors.js';

export interface Source {
  file: string;
  lines: LineCounter;
  /** Lines of the file before the parsed text (a slice of a large zone file's records, see zonefile.ts). */
  lineOffset?: number;
}

/** What the location of an error needs: the owner and type when known. */
export interface Where {
  owner?: string;
  type?: string;
}

/** A YAML value as plain data; scalars are their text, YAML null is null. */
export type Plain = string | null | Plain[] | { [key: string]: Plain };

export function lineOf(src: Source, node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range ? src.lines.linePos(range[0]).line + (src.lineOffset ?? 0) : undefined;
}

export function fail(src: Source, node: unknown, reason: string, where: Where = {}): never {
  throw new ZoneFileError({ file: src.file, line: lineOf(src, node), owner: where.owner, type: where.type, reason });
}

/** True for an absent value or YAML null (`key:` with nothing after it, `~`). */
export function isNull(node: unknown): boolean {
  return node === undefined || node === null || (isScalar(node) && (node.value === null || node.value === undefined));
}

/** The text of a scalar as written; null for YAML null (`~`, empty); undefined when not a scalar. */
export function scalarText(node: unknown): string | null | undefined {
  if (!isScalar(node)) return undefined;
  const v = node.value;
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  return node.source ?? String(v);
}

export interface Entry {
  key: string;
  keyNode: unknown;
  value: unknown;
  pair: Pair;
}

/**
 * The pairs of a mapping with their keys as text. YAML forbids duplicate keys; they are caught here with a Set
 * (the yaml package's own `uniqueKeys` check compares every key with every other: quadratic in zone size).
 * `seen` carries the keys of earlier parts of one mapping parsed in slices.
 */
export function entries(src: Source, map: YAMLMap, where: Where = {}, seen = new Set<string>()): Entry[] {
  return map.items.map((pair) => {
    const key = scalarText(pair.key);
    if (key === undefined || key === null) fail(src, pair.key, 'keys must be plain scalars', where);
    if (seen.has(key)) fail(src, pair.key, `duplicate key ${JSON.stringify(key)} (YAML 1.2 §3.2.1.1: mapping keys are unique)`, where);
    seen.add(key);
    return { key: key ?? '', keyNode: pair.key, value: pair.value, pair };
  });
}

/** The mapping at `node`, or an error naming what was expected. */
export function asMap(src: Source, node: unknown, what: string, where: Where = {}): YAMLMap {
  if (!isMap(node)) fail(src, node, `${what} must be a mapping`, where);
  return node;
}

/** Rejects keys not in `allowed` (catches typos such as `nameserver:`). */
export function checkKeys(src: Source, items: Entry[], allowed: readonly string[], what: string, where: Where = {}): void {
  for (const e of items) {
    if (!allowed.includes(e.key)) {
      fail(src, e.keyNode, `unknown key ${JSON.stringify(e.key)} in ${what} (allowed: ${allowed.join(', ')})`, where);
    }
  }
}

/** Converts a value to plain data (for record values, which are checked field by field). */
export function toPlain(node: unknown): Plain {
  if (isSeq(node)) return node.items.map(toPlain);
  if (isMap(node)) {
    const out: { [key: string]: Plain } = {};
    for (const p of node.items) out[String(scalarText(p.key) ?? '')] = toPlain(p.value);
    return out;
  }
  return scalarText(node) ?? null;
}
