// The key material of a multi-signer set-up, compared across providers (RFC 8901): which keys each provider
// signs with, whether every provider's ZSK is in every DNSKEY RRset (§3), whether the DS set covers every
// provider's KSK and nothing else (§2.1.2), and whether CDS/CDNSKEY say the same everywhere (§8; RFC 9975:
// parents act only on a CDS/CDNSKEY RRset that all the child's nameservers serve alike).
import { createHash } from 'node:crypto';
import type { Name } from '../dns/name.js';
import { formatRdata } from '../dns/rdata.js';
import { RRType, typeName } from '../dns/types.js';
import { dsRdata, isKsk, keyTag, parseDnskeyRdata } from '../dnssec/keys.js';
import type { TrustAnchors } from './anchors.js';
import type { ProviderState } from './providers.js';
import type { Findings, KeyReport } from './report.js';
import { checkRrset, type SigResult } from './verify.js';

export interface KeyView {
  /** The DNSKEY RRset as served. */
  own: Uint8Array[];
  /** Keys whose signature over that RRset validates (the provider's KSKs in use). */
  ksks: Uint8Array[];
  /** Keys to validate answers with: the RRset once it validates from the anchors; undefined when it does not. */
  trusted?: Uint8Array[];
  /** Why the RRset is not trusted. */
  untrusted?: string;
  sigs: SigResult[];
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const has = (set: readonly Uint8Array[], k: Uint8Array) => set.some((x) => hex(x) === hex(k));

/** The key's tag and role for messages: `12345 (KSK, algorithm 13)`. */
export function describeKey(k: Uint8Array): string {
  const f = parseDnskeyRdata(k);
  return `${keyTag(k)} (${isKsk(f.flags) ? 'KSK' : 'ZSK'}, algorithm ${f.algorithm})`;
}

/** RFC 4034 §5.2: the DS names this key (tag, algorithm, digest over owner and DNSKEY RDATA). */
export function dsMatches(zone: Name, dnskey: Uint8Array, ds: Uint8Array): boolean {
  if (ds.length < 5 || ((ds[0] << 8) | ds[1]) !== keyTag(dnskey) || ds[2] !== dnskey[3]) return false;
  const digestType = ds[3];
  let made: Uint8Array;
  if (digestType === 2 || digestType === 4) made = dsRdata(zone, dnskey, digestType).subarray(4);
  else if (digestType === 1) made = createHash('sha1').update(zone.canonicalWire()).update(dnskey).digest();
  else return false;
  return hex(made) === hex(ds.subarray(4));
}

const anchored = (zone: Name, k: Uint8Array, a: TrustAnchors) => has(a.keys, k) || a.ds.some((d) => dsMatches(zone, k, d));

/** What a provider's DNSKEY RRset is worth: its signers, and whether it validates from the anchors (RFC 4035 §5.2). */
export function viewKeys(st: ProviderState, zone: Name, anchors: TrustAnchors | undefined, now: number): KeyView {
  const own = st.dnskey.set?.rdatas ?? [];
  if (!st.dnskey.set) return { own, ksks: [], untrusted: 'no DNSKEY RRset', sigs: [] };
  const self = checkRrset(st.dnskey.set, st.dnskey.sigs, zone, own, now);
  // A signer that also signs the DNSKEY RRset with its ZSK (allowed) does not make the ZSK a KSK: keys with the
  // SEP flag are the KSKs when any signs it (RFC 4034 §2.1.1: SEP is a hint, so without one every signer counts).
  const signers = self.sigs.filter((s) => s.ok && s.key).map((s) => s.key!);
  const sep = signers.filter((k) => isKsk(parseDnskeyRdata(k).flags));
  const ksks = sep.length ? sep : signers;
  if (!anchors) return self.ok ? { own, ksks, trusted: own, sigs: self.sigs } : { own, ksks, untrusted: self.reason, sigs: self.sigs };
  const entry = own.filter((k) => anchored(zone, k, anchors));
  if (entry.length === 0) return { own, ksks, untrusted: `no key of it matches a trust anchor from ${anchors.source}`, sigs: self.sigs };
  const r = checkRrset(st.dnskey.set, st.dnskey.sigs, zone, entry, now);
  return r.ok ? { own, ksks, trusted: own, sigs: self.sigs } : { own, ksks, untrusted: `not signed by a key with a trust anchor (${r.reason})`, sigs: self.sigs };
}

/** The keys of a provider for the report, each with what the provider uses it for. */
export function keyReports(v: KeyView, zsks: readonly Uint8Array[]): KeyReport[] {
  return v.own.map((k) => {
    const f = parseDnskeyRdata(k);
    const ksk = has(v.ksks, k), zsk = has(zsks, k);
    return { tag: keyTag(k), flags: f.flags, algorithm: f.algorithm, use: ksk && zsk ? 'both' : ksk ? 'ksk' : zsk ? 'zsk' : 'published', dnskey: formatRdata(RRType.DNSKEY, k) };
  });
}

export interface KeyInput {
  st: ProviderState;
  v: KeyView;
  /** Keys that signed this provider's data (SOA, NS, the names asked), validated with its own DNSKEY RRset. */
  zsks: Uint8Array[];
}

/** DNSKEY, DS and ZSK findings across providers. */
export function checkKeys(zone: Name, ps: KeyInput[], anchors: TrustAnchors | undefined, f: Findings): void {
  for (const { st, v } of ps) {
    const who = st.p.label;
    if (!st.dnskey.set) { f.error('dnskey-missing', `${who} serves no DNSKEY RRset for ${zone}`, { provider: who }); continue; }
    if (v.ksks.length === 0) f.error('dnskey-invalid', `the DNSKEY RRset of ${who} does not validate with its own keys: ${v.sigs.map((s) => `RRSIG ${s.keyTag}: ${s.reason}`).join('; ') || 'no RRSIG'}`, { provider: who });
    else if (v.untrusted) f.error('dnskey-untrusted', `the DNSKEY RRset of ${who} is not trusted: ${v.untrusted} (RFC 4035 §5.2)`, { provider: who });
  }

  // RFC 8901 §3: every ZSK any provider signs with is in every provider's DNSKEY RRset.
  const missingZsk = new Set<string>();
  for (const x of ps) {
    for (const k of x.zsks) {
      for (const y of ps) {
        if (y === x || !y.st.dnskey.set || has(y.v.own, k)) continue;
        missingZsk.add(`${y.st.p.label}|${hex(k)}`);
        f.error('zsk-missing', `the DNSKEY RRset of ${y.st.p.label} lacks ZSK ${keyTag(k)} that ${x.st.p.label} signs with: resolvers that cached ${y.st.p.label}'s DNSKEY RRset fail on ${x.st.p.label}'s answers (RFC 8901 §3)`, { provider: y.st.p.label });
      }
    }
  }
  // Other differences: KSKs need not be shared (RFC 8901 §2.1.2), other keys should be.
  const all = new Map<string, Uint8Array>();
  for (const p of ps) for (const k of p.v.own) all.set(hex(k), k);
  const ksksAnywhere = ps.flatMap((p) => p.v.ksks);
  for (const y of ps) {
    if (!y.st.dnskey.set) continue;
    const lacking = [...all.values()].filter((k) => !has(y.v.own, k) && !missingZsk.has(`${y.st.p.label}|${hex(k)}`));
    const ksks = lacking.filter((k) => has(ksksAnywhere, k));
    const others = lacking.filter((k) => !has(ksksAnywhere, k));
    const from = (k: Uint8Array) => ps.filter((p) => has(p.v.own, k)).map((p) => p.st.p.label).join(', ');
    if (others.length) f.warning('dnskey-differs', `the DNSKEY RRset of ${y.st.p.label} lacks keys other providers publish`, { provider: y.st.p.label, details: others.map((k) => `${describeKey(k)}, published by ${from(k)}`) });
    if (ksks.length) f.note('dnskey-differs', `the DNSKEY RRset of ${y.st.p.label} lacks other providers' KSKs (allowed in model 2, RFC 8901 §2.1.2)`, { provider: y.st.p.label, details: ksks.map((k) => `${describeKey(k)}, published by ${from(k)}`) });
  }
  ttlsAlike(ps.map((p) => p.st), 'dnskey', 'DNSKEY', f);

  if (!anchors) {
    f.warning('no-trust-anchor', 'no --ds, --parent or --anchor given: the DS set is not checked, and each DNSKEY RRset is trusted as served');
    return;
  }
  // The DS set covers every provider's KSK (RFC 8901 §2.1.2: one DS per provider KSK) and nothing stale.
  for (const { st, v } of ps) {
    for (const k of v.ksks) {
      if (!anchored(zone, k, anchors)) f.error('ds-missing', `KSK ${keyTag(k)} of ${st.p.label} (it signs ${st.p.label}'s DNSKEY RRset) has no DS in ${anchors.source}: validation through ${st.p.label} depends on its other KSKs or fails`, { provider: st.p.label });
    }
  }
  for (const ds of anchors.ds) {
    const text = formatRdata(RRType.DS, ds);
    const key = [...all.values()].find((k) => dsMatches(zone, k, ds));
    if (!key) f.error('ds-stale', `DS ${text.split(' ').slice(0, 3).join(' ')} in ${anchors.source} matches no key that any provider publishes (stale: remove it)`, { details: [text] });
    else if (!has(ksksAnywhere, key)) f.warning('ds-unused', `DS ${keyTag(key)} matches a key no provider signs its DNSKEY RRset with (a KSK rollover in progress?)`);
  }
}

/** The TTL of one apex RRset alike at every provider, else a warning. */
function ttlsAlike(states: ProviderState[], field: 'dnskey' | 'cds' | 'cdnskey', type: string, f: Findings): void {
  const ttls = states.filter((s) => s[field].set).map((s) => ({ who: s.p.label, ttl: s[field].set!.ttl }));
  if (new Set(ttls.map((t) => t.ttl)).size > 1) f.warning('ttl-mismatch', `${type} TTLs differ between providers`, { details: ttls.map((t) => `${t.who}: ${t.ttl}`) });
}

const sorted = (rdatas: readonly Uint8Array[] | undefined, type: number) => (rdatas ?? []).map((r) => formatRdata(type, r)).sort();

/** CDS/CDNSKEY: the same at every provider (RFC 9975), covering every provider's KSK and no other key (RFC 8901 §8). */
export function checkCds(zone: Name, ps: KeyInput[], anchors: TrustAnchors | undefined, now: number, f: Findings): void {
  const states = ps.map((p) => p.st);
  for (const [field, type] of [['cds', RRType.CDS], ['cdnskey', RRType.CDNSKEY]] as const) {
    const name = typeName(type);
    const views = states.map((s) => ({ who: s.p.label, set: sorted(s[field].set?.rdatas, type) }));
    const distinct = new Set(views.map((v) => v.set.join('\n')));
    if (distinct.size > 1) {
      f.error(`${field}-differs`, `${name} RRsets differ between providers: a parent acts only on one all nameservers serve alike (RFC 9975; RFC 8901 §8)`, {
        details: views.map((v) => `${v.who}: ${v.set.length ? v.set.join(' | ') : 'none'}`),
      });
    }
    ttlsAlike(states, field, name, f);
  }
  const published = states.filter((s) => s.cds.set || s.cdnskey.set);
  if (published.length === 0) { f.note('cds-none', 'no provider publishes CDS or CDNSKEY'); return; }
  const allKeys = ps.flatMap((p) => p.v.own);
  const ksks = ps.flatMap((p) => p.v.ksks.map((k) => ({ k, who: p.st.p.label })));
  for (const p of ps) {
    const st = p.st, who = st.p.label;
    const cds = st.cds.set?.rdatas ?? [], cdnskey = st.cdnskey.set?.rdatas ?? [];
    const isDelete = (t: number, r: Uint8Array) => (t === RRType.CDS ? r.length === 5 && r.every((b) => b === 0) : r.length === 5 && r[3] === 0);
    if ([...cds.map((r) => isDelete(RRType.CDS, r)), ...cdnskey.map((r) => isDelete(RRType.CDNSKEY, r))].some(Boolean)) {
      f.note('cds-delete', `${who} publishes the delete CDS/CDNSKEY (RFC 8078 §4): the parent is asked to remove the DS set`, { provider: who });
      continue;
    }
    if (cds.length) {
      for (const { k, who: owner } of ksks) if (!cds.some((d) => dsMatches(zone, k, d))) f.error('cds-missing-ksk', `the CDS RRset of ${who} has no record for KSK ${keyTag(k)} of ${owner}: a parent following it would drop that provider's DS (RFC 8901 §8)`, { provider: who });
      for (const d of cds) if (!allKeys.some((k) => dsMatches(zone, k, d))) f.error('cds-stale', `the CDS RRset of ${who} names key ${(d[0] << 8) | d[1]}, which no provider publishes`, { provider: who });
    }
    if (cdnskey.length) {
      for (const { k, who: owner } of ksks) if (!has(cdnskey, k)) f.error('cds-missing-ksk', `the CDNSKEY RRset of ${who} lacks KSK ${keyTag(k)} of ${owner} (RFC 8901 §8)`, { provider: who });
      for (const k of cdnskey) if (!has(allKeys, k)) f.error('cds-stale', `the CDNSKEY RRset of ${who} holds key ${keyTag(k)}, which no provider publishes`, { provider: who });
    }
    if (cds.length && cdnskey.length) {
      const a = new Set(cds.map((d) => (d[0] << 8) | d[1])), b = new Set(cdnskey.map((k) => keyTag(k)));
      if ([...a].some((t) => !b.has(t)) || [...b].some((t) => !a.has(t))) f.warning('cds-cdnskey-mismatch', `${who}'s CDS and CDNSKEY name different keys (RFC 7344 §4: they must agree)`, { provider: who, details: [`CDS ${[...a].join(' ')}`, `CDNSKEY ${[...b].join(' ')}`] });
    }
    // RFC 7344 §4.1: signed by a key that is in both the DNSKEY RRset and the DS set.
    for (const [field, type] of [['cds', RRType.CDS], ['cdnskey', RRType.CDNSKEY]] as const) {
      const set = st[field].set;
      if (!set) continue;
      const r = checkRrset(set, st[field].sigs, zone, p.v.own, now);
      if (!r.ok) f.error('cds-signature', `the ${typeName(type)} RRset of ${who} does not validate with its own DNSKEY RRset: ${r.reason}`, { provider: who });
      else if (anchors && !r.sigs.some((s) => s.ok && s.key && anchored(zone, s.key, anchors))) f.warning('cds-signer', `the ${typeName(type)} RRset of ${who} is not signed by a key with a DS (RFC 7344 §4.1: parents ignore it)`, { provider: who });
    }
  }
}

