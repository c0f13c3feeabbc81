// Query parsing: the hot path of every request. Hand-written and allocation-light (no dns-packet):
// one pass over the header, the question and the remaining records, which are validated and skipped
// without allocating; only the question name and the OPT options become objects.

import { Name, NameError } from './name.js';
import { Opcode, RRType, Rcode } from './types.js';

/** The EDNS(0) data of a query's OPT record (RFC 6891 §6.1.2, §6.1.3; CO from RFC 9824 §5.1). */
export interface Edns {
  /** Requestor's UDP payload size; values below 512 are read as 512 (RFC 6891 §6.2.3). */
  udpSize: number;
  version: number;
  /** DNSSEC OK (RFC 3225). */
  do: boolean;
  /** Compact Answers OK (RFC 9824 §5.1). */
  co: boolean;
  options: { code: number; data: Uint8Array }[];
}

export interface Query {
  id: number;
  opcode: number;
  rd: boolean;
  cd: boolean;
  ad: boolean;
  /** The question name as sent, case kept (RFC 1035 §7.1; resolvers using 0x20 check it). */
  name: Name;
  type: number;
  class: number;
  /** Absent when the query had no OPT record. */
  edns?: Edns;
  /** Bytes of the query message. */
  size: number;
  /** Offset of the TSIG record (RFC 8945), present only when it is the one TSIG and the last record (§5.1). */
  tsig?: number;
}

export type ParseResult =
  | { ok: true; query: Query }
  | { ok: false; action: 'drop' }
  | {
      ok: false;
      action: 'reply';
      rcode: number;
      id: number;
      opcode: number;
      rd: boolean;
      cd: boolean;
      question?: { name: Name; type: number; class: number };
      edns?: Edns;
      /** As Query.tsig: the reply is to be signed when the request's TSIG verifies. */
      tsig?: number;
    };

/** Flag bits of the OPT TTL's low 16 bits (RFC 3225, RFC 9824 §5.1). */
export const EDNS_DO = 0x8000;
export const EDNS_CO = 0x4000;

const DROP: ParseResult = { ok: false, action: 'drop' };
/** What an unsigned query spreads into its result (no object per query). */
const UNSIGNED: { tsig?: number } = Object.freeze({});

/**
 * Skips a possibly compressed name without allocating; returns the offset after it or -1 when it is
 * malformed (RFC 1035 §4.1.4: pointers go back to a prior occurrence, labels are at most 63 octets
 * and the name at most 255).
 */
export function skipName(msg: Uint8Array, offset: number): number {
  let o = offset;
  let next = -1;
  let total = 1;
  for (;;) {
    if (o >= msg.length) return -1;
    const len = msg[o];
    if (len === 0) return next < 0 ? o + 1 : next;
    if ((len & 0xc0) === 0xc0) {
      if (o + 1 >= msg.length) return -1;
      const ptr = ((len & 0x3f) << 8) | msg[o + 1];
      // Only backward pointers: this also bounds the walk, so a loop cannot hang us.
      if (ptr >= o) return -1;
      if (next < 0) next = o + 2;
      o = ptr;
      continue;
    }
    if ((len & 0xc0) !== 0) return -1; // 0x40 / 0x80 label types are obsolete (RFC 6891 §5)
    total += len + 1;
    if (total > 255 || o + 1 + len > msg.length) return -1;
    o += 1 + len;
  }
}

function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

interface OptScan {
  /** Offset of the OPT owner name, or -1 when none was seen. */
  at: number;
  count: number;
  rootOwner: boolean;
}

/**
 * Parses a DNS query message (RFC 1035 §4.1). Answers `drop` for anything that must never be
 * answered (shorter than a header, or a response: QR=1, which also stops reflection loops), and a
 * `reply` with the RCODE to send for queries we cannot serve: NOTIMP for opcodes other than QUERY
 * (RFC 1035 §4.1.1) but NOTIFY and UPDATE, FORMERR for malformed messages and for a TSIG that is not the one and last record
 * (RFC 8945 §5.1), BADVERS for EDNS versions above 0 (RFC 6891
 * §6.1.3). Bytes after the last record are ignored: nothing in them is meaningful, and refusing
 * them would fail queries that still name a well-formed question (robustness, RFC 1123 §1.2.2).
 */
export function parseQuery(buf: Uint8Array): ParseResult {
  if (buf.length < 12) return DROP;
  const flags = u16(buf, 2);
  if (flags & 0x8000) return DROP;
  const id = u16(buf, 0);
  const opcode = (flags >> 11) & 0xf;
  const rd = (flags & 0x0100) !== 0;
  const ad = (flags & 0x0020) !== 0;
  const cd = (flags & 0x0010) !== 0;
  const qdcount = u16(buf, 4);
  const rrcount = u16(buf, 6) + u16(buf, 8);
  const arcount = u16(buf, 10);

  // Question: only the first one is kept (exactly one is allowed below).
  let question: { name: Name; type: number; class: number } | undefined;
  let off = 12;
  let malformed = false;
  for (let i = 0; i < qdcount; i++) {
    if (i === 0) {
      try {
        const r = Name.read(buf, off);
        off = r.next;
        if (off + 4 > buf.length) { malformed = true; break; }
        question = { name: r.name, type: u16(buf, off), class: u16(buf, off + 2) };
      } catch (e) {
        if (!(e instanceof NameError)) throw e;
        malformed = true;
        break;
      }
    } else {
      off = skipName(buf, off);
      if (off < 0 || off + 4 > buf.length) { malformed = true; break; }
    }
    off += 4;
  }

  // Answer and authority records are skipped; OPT belongs in the additional section only (RFC 6891 §6.1.1).
  const opt: OptScan = { at: -1, count: 0, rootOwner: false };
  let misplacedOpt = false;
  // RFC 8945 §5.1: one TSIG at most, and it must be the last record.
  let tsigAt = -1;
  let misplacedTsig = false;
  if (!malformed) {
    for (let i = 0; i < rrcount + arcount; i++) {
      const start = off;
      off = skipName(buf, off);
      if (off < 0 || off + 10 > buf.length) { malformed = true; break; }
      const type = u16(buf, off);
      const rdlength = u16(buf, off + 8);
      if (off + 10 + rdlength > buf.length) { malformed = true; break; }
      if (type === RRType.TSIG) {
        if (i === rrcount + arcount - 1) tsigAt = start;
        else misplacedTsig = true;
      }
      if (type === RRType.OPT) {
        if (i < rrcount) misplacedOpt = true;
        else {
          opt.count++;
          if (opt.at < 0) { opt.at = start; opt.rootOwner = buf[start] === 0; }
        }
      }
      off += 10 + rdlength;
    }
  }

  // One well-formed OPT (root owner, whole options) gives the EDNS data; anything else is FORMERR.
  let edns: Edns | undefined;
  let ednsBad = misplacedOpt || opt.count > 1 || (opt.count === 1 && !opt.rootOwner);
  if (!malformed && !ednsBad && opt.count === 1) {
    edns = readOpt(buf, opt.at + 1);
    if (!edns) ednsBad = true;
  }

  const tsig = malformed || misplacedTsig || tsigAt < 0 ? UNSIGNED : { tsig: tsigAt };
  const reply = (rcode: number, q: typeof question, e: Edns | undefined): ParseResult => ({
    ok: false, action: 'reply', rcode, id, opcode, rd, cd,
    ...(q && qdcount === 1 ? { question: q } : {}),
    ...(e ? { edns: e } : {}),
    ...tsig,
  });

  // Unknown opcodes may use another message layout, so they are NOTIMP whatever follows the header.
  // NOTIFY (RFC 1996 §3.7) has the query layout: one question, the SOA hint in the answer section. So has UPDATE
  // (RFC 2136 §2): the zone section is the question (one, else FORMERR, §3.1.1), prerequisites and updates follow.
  if (opcode !== Opcode.QUERY && opcode !== Opcode.NOTIFY && opcode !== Opcode.UPDATE) return reply(Rcode.NOTIMP, question, malformed ? undefined : edns);
  if (malformed) return reply(Rcode.FORMERR, question, undefined);
  if (misplacedTsig) return reply(Rcode.FORMERR, question, undefined);
  if (qdcount !== 1 || !question) return reply(Rcode.FORMERR, undefined, edns);
  if (ednsBad) return reply(Rcode.FORMERR, question, undefined);
  if (edns && edns.version > 0) return reply(Rcode.BADVERS, question, edns);

  return {
    ok: true,
    query: { id, opcode, rd, cd, ad, name: question.name, type: question.type, class: question.class, ...(edns ? { edns } : {}), size: buf.length, ...tsig },
  };
}

/** Reads the OPT fields after its root owner (RFC 6891 §6.1.2); undefined when an option overruns. */
export function readOpt(buf: Uint8Array, off: number): Edns | undefined {
  const size = u16(buf, off + 2);
  const version = buf[off + 5];
  const flags = u16(buf, off + 6);
  const rdlength = u16(buf, off + 8);
  const options: { code: number; data: Uint8Array }[] = [];
  let o = off + 10;
  const end = o + rdlength;
  while (o < end) {
    if (o + 4 > end) return undefined;
    const code = u16(buf, o);
    const len = u16(buf, o + 2);
    if (o + 4 + len > end) return undefined;
    // Copied: the receive buffer may be reused by the transport.
    options.push({ code, data: buf.slice(o + 4, o + 4 + len) });
    o += 4 + len;
  }
  return {
    udpSize: size < 512 ? 512 : size,
    version,
    do: (flags & EDNS_DO) !== 0,
    co: (flags & EDNS_CO) !== 0,
    options,
  };
}
