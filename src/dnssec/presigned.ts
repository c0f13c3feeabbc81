// The answer of a pre-signed zone (issue 11, `zone.dnssec.presigned`): the records came signed, so a DO=1
// answer is put together from the zone's own RRSIGs and its NSEC or NSEC3 chain (indexed at load,
// zone/presigned.ts) with no signing at all: RFC 4035 §3.1 says what goes where, RFC 5155 §7.2 which NSEC3
// records prove what. What the data lacks (an RRSIG, a proof) is left out and named in `missing`, for the
// caller's one log line per zone: a broken zone gets the answer that exists, and a validator decides.
import type { Name } from '../dns/name.js';
import type { Rr, RRset } from '../dns/rr.js';
import { Rcode, RRType, typeName } from '../dns/types.js';
import { toSections, type Sections } from '../zone/sections.js';
import type { AnswerRRset, LookupResult, PresignedData, Zone } from '../zone/types.js';
import { rrsigTimes, sigsFor } from '../zone/presigned.js';
import type { DenialCase } from './denial/index.js';
import { DenialError } from './denial/nsec.js';
import { nsec3HashWith } from './denial/nsec3.js';
import { chainProof, type ProofSink } from './chainproof.js';

export interface PresignedQuery {
  name: Name;
  type: number;
  /** The query's DO bit (RFC 3225): without it only an explicit RRSIG query gets DNSSEC records here. */
  dnssecOk: boolean;
  /** Epoch seconds, to read the RRSIGs' 32-bit expiration times (RFC 4034 §3.1.5, RFC 1982). */
  now: number;
}

export interface PresignedAnswer {
  sections: Sections;
  /** The earliest expiration of the RRSIGs in the answer (epoch seconds; Infinity when it has none). */
  until: number;
  /** What the zone lacks for this answer, e.g. `www A: no RRSIG`; empty for a complete answer. */
  missing: string[];
}

/**
 * True when a query to a pre-signed zone takes this path: DO=1, or an explicit RRSIG query (RFC 3225 §3:
 * DNSSEC records asked for by type are answered without DO; DNSKEY, NSEC and the like are ordinary tree data).
 */
export function wantsPresigned(zone: Zone, type: number, dnssecOk: boolean): boolean {
  return zone.presigned !== undefined && (dnssecOk || type === RRType.RRSIG);
}

/** The sections for `result` (lookup's, for `q`) with the zone's RRSIGs and denial records. */
export function presignedAnswer(zone: Zone, result: LookupResult, q: PresignedQuery): PresignedAnswer {
  const data = zone.presigned;
  if (!data) throw new RangeError(`${zone.origin} is not a pre-signed zone`);
  const b = new Builder(zone, data, q.now);

  // An explicit RRSIG query gets every signature at the name (as BIND and Knot answer it), DO or not; the
  // name must be one of the zone's (an NSEC3 owner is not, RFC 5155 §7.2.8) and not below a cut.
  const sigs = q.type === RRType.RRSIG && result.kind !== 'referral' && zone.nodes.has(q.name.key) ? data.rrsigs.get(q.name.key) : undefined;
  if (sigs) {
    for (const s of sigs) b.records(b.answer, { ...s, name: q.name });
    return b.finish(Rcode.NOERROR, true);
  }
  if (!q.dnssecOk) return { sections: toSections(zone, result), until: Infinity, missing: [] };

  switch (result.kind) {
    case 'answer': {
      const last = result.answers.length - 1;
      const answers = q.type === RRType.ANY && last >= 0 ? [...result.answers.slice(0, last), anyAnswer(zone, data, result.answers[last])] : result.answers;
      b.chain(answers);
      // Addresses of in-zone targets carry their RRSIG when they are authoritative; glue has none (RFC 4035 §2.2).
      for (const s of result.additional) b.signed(b.additional, s, s.name, false);
      return b.finish(Rcode.NOERROR, true);
    }
    case 'referral':
      // RFC 4035 §3.1.4: NS and glue unsigned (the child's data); the DS with its RRSIG, or proof there is none.
      b.chain(result.chain);
      b.unsigned(b.authority, result.ns);
      if (result.ds) b.signed(b.authority, result.ds);
      else b.deny({ kind: 'insecure-referral', cut: result.cut });
      for (const s of result.glue) b.unsigned(b.additional, s);
      // Not authoritative; after an in-zone alias AA describes the first answer owner (RFC 1035 §4.1.1).
      return b.finish(Rcode.NOERROR, result.chain.length > 0);
    case 'nxdomain':
      b.chain(result.chain);
      b.signed(b.authority, zone.negativeSoa);
      b.deny({ kind: 'nxdomain', name: result.name, closestEncloser: result.closestEncloser });
      // RFC 6604 §3: after a chain the RCODE describes the last name.
      return b.finish(Rcode.NXDOMAIN, true);
    case 'nodata':
      b.chain(result.chain);
      b.signed(b.authority, zone.negativeSoa);
      b.deny(result.wildcard ? { kind: 'nodata', name: result.name, wildcard: result.wildcard } : { kind: 'nodata', name: result.name });
      return b.finish(Rcode.NOERROR, true);
  }
}

/**
 * RFC 8482 §4.1 for ANY: one RRset that exists at the name, with its signature, rather than the synthesized
 * HINFO of §4.2, which nobody signed. An alias answers with its CNAME.
 */
function anyAnswer(zone: Zone, data: PresignedData, a: AnswerRRset): AnswerRRset {
  if (a.rrset.type === RRType.CNAME) return a;
  const stored = a.wildcard ?? a.rrset.name;
  const node = zone.nodes.get(stored.key);
  if (!node) return a;
  for (const t of [...node.rrsets.keys()].sort((x, y) => x - y)) {
    if (sigsFor(data, stored, t)) return { ...a, rrset: { ...node.rrsets.get(t)!, name: a.rrset.name } };
  }
  return a;
}

/** The sections of one answer as they are filled, the earliest expiration seen and what is missing. */
class Builder implements ProofSink {
  readonly answer: Rr[] = [];
  readonly authority: Rr[] = [];
  readonly additional: Rr[] = [];
  /** Denial records, added to the authority section last. */
  private readonly proofs: Rr[] = [];
  private readonly proven = new Set<string>();
  private readonly hashes = new Map<string, Uint8Array>();
  private until = Infinity;
  private readonly missing: string[] = [];

  constructor(private readonly zone: Zone, private readonly data: PresignedData, private readonly now: number) {}

  finish(rcode: number, aa: boolean): PresignedAnswer {
    const sections: Sections = { rcode, aa, answer: this.answer, authority: [...this.authority, ...this.proofs], additional: this.additional };
    return { sections, until: this.until, missing: this.missing };
  }

  private miss(what: string): void {
    if (!this.missing.includes(what)) this.missing.push(what);
  }

  private rel(name: Name): string {
    return name.relativeTo(this.zone.origin);
  }

  /** The records of `rrset`; for an RRSIG RRset, also the earliest expiration. */
  records(out: Rr[], rrset: RRset): void {
    for (const rdata of rrset.rdatas) {
      out.push({ name: rrset.name, type: rrset.type, class: rrset.class, ttl: rrset.ttl, rdata });
      if (rrset.type === RRType.RRSIG) this.expires(rdata);
    }
  }

  /** RFC 1982 arithmetic around now: the expiration as epoch seconds, even across 2106. */
  private expires(rrsig: Uint8Array): void {
    const { expiration } = rrsigTimes(rrsig);
    const at = this.now + ((expiration - this.now) | 0);
    if (at < this.until) this.until = at;
  }

  unsigned(out: Rr[], rrset: RRset): void {
    this.records(out, rrset);
  }

  /**
   * `rrset` followed by its RRSIGs, which are stored at `stored` (the wildcard for a synthesized answer,
   * RFC 4035 §3.1.3.3); served under the RRset's owner and with its TTL (RFC 4034 §3). `required`: an absent
   * RRSIG is reported.
   */
  signed(out: Rr[], rrset: RRset, stored: Name = rrset.name, required = true): void {
    this.records(out, rrset);
    const sigs = sigsFor(this.data, stored, rrset.type);
    if (sigs) this.records(out, { ...sigs, name: rrset.name, ttl: rrset.ttl });
    else if (required) this.miss(`${this.rel(stored)} ${typeName(rrset.type)}: no RRSIG`);
  }

  /**
   * Answer-section RRsets: a CNAME synthesized from a DNAME is unsigned (RFC 6672 §5.3.1); a wildcard answer
   * carries the wildcard's RRSIG and the proof that no closer name exists (RFC 4035 §3.1.3.3, RFC 5155 §7.2.6).
   */
  chain(sets: readonly AnswerRRset[]): void {
    for (const a of sets) {
      if (a.synthesized) this.unsigned(this.answer, a.rrset);
      else if (a.wildcard) {
        this.signed(this.answer, a.rrset, a.wildcard);
        this.deny({ kind: 'wildcard', name: a.rrset.name, wildcard: a.wildcard });
      } else this.signed(this.answer, a.rrset);
    }
  }

  /** A denial record with its RRSIG, once per answer; `what` names it when the zone lacks it (ProofSink). */
  proof(set: RRset | undefined, what: () => string): void {
    if (!set) { this.miss(what()); return; }
    const k = `${set.type} ${set.name.key}`;
    if (this.proven.has(k)) return;
    this.proven.add(k);
    this.signed(this.proofs, set);
  }

  /** The proof of `c` from the zone's chain (chainproof.ts), each record with its RRSIG. */
  deny(c: DenialCase): void {
    try {
      chainProof(this.zone.origin, this.data, c, (n) => this.hash(n), this);
    } catch (err) {
      if (!(err instanceof DenialError)) throw err;
      this.miss(err.message);
    }
  }

  private hash(n: Name): Uint8Array {
    let h = this.hashes.get(n.key);
    if (!h) {
      const p = this.data.nsec3Params!;
      h = nsec3HashWith(n, p.salt, p.iterations);
      this.hashes.set(n.key, h);
    }
    return h;
  }
}
