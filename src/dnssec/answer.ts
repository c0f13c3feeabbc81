// The signed answer for a DO=1 query of a signed zone (RFC 4035 §3.1): every authoritative RRset is
// followed by its RRSIG, and negative answers, wildcard answers and insecure referrals carry the
// denial records of the zone's method (denial/). A signing error rejects the promise: the caller
// answers SERVFAIL, never unsigned data from a signed zone (STYLE habit 13).
import type { Name } from '../dns/name.js';
import type { Rr, RRset } from '../dns/rr.js';
import { Rcode } from '../dns/types.js';
import type { Sections } from '../zone/sections.js';
import type { AnswerRRset, LookupResult, Zone } from '../zone/types.js';
import { denialMethod, type DenialCase, type DenialMethod } from './denial/index.js';
import { atOrBelowCut, DenialError } from './denial/nsec.js';
import type { DenialChain } from './chain.js';
import type { SignGate, ZoneSigning } from './types.js';

export interface AnswerQuery {
  name: Name;
  type: number;
  /** Compact Answers OK (RFC 9824 §5.1); the caller echoes it in the response's EDNS flags. */
  co: boolean;
  /** The query's signing budget (server/budget.ts): fresh signatures wait there; none: signed at once. */
  gate?: SignGate;
}

/** One RRset placed in a section, and whether (and how) it gets an RRSIG. */
interface Part {
  rrset: RRset;
  sign: boolean;
  wildcard?: Name;
  /** Only this answer carries it: signed without the signature cache. */
  once?: boolean;
  /** A link of the zone's chain: its RRSIGs are the chain's (signed at load). */
  link?: boolean;
}

const ONCE = { once: true } as const;

export async function signAnswer(zone: Zone, signing: ZoneSigning, result: LookupResult, q: AnswerQuery): Promise<Sections> {
  const method = denialMethod(zone.settings.denial);
  const links = method.chain ? signing.chain : undefined;
  // A chain mode without the chain of this very zone version is a preparation bug: fail closed (SERVFAIL).
  if (method.chain && (links?.kind !== method.chain || links.zone !== zone)) throw new DenialError(`zone ${zone.origin} has no ${method.chain.toUpperCase()} chain for this version`);
  const proofs = new Proofs(zone, method, signing.negativeTtl, links);
  const unsigned = (rrset: RRset): Part => ({ rrset, sign: false });
  const signed = (rrset: RRset): Part => ({ rrset, sign: true });
  let rcode: number = Rcode.NOERROR, aa = true;
  let answer: Part[], authority: Part[] = [], additional: Part[] = [];

  switch (result.kind) {
    case 'answer':
      answer = chain(result.answers, method, proofs);
      // Additional addresses of in-zone targets are authoritative data and signed (RFC 4035 §3.1.1);
      // those at or below a cut are glue and never signed (RFC 4035 §2.2).
      additional = result.additional.map((s) => (atOrBelowCut(zone, s.name) ? unsigned(s) : signed(s)));
      break;
    case 'referral':
      // A referral is not authoritative; after an in-zone alias AA describes the first answer owner (RFC 1035 §4.1.1).
      aa = result.chain.length > 0;
      answer = chain(result.chain, method, proofs);
      // RFC 4035 §3.1.4: NS unsigned (the child's data); DS with its RRSIG, or proof that there is none.
      authority = [unsigned(result.ns)];
      if (result.ds) authority.push(signed(result.ds));
      else proofs.add({ kind: 'insecure-referral', cut: result.cut });
      additional = result.glue.map(unsigned);
      break;
    case 'nxdomain':
      // RFC 6604 §3: after a chain the RCODE describes the last name.
      rcode = method.nxdomainRcode(q.co);
      answer = chain(result.chain, method, proofs);
      authority = [signed(zone.negativeSoa)];
      proofs.add({ kind: 'nxdomain', name: result.name, closestEncloser: result.closestEncloser });
      break;
    case 'nodata':
      answer = chain(result.chain, method, proofs);
      authority = [signed(zone.negativeSoa)];
      proofs.add(result.wildcard ? { kind: 'nodata', name: result.name, wildcard: result.wildcard } : { kind: 'nodata', name: result.name });
      break;
  }
  for (const p of proofs.parts) authority.push(p);

  const sections = [answer, authority, additional];
  const gate = q.gate;
  const plain = gate ? { gate } : undefined, once = gate ? { once: true, gate } : ONCE;
  const pending: (Rr[] | Promise<Rr[]>)[] = [];
  for (const parts of sections) {
    for (const p of parts) {
      if (!p.sign) continue;
      pending.push(p.link ? links!.rrsigs(p.rrset) : signing.signRrset(p.rrset, p.wildcard ? { wildcard: p.wildcard, gate } : p.once ? once : plain));
    }
  }
  const rrsigs = await Promise.all(pending);
  let next = 0;
  // Each RRset's records followed by its RRSIG(s), in section order (the order `pending` was filled in).
  const records = (parts: Part[]): Rr[] => {
    const out: Rr[] = [];
    for (const { rrset, sign } of parts) {
      for (const rdata of rrset.rdatas) out.push({ name: rrset.name, type: rrset.type, class: rrset.class, ttl: rrset.ttl, rdata });
      if (sign) for (const sig of rrsigs[next++]) out.push(sig);
    }
    return out;
  };
  const a = records(answer), ns = records(authority), ar = records(additional);
  return { rcode, aa, answer: a, authority: ns, additional: ar };
}

/**
 * The answer-section RRsets of a chain or an answer. A CNAME synthesized from a DNAME is not signed
 * (RFC 6672 §5.3.1: the validator synthesizes it from the signed DNAME). A wildcard answer is signed with
 * the wildcard's labels plus a proof of no closer match (RFC 4035 §3.1.3.3), or as an exact match in
 * compact mode (RFC 9824 §3.3).
 */
function chain(sets: readonly AnswerRRset[], method: DenialMethod, proofs: Proofs): Part[] {
  return sets.map((a): Part => {
    if (a.synthesized) return { rrset: a.rrset, sign: false };
    if (a.wildcard && !method.wildcardAsExact) {
      proofs.add({ kind: 'wildcard', name: a.rrset.name, wildcard: a.wildcard });
      return { rrset: a.rrset, sign: true, wildcard: a.wildcard };
    }
    return { rrset: a.rrset, sign: true };
  });
}

/** The denial RRsets of one response, each once (a CNAME chain may prove the same thing twice). */
class Proofs {
  readonly parts: Part[] = [];

  constructor(private readonly zone: Zone, private readonly method: DenialMethod, private readonly ttl: number, private readonly chain?: DenialChain) {}

  add(c: DenialCase): void {
    const once = c.kind === 'nxdomain' && this.method.oneOffNxdomain;
    const link = this.chain !== undefined;
    for (const rrset of this.chain ? this.chain.prove(c) : this.method.prove(this.zone, c, this.ttl)) {
      if (!this.parts.some((p) => p.rrset.type === rrset.type && p.rrset.name.equals(rrset.name))) this.parts.push({ rrset, sign: true, once, link });
    }
  }
}
