// Zone transfers out: AXFR (RFC 5936) and IXFR (RFC 1995) answers as a stream of messages, each signed
// when the request was (RFC 8945 §5.3.1: every message of a TSIG-signed TCP stream).
import type { Query } from '../dns/query.js';
import type { Rr } from '../dns/rr.js';
import { Name } from '../dns/name.js';
import { RRType, Rcode } from '../dns/types.js';
import { encodeStream, type Response } from '../dns/writer.js';
import { serialCompare } from './serial.js';
import { soaSerial, withSerial } from '../state/version.js';
import type { Change } from './journal.js';

/** What an answer stream needs from the request. */
export interface XfrRequest {
  query: Query;
  /** Signs each message (TSIG), with the bytes it adds. */
  sign?: { sign(msg: Uint8Array): Uint8Array; overhead: number };
}

/** The parts of a transfer answer: the served SOA, and the body as records or IXFR changes. */
export type XfrBody =
  | { kind: 'soa-only' }
  | { kind: 'full'; records: Iterable<Rr> }
  | { kind: 'incremental'; changes: Change[] };

/** The header every message of the answer shares (RFC 5936 §2.2.1: ID copied, AA set, opcode 0). */
function head(query: Query, rcode: number = Rcode.NOERROR): Omit<Response, 'answer' | 'authority' | 'additional'> {
  return {
    id: query.id, opcode: query.opcode, aa: rcode === Rcode.NOERROR, rd: query.rd, cd: query.cd, rcode,
    question: { name: query.name, type: query.type, class: query.class },
    edns: query.edns ? { udpSize: 1232, do: query.edns.do, co: false, options: [] } : undefined,
  };
}

/**
 * The records of the answer in order, framed by the current SOA:
 * - full (AXFR, or IXFR without the history asked for, RFC 1995 §4): SOA, every record, SOA;
 * - incremental (RFC 1995 §4): SOA, then per change old SOA, deletions, new SOA, additions, then SOA;
 * - soa-only (RFC 1995 §2: the client is current or newer): the SOA alone.
 * `records` of a full body start with the SOA (transfer/content.ts), which is not repeated.
 */
export function* framed(soa: Rr, body: XfrBody): Generator<Rr> {
  yield soa;
  if (body.kind === 'soa-only') return;
  if (body.kind === 'full') {
    let first = true;
    for (const r of body.records) {
      if (first && r.type === RRType.SOA) { first = false; continue; }
      first = false;
      yield r;
    }
  } else {
    for (const c of body.changes) {
      yield { ...soa, rdata: withSerial(soa.rdata, c.from) };
      yield* c.deleted;
      yield { ...soa, rdata: withSerial(soa.rdata, c.to) };
      yield* c.added;
    }
  }
  yield soa;
}

/** The answer as messages of at most 64 KiB (less the TSIG), each signed when asked. */
export function* xfrMessages(req: XfrRequest, soa: Rr, body: XfrBody): Generator<Uint8Array> {
  const limit = 65535 - (req.sign?.overhead ?? 0);
  for (const msg of encodeStream(head(req.query), framed(soa, body), limit)) yield req.sign ? req.sign.sign(msg) : msg;
}

/** An error answer (REFUSED, NOTAUTH, FORMERR, NOTIMP, SERVFAIL): one message with the question. */
export function xfrError(req: XfrRequest, rcode: number): Uint8Array {
  const [msg] = encodeStream(head(req.query, rcode), [], 512);
  return req.sign ? req.sign.sign(msg) : msg;
}

/**
 * The serial of the SOA an IXFR query carries in its authority section (RFC 1995 §3), or undefined when
 * the query has none (or one for another name): FORMERR.
 */
export function ixfrSerial(msg: Uint8Array, zone: Name): number | undefined {
  try {
    const qd = (msg[4] << 8) | msg[5], an = (msg[6] << 8) | msg[7], ns = (msg[8] << 8) | msg[9];
    if (qd !== 1 || an !== 0 || ns < 1) return undefined;
    let o = Name.read(msg, 12).next + 4;
    const owner = Name.read(msg, o);
    o = owner.next;
    const type = (msg[o] << 8) | msg[o + 1];
    const rdlen = (msg[o + 8] << 8) | msg[o + 9];
    if (type !== RRType.SOA || !owner.name.equals(zone) || o + 10 + rdlen > msg.length) return undefined;
    // The SOA names may be compressed: skip them in the message, then read the serial.
    let p = o + 10;
    p = Name.read(msg, p).next;
    p = Name.read(msg, p).next;
    if (p + 4 > o + 10 + rdlen) return undefined;
    return ((msg[p] << 24) | (msg[p + 1] << 16) | (msg[p + 2] << 8) | msg[p + 3]) >>> 0;
  } catch {
    return undefined;
  }
}

/** RFC 1995 §2 (errata 3196): a client at the current serial or newer gets the SOA alone. */
export function clientIsCurrent(client: number, current: number): boolean {
  const c = serialCompare(client, current);
  return c === 0 || c === 1;
}

export { soaSerial };
