// Query counters for the request path: zone x type x rcode x transport, kept in typed arrays so that
// counting an answer (cached or not) is two array reads and one increment, with no allocation and no
// label hashing. prom-client sees them only when scraped (registry.ts turns the cells into series).
//
// Label cardinality is bounded: the type is one of TYPE_SLOTS' mnemonics or OTHER, the rcode one of
// RCODE_SLOTS' or OTHER, and the zone is one of the first MAX_ZONES zones that were asked (queries for no
// zone of ours, and for zones past the cap, count under ZONE_OTHER).
import { Rcode, RRType, typeName } from '../dns/types.js';

type Transport = 'udp' | 'tcp';

/** The zone label of queries that match no zone we serve (REFUSED, unparsable) or past the zone cap. */
export const ZONE_OTHER = '_other';

/** Types with their own label value; every other type counts as OTHER. */
const TYPE_SLOTS: readonly number[] = [
  RRType.A, RRType.NS, RRType.CNAME, RRType.SOA, RRType.PTR, RRType.HINFO, RRType.MX, RRType.TXT, RRType.AAAA,
  RRType.SRV, RRType.NAPTR, RRType.DNAME, RRType.DS, RRType.SSHFP, RRType.RRSIG, RRType.NSEC, RRType.DNSKEY,
  RRType.NSEC3, RRType.NSEC3PARAM, RRType.TLSA, RRType.CDS, RRType.CDNSKEY, RRType.ZONEMD, RRType.SVCB, RRType.HTTPS,
  RRType.SPF, RRType.CAA, RRType.URI, RRType.ANY, RRType.AXFR, RRType.IXFR,
];
const RCODE_SLOTS: readonly number[] = [Rcode.NOERROR, Rcode.FORMERR, Rcode.SERVFAIL, Rcode.NXDOMAIN, Rcode.NOTIMP, Rcode.REFUSED, Rcode.NOTAUTH];

const TYPE_BITS = 5; // 31 types + OTHER
const RCODE_BITS = 3; // 7 rcodes + OTHER
/** Cells per zone row: type x rcode x transport (udp, tcp). */
const ROW_BITS = TYPE_BITS + RCODE_BITS + 1;
const ROW = 1 << ROW_BITS;
const TYPE_OTHER = (1 << TYPE_BITS) - 1;
const RCODE_OTHER = (1 << RCODE_BITS) - 1;

/** Type number -> slot (OTHER for the rest): one byte per type, read once per uncached answer. */
const typeSlot = new Uint8Array(65536).fill(TYPE_OTHER);
TYPE_SLOTS.forEach((t, i) => { typeSlot[t] = i; });
const rcodeSlot = new Uint8Array(4096).fill(RCODE_OTHER);
RCODE_SLOTS.forEach((r, i) => { rcodeSlot[r] = i; });

/** Zones with a label of their own (4 KiB of counters each, allocated on a zone's first query). */
export const MAX_ZONES = 1000;

export interface QuerySeries {
  zone: string;
  type: string;
  rcode: string;
  transport: Transport;
  value: number;
}

export class QueryCounters {
  /** Row 0 is ZONE_OTHER. */
  private readonly rows: Float64Array[] = [new Float64Array(ROW)];
  private readonly zones: string[] = [ZONE_OTHER];
  private readonly slots = new Map<string, number>();
  /** Messages dropped without an answer (not a query, or too short to answer). */
  dropped = 0;

  constructor(private readonly maxZones = MAX_ZONES) {}

  /**
   * The counter cell of an answer, without the transport: the zone (its `Name.key`, undefined for none),
   * the question's type and the full rcode. Stable for the life of the process (the response cache keeps
   * it beside a cached answer and counts hits with `add`).
   */
  cell(zoneKey: string | undefined, qtype: number, rcode: number): number {
    const row = zoneKey === undefined ? 0 : this.row(zoneKey);
    return (row << ROW_BITS) | (typeSlot[qtype] << (RCODE_BITS + 1)) | (rcodeSlot[rcode] << 1);
  }

  /** Counts one answer in `cell` (from `cell`) sent over `transport`. */
  add(cell: number, transport: Transport): void {
    this.rows[cell >>> ROW_BITS][(cell & (ROW - 1)) | (transport === 'tcp' ? 1 : 0)]++;
  }

  /** `cell` then `add`; returns the cell. */
  count(zoneKey: string | undefined, qtype: number, rcode: number, transport: Transport): number {
    const c = this.cell(zoneKey, qtype, rcode);
    this.add(c, transport);
    return c;
  }

  /**
   * `cell` as another process can take it (the cluster's workers count the hits of answers the primary made):
   * its zone (undefined: none) and the rest of the cell, which `rejoin` puts in that process's row of the zone.
   */
  split(cell: number): { zone: string | undefined; rest: number } {
    const z = cell >>> ROW_BITS;
    return { zone: z === 0 ? undefined : this.zones[z], rest: cell & (ROW - 1) };
  }

  /** The cell in these counters of another process's `split` cell. */
  rejoin(zone: string | undefined, rest: number): number {
    return ((zone === undefined ? 0 : this.row(zone)) << ROW_BITS) | (rest & (ROW - 2));
  }

  private row(zoneKey: string): number {
    const known = this.slots.get(zoneKey);
    if (known !== undefined) return known;
    if (this.zones.length > this.maxZones) return 0;
    const i = this.zones.length;
    this.zones.push(zoneKey);
    this.rows.push(new Float64Array(ROW));
    this.slots.set(zoneKey, i);
    return i;
  }

  /** Every non-zero counter with its labels (at scrape time). */
  *series(): Generator<QuerySeries> {
    for (let z = 0; z < this.rows.length; z++) {
      const row = this.rows[z];
      for (let c = 0; c < ROW; c++) {
        if (row[c] === 0) continue;
        const t = c >>> (RCODE_BITS + 1);
        const r = (c >>> 1) & RCODE_OTHER;
        yield {
          zone: this.zones[z],
          type: t === TYPE_OTHER ? 'OTHER' : typeName(TYPE_SLOTS[t]),
          rcode: r === RCODE_OTHER ? 'OTHER' : rcodeName(RCODE_SLOTS[r]),
          transport: c & 1 ? 'tcp' : 'udp',
          value: row[c],
        };
      }
    }
  }
}

const rcodeNames = new Map<number, string>(Object.entries(Rcode).map(([k, v]) => [v, k]));
function rcodeName(rcode: number): string {
  return rcodeNames.get(rcode) ?? `RCODE${rcode}`;
}
