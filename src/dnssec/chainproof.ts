// Which records of an NSEC or NSEC3 chain prove a denial case (RFC 4035 §3.1.3, §3.1.4; RFC 5155 §7.2): the
// one search for both chains a zone can answer from, a pre-signed zone's (presigned.ts) and the chain tandem
// builds and signs at load (chain.ts). Pure: it names RRsets of the chain; the caller adds their RRSIGs.
import type { Name } from '../dns/name.js';
import type { RRset } from '../dns/rr.js';
import type { ChainIndex } from '../zone/types.js';
import { coveringNsec, exactNsec, findNsec3 } from '../zone/presigned.js';
import type { DenialCase } from './denial/index.js';
import { nextCloser } from './denial/nsec.js';

export interface ProofSink {
  /**
   * One record of the proof, each RRset at most once per answer; undefined when the chain lacks it (`what()`
   * says which: made only then, as answers from a complete chain never need it).
   */
  proof(set: RRset | undefined, what: () => string): void;
}

/**
 * Hands `sink` the chain's records proving `c`. `hash` gives a name's NSEC3 hash with the chain's parameters
 * (RFC 5155 §5). A case the chain cannot prove comes out as `proof(undefined, what)`; a name that is not below
 * its encloser throws DenialError (nextCloser).
 */
export function chainProof(origin: Name, data: ChainIndex, c: DenialCase, hash: (n: Name) => Uint8Array, sink: ProofSink): void {
  if (data.denial === 'nsec') nsecProof(origin, data, c, sink);
  else if (data.denial === 'nsec3') nsec3Proof(origin, data, c, hash, sink);
  else sink.proof(undefined, () => 'no NSEC or NSEC3 chain');
}

const rel = (origin: Name, n: Name) => n.relativeTo(origin);

/** RFC 4035 §3.1.3 and §3.1.4 from an NSEC chain. */
function nsecProof(origin: Name, data: ChainIndex, c: DenialCase, sink: ProofSink): void {
  const at = (n: Name) => sink.proof(exactNsec(data, n), () => `NSEC at ${rel(origin, n)}`);
  const cover = (n: Name) => sink.proof(coveringNsec(data, n), () => `NSEC covering ${rel(origin, n)}`);
  switch (c.kind) {
    case 'nxdomain':
      // §3.1.3.2: the name does not exist, nor the wildcard at its closest encloser (often the same NSEC).
      cover(c.name);
      cover(c.closestEncloser.child('*'));
      return;
    case 'nodata':
      // §3.1.3.4: no closer match than the wildcard, and the wildcard lacks the type.
      // A wildcard that is itself an empty non-terminal (only names below it exist) owns no NSEC: the NSEC
      // before it, whose next name lies below it, shows it exists with no types, as for any ENT below.
      if (c.wildcard) {
        cover(c.name);
        if (exactNsec(data, c.wildcard)) at(c.wildcard);
        else cover(c.wildcard);
        return;
      }
      // §3.1.3.1 (at a cut: the parent's NSEC, showing no DS, §3.1.4.1). An empty non-terminal owns no NSEC:
      // the NSEC before it, whose next name lies below it, shows it exists with no types (RFC 4035 §5.4).
      if (exactNsec(data, c.name)) at(c.name);
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

/** RFC 5155 §7.2 from an NSEC3 chain. */
function nsec3Proof(origin: Name, data: ChainIndex, c: DenialCase, hash: (n: Name) => Uint8Array, sink: ProofSink): void {
  const match = (n: Name) => findNsec3(data, hash(n)).match;
  // The covering NSEC3 (§7.2.1); a name that hashes onto an NSEC3 owner cannot be covered.
  const cover = (n: Name) => {
    const found = findNsec3(data, hash(n));
    sink.proof(found.cover, () => (found.match ? `NSEC3 for ${rel(origin, n)} matches where it must cover` : `NSEC3 covering ${rel(origin, n)}`));
  };
  // §7.2.1: the closest provable encloser (from `from` up: the first name with a matching NSEC3, which skips
  // empty non-terminals of opt-out spans, errata 3441) and the next closer name covered.
  const closestEncloserProof = (name: Name, from: Name): Name => {
    let ce = from;
    let m = match(ce);
    while (!m && !ce.equals(origin)) {
      ce = ce.parent();
      m = match(ce);
    }
    sink.proof(m, () => `NSEC3 matching ${rel(origin, ce)}`);
    cover(nextCloser(name, ce));
    return ce;
  };
  switch (c.kind) {
    case 'nxdomain': {
      // §7.2.2: closest encloser proof and the wildcard at the closest encloser covered.
      const ce = closestEncloserProof(c.name, c.closestEncloser);
      cover(ce.child('*'));
      return;
    }
    case 'nodata': {
      const wildcard = c.wildcard;
      if (wildcard) {
        // §7.2.5: closest encloser proof for the wildcard's encloser, and the wildcard's matching NSEC3.
        closestEncloserProof(c.name, wildcard.parent());
        sink.proof(match(wildcard), () => `NSEC3 matching ${rel(origin, wildcard)}`);
        return;
      }
      // §7.2.3 / §7.2.4 (DS): the matching NSEC3; a name without one (an insecure delegation or an empty
      // non-terminal in an opt-out span) gets the closest provable encloser proof (errata 3441).
      const m = match(c.name);
      if (m || c.name.equals(origin)) sink.proof(m, () => `NSEC3 matching ${rel(origin, c.name)}`);
      else closestEncloserProof(c.name, c.name.parent());
      return;
    }
    case 'wildcard':
      // §7.2.6: the next closer name is covered (the encloser is implied by the RRSIG labels).
      cover(nextCloser(c.name, c.wildcard.parent()));
      return;
    case 'insecure-referral': {
      // §7.2.7: the cut's matching NSEC3 (NS, no DS), or in an opt-out span the closest provable encloser
      // proof whose covering NSEC3 has the Opt-Out flag.
      const m = match(c.cut);
      if (m) sink.proof(m, () => `NSEC3 matching ${rel(origin, c.cut)}`);
      else closestEncloserProof(c.cut, c.cut.parent());
      return;
    }
  }
}
