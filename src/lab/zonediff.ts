// The records themselves, compared across the providers that allow AXFR (RFC 5936): every provider must serve
// the same RRsets apart from its DNSSEC records (each signs with its own keys and may deny with its own method)
// and the SOA serial (each numbers its own versions).
import { formatRdata } from '../dns/rdata.js';
import type { Rr } from '../dns/rr.js';
import { RRType, typeName } from '../dns/types.js';
import type { ProviderState } from './providers.js';
import type { Findings } from './report.js';

/** Types that differ between providers by design; 65534 is BIND's signing-state record. */
const PER_PROVIDER = new Set<number>([RRType.RRSIG, RRType.NSEC, RRType.NSEC3, RRType.NSEC3PARAM, RRType.DNSKEY, RRType.CDS, RRType.CDNSKEY, RRType.ZONEMD, 65534]);

/** The comparable lines of a transferred zone: owner, type, TTL-less RDATA; the SOA without MNAME and serial. */
export function comparable(records: readonly Rr[]): Set<string> {
  const out = new Set<string>();
  for (const r of records) {
    if (PER_PROVIDER.has(r.type)) continue;
    let text = formatRdata(r.type, r.rdata);
    if (r.type === RRType.SOA) text = text.split(' ').filter((_, i) => i !== 0 && i !== 2).join(' ');
    out.add(`${r.name.key} ${typeName(r.type)} ${text}`);
  }
  return out;
}

const MAX = 20;

export function compareZones(up: ProviderState[], f: Findings): void {
  const withZone = up.filter((s) => s.axfr);
  const refused = up.filter((s) => !s.axfr);
  if (refused.length) {
    f.note('axfr-refused', `no AXFR from ${refused.map((s) => s.p.label).join(', ')}: their records are compared through the names asked only`, { details: refused.map((s) => `${s.p.label}: ${s.axfrError ?? 'no transfer'}`) });
  }
  if (withZone.length < 2) return;
  const [base, ...rest] = withZone;
  const a = comparable(base.axfr!);
  for (const other of rest) {
    const b = comparable(other.axfr!);
    const onlyA = [...a].filter((x) => !b.has(x)).sort();
    const onlyB = [...b].filter((x) => !a.has(x)).sort();
    if (onlyA.length + onlyB.length === 0) continue;
    const details = [...onlyA.map((x) => `only ${base.p.label}: ${x}`), ...onlyB.map((x) => `only ${other.p.label}: ${x}`)];
    f.error('zone-differs', `the zones transferred from ${base.p.label} and ${other.p.label} differ in ${onlyA.length + onlyB.length} record(s) (DNSSEC records and SOA serial aside)`, {
      details: details.length > MAX ? [...details.slice(0, MAX), `... ${details.length - MAX} more`] : details,
    });
  }
}
