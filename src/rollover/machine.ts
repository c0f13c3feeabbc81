// The rollover state machine: one call of `advance` looks at the world (clock, other providers' DNSKEY RRsets,
// the parent's DS RRset) and makes at most one transition. Everything it touches is an input (RolloverEnv), so
// the unit tests drive it with a fake clock and fake answers; service.ts gives it the zone manager and DNS.
//
// ZSK, pre-publish (RFC 6781 §4.1.1.1, RFC 8901 §6): publish the new ZSK -> every provider publishes it and the
// DNSKEY TTL has passed -> the new ZSK signs (the old stays published) -> the largest TTL in the zone has passed
// (RRSIGs made by the old key may be cached that long, RFC 7583 Pre-Publication) -> the old ZSK is removed.
// KSK, double-DS (RFC 6781 §4.1.2, RFC 7583 Double-DS, RFC 8901 §8): publish the new KSK and its CDS/CDNSKEY -> the
// parent publishes its DS and the DS TTL has passed -> the new KSK signs DNSKEY/CDS/CDNSKEY -> the DNSKEY TTL has
// passed -> the old KSK leaves DNSKEY and CDS/CDNSKEY -> the parent drops the old DS -> done.
import { Name } from '../dns/name.js';
import { dsRdata } from '../dnssec/keys.js';
import { formatRdata, rdataEquals } from '../dns/rdata.js';
import { RRType } from '../dns/types.js';
import type { ProviderSeen, Rollover } from './state.js';

export type ProviderPoll =
  | { provider: string; ok: true; dnskeys: Uint8Array[]; ttl: number }
  | { provider: string; ok: false; reason: string };

export type ParentPoll = { ok: true; ds: Uint8Array[]; ttl: number } | { ok: false; reason: string };

export interface RolloverEnv {
  now(): number;
  /** The zone as served now: its DNSKEY TTL and the largest TTL of anything it signs (RFC 7583 TTLsig). */
  zone(): { dnskeyTtl: number; maxTtl: number };
  /** Every provider's DNSKEY RRset (ZSK publish step). */
  pollProviders(r: Rollover): Promise<ProviderPoll[]>;
  /** The zone's DS RRset at the parent (KSK steps). */
  parentDs(r: Rollover): Promise<ParentPoll>;
  /** The new key starts signing; the old one stays published (through the zone manager). */
  switchKeys(r: Rollover): Promise<void>;
  /** The old key leaves the DNSKEY RRset, and CDS/CDNSKEY with it (through the zone manager). */
  removeOld(r: Rollover): Promise<void>;
}

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

/** Our DS digests (SHA-256 and SHA-384, RFC 4509 / RFC 6605) of a key, to find it in the parent's DS RRset. */
function dsOf(r: Rollover, key: string): Uint8Array[] {
  const zone = Name.fromText(r.zone);
  return [dsRdata(zone, b64(key), 2), dsRdata(zone, b64(key), 4)];
}

function hasDs(ds: Uint8Array[], ours: Uint8Array[]): boolean {
  return ds.some((d) => ours.some((o) => rdataEquals(d, o)));
}

/** Makes at most one transition; returns the rollover (a new object when anything changed) and whether the step changed. */
export async function advance(r: Rollover, env: RolloverEnv): Promise<{ rollover: Rollover; moved: boolean }> {
  const now = env.now();
  const next = (patch: Partial<Rollover>) => ({ rollover: { ...r, ...patch }, moved: patch.step !== undefined && patch.step !== r.step });
  if (r.step === 'publish' && r.kind === 'zsk') {
    const polls = await env.pollProviders(r);
    const newKey = b64(r.newKey);
    const seen: ProviderSeen[] = polls.map((p) => (p.ok
      ? { provider: p.provider, hasNew: p.dnskeys.some((k) => rdataEquals(k, newKey)), ttl: p.ttl }
      : { provider: p.provider, error: p.reason }));
    const all = seen.every((s) => s.hasNew === true);
    const { dnskeyTtl } = env.zone();
    // A resolver may hold any provider's DNSKEY RRset for its TTL: wait the largest seen (and ours) from the
    // moment the last provider was seen publishing the new key (RFC 8901 §6).
    const ttl = Math.max(dnskeyTtl, ...seen.map((s) => s.ttl ?? 0));
    const seenAt = all ? (r.seenAt ?? now) : undefined;
    const seenTtl = all ? Math.max(ttl, r.seenTtl ?? 0) : undefined;
    if (all && seenAt! + seenTtl! <= now && r.stepSince + dnskeyTtl <= now) {
      await env.switchKeys(r);
      return next({ step: 'retire', stepSince: now, switchedAt: now, retireTtl: env.zone().maxTtl, seen, lastCheck: now, seenAt, seenTtl });
    }
    return next({ seen, lastCheck: now, seenAt, seenTtl });
  }
  if (r.step === 'publish' && r.kind === 'ksk') {
    const p = await env.parentDs(r);
    if (!p.ok) return next({ lastCheck: now, seen: [{ provider: 'parent', error: p.reason }] });
    const present = hasDs(p.ds, dsOf(r, r.newKey));
    const seenAt = present ? (r.seenAt ?? now) : undefined;
    const seenTtl = present ? Math.max(p.ttl, r.seenTtl ?? 0) : undefined;
    const seen = [{ provider: 'parent', hasNew: present, ttl: p.ttl }];
    if (present && seenAt! + seenTtl! <= now) {
      await env.switchKeys(r);
      return next({ step: 'retire', stepSince: now, switchedAt: now, retireTtl: env.zone().dnskeyTtl, seen, lastCheck: now, seenAt, seenTtl });
    }
    return next({ seen, lastCheck: now, seenAt, seenTtl });
  }
  if (r.step === 'retire') {
    if ((r.switchedAt ?? r.stepSince) + (r.retireTtl ?? 0) > now) return { rollover: r, moved: false };
    await env.removeOld(r);
    return r.kind === 'zsk'
      ? next({ step: 'done', stepSince: now, removedAt: now, doneAt: now })
      : next({ step: 'withdraw', stepSince: now, removedAt: now, seen: undefined, seenAt: undefined, seenTtl: undefined });
  }
  if (r.step === 'withdraw') {
    const p = await env.parentDs(r);
    if (!p.ok) return next({ lastCheck: now, seen: [{ provider: 'parent', error: p.reason }] });
    const still = hasDs(p.ds, dsOf(r, r.oldKey));
    if (!still) return next({ step: 'done', stepSince: now, doneAt: now, lastCheck: now, seen: [{ provider: 'parent', hasNew: false, ttl: p.ttl }] });
    return next({ lastCheck: now, seen: [{ provider: 'parent', hasNew: true, ttl: p.ttl }] });
  }
  return { rollover: r, moved: false };
}

export interface RolloverStatus {
  step: Rollover['step'];
  /** What the step waits for, in words. */
  waitingFor: string;
  /** The earliest time (epoch seconds) the next step can happen; undefined while it waits on others (providers, parent). */
  earliestNext?: number;
  /** What the operator should do now, if anything (records to push to or withdraw from other providers, the parent). */
  todo: string[];
}

/** The rollover in words: its step, what it waits for, the earliest time of the next step, the operator's part. */
export function describe(r: Rollover, now: number, zone: { dnskeyTtl: number; maxTtl: number }): RolloverStatus {
  const newTag = r.newTag, oldTag = r.oldTag;
  if (r.step === 'publish' && r.kind === 'zsk') {
    const missing = (r.seen ?? []).filter((s) => s.hasNew !== true).map((s) => (s.error ? `${s.provider} (${s.error})` : s.provider));
    const todo = [`publish the new ZSK at every other provider: ${r.newDnskey}`];
    if (r.seenAt !== undefined) {
      return { step: r.step, waitingFor: `every provider publishes ZSK ${newTag}; the DNSKEY TTL (${r.seenTtl}s) to pass since ${iso(r.seenAt)}`, earliestNext: Math.max(r.seenAt + (r.seenTtl ?? 0), r.stepSince + zone.dnskeyTtl), todo: [] };
    }
    const who = r.seen === undefined ? 'not polled yet' : `missing at ${missing.join(', ')}`;
    return { step: r.step, waitingFor: `every provider to publish ZSK ${newTag} in its DNSKEY RRset (${who}), then the DNSKEY TTL`, todo };
  }
  if (r.step === 'publish') {
    const err = r.seen?.[0]?.error;
    const ds = `${r.zone} IN DS ${formatRdata(RRType.DS, dsOf(r, r.newKey)[0])}`;
    const todo = [
      `the parent must publish the DS of KSK ${newTag} (our CDS asks for it): ${ds}`,
      `every other provider must publish the same CDS/CDNSKEY (RFC 8901 §8): CDNSKEY ${r.newDnskey.replace(/^.*DNSKEY\s+/, '')}`,
    ];
    if (r.seenAt !== undefined) {
      return { step: r.step, waitingFor: `the DS TTL (${r.seenTtl}s) to pass since the DS of KSK ${newTag} was seen at the parent (${iso(r.seenAt)})`, earliestNext: r.seenAt + (r.seenTtl ?? 0), todo: [] };
    }
    return { step: r.step, waitingFor: `the DS of KSK ${newTag} at the parent${err ? ` (last check failed: ${err})` : ''}, then the DS TTL`, todo };
  }
  if (r.step === 'retire') {
    const until = (r.switchedAt ?? r.stepSince) + (r.retireTtl ?? 0);
    const what = r.kind === 'zsk' ? 'the largest TTL in the zone' : 'the DNSKEY TTL';
    return { step: r.step, waitingFor: `${what} (${r.retireTtl}s) to pass since ${r.kind.toUpperCase()} ${newTag} started signing; then ${r.kind.toUpperCase()} ${oldTag} is removed`, earliestNext: Math.max(until, now), todo: [] };
  }
  if (r.step === 'withdraw') {
    return { step: r.step, waitingFor: `the parent to drop the DS of KSK ${oldTag} (our CDS/CDNSKEY no longer list it)`, todo: [`every other provider must withdraw CDS/CDNSKEY for KSK ${oldTag}; the parent must remove its DS`] };
  }
  return { step: r.step, waitingFor: 'nothing: the rollover is done', todo: r.kind === 'zsk' ? [`remove the old ZSK from every other provider: ${r.oldDnskey}`] : [] };
}

function iso(t: number): string {
  return new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
