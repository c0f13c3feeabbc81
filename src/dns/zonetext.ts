// Records as master-file text (RFC 1035 §5): one RR per line, the form `tandem dump`, `tandem convert` and a
// secondary's saved copy of a zone are written in; config/masterfile.ts reads it back.
import type { Name } from './name.js';
import type { Rr } from './rr.js';
import { formatRdata } from './rdata.js';
import { RRClass, RRType, typeName } from './types.js';

/**
 * One record as a master-file line without the newline: owner, TTL, class, type and RDATA, tab-separated.
 * The owner is relative to `origin` when one is given (`@` for the origin itself), else absolute; names in
 * the RDATA are always absolute, so the line means the same under any $ORIGIN.
 */
export function rrLine(rr: Rr, origin?: Name): string {
  const owner = origin ? rr.name.relativeTo(origin) : rr.name.toString();
  const cls = rr.class === RRClass.IN ? 'IN' : `CLASS${rr.class}`; // RFC 3597 §5
  return `${owner}\t${rr.ttl}\t${cls}\t${typeName(rr.type)}\t${formatRdata(rr.type, rr.rdata)}`;
}

export interface MasterFileFormat {
  /** Owners relative to the origin (default true) or absolute. */
  relative?: boolean;
  /** Comment lines for the top of the file (without the `;`). */
  comment?: string[];
  /** Lines per chunk yielded (default 1000). */
  chunkLines?: number;
}

/**
 * A canonical master file: comment, `$ORIGIN`, then one record per line with its TTL and class written out,
 * so no line depends on another. The SOA comes first: from an array it is picked out wherever it is; any
 * other iterable must yield it first (a later SOA throws). Yields chunks of text, so a zone of a million
 * records is written without one string of them all.
 */
export function* formatMasterFile(origin: Name, records: Iterable<Rr>, opts: MasterFileFormat = {}): Generator<string> {
  const rel = (opts.relative ?? true) ? origin : undefined;
  const per = opts.chunkLines ?? 1000;
  let head = '';
  for (const c of opts.comment ?? []) head += `; ${c}\n`;
  yield `${head}$ORIGIN ${origin.toString()}\n`;
  let lines: string[] = [];
  const flush = () => {
    const s = lines.join('\n') + '\n';
    lines = [];
    return s;
  };
  let others = false;
  if (Array.isArray(records)) {
    for (const rr of records as Rr[]) if (rr.type === RRType.SOA) lines.push(rrLine(rr, rel));
  }
  for (const rr of records) {
    if (rr.type === RRType.SOA) {
      if (Array.isArray(records)) continue;
      if (others) throw new Error('formatMasterFile: the SOA must come before the other records');
    } else others = true;
    lines.push(rrLine(rr, rel));
    if (lines.length >= per) yield flush();
  }
  if (lines.length > 0) yield flush();
}

/** formatMasterFile as one string. */
export function masterFileText(origin: Name, records: Iterable<Rr>, opts: MasterFileFormat = {}): string {
  let s = '';
  for (const chunk of formatMasterFile(origin, records, opts)) s += chunk;
  return s;
}
