// Who publishes what in a lab (RFC 8901 model 2): every provider's DNSKEY RRset holds every other provider's ZSK
// (and KSK with --union), and every provider's CDS/CDNSKEY holds every provider's KSK (§8: cross-importation of
// CDS/CDNSKEY, so each provider serves the same set to the parent). The parent holds one DS per provider KSK.
// These functions bring each provider, and the parent, to that state through the provider's own interface:
// tandem's admin API; Knot's zone file (incremental DNSKEY management) and knotc; PowerDNS's zone data
// (direct-dnskey); BIND's dynamic updates.
import { writeFileAtomic } from '../state/atomic.js';
import { join } from 'node:path';
import { Name } from '../dns/name.js';
import { formatRdata } from '../dns/rdata.js';
import { RRType } from '../dns/types.js';
import { ask } from './ask.js';
import { setBindApex } from './lab-bind.js';
import { setKnotForeign } from './lab-knot.js';
import { setPdnsForeign } from './lab-pdns.js';
import { waitUntil } from './lab-procs.js';
import { anchorText, dsFileText, dsRdataText, type LabProvider, type LabState } from './lab-state.js';
import { dnskeyContent, labZoneText, materialOf, sameRdata, TandemApi } from './lab-tandem.js';

export const apiOf = (s: LabState, p: LabProvider): TandemApi => new TandemApi(p.api!, s.token, p === s.parent ? s.parentZone : s.zone);

/** The `TYPE RDATA` records provider `to` should publish for the others (minus what `lab break` withheld). */
export function foreignFor(s: LabState, to: LabProvider): string[] {
  const out: string[] = [];
  for (const p of s.providers.filter((x) => x.name !== to.name)) {
    const m = materialOf(p, s.union);
    for (const k of m.dnskeys) {
      if (s.broken.includes(`zsk:${p.name}:${to.name}:${k.tag}`)) continue;
      out.push(`DNSKEY ${dnskeyContent(k)}`);
    }
    for (const c of m.cds) out.push(`CDS ${c}`);
    for (const c of m.cdnskey) out.push(`CDNSKEY ${c}`);
  }
  return out;
}

export function nsNames(s: LabState): string[] {
  return s.providers.map((p) => p.name);
}

/**
 * Rewrites the zone of a provider driven through its zone data (Knot, PowerDNS): the lab's records with the
 * current NS set, plus the foreign records; then waits (bounded) until each foreign record is served and each one
 * in `dropped` is gone.
 */
export async function syncExternal(s: LabState, p: LabProvider, dropped: readonly string[] = []): Promise<void> {
  const foreign = foreignFor(s, p);
  const o = { dir: p.dir, zone: s.zone, zoneText: labZoneText(s, nsNames(s)) };
  if (p.kind === 'knot') await setKnotForeign(o, foreign);
  else if (p.kind === 'pdns') await setPdnsForeign(o, foreign);
  else if (p.kind === 'bind') {
    const own = materialOf(p, true);
    await setBindApex({ zone: s.zone, port: p.port, ttl: s.ttl }, [...foreign, ...nsNames(s).map((n) => `NS ns1.${n}.${s.zone}`)],
      [...own.dnskeys.map((k) => `DNSKEY ${dnskeyContent(k)}`), ...own.cds.map((c) => `CDS ${c}`), ...own.cdnskey.map((c) => `CDNSKEY ${c}`)]);
  } else throw new Error(`${p.name}: the lab does not drive ${p.kind}`);
  const served = async (type: string): Promise<string[]> => {
    const t = RRType[type as 'DNSKEY'];
    const r = await ask({ host: p.address, port: p.port }, Name.fromText(s.zone), t, { timeoutMs: 1000, tries: 1 });
    return r.ok ? r.message.answer.filter((rr) => rr.type === t).map((rr) => formatRdata(rr.type, rr.rdata)) : [];
  };
  const split = (r: string) => { const [type, ...rest] = r.split(/\s+/); return { type, rdata: rest.join(' ') }; };
  await waitUntil(async () => {
    for (const r of foreign) {
      const { type, rdata } = split(r);
      if (!(await served(type)).some((x) => sameRdata(x, rdata))) return false;
    }
    for (const r of dropped.filter((d) => !foreign.includes(d))) {
      const { type, rdata } = split(r);
      if ((await served(type)).some((x) => sameRdata(x, rdata))) return false;
    }
    return true;
  }, 20_000, `${p.name} serving the other providers' keys`);
}

/** Imports into tandem `to` what it lacks of `from`'s keys and CDS/CDNSKEY. */
async function importInto(s: LabState, to: LabProvider, from: LabProvider): Promise<void> {
  const api = apiOf(s, to);
  const m = materialOf(from, s.union);
  for (const k of m.dnskeys) await api.add('DNSKEY', s.zone, dnskeyContent(k), s.ttl);
  // With --union the imported KSKs join our CDS/CDNSKEY by themselves; otherwise publish theirs beside ours.
  if (!s.union) {
    for (const c of m.cds) await api.add('CDS', s.zone, c, s.ttl);
    for (const c of m.cdnskey) await api.add('CDNSKEY', s.zone, c, s.ttl);
  }
}

/** Every provider takes the keys of every other one (`only`: just those between `only` and the rest). */
export async function exchangeKeys(s: LabState, only?: LabProvider): Promise<void> {
  await Promise.all(s.providers.map(async (to) => {
    // Knot's and PowerDNS's foreign records are rewritten whole: what it lacks is added, nothing else changes.
    if (to.kind !== 'tandem') return syncExternal(s, to);
    for (const from of s.providers) {
      if (from.name === to.name) continue;
      if (only && to.name !== only.name && from.name !== only.name) continue;
      await importInto(s, to, from);
    }
  }));
}

/** Takes `gone`'s keys and CDS/CDNSKEY out of every remaining provider. */
export async function withdrawKeys(s: LabState, gone: LabProvider): Promise<void> {
  const m = materialOf(gone, true);
  await Promise.all(s.providers.map(async (p) => {
    if (p.kind !== 'tandem') {
      await syncExternal(s, p, [...m.dnskeys.map((k) => `DNSKEY ${dnskeyContent(k)}`), ...m.cds.map((c) => `CDS ${c}`), ...m.cdnskey.map((c) => `CDNSKEY ${c}`)]);
      return;
    }
    const api = apiOf(s, p);
    for (const k of m.dnskeys) await api.remove('DNSKEY', s.zone, (c) => sameRdata(c, dnskeyContent(k)));
    for (const c of m.cds) await api.remove('CDS', s.zone, (x) => sameRdata(x, c));
    for (const c of m.cdnskey) await api.remove('CDNSKEY', s.zone, (x) => sameRdata(x, c));
  }));
}

const nsTarget = (s: LabState, name: string) => `ns1.${name}.${s.zone}`;

/** Adds `p`'s nameserver to every tandem provider's apex NS RRset and to the parent's delegation (with glue). */
export async function addNs(s: LabState, p: LabProvider): Promise<void> {
  for (const q of s.providers.filter((x) => x.kind === 'tandem' && x.name !== p.name)) await apiOf(s, q).add('NS', s.zone, nsTarget(s, p.name), s.ttl);
  const parent = apiOf(s, s.parent);
  await parent.add('NS', s.zone, nsTarget(s, p.name), s.ttl);
  await parent.add('A', nsTarget(s, p.name), '127.0.0.1', s.ttl);
  for (const k of s.providers.filter((x) => x.kind !== 'tandem' && x.name !== p.name)) await syncExternal(s, k);
}

/** Takes `p`'s nameserver out of the parent's delegation (NS and glue). */
export async function removeParentNs(s: LabState, p: LabProvider): Promise<void> {
  const parent = apiOf(s, s.parent);
  const target = nsTarget(s, p.name);
  await parent.remove('NS', s.zone, (c) => sameRdata(c.replace(/\.?$/, '.'), target));
  await parent.remove('A', target, () => true);
}

/** Takes `p`'s nameserver out of every remaining tandem provider's apex NS RRset (Knot: its zone file). */
export async function removeProviderNs(s: LabState, p: LabProvider): Promise<void> {
  const target = nsTarget(s, p.name);
  for (const q of s.providers.filter((x) => x.kind === 'tandem')) await apiOf(s, q).remove('NS', s.zone, (c) => sameRdata(c.replace(/\.?$/, '.'), target));
  for (const k of s.providers.filter((x) => x.kind !== 'tandem')) await syncExternal(s, k);
}

export async function addDs(s: LabState, p: LabProvider): Promise<void> {
  const parent = apiOf(s, s.parent);
  for (const d of p.ds) await parent.add('DS', s.zone, dsRdataText(d), s.ttl);
}

export async function removeDs(s: LabState, ds: readonly string[]): Promise<void> {
  const parent = apiOf(s, s.parent);
  for (const d of ds) await parent.remove('DS', s.zone, (c) => sameRdata(c, dsRdataText(d)));
}

/** The DS records the parent serves now, as `ZONE. TTL IN DS ...`. */
export async function parentDsSet(s: LabState): Promise<string[]> {
  const want = s.zone.slice(0, -1).toLowerCase();
  return (await apiOf(s, s.parent).records('DS')).filter((r) => r.name.replace(/\.$/, '').toLowerCase() === want).map((r) => `${s.zone} ${s.ttl} IN DS ${r.content}`);
}

/** ds.txt and anchor.conf: the DS set the parent serves, for `tandem check --ds` / `--anchor` and delv. */
export async function writeTrustFiles(s: LabState, dir: string): Promise<void> {
  const ds = await parentDsSet(s);
  await writeFileAtomic(join(dir, s.files.ds), dsFileText(s, ds));
  await writeFileAtomic(join(dir, s.files.anchor), anchorText(s.zone, ds));
  await writeFileAtomic(join(dir, s.files.parentAnchor), anchorText(s.parentZone, s.parent.ds));
}
