// RFC 1035 §5 master files ("zone files" as BIND, Knot, NSD and ldns write them) -> records. One pass over the
// text with charCodeAt: a logical line (parentheses join physical lines, RFC 1035 §5.1) becomes a list of
// tokens, and each record's RDATA tokens go straight to the one RDATA parser (dns/rdata.ts parseRdataTokens).
// Directives: $ORIGIN and $INCLUDE (RFC 1035 §5.1), $TTL (RFC 2308 §4); BIND's $GENERATE is refused.
// Which types a zone may hold is the caller's policy (config/masterzone.ts); this file reads them all.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Name, NameError } from '../dns/name.js';
import { parseRdataTokens, RdataError } from '../dns/rdata.js';
import { parsePeriod, type Token } from '../dns/rdata/text.js';
import type { Rr } from '../dns/rr.js';
import { RRClass, RRType, typeFromName, typeName } from '../dns/types.js';
import { ZoneFileError } from './errors.js';

/** A token of a master file: the text with escapes intact (quotes removed when `quoted`), and where it starts. */
export interface MasterToken extends Token {
  /** Offset of the token's first character (the opening quote of a quoted one) in its file's text. */
  at: number;
}

/** One record as written: where, what the line said, and what it inherited. */
export interface MasterRecord {
  /** The file the record is in (an $INCLUDEd file's path, resolved against the including file's folder). */
  file: string;
  /** Number of the record's first line. */
  line: number;
  /** The record's text is file text [start, end): its logical line including the final newline. */
  start: number;
  end: number;
  name: Name;
  ttl: number;
  type: number;
  /** Which reading of a file the record is from: 0 for the main file, then one more per $INCLUDE read. */
  part: number;
  /** The $ORIGIN in effect (relative names in the RDATA are relative to it). */
  origin: Name;
  /** False when the owner was left blank (the previous record's owner, RFC 1035 §5.1). */
  ownerWritten: boolean;
  /**
   * Where the TTL came from: written on the line, the $TTL default (RFC 2308 §4), the previous record's
   * TTL (RFC 1035 §5.1, no $TTL seen), or the SOA MINIMUM (an SOA with no TTL anywhere before it, as BIND does).
   */
  ttlFrom: 'written' | 'default' | 'previous' | 'soa';
  /** Offset of the first token after the owner: where a TTL would be written. */
  restAt: number;
  rdata: MasterToken[];
}

export interface MasterWalkOptions {
  /** The zone's name: the first $ORIGIN (RFC 1035 §5.1) and what owners in errors are shown relative to. */
  origin: Name;
  /** Reads an $INCLUDEd file (default: the file as UTF-8). */
  readText?: (path: string) => string;
  /** $INCLUDE nesting limit (default 8). */
  maxIncludeDepth?: number;
}

export interface MasterWalk {
  /** Every file read (the main file first) with its text and how often it was included. */
  files: Map<string, { text: string; reads: number; endOrigin: Name }>;
  /** The first $TTL of the main file, if any (the zone's default TTL for new records). */
  firstTtl?: number;
  warnings: string[];
}

const SP = 0x20, TAB = 0x09, NL = 0x0a, CR = 0x0d, SEMI = 0x3b, LP = 0x28, RP = 0x29, QUOTE = 0x22, BS = 0x5c, DOLLAR = 0x24;
const MAX_TTL = 2147483647; // RFC 2181 §8
const DEFAULT_INCLUDE_DEPTH = 8;

interface LogicalLine {
  tokens: MasterToken[];
  /** The line began with a space or tab: no owner (RFC 1035 §5.1). */
  blank: boolean;
  line: number;
  start: number;
  end: number;
}

/** Splits a master file into logical lines of tokens: comments dropped, parentheses joining lines (RFC 1035 §5.1). */
class Lexer {
  private pos: number;
  private lineNo: number;

  /** Lexes `s` from `from` (a line start) on; `lineNo` is the number of that line. */
  constructor(private readonly file: string, private readonly s: string, from = 0, lineNo = 1) {
    this.pos = from;
    this.lineNo = lineNo;
    if (from === 0 && s.charCodeAt(0) === 0xfeff) this.pos = 1; // a byte-order mark
  }

  private fail(line: number, reason: string): ZoneFileError {
    return new ZoneFileError({ file: this.file, line, reason });
  }

  /** Index of the closing quote of the quoted section opening at `p`. */
  private closeQuote(p: number): number {
    const s = this.s;
    for (let q = p + 1; q < s.length; q++) {
      const d = s.charCodeAt(q);
      if (d === QUOTE) return q;
      if (d === NL) break;
      if (d === BS) {
        if (s.charCodeAt(q + 1) === NL) break;
        q++;
      }
    }
    throw this.fail(this.lineNo, 'unterminated quoted string (a quoted string ends on the line it starts)');
  }

  next(): LogicalLine | undefined {
    const s = this.s;
    const n = s.length;
    while (this.pos < n) {
      const start = this.pos;
      const line = this.lineNo;
      const c0 = s.charCodeAt(start);
      const blank = c0 === SP || c0 === TAB;
      const tokens: MasterToken[] = [];
      let depth = 0;
      let openedAt = 0;
      let p = start;
      for (;;) {
        if (p >= n) {
          if (depth > 0) throw this.fail(openedAt, "'(' is never closed (RFC 1035 §5.1)");
          break;
        }
        const c = s.charCodeAt(p);
        if (c === NL) {
          this.lineNo++;
          p++;
          if (depth === 0) break;
        } else if (c === SP || c === TAB || c === CR) {
          p++;
        } else if (c === SEMI) {
          p = s.indexOf('\n', p);
          if (p < 0) p = n;
        } else if (c === LP) {
          if (depth === 0) openedAt = this.lineNo;
          depth++;
          p++;
        } else if (c === RP) {
          if (depth === 0) throw this.fail(this.lineNo, "')' without '(' (RFC 1035 §5.1)");
          depth--;
          p++;
        } else if (c === QUOTE) {
          const q = this.closeQuote(p);
          tokens.push({ text: s.slice(p + 1, q), quoted: true, at: p });
          p = q + 1;
          const e = s.charCodeAt(p);
          if (p < n && e !== SP && e !== TAB && e !== NL && e !== CR && e !== LP && e !== RP && e !== SEMI) {
            throw this.fail(this.lineNo, 'text right after a quoted string; put a space between them');
          }
        } else {
          let q = p;
          while (q < n) {
            const d = s.charCodeAt(q);
            if (d === SP || d === TAB || d === NL || d === CR || d === LP || d === RP || d === SEMI) break;
            if (d === BS) {
              const e = s.charCodeAt(q + 1);
              if (q + 1 >= n || e === NL || e === CR) throw this.fail(this.lineNo, 'a backslash at the end of a line escapes nothing');
              q += 2;
            } else if (d === QUOTE) q = this.closeQuote(q) + 1; // key="value" (RFC 9460 §2.1)
            else q++;
          }
          tokens.push({ text: s.slice(p, q), quoted: false, at: p });
          p = q;
        }
      }
      this.pos = p;
      if (tokens.length > 0) return { tokens, blank, line, start, end: p };
    }
    return undefined;
  }
}

/** A TTL: decimal seconds or BIND's units (`1h30m`, `2w`), at most 2^31-1 (RFC 2181 §8). */
function parseTtl(text: string): number {
  let v = 0;
  let plain = true;
  for (let i = 0; i < text.length; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) { plain = false; break; }
    v = v * 10 + d;
  }
  if (!plain) {
    try {
      v = parsePeriod(text);
    } catch {
      throw new RdataError(`TTL ${JSON.stringify(text)} is not seconds or a duration like 1h30m`);
    }
  }
  if (v > MAX_TTL) throw new RdataError(`TTL ${text} is above ${MAX_TTL} (RFC 2181 §8)`);
  return v;
}

/** The class a token names (IN, CH, HS, CS, NONE, ANY, CLASSnnn per RFC 3597 §5), or undefined. */
function classOf(text: string): number | undefined {
  if (text.length < 2 || text.length > 10) return undefined;
  const u = text.toUpperCase();
  switch (u) {
    case 'IN': return RRClass.IN;
    case 'CS': return 2;
    case 'CH': return RRClass.CH;
    case 'HS': return RRClass.HS;
    case 'NONE': return RRClass.NONE;
    case 'ANY': return RRClass.ANY;
  }
  if (u.startsWith('CLASS') && /^CLASS[0-9]{1,5}$/.test(u) && Number(u.slice(5)) <= 0xffff) return Number(u.slice(5));
  return undefined;
}

interface Context {
  file: string;
  part: number;
  origin: Name;
  /** The previous record's owner in this file (owners are not inherited across $INCLUDE). */
  owner?: Name;
  /** The text that named `owner` under the current origin, so repeated owners share one Name. */
  ownerText?: string;
}

class Walker {
  private readonly readText: (path: string) => string;
  private readonly maxDepth: number;
  private readonly stack: string[] = [];
  private parts = 0;
  /** The last TTL written on a record (RFC 1035 §5.1) and the $TTL default (RFC 2308 §4); global, as in BIND. */
  private lastTtl: number | undefined;
  private defaultTtl: number | undefined;
  readonly result: MasterWalk = { files: new Map(), warnings: [] };

  constructor(private readonly opts: MasterWalkOptions, private readonly visit: (r: MasterRecord) => boolean | void) {
    this.readText = opts.readText ?? ((p) => readFileSync(p, 'utf8'));
    this.maxDepth = opts.maxIncludeDepth ?? DEFAULT_INCLUDE_DEPTH;
  }

  private fail(ctx: Context, line: number, reason: string, owner?: string, type?: string): ZoneFileError {
    return new ZoneFileError({ file: ctx.file, line, owner, type, reason });
  }

  private shown(name: Name): string {
    return name.relativeTo(this.opts.origin);
  }

  private name(ctx: Context, line: number, text: string, what: string): Name {
    if (text === '@') return ctx.origin;
    try {
      return Name.fromText(text, ctx.origin);
    } catch (err) {
      if (err instanceof NameError) throw this.fail(ctx, line, `${what} ${JSON.stringify(text)} is not a domain name: ${err.message}`);
      throw err;
    }
  }

  file(file: string, text: string, origin: Name, main: boolean): void {
    const key = resolve(file);
    this.stack.push(key);
    const seen = this.result.files.get(file);
    this.result.files.set(file, { text, reads: (seen?.reads ?? 0) + 1, endOrigin: origin });
    const ctx: Context = { file, part: this.parts++, origin };
    const lexer = new Lexer(file, text);
    for (let ll = lexer.next(); ll; ll = lexer.next()) {
      const first = ll.tokens[0];
      if (!ll.blank && !first.quoted && first.text.charCodeAt(0) === DOLLAR) this.directive(ctx, ll, main);
      else this.record(ctx, ll);
    }
    this.result.files.get(file)!.endOrigin = ctx.origin;
    this.stack.pop();
  }

  /**
   * Reads the main file's logical lines from `from` (a line start, line number `line`) in the state `at`
   * (what the lines before it left), until `visit` returns true or the text ends. $INCLUDE is refused here
   * (the caller reads such a file whole). Returns where it stopped: the start of the record that stopped it,
   * or the end of the text.
   */
  range(file: string, text: string, from: number, line: number, at: MasterPlace): number {
    const ctx: Context = { file, part: 0, origin: at.origin };
    this.defaultTtl = at.defaultTtl;
    this.lastTtl = undefined;
    const lexer = new Lexer(file, text, from, line);
    for (let ll = lexer.next(); ll; ll = lexer.next()) {
      const first = ll.tokens[0];
      if (!ll.blank && !first.quoted && first.text.charCodeAt(0) === DOLLAR) {
        if (first.text.toUpperCase() === '$INCLUDE') throw this.fail(ctx, ll.line, '$INCLUDE in a range read alone');
        this.directive(ctx, ll, false);
      } else if (this.record(ctx, ll)) return ll.start;
    }
    return text.length;
  }

  private directive(ctx: Context, ll: LogicalLine, main: boolean): void {
    const [d, ...args] = ll.tokens;
    const word = d.text.toUpperCase();
    const want = (min: number, max: number, usage: string) => {
      if (args.length < min || args.length > max) throw this.fail(ctx, ll.line, `${word} takes ${usage}`);
    };
    switch (word) {
      case '$ORIGIN':
        want(1, 1, 'one domain name (RFC 1035 §5.1)');
        ctx.origin = this.name(ctx, ll.line, args[0].text, '$ORIGIN');
        ctx.ownerText = undefined;
        return;
      case '$TTL':
        want(1, 1, 'one TTL (RFC 2308 §4)');
        try {
          this.defaultTtl = parseTtl(args[0].text);
        } catch (err) {
          throw this.fail(ctx, ll.line, `$TTL: ${(err as Error).message}`);
        }
        if (main && this.result.firstTtl === undefined) this.result.firstTtl = this.defaultTtl;
        return;
      case '$INCLUDE': {
        want(1, 2, 'a file name and an optional origin (RFC 1035 §5.1)');
        const path = isAbsolute(args[0].text) ? args[0].text : resolve(dirname(ctx.file), args[0].text);
        const origin = args[1] ? this.name(ctx, ll.line, args[1].text, '$INCLUDE origin') : ctx.origin;
        if (this.stack.includes(resolve(path))) throw this.fail(ctx, ll.line, `$INCLUDE ${args[0].text}: an include loop (the file is already being read)`);
        if (this.stack.length > this.maxDepth) throw this.fail(ctx, ll.line, `$INCLUDE ${args[0].text}: includes nested deeper than ${this.maxDepth}`);
        let text: string;
        try {
          text = this.readText(path);
        } catch (err) {
          throw this.fail(ctx, ll.line, `$INCLUDE ${args[0].text}: cannot read ${path}: ${(err as Error).message}`);
        }
        // The included file's $ORIGIN changes stay there (RFC 1035 §5.1); so does its owner context.
        this.file(path, text, origin, false);
        return;
      }
      case '$GENERATE':
        throw this.fail(ctx, ll.line, '$GENERATE is a BIND extension tandem does not read; expand it first, e.g. with `named-compilezone -s full -o OUT ZONE FILE`');
      default:
        throw this.fail(ctx, ll.line, `unknown directive ${d.text} (master files know $ORIGIN and $INCLUDE, RFC 1035 §5.1, and $TTL, RFC 2308 §4)`);
    }
  }

  private record(ctx: Context, ll: LogicalLine): boolean | void {
    const toks = ll.tokens;
    let i = 0;
    let name: Name;
    if (ll.blank) {
      if (!ctx.owner) throw this.fail(ctx, ll.line, 'the line starts with a blank owner but no record before it in this file names one (RFC 1035 §5.1)');
      name = ctx.owner;
    } else {
      const t = toks[0];
      if (t.quoted) throw this.fail(ctx, ll.line, `owner "${t.text}" is quoted; write a name with \\ escapes`);
      if (t.text === ctx.ownerText && ctx.owner) name = ctx.owner;
      else {
        name = this.name(ctx, ll.line, t.text, 'owner');
        ctx.ownerText = t.text;
      }
      i = 1;
    }
    ctx.owner = name;
    const restAt = i < toks.length ? toks[i].at : ll.end;
    // TTL and class, either order (RFC 1035 §5.1), each at most once.
    let ttl: number | undefined;
    let cls: number | undefined;
    for (; i < toks.length && !toks[i].quoted; i++) {
      const text = toks[i].text;
      const c = text.charCodeAt(0);
      if (c >= 0x30 && c <= 0x39) {
        if (ttl !== undefined) throw this.fail(ctx, ll.line, `a second TTL ${text}`, this.shown(name));
        try {
          ttl = parseTtl(text);
        } catch (err) {
          throw this.fail(ctx, ll.line, (err as Error).message, this.shown(name));
        }
      } else {
        const k = classOf(text);
        if (k === undefined) break;
        if (cls !== undefined) throw this.fail(ctx, ll.line, `a second class ${text}`, this.shown(name));
        cls = k;
      }
    }
    if (i >= toks.length) throw this.fail(ctx, ll.line, 'no record type (a record is: owner, TTL, class, type, RDATA; RFC 1035 §5.1)', this.shown(name));
    const typeTok = toks[i++];
    const type = typeTok.quoted ? undefined : typeFromName(typeTok.text);
    if (type === undefined) {
      throw this.fail(ctx, ll.line, `unknown record type ${JSON.stringify(typeTok.text)} (use a mnemonic such as TXT, or TYPEnnn with the \\# form, RFC 3597 §5)`, this.shown(name));
    }
    const typeText = typeName(type);
    if (cls !== undefined && cls !== RRClass.IN) {
      throw this.fail(ctx, ll.line, `class ${cls === 3 ? 'CH' : cls === 4 ? 'HS' : `CLASS${cls}`}: tandem serves the Internet class only; write IN or leave the class out (RFC 1035 §3.2.4)`, this.shown(name), typeText);
    }
    const rdata = toks.slice(i);
    let ttlFrom: MasterRecord['ttlFrom'];
    if (ttl !== undefined) {
      this.lastTtl = ttl;
      ttlFrom = 'written';
    } else if (this.defaultTtl !== undefined) {
      ttl = this.defaultTtl;
      ttlFrom = 'default';
    } else if (this.lastTtl !== undefined) {
      ttl = this.lastTtl;
      ttlFrom = 'previous';
    } else if (type === RRType.SOA) {
      // BIND's rule: the SOA MINIMUM becomes the TTL and, from here on, the default.
      const soa = this.rdata(ctx, ll.line, name, type, rdata, ctx.origin);
      ttl = Math.min(new DataView(soa.buffer, soa.byteOffset + soa.length - 4, 4).getUint32(0), MAX_TTL);
      this.defaultTtl = ttl;
      ttlFrom = 'soa';
      this.result.warnings.push(`${ctx.file}:${ll.line}: no TTL before the SOA and no $TTL: using the SOA MINIMUM ${ttl} as the TTL (as BIND does); add $TTL (RFC 2308 §4)`);
    } else {
      throw this.fail(ctx, ll.line, 'no TTL: write one on the record or put a $TTL line before it (RFC 2308 §4)', this.shown(name), typeText);
    }
    return this.visit({ file: ctx.file, part: ctx.part, line: ll.line, start: ll.start, end: ll.end, name, ttl, type, origin: ctx.origin, ownerWritten: !ll.blank, ttlFrom, restAt, rdata });
  }

  rdata(ctx: { file: string }, line: number, name: Name, type: number, tokens: MasterToken[], origin: Name): Uint8Array {
    try {
      return parseRdataTokens(type, tokens, origin);
    } catch (err) {
      if (err instanceof RdataError || err instanceof NameError) {
        throw new ZoneFileError({ file: ctx.file, line, owner: this.shown(name), type: typeName(type), reason: err.message });
      }
      throw err;
    }
  }
}

/**
 * Reads a master file and the files it includes, calling `visit` with each record as written (its RDATA as
 * tokens, not parsed). For tools that need the layout (the admin-change editor, state/masteredit.ts).
 */
export function walkMasterFile(file: string, text: string, opts: MasterWalkOptions, visit: (r: MasterRecord) => void): MasterWalk {
  const w = new Walker(opts, visit);
  w.file(file, text, opts.origin, true);
  return w.result;
}

/** What the lines before a point of a master file leave in effect there (a range is read from it: walkMasterRange). */
export interface MasterPlace {
  /** The $ORIGIN in effect. */
  origin: Name;
  /** The $TTL in effect (RFC 2308 §4), if any. */
  defaultTtl?: number;
}

/**
 * Reads the main file's records from `from` (the start of a logical line that writes its owner, line number
 * `line`), with `at` in effect there, calling `visit` with each record as walkMasterFile does and, when it
 * returns true, stopping before that record. The last TTL written before `from` is not known here: a record
 * that would inherit it (RFC 1035 §5.1, no $TTL) before one in the range writes it is refused. Returns where
 * it stopped (the stopping record's start, or the end of the text). Throws ZoneFileError.
 */
export function walkMasterRange(
  file: string, text: string, from: number, line: number, at: MasterPlace, opts: MasterWalkOptions,
  visit: (r: MasterRecord, rdata: () => Uint8Array) => boolean | void,
): number {
  const w: Walker = new Walker(opts, (r) => visit(r, () => w.rdata(r, r.line, r.name, r.type, r.rdata, r.origin)));
  return w.range(file, text, from, line, at);
}

/** The logical line at `from` (a line start) as tokens, or undefined at the end of the text. Throws ZoneFileError. */
export function masterLineAt(file: string, text: string, from: number, line: number): { tokens: MasterToken[]; end: number } | undefined {
  const ll = new Lexer(file, text, from, line).next();
  return ll && { tokens: ll.tokens, end: ll.end };
}

/** A TTL as a master file writes it (seconds or BIND's units, RFC 2181 §8's limit). Throws RdataError. */
export const parseMasterTtl = parseTtl;

export interface MasterParseOptions extends MasterWalkOptions {
  /** Receives every record instead of the returned `records` (which is then empty). */
  onRecord?: (rr: Rr, at: MasterRecord) => void;
}

export interface ParsedMasterFile extends MasterWalk {
  records: Rr[];
}

/**
 * Parses a master file (RFC 1035 §5) with its $INCLUDEd files into records of class IN, every type that
 * dns/rdata.ts knows plus TYPEnnn / `\#` (RFC 3597 §5) for the rest. Throws ZoneFileError naming the file
 * (the included one when it is one), line, owner, type and the rule.
 */
export function parseMasterFile(file: string, text: string, opts: MasterParseOptions): ParsedMasterFile {
  const records: Rr[] = [];
  const w: Walker = new Walker(opts, (r) => {
    const rr: Rr = { name: r.name, type: r.type, class: RRClass.IN, ttl: r.ttl, rdata: w.rdata(r, r.line, r.name, r.type, r.rdata, r.origin) };
    if (opts.onRecord) opts.onRecord(rr, r);
    else records.push(rr);
  });
  w.file(file, text, opts.origin, true);
  return { ...w.result, records };
}
