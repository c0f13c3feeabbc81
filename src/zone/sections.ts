// Turns a lookup result into the sections of an unsigned response (RFC 1034 §4.3.2, RFC 2308).
// The signer adds RRSIGs and denial records on its own path; this is what DO=0 clients get.
import { rrsetRecords, type Rr } from '../dns/rr.js';
import { Rcode } from '../dns/types.js';
import type { AnswerRRset, LookupResult, Zone } from './types.js';

export interface Sections {
  rcode: number;
  aa: boolean;
  answer: Rr[];
  authority: Rr[];
  additional: Rr[];
}


function records(sets: readonly AnswerRRset[]): Rr[] {
  return sets.flatMap((a) => rrsetRecords(a.rrset));
}

export function toSections(zone: Zone, result: LookupResult): Sections {
  switch (result.kind) {
    case 'answer':
      // Minimal responses: no NS in authority for positive answers.
      return {
        rcode: Rcode.NOERROR, aa: true, answer: records(result.answers), authority: [],
        additional: result.additional.flatMap(rrsetRecords),
      };
    case 'referral':
      // A referral is not authoritative; after an in-zone CNAME the answer section starts with our own
      // authoritative data, and AA describes the first owner in the answer (RFC 1035 §4.1.1).
      return {
        rcode: Rcode.NOERROR, aa: result.chain.length > 0, answer: records(result.chain),
        authority: [...rrsetRecords(result.ns), ...(result.ds ? rrsetRecords(result.ds) : [])],
        additional: result.glue.flatMap(rrsetRecords),
      };
    case 'nxdomain':
      // RFC 6604 §3: NXDOMAIN describes the last name of the chain.
      return { rcode: Rcode.NXDOMAIN, aa: true, answer: records(result.chain), authority: rrsetRecords(zone.negativeSoa), additional: [] };
    case 'nodata':
      return { rcode: Rcode.NOERROR, aa: true, answer: records(result.chain), authority: rrsetRecords(zone.negativeSoa), additional: [] };
  }
}
