// What one authoritative answer proves, and whether it validates with a given DNSKEY RRset: the checker's
// validator. It classifies the answer (positive, CNAME, wildcard, NXDOMAIN, NODATA, referral) from the
// records themselves, validates every RRset that must be signed (RFC 4035 §5.3), and checks the proof a
// negative or synthesized answer needs: NSEC (RFC 4035 §3.1.3, §5.4), NSEC3 (RFC 5155 §8) and compact denial
// (RFC 9824: an NSEC or NSEC3 owned by the name with the NXNAME type is a name error, whether the RCODE is
// NOERROR or, with the CO bit, NXDOMAIN). Pure: the message, the question, the keys and the time come in.
import { Name } from '../dns/name.js';
import type { Message, MessageRr } from '../dns/reader.js';
import type { RRset } from '../dns/rr.js';
import { decodeTypeBitmap } from '../dns/bitmap.js';
import { targetName } from '../dns/rdata.js';
import { RRType, Rcode, typeName } from '../dns/types.js';
import { nsec3HashWith } from '../dnssec/denial/nsec3.js';
import { nsec3Fields, nsec3OwnerHash, nsecCovers } from '../zone/presigned.js';
import { checkRrset, type SigResult } from './verify.js';

export type AnswerKind = 'positive' | 'cname' | 'wildcard' | 'nxdomain' | 'nodata' | 'referral';
export type DenialKind = 'nsec' | 'nsec3' | 'compact';

export interface Judged {
  kind: AnswerKind;
  /** The proof method of a negative answer, an insecure referral or a wildcard answer, when one was needed. */
  denial?: DenialKind;
  /** RFC 9824: the name error was shown by an NXNAME NSEC/NSEC3 (RCODE NOERROR or NXDOMAIN). */
  compact: boolean;
  /** A referral with a signed DS RRset (else an insecure one, proven by NSEC/NSEC3). */
  secureReferral?: boolean;
  /** The records the answer gives (answer section, or a referral's NS and DS), DNSSEC records left out. */
  data: RRset[];
  /** Why the answer does not validate; empty when it does. */
  problems: string[];
  /** Every RRSIG checked, with the RRset it covers. */
  sigs: { owner: Name; type: number; sig: SigResult }[];
}

export interface JudgeContext {
  zone: Name;
  /** The DNSKEY RRset to validate with (RDATAs). */
  keys: readonly Uint8Array[];
  /** Seconds since the epoch. */
  now: number;
}

const DNSSEC_TYPES = new Set<number>([RRType.RRSIG, RRType.NSEC, RRType.NSEC3]);

interface Grouped {
  sets: RRset[];
  sigs: Map<string, Uint8Array[]>;
}

const setKey = (name: Name, type: number) => `${name.key}|${type}`;

/** A section's records as RRsets (RFC 2181 §5), RRSIGs by owner and covered type. */
export function groupRrsets(records: readonly MessageRr[]): Grouped {
  const byKey = new Map<string, RRset>();
  const sigs = new Map<string, Uint8Array[]>();
  for (const rr of records) {
    if (rr.type === RRType.RRSIG) {
      const k = setKey(rr.name, (rr.rdata[0] << 8) | rr.rdata[1]);
      sigs.set(k, [...(sigs.get(k) ?? []), rr.rdata]);
      continue;
    }
    const k = setKey(rr.name, rr.type);
    const s = byKey.get(k);
    if (s) s.rdatas.push(rr.rdata);
    else byKey.set(k, { name: rr.name, type: rr.type, class: rr.class, ttl: rr.ttl, rdatas: [rr.rdata] });
  }
  return { sets: [...byKey.values()], sigs };
}

/** The longest common ancestor of two names. */
export function commonAncestor(a: Name, b: Name): Name {
  for (let k = Math.min(a.labelCount, b.labelCount); k > 0; k--) if (a.suffix(k).equals(b.suffix(k))) return a.suffix(k);
  return Name.ROOT;
}

function nsecParts(set: RRset): { next: Name; types: Set<number> } | undefined {
  try {
    const { name, next } = Name.read(set.rdatas[0], 0);
    return { next: name, types: new Set(decodeTypeBitmap(set.rdatas[0].subarray(next))) };
  } catch {
    return undefined;
  }
}

interface Nsec3 {
  set: RRset;
  hash: Uint8Array;
  next: Uint8Array;
  optOut: boolean;
  types: Set<number>;
  params: string;
}

function nsec3Parts(set: RRset, zone: Name): Nsec3 | undefined {
  const hash = nsec3OwnerHash(set.name, zone);
  const f = nsec3Fields(set.rdatas[0]);
  if (!hash || !f) return undefined;
  try {
    const types = new Set(decodeTypeBitmap(set.rdatas[0].subarray(5 + f.salt.length + 1 + f.next.length)));
    return { set, hash, next: f.next, optOut: (f.flags & 1) === 1, types, params: `${f.algorithm} ${f.iterations} ${Buffer.from(f.salt).toString('hex')}` };
  } catch {
    return undefined;
  }
}

function cmp(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** The NSEC3 chain pieces of one answer, with RFC 5155 §8.3's "matches" and "covers". */
class Nsec3Proof {
  private readonly salt: Uint8Array;
  private readonly iterations: number;
  readonly supported: boolean;
  constructor(readonly items: Nsec3[]) {
    const f = nsec3Fields(items[0].set.rdatas[0])!;
    this.salt = f.salt;
    this.iterations = f.iterations;
    this.supported = f.algorithm === 1;
  }
  hash(name: Name): Uint8Array {
    return nsec3HashWith(name, this.salt, this.iterations);
  }
  matches(name: Name): Nsec3 | undefined {
    const h = this.hash(name);
    return this.items.find((n) => cmp(n.hash, h) === 0);
  }
  covers(name: Name): Nsec3 | undefined {
    const h = this.hash(name);
    return this.items.find((n) => (cmp(n.hash, n.next) < 0 ? cmp(n.hash, h) < 0 && cmp(h, n.next) < 0 : cmp(n.hash, h) < 0 || cmp(h, n.next) < 0));
  }
  /** RFC 5155 §8.3: the closest encloser of `name` (an ancestor with a matching NSEC3) and the NSEC3 covering the next closer name. */
  closestEncloser(name: Name, zone: Name): { ce: Name; nextCloser: Name; cover: Nsec3 } | undefined {
    for (let n = name; n.labelCount > zone.labelCount;) {
      const parent = n.parent();
      if (this.matches(parent)) {
        const cover = this.covers(n);
        return cover ? { ce: parent, nextCloser: n, cover } : undefined;
      }
      n = parent;
    }
    return undefined;
  }
}

type Denial = { kind: 'nxdomain' | 'nodata'; compact: boolean } | { problem: string };

/** RFC 4035 §3.1.3 / §5.4 with NSEC; RFC 9824 §3 (an NSEC at the name with NXNAME is a name error). */
function nsecDenial(target: Name, qtype: number, nsecs: RRset[], zone: Name): Denial {
  const parts = nsecs.map((s) => ({ set: s, p: nsecParts(s) })).filter((x) => x.p !== undefined) as { set: RRset; p: { next: Name; types: Set<number> } }[];
  const own = parts.find((x) => x.set.name.equals(target));
  if (own) {
    if (own.p.types.has(RRType.NXNAME)) return { kind: 'nxdomain', compact: true };
    if (own.p.types.has(qtype)) return { problem: `the NSEC at ${target} lists ${typeName(qtype)}, yet the answer is empty` };
    if (own.p.types.has(RRType.CNAME)) return { problem: `the NSEC at ${target} lists CNAME, yet no CNAME was answered` };
    return { kind: 'nodata', compact: false };
  }
  const cover = parts.find((x) => nsecCovers(x.set, target));
  if (!cover) return { problem: `no NSEC matches or covers ${target} (RFC 4035 §3.1.3)` };
  // An empty non-terminal: names exist below it (RFC 4035 §3.1.3.2 does not apply; it is NODATA).
  if (cover.p.next.isSubdomainOf(target) && !cover.p.next.equals(target)) return { kind: 'nodata', compact: false };
  const a = commonAncestor(target, cover.set.name), b = commonAncestor(target, cover.p.next);
  let ce = a.labelCount >= b.labelCount ? a : b;
  if (!ce.isSubdomainOf(zone)) ce = zone;
  const wildcard = ce.child('*');
  const wild = parts.find((x) => x.set.name.equals(wildcard));
  if (wild) {
    if (wild.p.types.has(qtype) || wild.p.types.has(RRType.CNAME)) return { problem: `the wildcard ${wildcard} exists with ${typeName(wild.p.types.has(qtype) ? qtype : RRType.CNAME)}: the answer should have been synthesized from it` };
    return { kind: 'nodata', compact: false }; // RFC 4035 §3.1.3.4: wildcard NODATA
  }
  if (!parts.some((x) => nsecCovers(x.set, wildcard))) return { problem: `no NSEC proves that the wildcard ${wildcard} does not exist (RFC 4035 §3.1.3.2)` };
  return { kind: 'nxdomain', compact: false };
}

/** RFC 5155 §8.4-§8.7 with NSEC3; RFC 9824 §4 (an NSEC3 matching the name with only NXNAME is a name error). */
function nsec3Denial(target: Name, qtype: number, proof: Nsec3Proof, zone: Name, rcode: number): Denial {
  const m = proof.matches(target);
  if (m) {
    if (m.types.has(RRType.NXNAME)) return { kind: 'nxdomain', compact: true };
    if (m.types.has(qtype)) return { problem: `the NSEC3 matching ${target} lists ${typeName(qtype)}, yet the answer is empty` };
    if (m.types.has(RRType.CNAME)) return { problem: `the NSEC3 matching ${target} lists CNAME, yet no CNAME was answered` };
    return { kind: 'nodata', compact: false }; // §8.5
  }
  const ce = proof.closestEncloser(target, zone);
  if (!ce) return { problem: `no closest encloser proof for ${target}: no NSEC3 matches an ancestor with one covering the next closer name (RFC 5155 §8.3)` };
  const wildcard = ce.ce.child('*');
  const wm = proof.matches(wildcard);
  if (wm) {
    if (wm.types.has(qtype) || wm.types.has(RRType.CNAME)) return { problem: `the wildcard ${wildcard} exists with ${typeName(wm.types.has(qtype) ? qtype : RRType.CNAME)}: the answer should have been synthesized from it` };
    return { kind: 'nodata', compact: false }; // §8.7
  }
  if (proof.covers(wildcard)) return { kind: 'nxdomain', compact: false }; // §8.4
  // §8.6, and errata 3441 for any NODATA: an opt-out span may hide an empty non-terminal or an insecure
  // delegation, which then has no NSEC3 of its own.
  if (ce.cover.optOut && (qtype === RRType.DS || rcode === Rcode.NOERROR)) return { kind: 'nodata', compact: false };
  return { problem: `no NSEC3 covers the wildcard ${wildcard} (RFC 5155 §8.4)` };
}

/** Judges one answer to (qname, qtype) from the zone's server with the DNSKEY RRset `ctx.keys`. */
export function judge(m: Message, qname: Name, qtype: number, ctx: JudgeContext): Judged {
  const { zone } = ctx;
  const problems: string[] = [];
  const sigs: Judged['sigs'] = [];
  const answer = groupRrsets(m.answer);
  const authority = groupRrsets(m.authority);
  const out = (kind: AnswerKind, extra: Partial<Judged> = {}): Judged => ({ kind, compact: false, data: [], problems, sigs, ...extra });
  if (m.rcode !== Rcode.NOERROR && m.rcode !== Rcode.NXDOMAIN) {
    problems.push(`RCODE ${Object.entries(Rcode).find(([, v]) => v === m.rcode)?.[0] ?? m.rcode}`);
    return out('nodata');
  }

  // Every RRset that must be signed is validated (RFC 4035 §5.3); wildcard expansions are remembered.
  const synthesized = new Set<string>(); // CNAMEs made from a DNAME need no signature (RFC 6672 §5.3.1)
  for (const d of answer.sets.filter((s) => s.type === RRType.DNAME)) {
    for (const c of answer.sets) if (c.type === RRType.CNAME && c.name.isSubdomainOf(d.name) && !c.name.equals(d.name)) synthesized.add(setKey(c.name, c.type));
  }
  const expanded = new Map<string, Name>();
  const validate = (set: RRset, g: Grouped, section: string) => {
    if (!set.name.isSubdomainOf(zone) || synthesized.has(setKey(set.name, set.type))) return;
    if (section === 'authority' && set.type === RRType.NS && !set.name.equals(zone)) return; // RFC 4035 §2.2: delegation NS is unsigned
    const r = checkRrset(set, g.sigs.get(setKey(set.name, set.type)) ?? [], zone, ctx.keys, ctx.now);
    for (const s of r.sigs) sigs.push({ owner: set.name, type: set.type, sig: s });
    if (!r.ok) problems.push(`${set.name} ${typeName(set.type)} (${section}): ${r.reason}`);
    else if (r.wildcard) expanded.set(setKey(set.name, set.type), r.wildcard);
  };
  for (const s of answer.sets) validate(s, answer, 'answer');
  for (const s of authority.sets) validate(s, authority, 'authority');

  const nsecs = authority.sets.filter((s) => s.type === RRType.NSEC);
  const nsec3s = authority.sets.filter((s) => s.type === RRType.NSEC3).map((s) => nsec3Parts(s, zone)).filter((x): x is Nsec3 => x !== undefined);
  const nsec3 = nsec3s.length ? new Nsec3Proof(nsec3s.filter((x) => x.params === nsec3s[0].params)) : undefined;
  if (nsec3 && !nsec3.supported) problems.push('NSEC3 hash algorithm is not SHA-1 (RFC 5155 §11)');

  // Follow the answer from the question name: CNAMEs and DNAMEs, then the type asked for.
  const data = answer.sets.filter((s) => !DNSSEC_TYPES.has(s.type));
  let target = qname;
  let kind: AnswerKind | undefined;
  let wildcardFrom: Name | undefined;
  let wildcardOwner: Name | undefined;
  let chained = false;
  for (let hop = 0; hop < 16; hop++) {
    const exact = data.find((s) => s.name.equals(target) && s.type === qtype);
    const cname = data.find((s) => s.name.equals(target) && s.type === RRType.CNAME);
    const dname = data.find((s) => s.type === RRType.DNAME && target.isSubdomainOf(s.name) && !target.equals(s.name));
    const step = exact ?? cname ?? dname;
    if (!step) break;
    const w = expanded.get(setKey(step.name, step.type));
    if (w && hop === 0) { wildcardFrom = w; wildcardOwner = step.name; }
    if (step === exact) { kind = chained ? 'cname' : w && hop === 0 ? 'wildcard' : 'positive'; break; }
    chained = true;
    if (step === cname) target = targetName(RRType.CNAME, cname.rdatas[0]);
    else {
      const synth = data.find((s) => s.type === RRType.CNAME && s.name.equals(target));
      if (!synth) { problems.push(`DNAME ${dname!.name} without the synthesized CNAME for ${target} (RFC 6672 §3.4)`); break; }
      target = targetName(RRType.CNAME, synth.rdatas[0]);
    }
    if (!target.isSubdomainOf(zone)) { kind = 'cname'; break; }
  }

  // A wildcard expansion needs the proof that no closer name exists (RFC 4035 §5.3.4, RFC 5155 §8.8).
  if (wildcardFrom && wildcardOwner) {
    const owner = wildcardOwner, ce = wildcardFrom.parent();
    const proven = nsecs.some((s) => nsecCovers(s, owner)) ||
      (nsec3 !== undefined && nsec3.covers(owner.suffix(ce.labelCount + 1)) !== undefined);
    if (!proven) problems.push(`${owner} was synthesized from ${wildcardFrom} without a proof that no closer name exists (RFC 4035 §5.3.4, RFC 5155 §8.8)`);
  }
  const denialOf = (): DenialKind | undefined => (nsecs.length ? 'nsec' : nsec3 ? 'nsec3' : undefined);
  if (kind) return out(kind, { data, ...(kind === 'wildcard' ? { denial: denialOf() } : {}) });

  // No data for the target. A referral: NS below the apex in the authority section and no SOA.
  const soa = authority.sets.find((s) => s.type === RRType.SOA);
  const cut = authority.sets.find((s) => s.type === RRType.NS && !s.name.equals(zone) && s.name.isSubdomainOf(zone) && target.isSubdomainOf(s.name));
  if (cut && !soa && !chained) {
    const ds = authority.sets.find((s) => s.type === RRType.DS && s.name.equals(cut.name));
    const refData = [cut, ...(ds ? [ds] : [])];
    if (ds) return out('referral', { data: refData, secureReferral: true });
    // RFC 4035 §5.2: an insecure referral needs the proof that there is no DS.
    const own = nsecs.find((s) => s.name.equals(cut.name));
    const p = own ? nsecParts(own) : undefined;
    if (p) {
      if (!p.types.has(RRType.NS) || p.types.has(RRType.DS) || p.types.has(RRType.SOA)) problems.push(`the NSEC at ${cut.name} does not prove an insecure delegation (NS set, DS and SOA clear; RFC 4035 §5.2)`);
      return out('referral', { data: refData, secureReferral: false, denial: p.types.has(RRType.NXNAME) ? 'compact' : 'nsec' });
    }
    if (nsec3) {
      const mm = nsec3.matches(cut.name);
      if (mm) {
        if (!mm.types.has(RRType.NS) || mm.types.has(RRType.DS) || mm.types.has(RRType.SOA)) problems.push(`the NSEC3 matching ${cut.name} does not prove an insecure delegation (RFC 5155 §8.9)`);
      } else {
        const ce = nsec3.closestEncloser(cut.name, zone);
        if (!ce || !ce.cover.optOut) problems.push(`no NSEC3 proves that ${cut.name} has no DS (RFC 5155 §8.9: matching, or an opt-out span covering the next closer name)`);
      }
      return out('referral', { data: refData, secureReferral: false, denial: 'nsec3' });
    }
    problems.push(`referral to ${cut.name} without DS and without an NSEC/NSEC3 proof that there is none (RFC 4035 §5.2)`);
    return out('referral', { data: refData, secureReferral: false });
  }

  // A negative answer for the target (the question name, or the end of a CNAME chain).
  if (!soa) problems.push(`negative answer without the zone's SOA in the authority section (RFC 2308 §3)`);
  let d: Denial;
  if (nsecs.length) d = nsecDenial(target, qtype, nsecs, zone);
  else if (nsec3) d = nsec3Denial(target, qtype, nsec3, zone, m.rcode);
  else d = { problem: 'no NSEC or NSEC3 in the authority section: the negative answer is unproven (RFC 4035 §3.1.3)' };
  if ('problem' in d) {
    problems.push(d.problem);
    return out(chained ? 'cname' : m.rcode === Rcode.NXDOMAIN ? 'nxdomain' : 'nodata', { data, denial: denialOf() });
  }
  // RCODEs: a name error is NXDOMAIN (RFC 4035 §3.1.3.2), but compact denial says NOERROR unless CO was sent
  // (RFC 9824 §3.1, §5.1): both are a name error here. A NODATA proof with NXDOMAIN is a contradiction.
  if (d.kind === 'nxdomain' && !d.compact && m.rcode !== Rcode.NXDOMAIN) problems.push(`NOERROR with a proof that ${target} does not exist (expected NXDOMAIN)`);
  if (d.kind === 'nodata' && m.rcode === Rcode.NXDOMAIN) problems.push(`NXDOMAIN with a proof that ${target} exists (NODATA)`);
  const denial: DenialKind = d.compact ? 'compact' : nsecs.length ? 'nsec' : 'nsec3';
  return out(chained ? 'cname' : d.kind, { data, denial, compact: d.compact });
}
