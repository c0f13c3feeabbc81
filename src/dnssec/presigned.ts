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
import { coveringNsec, findNsec3, rrsigTimes, sigsFor } from '../zone/presigned.js';
import type { DenialCase } from './denial/index.js';
import { DenialError, nextCloser } from './denial/nsec.js';
import { nsec3HashWith } from './denial/nsec3.js';

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
class Builder {
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

  /** A denial record with its RRSIG, once per answer; `what` names it when the zone lacks it. */
  private proof(set: RRset | undefined, what: string): void {
    if (!set) { this.miss(what); return; }
    const k = `${set.type} ${set.name.key}`;
    if (this.proven.has(k)) return;
    this.proven.add(k);
    this.signed(this.proofs, set);
  }

  deny(c: DenialCase): void {
    try {
      if (this.data.denial === 'nsec') this.nsec(c);
      else if (this.data.denial === 'nsec3') this.nsec3(c);
      else this.miss('no NSEC or NSEC3 chain');
    } catch (err) {
      if (!(err instanceof DenialError)) throw err;
      this.miss(err.message);
    }
  }

  /** RFC 4035 §3.1.3 and §3.1.4 from the zone's NSEC chain. */
  private nsec(c: DenialCase): void {
    const at = (n: Name) => this.proof(this.zone.nodes.get(n.key)?.rrsets.get(RRType.NSEC), `NSEC at ${this.rel(n)}`);
    const cover = (n: Name) => this.proof(coveringNsec(this.data, n), `NSEC covering ${this.rel(n)}`);
    switch (c.kind) {
      case 'nxdomain':
        // §3.1.3.2: the name does not exist, nor the wildcard at its closest encloser (often the same NSEC).
        cover(c.name);
        cover(c.closestEncloser.child('*'));
        return;
      case 'nodata':
        // §3.1.3.4: no closer match than the wildcard, and the wildcard lacks the type.
        if (c.wildcard) { cover(c.name); at(c.wildcard); return; }
        // §3.1.3.1 (at a cut: the parent's NSEC, showing no DS, §3.1.4.1). An empty non-terminal owns no NSEC:
        // the NSEC before it, whose next name lies below it, shows it exists with no types (RFC 4035 §5.4).
        if (this.zone.nodes.get(c.name.key)?.rrsets.has(RRType.NSEC)) at(c.name);
        else cover(c.name);
        return;
      case 'wildcard':
        // §3.1.3.3: no closer match for the query name.
        cover(c.name);
        return;
      case 'insecure-referral':
        // §3.1.4: the NSEC at the cut lists NS and no DS.
        at(c.cut);
        return;
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

  private match(n: Name): RRset | undefined {
    return findNsec3(this.data, this.hash(n)).match;
  }

  /** The covering NSEC3 (RFC 5155 §7.2.1); a name that hashes onto an NSEC3 owner cannot be covered. */
  private cover(n: Name): void {
    const found = findNsec3(this.data, this.hash(n));
    this.proof(found.cover, found.match ? `NSEC3 for ${this.rel(n)} matches where it must cover` : `NSEC3 covering ${this.rel(n)}`);
  }

  /**
   * RFC 5155 §7.2.1: the closest provable encloser (from `from` up: the first name with a matching NSEC3,
   * which skips empty non-terminals of opt-out spans, errata 3441) and the next closer name covered.
   */
  private closestEncloserProof(name: Name, from: Name): Name {
    let ce = from;
    let m = this.match(ce);
    while (!m && !ce.equals(this.zone.origin)) {
      ce = ce.parent();
      m = this.match(ce);
    }
    this.proof(m, `NSEC3 matching ${this.rel(ce)}`);
    this.cover(nextCloser(name, ce));
    return ce;
  }

  /** RFC 5155 §7.2 from the zone's NSEC3 chain. */
  private nsec3(c: DenialCase): void {
    switch (c.kind) {
      case 'nxdomain': {
        // §7.2.2: closest encloser proof and the wildcard at the closest encloser covered.
        const ce = this.closestEncloserProof(c.name, c.closestEncloser);
        this.cover(ce.child('*'));
        return;
      }
      case 'nodata': {
        if (c.wildcard) {
          // §7.2.5: closest encloser proof for the wildcard's encloser, and the wildcard's matching NSEC3.
          this.closestEncloserProof(c.name, c.wildcard.parent());
          this.proof(this.match(c.wildcard), `NSEC3 matching ${this.rel(c.wildcard)}`);
          return;
        }
        // §7.2.3 / §7.2.4 (DS): the matching NSEC3; a name without one (an insecure delegation or an empty
        // non-terminal in an opt-out span) gets the closest provable encloser proof (errata 3441).
        const m = this.match(c.name);
        if (m || c.name.equals(this.zone.origin)) this.proof(m, `NSEC3 matching ${this.rel(c.name)}`);
        else this.closestEncloserProof(c.name, c.name.parent());
        return;
      }
      case 'wildcard':
        // §7.2.6: the next closer name is covered (the encloser is implied by the RRSIG labels).
        this.cover(nextCloser(c.name, c.wildcard.parent()));
        return;
      case 'insecure-referral': {
        // §7.2.7: the cut's matching NSEC3 (NS, no DS), or in an opt-out span the closest provable encloser
        // proof whose covering NSEC3 has the Opt-Out flag.
        const m = this.match(c.cut);
        if (m) this.proof(m, `NSEC3 matching ${this.rel(c.cut)}`);
        else this.closestEncloserProof(c.cut, c.cut.parent());
        return;
      }
    }
  }
}
