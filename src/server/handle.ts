// The request path as one straight line: parse -> zone -> lookup -> (sign) -> wire (STYLE "request path").
import type { Logger } from 'pino';
import { encodeResponse, ede, parseQuery, type Query, type Response } from '../dns/message.js';
import { EdeCode, Rcode, RRClass, RRType } from '../dns/types.js';
import { lookup } from '../zone/lookup.js';
import { toSections, type Sections } from '../zone/sections.js';
import { signAnswer } from '../dnssec/answer.js';
import type { Served } from '../state/manager.js';

export type Transport = 'udp' | 'tcp';

/** Our EDNS UDP payload size (DNS Flag Day 2020; RFC 6891 §6.2.5). */
export const EDNS_UDP_SIZE = 1232;

export interface Handler {
  (msg: Uint8Array, transport: Transport): Promise<Uint8Array | null>;
}

export function createHandler(served: () => Served, logger: Logger): Handler {
  return async (msg, transport) => {
    const parsed = parseQuery(msg);
    if (!parsed.ok) {
      if (parsed.action === 'drop') return null;
      return encodeResponse(
        {
          id: parsed.id, opcode: parsed.opcode, aa: false, rd: parsed.rd, cd: parsed.cd, rcode: parsed.rcode,
          question: parsed.question, answer: [], authority: [], additional: [],
          edns: parsed.edns || parsed.rcode === Rcode.BADVERS ? { udpSize: EDNS_UDP_SIZE, do: parsed.edns?.do ?? false, co: false, options: [] } : undefined,
        },
        transport === 'tcp' ? 65535 : 512,
      );
    }
    const query = parsed.query;
    const limit = transport === 'tcp' ? 65535 : query.edns ? Math.min(Math.max(query.edns.udpSize, 512), EDNS_UDP_SIZE) : 512;
    let resp: Response;
    try {
      resp = await answer(query, served());
    } catch (err) {
      // Fail closed (STYLE habit 13): never an unsigned or half-built answer.
      logger.error({ err, qname: query.name.toString(), qtype: query.type }, 'answer failed, SERVFAIL');
      resp = base(query, Rcode.SERVFAIL);
    }
    if (logger.isLevelEnabled('debug')) {
      logger.debug({ qname: query.name.toString(), qtype: query.type, transport, rcode: resp.rcode, an: resp.answer.length, ns: resp.authority.length }, 'query');
    }
    return encodeResponse(resp, limit);
  };
}

function base(query: Query, rcode: number, options: { code: number; data: Uint8Array }[] = []): Response {
  return {
    id: query.id, opcode: query.opcode, aa: false, rd: query.rd, cd: query.cd, rcode,
    question: { name: query.name, type: query.type, class: query.class },
    answer: [], authority: [], additional: [],
    // RFC 6891 §7: OPT only when the query had one; RFC 3225 / RFC 6840 §5.6: DO copied; RFC 9824 §5.1: CO echoed.
    edns: query.edns ? { udpSize: EDNS_UDP_SIZE, do: query.edns.do, co: query.edns.co, options } : undefined,
  };
}

/** The answer to one well-formed query. */
export async function answer(query: Query, served: Served): Promise<Response> {
  if (query.class !== RRClass.IN) return base(query, Rcode.REFUSED);
  // RFC 9824 §3.5: an explicit query for the NXNAME meta-type is FORMERR, with EDE 30.
  if (query.type === RRType.NXNAME) return base(query, Rcode.FORMERR, [ede(EdeCode.INVALID_QUERY_TYPE, 'NXNAME is a meta-type')]);
  if (query.type === RRType.AXFR || query.type === RRType.IXFR) return base(query, Rcode.REFUSED);
  if (query.type === RRType.OPT || query.type === RRType.TKEY || query.type === RRType.TSIG || query.type === RRType.MAILA || query.type === RRType.MAILB) {
    return base(query, Rcode.FORMERR);
  }
  // RFC 4035 §3.1.4.1: a DS query for a served child apex goes to the parent zone when we serve that too.
  const zone = served.zones.forQuery(query.name, query.type);
  if (!zone) return base(query, Rcode.REFUSED);
  const result = lookup(zone, query.name, query.type);
  const signing = served.signing.get(zone.origin.key);
  const sections: Sections =
    signing && query.edns?.do
      ? await signAnswer(zone, signing, result, { name: query.name, type: query.type, co: query.edns.co })
      : toSections(zone, result);
  return { ...base(query, sections.rcode), aa: sections.aa, answer: sections.answer, authority: sections.authority, additional: sections.additional };
}
