// One other signer as key sync talks to it (ddns.ts, cloudflare.ts, ns1.ts): publish our keys there, read its
// keys. What we publish is made here, once, for every method.
import type { Name } from '../../dns/name.js';
import { rdataEquals } from '../../dns/rdata.js';
import { dsRdata } from '../../dnssec/keys.js';
import type { SyncPeer } from '../../config/sync-settings.js';

/** A failure talking to a peer, said for the operator (logs, `tandem sync status`). */
export class SyncError extends Error {}

/** DNSKEY, CDS and CDNSKEY RDATAs to publish (or withdraw) at a peer, with the TTL to publish them at. */
export interface Publication {
  dnskey: Uint8Array[];
  cds: Uint8Array[];
  cdnskey: Uint8Array[];
  ttl: number;
}

/** The peer's keys as read: its DNSKEY RRset over DNS (with the RRSIGs over it), or its API's key list. */
export interface PeerKeys {
  dnskeys: Uint8Array[];
  /** RRSIG RDATAs over the DNSKEY RRset (DNS only: the set can then be validated). */
  rrsigs?: Uint8Array[];
  /** How the answer was authenticated on the way: `tsig` (a signed answer), `api` (an authenticated API). */
  channel: 'tsig' | 'api' | 'none';
}

export interface PeerClient {
  /** Makes the peer publish `add` and withdraw `remove` (ours, published before, no longer wanted). */
  publish(add: Publication, remove: Publication): Promise<void>;
  /** The peer's keys (ours among them when it publishes them). */
  keys(): Promise<PeerKeys>;
}

/** Our keys: the zone's own KSK and ZSK, and the CDS/CDNSKEY of the KSK when the zone publishes them. */
export interface OwnKeys {
  ksk: Uint8Array;
  zsk: Uint8Array;
  /** Own keys published without signing (a rollover's new key before it signs, its old key until removed; rollover/). */
  extra?: Uint8Array[];
  /** False while DNSSEC is being turned off (the delete forms are published then, RFC 8078 §4). */
  cds: boolean;
}

/** What `peer` should publish of ours: the ZSK always, the KSK when asked, CDS (SHA-256) and CDNSKEY of the KSK. */
export function wanted(origin: Name, own: OwnKeys, peer: Pick<SyncPeer, 'ksk' | 'cds'>, ttl: number): Publication {
  // A rollover's other key of each role travels too: the peer must publish our next ZSK before it signs (RFC 8901
  // §6), and list our next KSK in CDS/CDNSKEY (§8).
  const extraKsks = (own.extra ?? []).filter((k) => (k[1] & 1) === 1);
  const extraZsks = (own.extra ?? []).filter((k) => (k[1] & 1) === 0);
  const ksks = [own.ksk, ...extraKsks];
  return {
    dnskey: peer.ksk ? [own.zsk, ...extraZsks, ...ksks] : [own.zsk, ...extraZsks],
    cds: peer.cds && own.cds ? ksks.map((k) => dsRdata(origin, k, 2)) : [],
    cdnskey: peer.cds && own.cds ? ksks : [],
    ttl,
  };
}

/** What of `before` is not in `after` (to withdraw). */
export function minus(before: Publication, after: Publication): Publication {
  const out = (a: Uint8Array[], b: Uint8Array[]) => a.filter((x) => !b.some((y) => rdataEquals(x, y)));
  return { dnskey: out(before.dnskey, after.dnskey), cds: out(before.cds, after.cds), cdnskey: out(before.cdnskey, after.cdnskey), ttl: before.ttl };
}

export const isEmpty = (p: Publication) => p.dnskey.length + p.cds.length + p.cdnskey.length === 0;
