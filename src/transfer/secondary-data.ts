// What a secondary zone serves of the records it was transferred, per DNSSEC mode (issue 11, the modes of
// the provider docs' "DNSSEC for Secondary DNS"):
// - off: served unsigned; the primary's DNSSEC records are dropped (an unsigned zone must not carry them).
// - live: tandem signs with its own keys (hidden primary); the primary's DNSSEC records are dropped.
// - multi-signer: as live, and the apex DNSKEYs that are not ours join our DNSKEY RRset (RFC 8901 §2.1.2;
//   what Cloudflare does with the ZSK a primary transfers). state/prepare.ts drops our own keys among them.
// - presigned: everything is served as transferred.
import type { Name } from '../dns/name.js';
import type { Rr } from '../dns/rr.js';
import { RRType, typeName } from '../dns/types.js';
import type { SecondaryDnssec } from '../config/transfer-settings.js';

const DNSSEC_TYPES: ReadonlySet<number> = new Set([
  RRType.RRSIG, RRType.NSEC, RRType.NSEC3, RRType.NSEC3PARAM, RRType.DNSKEY, RRType.CDS, RRType.CDNSKEY,
]);

/** Whether records of type `t` are DNSSEC's (the primary's signatures, chain and keys), which only a pre-signed secondary serves as transferred. */
export const isDnssecType = (t: number): boolean => DNSSEC_TYPES.has(t);

export interface ForServing {
  records: Rr[];
  /** Type mnemonic -> records dropped, for the one log line (empty when nothing was dropped). */
  dropped: Record<string, number>;
}

export function forServing(records: readonly Rr[], origin: Name, mode: SecondaryDnssec): ForServing {
  if (mode === 'presigned') return { records: [...records], dropped: {} };
  const dropped: Record<string, number> = {};
  const out: Rr[] = [];
  for (const r of records) {
    const keep = !DNSSEC_TYPES.has(r.type) || (mode === 'multi-signer' && r.type === RRType.DNSKEY && r.name.equals(origin));
    if (keep) out.push(r);
    else dropped[typeName(r.type)] = (dropped[typeName(r.type)] ?? 0) + 1;
  }
  return { records: out, dropped };
}
