// Key sync by DNS (method `ddns`, and `tandem push-keys`): our keys go to the peer as one TSIG-signed RFC 2136
// UPDATE of the apex DNSKEY, CDS and CDNSKEY RRsets (adds, and deletes of single RRs we published before,
// §2.5.1 and §2.5.4), the way Knot's dnskey-sync, BIND 9.20 and MUSIC exchange keys; the peer's DNSKEY RRset
// is asked at the same address with DO set, the question signed with the same key and the answer's TSIG
// checked (RFC 8945 §5.3), so what comes back is the peer's own. Both over TCP: a DNSKEY RRset of several
// providers with its RRSIGs outgrows 512 octets, and TCP keeps one bounded exchange per message.
import { randomInt } from 'node:crypto';
import type { Name } from '../../dns/name.js';
import type { Rr } from '../../dns/rr.js';
import { Opcode, RRClass, RRType, Rcode } from '../../dns/types.js';
import { encodeMessage, encodeQuery } from '../../dns/writer.js';
import { readMessage, type Message } from '../../dns/reader.js';
import { signRequest, type TsigKey } from '../../dns/tsig.js';
import type { Clock } from '../../dnssec/types.js';
import { tcpExchange } from '../../transfer/client.js';
import { SyncError, type PeerClient, type PeerKeys, type Publication } from './peer.js';

export interface DdnsTarget {
  host: string;
  port: number;
  key: TsigKey;
}

const where = (t: DdnsTarget) => `${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
const rcodeName = (rc: number) => Object.entries(Rcode).find(([, v]) => v === rc)?.[0] ?? `RCODE ${rc}`;

/** The update section: RFC 2136 §2.5.4 deletes (class NONE, TTL 0) of `remove`, then §2.5.1 adds of `add`. */
export function updateRecords(zone: Name, add: Publication, remove: Publication): Rr[] {
  const rrs = (p: Publication, cls: number, ttl: number) => [
    ...p.dnskey.map((rdata) => ({ name: zone, type: RRType.DNSKEY, class: cls, ttl, rdata })),
    ...p.cds.map((rdata) => ({ name: zone, type: RRType.CDS, class: cls, ttl, rdata })),
    ...p.cdnskey.map((rdata) => ({ name: zone, type: RRType.CDNSKEY, class: cls, ttl, rdata })),
  ];
  return [...rrs(remove, RRClass.NONE, 0), ...rrs(add, RRClass.IN, add.ttl)];
}

/** An UPDATE message (RFC 2136 §2): the zone section names the zone (SOA, class IN), no prerequisites. */
export function updateMessage(id: number, zone: Name, update: Rr[]): Uint8Array {
  return encodeMessage({ id, qr: false, opcode: Opcode.UPDATE, question: { name: zone, type: RRType.SOA, class: RRClass.IN }, authority: update });
}

/** One signed request over TCP; the answer matched (ID, QR, opcode) and its TSIG verified. */
async function exchange(t: DdnsTarget, wire: Uint8Array, id: number, opcode: number, clock: Clock, timeoutMs: number): Promise<Message> {
  const signed = signRequest(wire, t.key, clock.now());
  let msgs: Uint8Array[];
  try {
    msgs = await tcpExchange({ host: t.host, port: t.port }, signed.wire, { clock, idleMs: timeoutMs, totalMs: timeoutMs * 2 }, () => true);
  } catch (err) {
    throw new SyncError(`${where(t)}: ${(err as Error).message}`);
  }
  const answer = msgs[0];
  const r = readMessage(answer);
  if (!r.ok) throw new SyncError(`${where(t)} sent a malformed answer (${r.error.reason})`);
  const m = r.message;
  if (m.id !== id || !m.qr || m.opcode !== opcode) throw new SyncError(`${where(t)}: the answer does not match the request (ID, QR or opcode)`);
  const v = signed.verifier.verify(answer, clock.now());
  if (!v.ok) throw new SyncError(`${where(t)} answered ${rcodeName(m.rcode)}, and the answer failed TSIG verification with key ${t.key.name}: ${v.reason}`);
  return m;
}

/** Sends one UPDATE with `update`; resolves when the peer answered NOERROR, else throws SyncError with its RCODE. */
export async function sendUpdate(t: DdnsTarget, zone: Name, update: Rr[], clock: Clock, timeoutMs = 10_000): Promise<void> {
  const id = randomInt(0, 0x10000);
  const m = await exchange(t, updateMessage(id, zone, update), id, Opcode.UPDATE, clock, timeoutMs);
  if (m.rcode !== Rcode.NOERROR) throw new SyncError(`${where(t)} answered the UPDATE of ${zone} with ${rcodeName(m.rcode)}`);
}

/** The peer's DNSKEY RRset for `zone` and the RRSIGs over it (DO set, signed question). */
export async function queryDnskey(t: DdnsTarget, zone: Name, clock: Clock, timeoutMs = 10_000): Promise<PeerKeys> {
  const id = randomInt(0, 0x10000);
  const m = await exchange(t, encodeQuery(zone, RRType.DNSKEY, { id, do: true }), id, Opcode.QUERY, clock, timeoutMs);
  if (m.rcode !== Rcode.NOERROR) throw new SyncError(`${where(t)} answered the DNSKEY question for ${zone} with ${rcodeName(m.rcode)}`);
  if (!m.aa) throw new SyncError(`${where(t)} is not authoritative for ${zone} (AA clear in its DNSKEY answer)`);
  const at = m.answer.filter((rr) => rr.name.equals(zone));
  const dnskeys = at.filter((rr) => rr.type === RRType.DNSKEY).map((rr) => rr.rdata);
  // RRSIG RDATA starts with the type covered (RFC 4034 §3.1).
  const rrsigs = at.filter((rr) => rr.type === RRType.RRSIG && ((rr.rdata[0] << 8) | rr.rdata[1]) === RRType.DNSKEY).map((rr) => rr.rdata);
  if (dnskeys.length === 0) throw new SyncError(`${where(t)} serves no DNSKEY RRset for ${zone} (is the zone signed there?)`);
  return { dnskeys, rrsigs, channel: 'tsig' };
}

/** A peer reached by DNS: UPDATE to publish, a signed DNSKEY question to read. */
export class DdnsPeer implements PeerClient {
  constructor(private readonly t: DdnsTarget, private readonly zone: Name, private readonly clock: Clock, private readonly timeoutMs = 10_000) {}

  publish(add: Publication, remove: Publication): Promise<void> {
    return sendUpdate(this.t, this.zone, updateRecords(this.zone, add, remove), this.clock, this.timeoutMs);
  }

  keys(): Promise<PeerKeys> {
    return queryDnskey(this.t, this.zone, this.clock, this.timeoutMs);
  }
}
