// Removing a provider from a multi-signer zone (`tandem sync remove ZONE PEER`), in the order RFC 8901 asks
// for: the parent's DS for the leaving provider's KSKs goes first, its keys leave the DNSKEY RRset only after
// the caches have let go of that DS. A small state machine, persisted with the zone's sync state (state.ts)
// so a restart resumes where it was; `advance` is pure: the service asks the parent and applies the claims.
//
//   withdraw-ds  the peer's KSKs leave our DNSKEY RRset, so our CDS/CDNSKEY stop listing them (RFC 8901 §8:
//                every provider publishes the same set; RFC 7344 §4: the parent follows); NOTIFY(CDS) follows
//   wait-ds      until the parent's DS set (asked through the parent resolver) holds no DS for them, or the
//                operator says so (`--ds-absent`)
//   wait-ttl     until the DS TTL (the largest seen) plus our DNSKEY TTL have passed since: resolvers may still
//                hold the old DS, and DNSKEY RRsets with the peer's ZSK that vouch for answers it signed
//   done         the peer's ZSKs released too: it holds no key in our zone; remove it from zone.sync
import type { Name } from '../../dns/name.js';
import { rdataEquals } from '../../dns/rdata.js';
import { dsRdata, keyTag } from '../../dnssec/keys.js';

export type RemovalStep = 'withdraw-ds' | 'wait-ds' | 'wait-ttl' | 'done';

export interface Removal {
  step: RemovalStep;
  /** Seconds since the epoch. */
  startedAt: number;
  /** The peer's KSKs (base64 DNSKEY RDATA) whose DS must leave the parent first. */
  ksks: string[];
  /** The peer's other keys (ZSKs), released last. */
  zsks: string[];
  /** The largest TTL seen on the parent's DS records for the KSKs. */
  dsTtl?: number;
  dsGoneAt?: number;
  /** wait-ttl: when the keys may go. */
  until?: number;
  doneAt?: number;
  /** The operator said the parent's DS for the KSKs is gone (no parent resolver, or a registrar that lags). */
  dsAbsent?: boolean;
}

/** The parent's DS RRset as asked now: RDATAs and TTL, or why there is no answer. */
export type ParentDs = { ok: true; ds: Uint8Array[]; ttl?: number } | { ok: false; reason: string };

export interface RemovalInput {
  now: number;
  origin: Name;
  /** Our DNSKEY RRset's TTL (zone.dnssec.dnskey_ttl). */
  dnskeyTtl: number;
  /** The parent's DS set; undefined when there is no parent resolver. */
  parentDs?: ParentDs;
}

export interface Advanced {
  removal: Removal;
  /** When set, `sync:<peer>` must hold exactly these keys (base64) now; persist `removal` only after. */
  claims?: string[];
}

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const tags = (list: string[]) => list.map((k) => keyTag(b64(k))).join(', ');

/** A removal of a peer holding `held` (base64 DNSKEY RDATA; flags 257 = KSK). */
export function startRemoval(held: string[], now: number): Removal {
  const isKsk = (k: string) => { const r = b64(k); return ((r[0] << 8) | r[1]) === 257; };
  return { step: 'withdraw-ds', startedAt: now, ksks: held.filter(isKsk), zsks: held.filter((k) => !isKsk(k)) };
}

/** The DS RDATAs among `ds` that point at one of `ksks` (SHA-256 or SHA-384 digests). */
export function dsFor(origin: Name, ksks: string[], ds: readonly Uint8Array[]): Uint8Array[] {
  const want = ksks.flatMap((k) => [dsRdata(origin, b64(k), 2), dsRdata(origin, b64(k), 4)]);
  return ds.filter((d) => want.some((w) => rdataEquals(w, d)));
}

/** One step further where the inputs allow it (call again after applying `claims`: steps may follow at once). */
export function advance(r: Removal, input: RemovalInput): Advanced {
  switch (r.step) {
    case 'withdraw-ds':
      return { removal: { ...r, step: 'wait-ds' }, claims: r.zsks };
    case 'wait-ds': {
      const gone = (dsTtl: number | undefined): Advanced => ({
        removal: { ...r, step: 'wait-ttl', dsGoneAt: input.now, until: input.now + (dsTtl ?? 0) + input.dnskeyTtl, ...(dsTtl !== undefined ? { dsTtl } : {}) },
      });
      if (r.ksks.length === 0 || r.dsAbsent) return gone(r.dsTtl);
      const p = input.parentDs;
      if (!p?.ok) return { removal: r };
      const still = dsFor(input.origin, r.ksks, p.ds);
      if (still.length > 0) {
        const ttl = p.ttl !== undefined ? Math.max(p.ttl, r.dsTtl ?? 0) : r.dsTtl;
        return { removal: { ...r, ...(ttl !== undefined ? { dsTtl: ttl } : {}) } };
      }
      return gone(r.dsTtl);
    }
    case 'wait-ttl':
      if (r.until !== undefined && input.now < r.until) return { removal: r };
      return { removal: { ...r, step: 'done', doneAt: input.now }, claims: [] };
    case 'done':
      return { removal: r };
  }
}

/** What the removal waits for, in words (the command prints it, the status shows it). */
export function waitingFor(r: Removal, now: number, parentDs?: ParentDs): string {
  const at = (t: number) => new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  switch (r.step) {
    case 'withdraw-ds':
      return `withdrawing KSK ${tags(r.ksks)} from our DNSKEY and CDS/CDNSKEY RRsets`;
    case 'wait-ds':
      if (!parentDs) return `the parent to drop the DS for KSK ${tags(r.ksks)}; no parent resolver is configured to ask it (--parent-resolver), so say when it is gone: tandem sync remove ZONE PEER --ds-absent`;
      if (!parentDs.ok) return `the parent to drop the DS for KSK ${tags(r.ksks)}; asking it failed (${parentDs.reason}); --ds-absent says it is gone`;
      return `the parent to drop the DS for KSK ${tags(r.ksks)} (our CDS/CDNSKEY no longer list them; the parent still publishes them)`;
    case 'wait-ttl':
      return `the caches to forget the DS (TTL ${r.dsTtl ?? 0} s) and our DNSKEY RRset (TTL ${Math.max(0, (r.until ?? now) - (r.dsGoneAt ?? now) - (r.dsTtl ?? 0))} s): the ${r.zsks.length ? `keys ${tags(r.zsks)} go` : 'removal ends'} at ${at(r.until ?? now)} (in ${Math.max(0, (r.until ?? now) - now)} s)`;
    case 'done':
      return `nothing: the peer holds no key in the zone since ${at(r.doneAt ?? now)}; remove it from zone.sync`;
  }
}
