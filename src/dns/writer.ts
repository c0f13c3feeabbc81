// The one wire writer (STYLE habit 3): response encoding with name compression (RFC 1035 §4.1.4),
// the EDNS OPT record (RFC 6891 §6.1), Extended DNS Errors (RFC 8914) and the truncation rules of
// RFC 2181 §9. Also a small query encoder for tests and tools.
//
// Compression and case: names compare case-insensitively (RFC 1035 §2.3.3, RFC 4343), so a later name
// may point at an earlier one that differs only in case. The question is written first, in the case
// the client sent, so answer owners that equal the question name show the question's case, as dig
// users (and 0x20-randomising resolvers) expect. This is safe for DNSSEC: owner names and every name
// that may be compressed in RDATA (RFC 3597 §4 types) are lower-cased before validation
// (RFC 4034 §6.2), so a signature never depends on their case.

import type { Name } from './name.js';
import type { Rr } from './rr.js';
import { RRType, RRClass, EdnsOption } from './types.js';
import { EDNS_CO, EDNS_DO } from './query.js';
import { rdataNames } from './rdata.js';

export interface Response {
  id: number;
  opcode: number;
  aa: boolean;
  tc?: boolean;
  rd: boolean;
  ra?: boolean;
  ad?: boolean;
  cd: boolean;
  /** Full 12-bit RCODE; the high 8 bits go into the OPT TTL (RFC 6891 §6.1.3), so > 15 needs `edns`. */
  rcode: number;
  question?: { name: Name; type: number; class: number };
  answer: Rr[];
  authority: Rr[];
  /** Optional records: whole RRsets (with their RRSIGs) are added while they fit, the rest dropped without TC. */
  additional: Rr[];
  /**
   * Additional records that must be present or the message is truncated (TC=1), like the answer:
   * in-domain glue of a referral (RFC 9471 §3). Written before `additional`.
   */
  requiredAdditional?: Rr[];
  /** The OPT to send (version 0); present exactly when the query had one (RFC 6891 §7). */
  edns?: { udpSize: number; do: boolean; co: boolean; options: { code: number; data: Uint8Array }[] };
}

/**
 * RR types whose embedded names may be compressed: the well-known types of RFC 1035 (RFC 3597 §4).
 * A fast filter before asking rdata.ts where the names sit; rdata.ts has the final word.
 */
const COMPRESSIBLE_TYPES = new Set<number>([
  RRType.NS, RRType.MD, RRType.MF, RRType.CNAME, RRType.SOA, RRType.MB, RRType.MG, RRType.MR, RRType.PTR,
  RRType.MINFO, RRType.MX,
]);

/** Pointers hold 14-bit offsets (RFC 1035 §4.1.4). */
const MAX_POINTER = 0x3fff;

/**
 * Keys of a name's suffixes (index i = labels i..end) for the compression table, memoised: zone names
 * are reused for every answer. They are slices of `Name.key`, the lower-cased presentation form, cut
 * at unescaped dots (RFC 1035 §5.1 escapes: `\DDD` or `\X`), so two suffixes share a key exactly
 * when they are equal names.
 */
const suffixCache = new WeakMap<Name, string[]>();

function suffixKeys(name: Name): string[] {
  let keys = suffixCache.get(name);
  if (keys) return keys;
  const key = name.key;
  const count = name.labels.length;
  keys = new Array<string>(count);
  if (count > 0) keys[0] = key;
  let i = 1;
  for (let c = 0; c < key.length && i < count; c++) {
    const ch = key.charCodeAt(c);
    if (ch === 0x5c) {
      const d = key.charCodeAt(c + 1);
      c += d >= 0x30 && d <= 0x39 ? 3 : 1;
    } else if (ch === 0x2e) keys[i++] = key.slice(c + 1);
  }
  suffixCache.set(name, keys);
  return keys;
}

type EmbeddedName = { offset: number; length: number; name: Name };

/**
 * The compressible names inside one RDATA, memoised per RDATA array: zone RDATA is built once at
 * load and reused for every answer (STYLE habit 8), and stable Name objects keep suffixKeys cached.
 * RDATA handed to the writer is therefore never mutated afterwards (rr.ts: it is the stored record).
 */
const rdataNameCache = new WeakMap<Uint8Array, EmbeddedName[]>();

function compressibleNames(type: number, rdata: Uint8Array): EmbeddedName[] {
  let names = rdataNameCache.get(rdata);
  if (!names) {
    try {
      names = rdataNames(type, rdata).filter((n) => n.compressible).sort((x, y) => x.offset - y.offset);
    } catch {
      // RDATA the schema cannot read is still valid wire data: send it verbatim, uncompressed.
      names = [];
    }
    rdataNameCache.set(rdata, names);
  }
  return names;
}

/**
 * Writes into one buffer up to a size limit. Every write reports whether it fitted; a caller that
 * gets `false` rolls back to a mark, which also forgets compression targets past the mark.
 */
class WireWriter {
  off = 12;
  private targets = new Map<string, number>();
  private journal: string[] = [];

  constructor(readonly buf: Uint8Array, public limit: number) {}

  mark(): number {
    return this.off;
  }

  rollback(mark: number): void {
    this.off = mark;
    const j = this.journal;
    while (j.length > 0 && this.targets.get(j[j.length - 1])! >= mark) this.targets.delete(j.pop()!);
  }

  fits(n: number): boolean {
    return this.off + n <= this.limit;
  }

  u16(v: number): void {
    this.buf[this.off++] = v >>> 8;
    this.buf[this.off++] = v & 0xff;
  }

  u32(v: number): void {
    this.u16(v >>> 16);
    this.u16(v & 0xffff);
  }

  bytes(b: Uint8Array): boolean {
    if (!this.fits(b.length)) return false;
    this.buf.set(b, this.off);
    this.off += b.length;
    return true;
  }

  /** A name, compressed against earlier names when `compress` (RFC 1035 §4.1.4). */
  name(name: Name, compress: boolean): boolean {
    const labels = name.labels;
    let upto = labels.length;
    let ptr = -1;
    let keys: string[] | undefined;
    if (compress && labels.length > 0) {
      keys = suffixKeys(name);
      for (let i = 0; i < labels.length; i++) {
        const p = this.targets.get(keys[i]);
        if (p !== undefined) { ptr = p; upto = i; break; }
      }
    }
    let need = ptr >= 0 ? 2 : 1;
    for (let i = 0; i < upto; i++) need += labels[i].length + 1;
    if (!this.fits(need)) return false;
    for (let i = 0; i < upto; i++) {
      if (keys && this.off <= MAX_POINTER) {
        this.targets.set(keys[i], this.off);
        this.journal.push(keys[i]);
      }
      const l = labels[i];
      this.buf[this.off++] = l.length;
      this.buf.set(l, this.off);
      this.off += l.length;
    }
    if (ptr >= 0) this.u16(0xc000 | ptr);
    else this.buf[this.off++] = 0;
    return true;
  }

  question(q: { name: Name; type: number; class: number }): boolean {
    if (!this.name(q.name, true) || !this.fits(4)) return false;
    this.u16(q.type);
    this.u16(q.class);
    return true;
  }

  /** One RR; names in RDATA are compressed only where RFC 3597 §4 allows it. */
  rr(r: Rr): boolean {
    if (!this.name(r.name, true) || !this.fits(10)) return false;
    this.u16(r.type);
    this.u16(r.class);
    this.u32(r.ttl >>> 0);
    const lenAt = this.off;
    this.off += 2;
    const start = this.off;
    if (COMPRESSIBLE_TYPES.has(r.type)) {
      let pos = 0;
      for (const n of compressibleNames(r.type, r.rdata)) {
        if (!this.bytes(r.rdata.subarray(pos, n.offset)) || !this.name(n.name, true)) return false;
        pos = n.offset + n.length;
      }
      if (!this.bytes(pos === 0 ? r.rdata : r.rdata.subarray(pos))) return false;
    } else if (!this.bytes(r.rdata)) return false;
    const len = this.off - start;
    this.buf[lenAt] = len >>> 8;
    this.buf[lenAt + 1] = len & 0xff;
    return true;
  }

  /** All records or none (the caller rolls back on false). */
  rrs(list: readonly Rr[]): boolean {
    for (const r of list) if (!this.rr(r)) return false;
    return true;
  }

  /** The OPT pseudo-RR (RFC 6891 §6.1.2): root owner, CLASS = UDP size, TTL = ext-rcode | version 0 | flags. */
  opt(e: NonNullable<Response['edns']>, extRcode: number, options: readonly { code: number; data: Uint8Array }[]): boolean {
    if (!this.fits(optLength(options))) return false;
    this.buf[this.off++] = 0;
    this.u16(RRType.OPT);
    this.u16(e.udpSize);
    this.buf[this.off++] = extRcode & 0xff;
    this.buf[this.off++] = 0; // VERSION 0: the only one we speak
    this.u16((e.do ? EDNS_DO : 0) | (e.co ? EDNS_CO : 0));
    let rdlen = 0;
    for (const o of options) rdlen += 4 + o.data.length;
    this.u16(rdlen);
    for (const o of options) {
      this.u16(o.code);
      this.u16(o.data.length);
      this.buf.set(o.data, this.off);
      this.off += o.data.length;
    }
    return true;
  }

  header(h: { id: number; flags: number; qd: number; an: number; ns: number; ar: number }): void {
    const b = this.buf;
    const put = (at: number, v: number) => { b[at] = v >>> 8; b[at + 1] = v & 0xff; };
    put(0, h.id);
    put(2, h.flags);
    put(4, h.qd);
    put(6, h.an);
    put(8, h.ns);
    put(10, h.ar);
  }
}

function optLength(options: readonly { code: number; data: Uint8Array }[]): number {
  let n = 11;
  for (const o of options) n += 4 + o.data.length;
  return n;
}

/**
 * Groups records into RRsets, each followed by the RRSIGs covering it (the RRSIG's first two RDATA
 * octets are the type covered, RFC 4034 §3.1.1), in order of first appearance.
 */
function rrsetGroups(rrs: readonly Rr[]): Rr[][] {
  const groups: { data: Rr[]; sigs: Rr[] }[] = [];
  const index = new Map<string, { data: Rr[]; sigs: Rr[] }>();
  for (const r of rrs) {
    const isSig = r.type === RRType.RRSIG && r.rdata.length >= 2;
    const covered = isSig ? (r.rdata[0] << 8) | r.rdata[1] : r.type;
    const k = `${r.name.key} ${r.class} ${covered}`;
    let g = index.get(k);
    if (!g) {
      g = { data: [], sigs: [] };
      index.set(k, g);
      groups.push(g);
    }
    (isSig ? g.sigs : g.data).push(r);
  }
  return groups.map((g) => (g.sigs.length === 0 ? g.data : g.data.concat(g.sigs)));
}

/**
 * One scratch buffer for every call: encodeResponse is synchronous and returns a copy, so no two
 * messages ever share it.
 */
const scratch = new Uint8Array(65535);

/**
 * Encodes a response of at most `limit` - `reserve` octets (512 without EDNS, the client's EDNS size capped at our
 * own for UDP, 65535 for TCP; below 512 is read as 512, RFC 1035 §2.3.4). When the question, answer,
 * authority, required additional records and OPT do not fit, the result has TC=1 and keeps only the
 * header, question and OPT (RFC 2181 §9: never a partial RRset; the client retries over TCP).
 * Optional additional RRsets are added whole while they fit and otherwise left out without TC.
 */
export function encodeResponse(resp: Response, limit: number, reserve = 0): Uint8Array {
  // `reserve`: octets kept free for a record the caller appends after encoding (a TSIG, RFC 8945 §5.3), taken
  // from the limit after the 512 floor, so a signed UDP answer with its TSIG still fits the client's buffer.
  const max = (Number.isFinite(limit) ? Math.min(65535, Math.max(512, Math.floor(limit))) : 512) - Math.max(0, reserve);
  const w = new WireWriter(scratch, max);

  // An extended RCODE cannot be sent without an OPT; its low bits alone would claim something else
  // (BADVERS would read as NOERROR), so fail as SERVFAIL instead.
  let rcode = resp.rcode & 0xfff;
  if (rcode > 15 && !resp.edns) rcode = 2;

  // The OPT is always sent when asked for (RFC 6891 §7), so its space is reserved first. Options are
  // advisory (EDE, RFC 8914 §3): if they alone would not leave room for the question, drop them.
  let options = resp.edns?.options ?? [];
  const qLen = resp.question ? resp.question.name.wireLength + 4 : 0;
  if (resp.edns && 12 + qLen + optLength(options) > max) options = [];
  const optRoom = resp.edns ? optLength(options) : 0;

  w.limit = max - optRoom;
  if (resp.question && !w.question(resp.question)) {
    // Cannot happen within 512 octets (a name is at most 255); keep the header at least.
    w.rollback(12);
  }
  const afterQuestion = w.mark();
  const required = resp.requiredAdditional ?? [];
  let tc = resp.tc === true;
  let an = resp.answer.length;
  let ns = resp.authority.length;
  let ar = 0;
  if (w.rrs(resp.answer) && w.rrs(resp.authority) && w.rrs(required)) {
    ar = required.length;
    if (resp.additional.length > 0) {
      // Greedy over whole RRsets: a later, smaller RRset may still fit after a large one did not.
      for (const group of rrsetGroups(resp.additional)) {
        const m = w.mark();
        if (w.rrs(group)) ar += group.length;
        else w.rollback(m);
      }
    }
  } else {
    w.rollback(afterQuestion);
    tc = true;
    an = 0;
    ns = 0;
  }

  w.limit = max;
  if (resp.edns) {
    w.opt(resp.edns, rcode >> 4, options);
    ar += 1;
  }

  const flags =
    0x8000 |
    ((resp.opcode & 0xf) << 11) |
    (resp.aa ? 0x0400 : 0) |
    (tc ? 0x0200 : 0) |
    (resp.rd ? 0x0100 : 0) |
    (resp.ra ? 0x0080 : 0) |
    (resp.ad ? 0x0020 : 0) |
    (resp.cd ? 0x0010 : 0) |
    (rcode & 0xf);
  w.header({ id: resp.id, flags, qd: resp.question && afterQuestion > 12 ? 1 : 0, an, ns, ar });
  return scratch.slice(0, w.off);
}

const utf8 = new TextEncoder();

/** An Extended DNS Error option (RFC 8914 §2): INFO-CODE (16 bits) then optional UTF-8 EXTRA-TEXT. */
export function ede(code: number, text?: string): { code: number; data: Uint8Array } {
  const t = text ? utf8.encode(text) : new Uint8Array(0);
  const data = new Uint8Array(2 + t.length);
  data[0] = (code >>> 8) & 0xff;
  data[1] = code & 0xff;
  data.set(t, 2);
  return { code: EdnsOption.EDE, data };
}

export interface QueryOptions {
  /** Message ID; 0 unless given (randomness is the caller's input). */
  id?: number;
  opcode?: number;
  rd?: boolean;
  cd?: boolean;
  ad?: boolean;
  class?: number;
  /** Send an OPT record (default true). */
  edns?: boolean;
  udpSize?: number;
  do?: boolean;
  co?: boolean;
  options?: { code: number; data: Uint8Array }[];
}

/** A query message (RFC 1035 §4.1) with one question and, unless `edns: false`, an OPT record. */
export function encodeQuery(name: Name, type: number, opts: QueryOptions = {}): Uint8Array {
  const options = opts.options ?? [];
  const edns = opts.edns !== false;
  const w = new WireWriter(new Uint8Array(12 + name.wireLength + 4 + (edns ? optLength(options) : 0)), 65535);
  w.question({ name, type, class: opts.class ?? RRClass.IN });
  if (edns) w.opt({ udpSize: opts.udpSize ?? 1232, do: opts.do === true, co: opts.co === true, options }, 0, options);
  const flags =
    (((opts.opcode ?? 0) & 0xf) << 11) | (opts.rd ? 0x0100 : 0) | (opts.ad ? 0x0020 : 0) | (opts.cd ? 0x0010 : 0);
  w.header({ id: opts.id ?? 0, flags, qd: 1, an: 0, ns: 0, ar: edns ? 1 : 0 });
  return w.buf.slice(0, w.off);
}

/**
 * A response spread over several messages, as zone transfers send it over TCP (RFC 5936 §2.2): the
 * records in the order given, as many in each message as fit in `limit` octets (RFC 5936 §2.2 leaves
 * the packing to the server), each message complete in itself (compression never points into an
 * earlier message). The question goes in the first message and may be left out of later ones
 * (§2.2.1); the OPT, when the query had one, goes in the first message (§2.2.5). AA is set, TC never.
 */
export function* encodeStream(head: Omit<Response, 'answer' | 'authority' | 'additional'>, records: Iterable<Rr>, limit: number): Generator<Uint8Array> {
  const max = Math.min(65535, Math.max(512, Math.floor(limit)));
  let first = true;
  let w: WireWriter | undefined;
  let count = 0;
  const flags = 0x8000 | ((head.opcode & 0xf) << 11) | (head.aa ? 0x0400 : 0) | (head.rd ? 0x0100 : 0) | (head.cd ? 0x0010 : 0) | (head.rcode & 0xf);
  const open = (): WireWriter => {
    const writer = new WireWriter(scratch, max);
    const options = head.edns?.options ?? [];
    if (first && head.edns) writer.limit = max - optLength(options);
    if (first && head.question) writer.question(head.question);
    count = 0;
    return writer;
  };
  const close = (writer: WireWriter): Uint8Array => {
    let ar = 0;
    if (first && head.edns) {
      writer.limit = max;
      writer.opt(head.edns, head.rcode >> 4, head.edns.options);
      ar = 1;
    }
    writer.header({ id: head.id, flags, qd: first && head.question ? 1 : 0, an: count, ns: 0, ar });
    first = false;
    return scratch.slice(0, writer.off);
  };
  for (const rr of records) {
    w ??= open();
    const m = w.mark();
    if (w.rr(rr)) {
      count++;
      continue;
    }
    w.rollback(m);
    if (count === 0) throw new RangeError(`record ${rr.name.toString()} type ${rr.type} does not fit in a message of ${max} octets`);
    yield close(w);
    w = open();
    if (!w.rr(rr)) throw new RangeError(`record ${rr.name.toString()} type ${rr.type} does not fit in a message of ${max} octets`);
    count = 1;
  }
  yield close(w ?? open());
}

/** Any message with its sections as given (NOTIFY, IXFR queries with an SOA in authority): QR as `qr` says. */
export function encodeMessage(m: { id: number; qr: boolean; opcode: number; aa?: boolean; rd?: boolean; rcode?: number; question?: { name: Name; type: number; class: number }; answer?: Rr[]; authority?: Rr[]; additional?: Rr[] }): Uint8Array {
  const w = new WireWriter(scratch, 65535);
  if (m.question && !w.question(m.question)) throw new RangeError('question does not fit');
  const an = m.answer ?? [], ns = m.authority ?? [], ar = m.additional ?? [];
  if (!w.rrs(an) || !w.rrs(ns) || !w.rrs(ar)) throw new RangeError('message does not fit in 65535 octets');
  const flags = (m.qr ? 0x8000 : 0) | ((m.opcode & 0xf) << 11) | (m.aa ? 0x0400 : 0) | (m.rd ? 0x0100 : 0) | ((m.rcode ?? 0) & 0xf);
  w.header({ id: m.id, flags, qd: m.question ? 1 : 0, an: an.length, ns: ns.length, ar: ar.length });
  return scratch.slice(0, w.off);
}
