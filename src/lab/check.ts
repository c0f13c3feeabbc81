// `tandem check`: a multi-signer set-up checked over DNS, as resolvers will meet it (RFC 8901). Every
// provider is asked the same questions; each answer is validated with every provider's DNSKEY RRset (the
// pinned pairs: a resolver may cache the DNSKEY RRset of one provider and get its answers from another);
// keys, DS, CDS/CDNSKEY, NS, SOA and the records themselves are compared across providers. Talks DNS only:
// it checks tandem, Knot, PowerDNS or BIND alike, and never looks inside a server.
import type { Endpoint } from '../config/server.js';
import type { Name } from '../dns/name.js';
import type { Message } from '../dns/reader.js';
import { formatRdata } from '../dns/rdata.js';
import { RRType, Rcode, typeName } from '../dns/types.js';
import { parentDs, type TrustAnchors } from './anchors.js';
import { ask } from './ask.js';
import { judge, type Judged } from './judge.js';
import { checkCds, checkKeys, keyReports, viewKeys, type KeyInput } from './keysets.js';
import { APEX_NODATA_TYPES, PROBE_LABEL, pickNames, walkNsec, zoneNames, type NameToCheck } from './names.js';
import { readApex, readAxfr, type Provider, type ProviderState } from './providers.js';
import { Findings, type CheckReport, type NameReport, type PairReport } from './report.js';
import type { SigResult } from './verify.js';
import { compareZones } from './zonediff.js';

export type { Provider } from './providers.js';

export interface CheckOptions {
  zone: Name;
  providers: Provider[];
  /** From `--ds` or `--anchor`. */
  anchors?: TrustAnchors;
  /** `--parent HOST[:PORT]`: the DS set is asked there. */
  parent?: { server: Endpoint; label: string };
  /** `--name`: asked in addition to the names found in the zone. */
  names?: NameToCheck[];
  /** Ask only the apex and `names` (no AXFR, walk or probes for names). */
  namesOnly?: boolean;
  /** Warn about signatures expiring within this many days (default 3). */
  expiryDays?: number;
  /** Send the CO bit to providers that understand it (default true; RFC 9824 §5.1). */
  co?: boolean;
  /** Seconds since the epoch (STYLE habit 14). */
  now: () => number;
  /** Per question, ms (default 3000). */
  timeoutMs?: number;
}

interface Asked {
  q: NameToCheck;
  /** Per provider label: the answer, or why there is none. */
  answers: Map<string, Message | string>;
}

const nameKey = (q: { name: Name; type: number }) => `${q.name.key}|${q.type}`;
const qText = (q: { name: Name; type: number }) => `${q.name} ${typeName(q.type)}`;
const rcodeText = (rc: number) => Object.entries(Rcode).find(([, v]) => v === rc)?.[0] ?? `RCODE ${rc}`;
/** Wildcard answers are positive answers: a compact signer signs them as exact matches (RFC 9824 §3.3). */
const outcome = (j: Judged) => (j.kind === 'wildcard' ? 'positive' : j.kind);

function dataLines(j: Judged): string[] {
  return j.data.flatMap((s) => s.rdatas.map((r) => {
    let text = formatRdata(s.type, r);
    if (s.type === RRType.SOA) text = text.split(' ').filter((_, i) => i !== 2).join(' '); // the serial may differ
    return `${s.name} ${typeName(s.type)} ${text}`;
  })).sort();
}

/** A provider's method from the proofs it sent: compact denial's NODATA proofs are plain NSEC (RFC 9824 §3.2). */
function denialMethod(seen: Set<string>): string {
  return seen.has('compact') ? 'compact' : seen.has('nsec3') ? 'nsec3' : [...seen].join('+');
}

/** The names to ask: the apex, the operator's, and one of each kind found in the zone (or made up). */
async function chooseNames(o: CheckOptions, up: ProviderState[], timeoutMs: number, now: number): Promise<NameToCheck[]> {
  const zone = o.zone;
  const list: NameToCheck[] = [
    { name: zone, type: RRType.SOA, why: 'apex' },
    { name: zone, type: RRType.NS, why: 'apex' },
    ...(o.names ?? []),
  ];
  if (!o.namesOnly) {
    const axfr = up.find((s) => s.axfr);
    let found = axfr ? pickNames(zone, zoneNames(axfr.axfr!), `AXFR from ${axfr.p.label}`) : undefined;
    for (const st of up) {
      if (found) break;
      const walked = await walkNsec(zone, async (n, t) => {
        const r = await ask(st.p.server, n, t, { co: st.co, timeoutMs });
        return r.ok ? r.message : undefined;
      });
      if (walked) found = pickNames(zone, walked, `NSEC walk of ${st.p.label}`);
    }
    if (!found) {
      // Nothing to read the zone from: a made-up name error, a NODATA type at the apex, and www.
      const first = up[0];
      const probe = async (name: Name, type: number) => {
        const r = await ask(first.p.server, name, type, { co: first.co, timeoutMs });
        return r.ok ? judge(r.message, name, type, { zone, keys: first.dnskey.set?.rdatas ?? [], now }).kind : undefined;
      };
      found = [{ name: zone.child(PROBE_LABEL), type: RRType.A, why: 'NXDOMAIN (made up: no AXFR, no NSEC chain)' }];
      for (const t of APEX_NODATA_TYPES) {
        if ((await probe(zone, t)) === 'nodata') { found.push({ name: zone, type: t, why: 'NODATA at the apex (made up)' }); break; }
      }
      const www = zone.child('www');
      const k = await probe(www, RRType.A);
      if (k && k !== 'nxdomain') found.push({ name: www, type: RRType.A, why: `${k} (made up)` });
    }
    list.push(...found);
  }
  const seen = new Set<string>();
  return list.filter((q) => (seen.has(nameKey(q)) ? false : (seen.add(nameKey(q)), true)));
}

/** Runs the whole check; never throws for what a provider serves (that is a finding). */
export async function runCheck(o: CheckOptions): Promise<CheckReport> {
  const zone = o.zone;
  const timeoutMs = o.timeoutMs ?? 3000;
  const now = o.now();
  const f = new Findings();

  let anchors = o.anchors;
  if (o.parent) {
    const r = await parentDs(o.parent.server, zone, o.parent.label, timeoutMs);
    if ('reason' in r) f.error('parent-ds', `no DS set from the parent: ${r.reason}`);
    else anchors = r;
  }

  const states = await Promise.all(o.providers.map((p) => readApex(p, zone, timeoutMs, o.co !== false)));
  for (const st of states) {
    if (st.down) f.error('unreachable', `${st.p.label}: ${st.down}`, { provider: st.p.label });
    else for (const why of st.failures) f.error('apex-query', `${st.p.label} failed the apex question ${why}`, { provider: st.p.label });
  }
  const up = states.filter((s) => !s.down);
  await Promise.all(up.map((s) => readAxfr(s, zone, timeoutMs, o.now)));
  const views = new Map(up.map((s) => [s.p.label, viewKeys(s, zone, anchors, now)]));

  // Every name to every provider; the apex SOA and NS answers are already here.
  const names = up.length ? await chooseNames(o, up, timeoutMs, now) : [];
  const asked: Asked[] = names.map((q) => ({ q, answers: new Map() }));
  await Promise.all(up.map(async (st) => {
    for (const a of asked) {
      const pre = a.q.name.equals(zone) ? st.messages.get(a.q.type) : undefined;
      if (pre) { a.answers.set(st.p.label, pre); continue; }
      const r = await ask(st.p.server, a.q.name, a.q.type, { co: st.co, timeoutMs });
      a.answers.set(st.p.label, r.ok ? r.message : r.reason);
    }
  }));

  // Each answer judged with its own provider's keys: what it says, which keys sign it, its signatures' times.
  const zsks = new Map<string, Uint8Array[]>(up.map((s) => [s.p.label, []]));
  const sigsSeen = new Map<string, { what: string; sig: SigResult }[]>(up.map((s) => [s.p.label, []]));
  const notAa = new Map<string, string[]>(up.map((s) => [s.p.label, [...s.notAuthoritative]]));
  const denials = new Map<string, Set<string>>(up.map((s) => [s.p.label, new Set()]));
  const nameReports: NameReport[] = [];
  for (const a of asked) {
    const report: NameReport = { name: a.q.name.toString(), type: typeName(a.q.type), why: a.q.why, answers: [] };
    const judged = new Map<string, Judged>();
    for (const st of up) {
      const who = st.p.label;
      const m = a.answers.get(who);
      if (typeof m === 'string' || !m) {
        f.error('no-answer', `${who} did not answer ${qText(a.q)}: ${m ?? 'not asked'}`, { provider: who });
        report.answers.push({ provider: who, kind: 'none', rcode: '', compact: false, data: [], error: m ?? 'not asked' });
        continue;
      }
      const v = views.get(who)!;
      const j = judge(m, a.q.name, a.q.type, { zone, keys: v.trusted ?? v.own, now });
      judged.set(who, j);
      for (const s of j.sigs) {
        sigsSeen.get(who)!.push({ what: `${s.owner} ${typeName(s.type)}`, sig: s.sig });
        if (s.sig.ok && s.sig.key && !([RRType.DNSKEY, RRType.CDS, RRType.CDNSKEY] as number[]).includes(s.type) && !zsks.get(who)!.some((k) => Buffer.compare(k, s.sig.key!) === 0)) zsks.get(who)!.push(s.sig.key);
      }
      if (!m.aa && j.kind !== 'referral' && !a.q.name.equals(zone)) notAa.get(who)!.push(qText(a.q));
      if (j.denial && j.kind !== 'positive') denials.get(who)!.add(j.denial);
      report.answers.push({ provider: who, kind: j.kind, rcode: rcodeText(m.rcode), ...(j.denial ? { denial: j.denial } : {}), compact: j.compact, data: dataLines(j) });
    }
    nameReports.push(report);
    // The same answer from every provider: the same kind (a compact name error is a name error) and records.
    const js = [...judged.entries()];
    if (new Set(js.map(([, j]) => outcome(j))).size > 1) {
      f.error('answer-differs', `providers disagree on ${qText(a.q)}`, { details: js.map(([who, j]) => `${who}: ${j.kind}${j.compact ? ' (compact)' : ''}`) });
    } else if (a.q.type !== RRType.SOA && new Set(js.map(([, j]) => dataLines(j).join('\n'))).size > 1) {
      f.error('answer-differs', `providers answer ${qText(a.q)} with different records`, { details: js.flatMap(([who, j]) => dataLines(j).map((l) => `${who}: ${l}`)) });
    }
  }

  // Keys, DS and CDS first: a missing ZSK or DS is the cause the failing pairs below show.
  const inputs: KeyInput[] = up.map((st) => ({ st, v: views.get(st.p.label)!, zsks: zsks.get(st.p.label)! }));
  checkKeys(zone, inputs, anchors, f);
  checkCds(zone, inputs, anchors, now, f);
  checkApex(up, f);
  compareZones(up, f);

  // The pinned pairs: every provider's answers with every trusted DNSKEY RRset, its own included.
  const pairs: PairReport[] = [];
  for (const x of up) {
    for (const y of up) {
      const keys = views.get(y.p.label)!.trusted;
      if (!keys) continue;
      const failed: string[] = [];
      let checked = 0;
      for (const a of asked) {
        const m = a.answers.get(x.p.label);
        if (typeof m !== 'object') continue;
        checked++;
        const j = judge(m, a.q.name, a.q.type, { zone, keys, now });
        if (j.problems.length) failed.push(`${qText(a.q)}: ${j.problems.join('; ')}`);
      }
      pairs.push({ data: x.p.label, keys: y.p.label, checked, failed: failed.length });
      if (failed.length === 0) continue;
      const msg = x === y
        ? `answers of ${x.p.label} do not validate with its own DNSKEY RRset (${failed.length} of ${checked})`
        : `answers of ${x.p.label} do not validate with the DNSKEY RRset of ${y.p.label} (${failed.length} of ${checked}): a resolver that cached ${y.p.label}'s keys fails on them`;
      f.error('validation', msg, { provider: x.p.label, details: failed });
    }
  }

  // Warnings: answers without AA, signatures near expiry or not yet valid, mixed denial methods.
  const days = o.expiryDays ?? 3;
  for (const st of up) {
    const who = st.p.label;
    const missing = notAa.get(who)!;
    if (missing.length) f.warning('not-authoritative', `${who} answers without AA (RFC 1035 §4.1.1): resolvers may not treat it as an authority for ${zone}`, { provider: who, details: missing });
    const seen = [...sigsSeen.get(who)!, ...views.get(who)!.sigs.map((sig) => ({ what: `${zone} DNSKEY`, sig }))];
    const soon = seen.filter((s) => s.sig.ok && s.sig.expiration - now < days * 86400).sort((a, b) => a.sig.expiration - b.sig.expiration);
    if (soon.length) f.warning('signature-expiring', `${soon.length} signature(s) of ${who} expire within ${days} days`, { provider: who, details: soon.map((s) => `${s.what}: key ${s.sig.keyTag} expires ${new Date(s.sig.expiration * 1000).toISOString()}`) });
    const early = seen.filter((s) => !s.sig.ok && /inception in the future/.test(s.sig.reason ?? ''));
    if (early.length) f.warning('signature-not-yet-valid', `${early.length} signature(s) of ${who} have an inception in the future (clock skew at the signer?)`, { provider: who, details: early.map((s) => `${s.what}: key ${s.sig.keyTag} valid from ${new Date(s.sig.inception * 1000).toISOString()}`) });
  }
  const methods = [...denials.entries()].filter(([, s]) => s.size).map(([who, s]) => [who, denialMethod(s)] as const);
  if (new Set(methods.map(([, m]) => m)).size > 1) {
    f.note('denial-differs', 'providers use different denial methods: valid, but it weakens the benefit of each (RFC 8901 §5)', { details: methods.map(([who, m]) => `${who}: ${m}`) });
  }

  const errors = f.list.filter((x) => x.level === 'error').length;
  return {
    zone: zone.toString(),
    ok: errors === 0,
    errors,
    warnings: f.list.filter((x) => x.level === 'warning').length,
    ...(anchors ? { trust: { source: anchors.source, ds: anchors.ds.map((d) => formatRdata(RRType.DS, d)), keys: anchors.keys.map((k) => formatRdata(RRType.DNSKEY, k)) } } : {}),
    providers: states.map((st) => {
      const v = views.get(st.p.label);
      const soa = st.soa.set?.rdatas[0];
      return {
        label: st.p.label,
        address: `${st.p.server.host}:${st.p.server.port}`,
        reachable: !st.down,
        authoritative: !st.down && (notAa.get(st.p.label)?.length ?? 0) === 0,
        compactAnswersOk: st.co,
        ...(soa ? { serial: Number(formatRdata(RRType.SOA, soa).split(' ')[2]) } : {}),
        ...(denials.get(st.p.label)?.size ? { denial: denialMethod(denials.get(st.p.label)!) } : {}),
        axfr: st.axfr !== undefined,
        ...(st.dnskey.set ? { dnskeyTtl: st.dnskey.set.ttl } : {}),
        keys: v ? keyReports(v, zsks.get(st.p.label) ?? []) : [],
        dnskeyTrusted: v?.trusted !== undefined,
        ns: (st.ns.set?.rdatas ?? []).map((r) => formatRdata(RRType.NS, r)).sort(),
        cds: (st.cds.set?.rdatas ?? []).map((r) => formatRdata(RRType.CDS, r)).sort(),
        cdnskey: (st.cdnskey.set?.rdatas ?? []).map((r) => formatRdata(RRType.CDNSKEY, r)).sort(),
      };
    }),
    names: nameReports,
    pairs,
    findings: f.list,
  };
}

/** NS the same everywhere; SOA the same apart from the serial (the MNAME may name each provider's own server). */
function checkApex(up: ProviderState[], f: Findings): void {
  const ns = up.map((s) => ({ who: s.p.label, v: (s.ns.set?.rdatas ?? []).map((r) => formatRdata(RRType.NS, r).toLowerCase()).sort() }));
  if (new Set(ns.map((x) => x.v.join(' '))).size > 1) {
    f.error('ns-differs', 'the apex NS RRsets differ between providers: each must list every provider\'s nameservers (RFC 8901 §2; the parent\'s NS set should match)', { details: ns.map((x) => `${x.who}: ${x.v.join(' ')}`) });
  }
  const soa = up.filter((s) => s.soa.set).map((s) => ({ who: s.p.label, f: formatRdata(RRType.SOA, s.soa.set!.rdatas[0]).split(' ') }));
  if (new Set(soa.map((x) => x.f.slice(1).filter((_, i) => i !== 1).join(' '))).size > 1) {
    f.warning('soa-differs', 'SOA records differ between providers (beyond MNAME and serial)', { details: soa.map((x) => `${x.who}: ${x.f.join(' ')}`) });
  } else if (new Set(soa.map((x) => x.f[0])).size > 1) {
    f.note('soa-mname-differs', 'each provider names its own primary in the SOA MNAME', { details: soa.map((x) => `${x.who}: ${x.f[0]}`) });
  }
  if (new Set(soa.map((x) => x.f[2])).size > 1) f.note('serial-differs', 'SOA serials differ between providers (each signs and numbers its own versions)', { details: soa.map((x) => `${x.who}: ${x.f[2]}`) });
}
