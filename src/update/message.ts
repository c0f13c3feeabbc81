// An RFC 2136 UPDATE message as data: the zone (§2.3), the prerequisites (§2.4) and the updates (§2.5), with
// the checks that need no zone data: the zone section (§3.1.1), the form of each prerequisite (§3.2.1-§3.2.3:
// TTL 0, RDATA empty for class ANY/NONE, known classes) and the prescan of the update section (§3.4.1).
// What fails here is FORMERR or NOTZONE; the rest is decided against the zone (prereq.ts, state/update-apply.ts).
import type { Message, MessageRr } from '../dns/reader.js';
import type { Name } from '../dns/name.js';
import { Rcode, RRClass, RRType, typeName } from '../dns/types.js';
import { checkRdata } from '../dns/rdata.js';
import type { UpdateOp } from '../state/update-apply.js';

/** One prerequisite (RFC 2136 §2.4), by its class. */
export type Prerequisite =
  /** §2.4.4 (type ANY): the name has some RR; §2.4.1: an RRset of this type exists. */
  | { kind: 'in-use'; name: Name; type: number }
  /** §2.4.5 (type ANY): the name has no RR; §2.4.3: no RRset of this type. */
  | { kind: 'not-in-use'; name: Name; type: number }
  /** §2.4.2: the RRset exists with exactly these RDATAs (all RRs of one name and type together). */
  | { kind: 'value'; name: Name; type: number; rdatas: Uint8Array[] };

export interface UpdateRequest {
  zone: Name;
  prerequisites: Prerequisite[];
  ops: UpdateOp[];
}

export type UpdateParse =
  | { ok: true; update: UpdateRequest }
  | { ok: false; rcode: number; reason: string };

/** Types that only ask questions (RFC 1035 §3.2.3, RFC 2136 §3.4.1.3): never data. */
const QUERY_ONLY = new Set<number>([RRType.AXFR, RRType.IXFR, RRType.MAILA, RRType.MAILB]);

const fail = (rcode: number, reason: string): UpdateParse => ({ ok: false, rcode, reason });
const at = (rr: MessageRr) => `${rr.name} ${typeName(rr.type)}`;

/**
 * The zone section alone (RFC 2136 §3.1.1): exactly one record, of type SOA, else FORMERR. Class IN is the
 * only one served: another class is a zone we are not authoritative for (NOTAUTH, §3.1.2).
 */
export function updateZone(msg: Message): { ok: true; zone: Name } | { ok: false; rcode: number; reason: string } {
  if (msg.question.length !== 1) return { ok: false, rcode: Rcode.FORMERR, reason: `zone section holds ${msg.question.length} records, not one (RFC 2136 §3.1.1)` };
  const q = msg.question[0];
  if (q.type !== RRType.SOA) return { ok: false, rcode: Rcode.FORMERR, reason: `zone section type ${typeName(q.type)}, not SOA (RFC 2136 §3.1.1)` };
  if (q.class !== RRClass.IN) return { ok: false, rcode: Rcode.NOTAUTH, reason: `zone class ${q.class}: only IN zones are served` };
  return { ok: true, zone: q.name };
}

/** Reads the prerequisite and update sections of an UPDATE for `zone` (answer and authority of the message). */
export function parseUpdate(msg: Message, zone: Name): UpdateParse {
  const prerequisites: Prerequisite[] = [];
  const values = new Map<string, Extract<Prerequisite, { kind: 'value' }>>();
  // §3.2: prerequisites.
  for (const rr of msg.answer) {
    if (rr.ttl !== 0) return fail(Rcode.FORMERR, `prerequisite ${at(rr)}: TTL ${rr.ttl}, must be 0 (RFC 2136 §3.2.1)`);
    if (!rr.name.isSubdomainOf(zone)) return fail(Rcode.NOTZONE, `prerequisite ${at(rr)} is outside the zone ${zone} (RFC 2136 §3.2)`);
    if (rr.class === RRClass.ANY || rr.class === RRClass.NONE) {
      if (rr.rdata.length !== 0) return fail(Rcode.FORMERR, `prerequisite ${at(rr)} class ${rr.class === RRClass.ANY ? 'ANY' : 'NONE'} carries RDATA (RFC 2136 §3.2.1)`);
      if (QUERY_ONLY.has(rr.type)) return fail(Rcode.FORMERR, `prerequisite ${at(rr)}: not a record type (RFC 2136 §3.2.1)`);
      prerequisites.push({ kind: rr.class === RRClass.ANY ? 'in-use' : 'not-in-use', name: rr.name, type: rr.type });
    } else if (rr.class === RRClass.IN) {
      if (rr.type === RRType.ANY || QUERY_ONLY.has(rr.type)) return fail(Rcode.FORMERR, `prerequisite ${at(rr)}: class IN needs a record type (RFC 2136 §3.2.3)`);
      // §3.2.3: RRs of one name and type form one RRset that must match the zone's exactly.
      const key = `${rr.name.key}|${rr.type}`;
      let p = values.get(key);
      if (!p) {
        p = { kind: 'value', name: rr.name, type: rr.type, rdatas: [] };
        values.set(key, p);
        prerequisites.push(p);
      }
      p.rdatas.push(rr.rdata);
    } else return fail(Rcode.FORMERR, `prerequisite ${at(rr)}: class ${rr.class} (RFC 2136 §3.2.4)`);
  }

  // §3.4.1: prescan of the update section, before anything is applied.
  const ops: UpdateOp[] = [];
  for (const rr of msg.authority) {
    if (!rr.name.isSubdomainOf(zone)) return fail(Rcode.NOTZONE, `update ${at(rr)} is outside the zone ${zone} (RFC 2136 §3.4.1.3)`);
    if (rr.class === RRClass.IN) {
      if (rr.type === RRType.ANY || QUERY_ONLY.has(rr.type) || rr.type === RRType.OPT || rr.type === RRType.TSIG || rr.type === RRType.TKEY) {
        return fail(Rcode.FORMERR, `update ${at(rr)}: not a type that can be added (RFC 2136 §3.4.1.3)`);
      }
      try {
        checkRdata(rr.type, rr.rdata);
      } catch (err) {
        return fail(Rcode.FORMERR, `update ${at(rr)}: ${(err as Error).message}`);
      }
      ops.push({ op: 'add', rr: { name: rr.name, type: rr.type, class: rr.class, ttl: rr.ttl, rdata: rr.rdata } });
    } else if (rr.class === RRClass.ANY) {
      if (rr.ttl !== 0 || rr.rdata.length !== 0 || QUERY_ONLY.has(rr.type)) {
        return fail(Rcode.FORMERR, `update ${at(rr)} class ANY: TTL and RDATA must be empty, the type a record type or ANY (RFC 2136 §3.4.1.3)`);
      }
      ops.push(rr.type === RRType.ANY ? { op: 'delete-name', name: rr.name } : { op: 'delete-rrset', name: rr.name, type: rr.type });
    } else if (rr.class === RRClass.NONE) {
      if (rr.ttl !== 0 || rr.type === RRType.ANY || QUERY_ONLY.has(rr.type)) {
        return fail(Rcode.FORMERR, `update ${at(rr)} class NONE: TTL must be 0 and the type a record type (RFC 2136 §3.4.1.3)`);
      }
      ops.push({ op: 'delete-rr', name: rr.name, type: rr.type, rdata: rr.rdata });
    } else return fail(Rcode.FORMERR, `update ${at(rr)}: class ${rr.class} (RFC 2136 §3.4.1.3)`);
  }
  return { ok: true, update: { zone, prerequisites, ops } };
}
