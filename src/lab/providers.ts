// What each provider serves at the apex (SOA, NS, DNSKEY, CDS, CDNSKEY, asked like any resolver would) and,
// where the provider allows it, the whole zone by AXFR. Only I/O and bookkeeping: the judging is elsewhere.
import { formatEndpoint, type Endpoint } from '../config/server.js';
import type { Name } from '../dns/name.js';
import type { Message } from '../dns/reader.js';
import type { Rr, RRset } from '../dns/rr.js';
import { RRType, typeName } from '../dns/types.js';
import { fetchZone } from '../transfer/client.js';
import { ask } from './ask.js';
import { groupRrsets } from './judge.js';

export interface Provider {
  /** How the report names it: the address as given. */
  label: string;
  server: Endpoint;
}

export interface ApexSet {
  set?: RRset;
  sigs: Uint8Array[];
}

export interface ProviderState {
  p: Provider;
  /** Why the provider could not be checked (no SOA answer). */
  down?: string;
  /** The provider echoes the CO bit, so later questions send it (RFC 9824 §5.1). */
  co: boolean;
  /** Apex questions answered without AA. */
  notAuthoritative: string[];
  /** Apex questions that failed (no answer, or an RCODE other than NOERROR). */
  failures: string[];
  soa: ApexSet;
  ns: ApexSet;
  dnskey: ApexSet;
  cds: ApexSet;
  cdnskey: ApexSet;
  /** The apex answers as received (SOA and NS are judged like any other name). */
  messages: Map<number, Message>;
  axfr?: Rr[];
  axfrError?: string;
}

const APEX_TYPES = [RRType.SOA, RRType.NS, RRType.DNSKEY, RRType.CDS, RRType.CDNSKEY];

function apexSet(m: Message | undefined, zone: Name, type: number): ApexSet {
  if (!m) return { sigs: [] };
  const g = groupRrsets(m.answer);
  const set = g.sets.find((s) => s.type === type && s.name.equals(zone));
  return { ...(set ? { set } : {}), sigs: g.sigs.get(`${zone.key}|${type}`) ?? [] };
}

const rcodeText = (rc: number) => ({ 0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED', 9: 'NOTAUTH' } as Record<number, string>)[rc] ?? `RCODE ${rc}`;

/** Asks one provider the apex questions. The SOA goes first, with CO set: the answer says whether CO is understood. */
export async function readApex(p: Provider, zone: Name, timeoutMs: number, sendCo: boolean): Promise<ProviderState> {
  const st: ProviderState = {
    p, co: false, notAuthoritative: [], failures: [], soa: { sigs: [] }, ns: { sigs: [] }, dnskey: { sigs: [] },
    cds: { sigs: [] }, cdnskey: { sigs: [] }, messages: new Map(),
  };
  const first = await ask(p.server, zone, RRType.SOA, { co: sendCo, timeoutMs });
  if (!first.ok) return { ...st, down: first.reason };
  st.co = sendCo && first.message.opt?.co === true;
  const answers = [first, ...await Promise.all(APEX_TYPES.slice(1).map((t) => ask(p.server, zone, t, { co: st.co, timeoutMs })))];
  answers.forEach((a, i) => {
    const t = APEX_TYPES[i];
    if (!a.ok) { st.failures.push(`${typeName(t)}: ${a.reason}`); return; }
    if (a.message.rcode !== 0) st.failures.push(`${typeName(t)}: ${rcodeText(a.message.rcode)}`);
    if (!a.message.aa) st.notAuthoritative.push(typeName(t));
    st.messages.set(t, a.message);
  });
  if (!st.messages.get(RRType.SOA) || st.messages.get(RRType.SOA)!.rcode !== 0) {
    return { ...st, down: `${formatEndpoint(p.server)} does not serve ${zone} (SOA: ${rcodeText(first.message.rcode)})` };
  }
  st.soa = apexSet(st.messages.get(RRType.SOA), zone, RRType.SOA);
  st.ns = apexSet(st.messages.get(RRType.NS), zone, RRType.NS);
  st.dnskey = apexSet(st.messages.get(RRType.DNSKEY), zone, RRType.DNSKEY);
  st.cds = apexSet(st.messages.get(RRType.CDS), zone, RRType.CDS);
  st.cdnskey = apexSet(st.messages.get(RRType.CDNSKEY), zone, RRType.CDNSKEY);
  if (!st.soa.set) st.down = `${formatEndpoint(p.server)} answered the SOA question without an SOA for ${zone}`;
  return st;
}

/** The zone by AXFR (RFC 5936), when the provider allows it; the reason when not. */
export async function readAxfr(st: ProviderState, zone: Name, timeoutMs: number, now: () => number): Promise<void> {
  try {
    const f = await fetchZone({ host: st.p.server.host, port: st.p.server.port }, zone, undefined, { clock: { now }, idleMs: timeoutMs, totalMs: 60_000, maxRecords: 1_000_000 });
    if (f.kind === 'full') st.axfr = f.records;
  } catch (err) {
    st.axfrError = (err as Error).message;
  }
}
