// A signed test zone, deterministic signing and helpers to read and verify signed sections
// (shared by the denial and answer tests).
import { expect } from 'vitest';
import { Name } from '../../../src/dns/name.js';
import type { Rr, RRset } from '../../../src/dns/rr.js';
import { RRType } from '../../../src/dns/types.js';
import { decodeTypeBitmap } from '../../../src/dns/bitmap.js';
import { apexRrsets } from '../../../src/dnssec/apex.js';
import { SignatureCache } from '../../../src/dnssec/cache.js';
import { FLAGS_KSK, FLAGS_ZSK, generateKey, keyTag } from '../../../src/dnssec/keys.js';
import { parseRrsigRdata } from '../../../src/dnssec/rrsig.js';
import { NobleSigner, NodeSigner, verifyRrsig, verifyRrsigNoble } from '../../../src/dnssec/signer.js';
import { createZoneSigning, type ZoneSigningImpl } from '../../../src/dnssec/zonesigning.js';
import type { Signer } from '../../../src/dnssec/types.js';
import { nsec3paramRrset } from '../../../src/dnssec/denial/nsec3.js';
import { signAnswer } from '../../../src/dnssec/answer.js';
import { buildDenialChain } from '../../../src/dnssec/chain.js';
import { chainKind } from '../../../src/dnssec/denial/index.js';
import { lookup } from '../../../src/zone/lookup.js';
import type { Sections } from '../../../src/zone/sections.js';
import type { DenialMode, Zone } from '../../../src/zone/types.js';
import { A, AAAA, CNAME, DNAME, DS, MX, NS, ORIGIN, SOA, SRV, TXT, n, settings, zoneOf } from '../zone/helpers.js';

export const NOW = 1_767_225_600; // 2026-01-01T00:00:00Z

/** Records of the test zone (plus the apex SOA/NS of zoneOf): every case of the denial tests. */
export function records(): Rr[] {
  return [
    A('ns1', '192.0.2.53'),
    A('www', '192.0.2.1'), AAAA('www', 1),
    MX('mail', 10, 'mx'), A('mx', '192.0.2.25'),
    SRV('_sip._tcp', 'mx'),
    TXT('a.b.c', 'deep'), // b.c and c are empty non-terminals
    A('*.wild', '192.0.2.9'), TXT('*.wild', 'wild'), // wild is an empty non-terminal
    CNAME('alias', 'www'),
    CNAME('ext', 'www.example.net.'),
    CNAME('dangling', 'nowhere'),
    CNAME('walias', 'x.wild'),
    DNAME('dn', 'example.org.'),
    NS('sub', 'ns.sub'), A('ns.sub', '192.0.2.77'), // insecure delegation with glue
    NS('secure', 'ns.example.net.'), DS('secure', 4242), // secure delegation
    NS('@', 'ns.sub'), // an apex NS target below a cut: its address is glue
  ];
}

export interface Signed {
  zone: Zone;
  signing: ZoneSigningImpl;
  ksk: Signer;
  zsk: Signer;
  dnskeys: Uint8Array[];
}

const KSK_SCALAR = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const ZSK_SCALAR = Uint8Array.from({ length: 32 }, (_, i) => 0x40 + i);

/** The test zone, signed with the deterministic signer (or fresh node:crypto keys), apex key RRsets added. */
export function signedZone(mode: DenialMode, opts: { node?: boolean; extra?: Rr[]; optOut?: boolean } = {}): Signed {
  let ksk: Signer, zsk: Signer;
  if (opts.node) {
    ksk = new NodeSigner(generateKey(FLAGS_KSK));
    zsk = new NodeSigner(generateKey(FLAGS_ZSK));
  } else {
    ksk = new NobleSigner(KSK_SCALAR, FLAGS_KSK);
    zsk = new NobleSigner(ZSK_SCALAR, FLAGS_ZSK);
  }
  const apex = apexRrsets({ zone: ORIGIN, keys: { ksk, zsk }, dnskeyTtl: 3600, cds: 'publish' });
  const apexSets: RRset[] = [apex.dnskey, apex.cds!, apex.cdnskey!];
  // The lead publishes NSEC3PARAM at the apex of NSEC3 zones (ZoneInput.apexRrsets).
  const soa = SOA();
  if (mode === 'nsec3' || mode === 'nsec3-chain') apexSets.push(nsec3paramRrset({ origin: ORIGIN, soa: { name: ORIGIN, type: soa.type, class: soa.class, ttl: soa.ttl, rdatas: [soa.rdata] } }));
  const zone = zoneOf([...records(), ...(opts.extra ?? [])], { settings: settings({ dnssec: true, denial: mode }), apexRrsets: apexSets });
  const signing = createZoneSigning({
    zone: ORIGIN, ksk, zsk, clock: { now: () => NOW }, cache: new SignatureCache(), negativeTtl: 300,
  });
  // The chain modes answer from the zone's chain, built as the loader does (state/prepare.ts); links are signed on first use.
  const kind = chainKind(mode);
  if (kind) signing.chain = buildDenialChain(zone, signing, { kind, optOut: opts.optOut });
  return { zone, signing, ksk, zsk, dnskeys: apex.dnskey.rdatas };
}

/** Looks the name up and signs the answer, as the server's DO=1 path does. */
export async function ask(s: Signed, qname: string, qtype: number, co = false): Promise<Sections> {
  const name = qname.endsWith('.') ? Name.fromText(qname) : n(qname);
  return signAnswer(s.zone, s.signing, lookup(s.zone, name, qtype), { name, type: qtype, co });
}

/** Groups a section's records into RRsets (RRSIGs grouped per covered type). */
export function rrsets(section: Rr[]): { set: RRset; covered?: number }[] {
  const out: { set: RRset; covered?: number }[] = [];
  for (const r of section) {
    const covered = r.type === RRType.RRSIG ? (r.rdata[0] << 8) | r.rdata[1] : undefined;
    const last = out[out.length - 1];
    if (last && last.set.name.equals(r.name) && last.set.type === r.type && last.covered === covered) last.set.rdatas.push(r.rdata);
    else out.push({ set: { name: r.name, type: r.type, class: r.class, ttl: r.ttl, rdatas: [r.rdata] }, covered });
  }
  return out;
}

/** The RRSIG records in `section` covering `type` at `owner`. */
export function sigsFor(section: Rr[], owner: Name, type: number): Rr[] {
  return section.filter((r) => r.type === RRType.RRSIG && r.name.equals(owner) && ((r.rdata[0] << 8) | r.rdata[1]) === type);
}

/**
 * Every RRSIG in the sections verifies over the RRset it follows, with both verifiers, against one of
 * the zone's DNSKEYs; returns the number of RRSIGs checked.
 */
export function verifyAll(s: Signed, sec: Sections): number {
  let count = 0;
  for (const section of [sec.answer, sec.authority, sec.additional]) {
    const sets = rrsets(section);
    for (const { set, covered } of sets) {
      if (covered === undefined) continue;
      const target = sets.find((x) => x.covered === undefined && x.set.name.equals(set.name) && x.set.type === covered);
      expect(target, `RRSIG ${set.name} ${covered} follows its RRset`).toBeDefined();
      for (const sig of set.rdatas) {
        const tag = parseRrsigRdata(sig).fields.keyTag;
        const key = s.dnskeys.find((k) => keyTag(k) === tag);
        expect(key, `key ${tag}`).toBeDefined();
        expect(verifyRrsig(sig, target!.set, key!, { now: NOW }), `node verifies RRSIG ${set.name} ${covered}`).toBe(true);
        expect(verifyRrsigNoble(sig, target!.set, key!, { now: NOW }), `noble verifies RRSIG ${set.name} ${covered}`).toBe(true);
        count++;
      }
    }
  }
  return count;
}

export interface NsecView {
  owner: string;
  next: string;
  types: number[];
  ttl: number;
}

export function nsecs(section: Rr[]): NsecView[] {
  return section.filter((r) => r.type === RRType.NSEC).map((r) => {
    const next = Name.read(r.rdata, 0).name;
    return { owner: r.name.toString(), next: next.toString(), types: decodeTypeBitmap(r.rdata.subarray(next.wireLength)), ttl: r.ttl };
  });
}

export interface Nsec3View {
  owner: Name;
  hash: string;
  next: string;
  flags: number;
  iterations: number;
  salt: number;
  types: number[];
}

const B32 = '0123456789ABCDEFGHIJKLMNOPQRSTUV';
function b32(bytes: Uint8Array): string {
  let bits = '';
  for (const b of bytes) bits += b.toString(2).padStart(8, '0');
  let s = '';
  for (let i = 0; i < bits.length; i += 5) s += B32[parseInt(bits.slice(i, i + 5).padEnd(5, '0'), 2)];
  return s;
}

export function nsec3s(section: Rr[]): Nsec3View[] {
  return section.filter((r) => r.type === RRType.NSEC3).map((r) => {
    const d = r.rdata;
    const saltLen = d[4];
    const hashLen = d[5 + saltLen];
    const nextOff = 6 + saltLen;
    return {
      owner: r.name,
      hash: new TextDecoder().decode(r.name.labels[0]).toUpperCase(),
      next: b32(d.subarray(nextOff, nextOff + hashLen)),
      flags: d[1],
      iterations: (d[2] << 8) | d[3],
      salt: saltLen,
      types: decodeTypeBitmap(d.subarray(nextOff + hashLen)),
    };
  });
}

export const T = RRType;
