// The general DNS message reader (RFC 1035 §4.1) for everything that is not the hot-path query (query.ts):
// zone transfer responses, NOTIFY, UPDATE and TSIG verification. One linear pass over the message; every
// record's RDATA comes out in uncompressed wire form (rdata.ts readRdata, RFC 3597 §4), the OPT (RFC 6891)
// and TSIG (RFC 8945) records are taken out of the additional section and surfaced on their own. It never
// throws on bad input: a malformed message is a typed error with the offset where reading stopped.
import { Name, NameError } from './name.js';
import type { Rr } from './rr.js';
import { RRClass, RRType } from './types.js';
import { readRdata, RdataError } from './rdata.js';
import { readOpt, skipName, type Edns } from './query.js';
import { Reader } from './rdata/wire.js';

/** A record as read from a message, with the offset of its owner name (where the record starts). */
export interface MessageRr extends Rr {
  offset: number;
}

export interface Question {
  name: Name;
  type: number;
  class: number;
}

/** The OPT pseudo-record (RFC 6891 §6.1.2): the EDNS data of query.ts plus what a response carries. */
export interface OptRecord extends Edns {
  offset: number;
  /** The upper 8 bits of the 12-bit RCODE (RFC 6891 §6.1.3). */
  extendedRcode: number;
}

/** The TSIG record (RFC 8945 §4.2), always the last record of the message when present. */
export interface TsigRecord {
  /** Where the TSIG RR starts: the MAC covers the message up to here (RFC 8945 §4.3). */
  offset: number;
  /** The key name (the owner). */
  name: Name;
  algorithm: Name;
  /** Seconds since the epoch (48 bits). */
  timeSigned: number;
  fudge: number;
  mac: Uint8Array;
  originalId: number;
  /** TSIG error (RFC 8945 §3: BADSIG 16, BADKEY 17, BADTIME 18, BADTRUNC 22). */
  error: number;
  other: Uint8Array;
}

export interface Message {
  id: number;
  /** The 16 flag bits of the header as sent. */
  flags: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  ad: boolean;
  cd: boolean;
  /** The full RCODE: the header's 4 bits plus the OPT's upper 8 (RFC 6891 §6.1.3). */
  rcode: number;
  question: Question[];
  answer: MessageRr[];
  authority: MessageRr[];
  /** The additional section without the OPT and TSIG records. */
  additional: MessageRr[];
  opt?: OptRecord;
  tsig?: TsigRecord;
  /** Octets of the message; bytes after the last record are ignored (as query.ts does). */
  size: number;
}

export type ReadErrorCode = 'header' | 'question' | 'record' | 'rdata' | 'opt' | 'tsig';

export interface ReadError {
  code: ReadErrorCode;
  /** Offset where reading stopped (the start of the question or record at fault). */
  offset: number;
  reason: string;
}

export type ReadResult = { ok: true; message: Message } | { ok: false; error: ReadError };

export interface ReadOptions {
  /**
   * Skip answer, authority and ordinary additional records without building them (header, question, OPT and
   * TSIG are still read and checked): what TSIG verification and request dispatch need.
   */
  skipRecords?: boolean;
}

const u16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const u32 = (b: Uint8Array, o: number) => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;

class Stop {
  constructor(readonly error: ReadError) {}
}
function stop(code: ReadErrorCode, offset: number, reason: string): never {
  throw new Stop({ code, offset, reason });
}

function readName(msg: Uint8Array, offset: number, code: ReadErrorCode, what: string): { name: Name; next: number } {
  try {
    return Name.read(msg, offset);
  } catch (e) {
    if (e instanceof NameError) return stop(code, offset, `${what}: ${e.message}`);
    throw e;
  }
}

/** TSIG RDATA (RFC 8945 §4.2). The algorithm name is never compressed (RFC 3597 §4: not an RFC 1035 type). */
function readTsigRdata(msg: Uint8Array, offset: number, name: Name, start: number, length: number): TsigRecord {
  const r = new Reader(msg.subarray(start, start + length));
  try {
    const algorithm = r.name('algorithm name');
    const high = r.u16('time signed');
    const timeSigned = high * 2 ** 32 + r.u32('time signed');
    const fudge = r.u16('fudge');
    const mac = r.bytes(r.u16('MAC size'), 'MAC').slice();
    const originalId = r.u16('original ID');
    const error = r.u16('error');
    const other = r.bytes(r.u16('other length'), 'other data').slice();
    if (r.remaining > 0) stop('tsig', offset, `TSIG RDATA: ${r.remaining} octets of trailing garbage`);
    return { offset, name, algorithm, timeSigned, fudge, mac, originalId, error, other };
  } catch (e) {
    if (e instanceof RdataError) return stop('tsig', offset, `TSIG RDATA: ${e.message}`);
    throw e;
  }
}

/** Reads a whole message. Linear in its size; allocations are the records themselves. */
export function readMessage(msg: Uint8Array, opts: ReadOptions = {}): ReadResult {
  try {
    return { ok: true, message: read(msg, opts.skipRecords === true) };
  } catch (e) {
    if (e instanceof Stop) return { ok: false, error: e.error };
    throw e;
  }
}

function read(msg: Uint8Array, skip: boolean): Message {
  const len = msg.length;
  if (len < 12) stop('header', 0, `${len} octets: shorter than a DNS header (RFC 1035 §4.1.1)`);
  const flags = u16(msg, 2);
  const qd = u16(msg, 4), an = u16(msg, 6), ns = u16(msg, 8), ar = u16(msg, 10);
  const m: Message = {
    id: u16(msg, 0), flags, qr: (flags & 0x8000) !== 0, opcode: (flags >> 11) & 0xf, aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0, rd: (flags & 0x0100) !== 0, ra: (flags & 0x0080) !== 0, ad: (flags & 0x0020) !== 0,
    cd: (flags & 0x0010) !== 0, rcode: flags & 0xf, question: [], answer: [], authority: [], additional: [], size: len,
  };

  let o = 12;
  for (let i = 0; i < qd; i++) {
    const { name, next } = readName(msg, o, 'question', `question ${i + 1}`);
    if (next + 4 > len) stop('question', o, `question ${i + 1} runs past the end of the message`);
    m.question.push({ name, type: u16(msg, next), class: u16(msg, next + 2) });
    o = next + 4;
  }

  const sections = [m.answer, m.authority, m.additional];
  const counts = [an, ns, ar];
  const names = ['answer', 'authority', 'additional'];
  for (let s = 0; s < 3; s++) {
    const into = sections[s];
    for (let i = 0; i < counts[s]; i++) {
      const start = o;
      // The type decides what to build, so owner names are first skipped (no allocation) and read only when kept.
      const after = skipName(msg, o);
      if (after < 0) {
        readName(msg, o, 'record', `${names[s]} record ${i + 1} owner`); // says why
        stop('record', o, `${names[s]} record ${i + 1}: bad owner name`);
      }
      if (after + 10 > len) stop('record', start, `${names[s]} record ${i + 1} runs past the end of the message`);
      const type = u16(msg, after);
      const klass = u16(msg, after + 2);
      const ttl = u32(msg, after + 4);
      const rdlength = u16(msg, after + 8);
      const rdStart = after + 10;
      if (rdStart + rdlength > len) stop('record', start, `${names[s]} record ${i + 1}: RDATA runs past the end of the message`);
      o = rdStart + rdlength;

      if (type === RRType.OPT) {
        if (s !== 2) stop('opt', start, `OPT in the ${names[s]} section (RFC 6891 §6.1.1: additional only)`);
        if (m.opt) stop('opt', start, 'more than one OPT record (RFC 6891 §6.1.1)');
        if (msg[start] !== 0) stop('opt', start, 'OPT owner is not the root (RFC 6891 §6.1.2)');
        const edns = readOpt(msg, start + 1);
        if (!edns) stop('opt', start, 'OPT option runs past its RDATA (RFC 6891 §6.1.2)');
        m.opt = { ...edns, offset: start, extendedRcode: msg[start + 5] };
        m.rcode |= msg[start + 5] << 4;
        continue;
      }
      if (type === RRType.TSIG) {
        // RFC 8945 §5.1: exactly one TSIG, the last record of the additional section (a second one is not last).
        if (s !== 2 || i !== ar - 1) stop('tsig', start, 'TSIG is not the last record of the message (RFC 8945 §5.1)');
        if (klass !== RRClass.ANY) stop('tsig', start, `TSIG class ${klass}, not ANY (RFC 8945 §4.2)`);
        const { name } = readName(msg, start, 'tsig', 'TSIG owner');
        m.tsig = readTsigRdata(msg, start, name, rdStart, rdlength);
        continue;
      }
      if (skip) continue;
      const { name } = readName(msg, start, 'record', `${names[s]} record ${i + 1} owner`);
      let rdata: Uint8Array;
      try {
        // UPDATE prerequisites and deletes of class ANY or NONE carry no RDATA (RFC 2136 §2.4, §2.5): nothing to walk.
        rdata = rdlength === 0 && (klass === RRClass.ANY || klass === RRClass.NONE) ? new Uint8Array(0) : readRdata(type, msg, rdStart, rdlength);
      } catch (e) {
        if (e instanceof RdataError) stop('rdata', start, `${names[s]} record ${i + 1} (${name}): ${e.message}`);
        throw e;
      }
      into.push({ name, type, class: klass, ttl, rdata, offset: start });
    }
  }
  return m;
}
