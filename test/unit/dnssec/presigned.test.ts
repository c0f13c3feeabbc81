// Answers of a pre-signed zone (dnssec/presigned.ts), from zones signed by BIND's dnssec-signzone in the test.
// Which records an answer holds is checked against the RFC's rules, with NSEC3 hashes from BIND's nsec3hash
// tool (not tandem's hashing). That validators accept the answers is test/interop/presigned.test.ts's job.
import { beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Name } from '../../../src/dns/name.js';
import { formatRdata } from '../../../src/dns/rdata.js';
import type { Rr } from '../../../src/dns/rr.js';
import { Rcode, RRType, typeName } from '../../../src/dns/types.js';
import { presignedAnswer, wantsPresigned, type PresignedAnswer } from '../../../src/dnssec/presigned.js';
import { preparePresignedZone } from '../../../src/state/presigned.js';
import { lookup } from '../../../src/zone/lookup.js';
import type { Zone } from '../../../src/zone/types.js';
import { requireTool } from '../../helpers/dig.js';
import { runChecked } from '../../helpers/procs.js';
import { presignedLoaded, signZone, type SignOptions } from '../../helpers/presigned.js';

const ORIGIN = Name.fromText('example.org.');
const NOW = Math.floor(Date.now() / 1000);
const silent = pino({ level: 'silent' });

async function signed(opts: SignOptions, drop: (r: Rr) => boolean = () => false): Promise<Zone> {
  const s = await signZone(opts);
  const p = await preparePresignedZone(presignedLoaded(s.origin, s.records.filter((r) => !drop(r))), { clock: { now: () => NOW }, logger: silent });
  return p.zone;
}

function ask(zone: Zone, name: string, type: number, dnssecOk = true): PresignedAnswer {
  const qname = Name.fromText(name, ORIGIN);
  return presignedAnswer(zone, lookup(zone, qname, type), { name: qname, type, dnssecOk, now: NOW });
}

/** `owner TYPE rdata` of each record, RRSIGs as `owner RRSIG <covered>`. */
function show(rrs: Rr[]): string[] {
  return rrs.map((r) => `${r.name.toString()} ${typeName(r.type)} ${r.type === RRType.RRSIG ? typeName((r.rdata[0] << 8) | r.rdata[1]) : formatRdata(r.type, r.rdata)}`);
}

const ofType = (rrs: Rr[], type: number) => rrs.filter((r) => r.type === type);
/** NSEC records as `owner -> next`. */
const nsecs = (rrs: Rr[]) => ofType(rrs, RRType.NSEC).map((r) => `${r.name.toString()} -> ${Name.read(r.rdata, 0).name.toString()}`);
/** The hash label of each NSEC3 owner. */
const nsec3Owners = (rrs: Rr[]) => ofType(rrs, RRType.NSEC3).map((r) => new TextDecoder().decode(r.name.labels[0]).toUpperCase());

/** RFC 5155 §3.1.7: the NSEC3 covers `hash` (base32hex keeps byte order, RFC 4648 §7; the last one wraps). */
function nsec3Covers(r: Rr, hash: string): boolean {
  const owner = new TextDecoder().decode(r.name.labels[0]).toUpperCase();
  const next = formatRdata(RRType.NSEC3, r.rdata).split(' ')[4];
  return owner < next ? owner < hash && hash < next : owner < hash || hash < next;
}

async function hashOf(name: string, salt: string, iterations: number): Promise<string> {
  return (await runChecked('nsec3hash', [salt, '1', String(iterations), name])).split(' ')[0];
}

/** Every RRset in `rrs` but the unsigned ones listed is followed by an RRSIG covering it. */
function everyRrsetSigned(rrs: Rr[], unsigned: string[] = []): void {
  const sets = new Set(rrs.filter((r) => r.type !== RRType.RRSIG).map((r) => `${r.name.key} ${typeName(r.type)}`));
  const sigs = new Set(ofType(rrs, RRType.RRSIG).map((r) => `${r.name.key} ${typeName((r.rdata[0] << 8) | r.rdata[1])}`));
  for (const s of sets) if (!unsigned.includes(s)) expect(sigs.has(s), `${s} has an RRSIG`).toBe(true);
}

describe('pre-signed answers from an NSEC zone (RFC 4035 §3.1)', () => {
  let z: Zone;
  beforeAll(async () => {
    requireTool('dnssec-signzone', 'bind9-utils');
    z = await signed({ signer: 'bind', chain: 'nsec' });
  });

  it('RFC 4035 §3.1.1: a positive answer carries the RRSIG stored for it, with the RRset\'s TTL', () => {
    const r = ask(z, 'www', RRType.A);
    expect(show(r.sections.answer)).toEqual(['www.example.org. A 192.0.2.10', 'www.example.org. RRSIG A']);
    expect(r.sections.answer.every((x) => x.ttl === 300)).toBe(true);
    expect(r.missing).toEqual([]);
  });

  it('the cache lifetime is the earliest RRSIG expiration of the answer (RFC 4034 §3.1.5)', () => {
    const r = ask(z, 'www', RRType.A);
    const sig = formatRdata(RRType.RRSIG, r.sections.answer[1].rdata).split(' ')[4];
    const expiration = Date.UTC(+sig.slice(0, 4), +sig.slice(4, 6) - 1, +sig.slice(6, 8), +sig.slice(8, 10), +sig.slice(10, 12), +sig.slice(12, 14)) / 1000;
    expect(r.until).toBe(expiration);
    expect(ask(z, 'www', RRType.A, false).until).toBe(Infinity);
  });

  it('RFC 4035 §3.1.1: in-zone addresses in the additional section carry their RRSIGs', () => {
    const r = ask(z, '@', RRType.MX);
    expect(show(r.sections.additional)).toEqual(['mail.example.org. A 192.0.2.25', 'mail.example.org. RRSIG A']);
  });

  it('a CNAME chain: every CNAME and the final RRset signed', () => {
    const r = ask(z, 'alias', RRType.A);
    expect(show(r.sections.answer).filter((x) => x.includes('RRSIG'))).toEqual([
      'alias.example.org. RRSIG CNAME', 'alias2.example.org. RRSIG CNAME', 'www.example.org. RRSIG A']);
  });

  it('RFC 6672 §5.3.1: the DNAME is signed, the CNAME synthesized from it is not', () => {
    const r = ask(z, 'host.old', RRType.A);
    expect(show(r.sections.answer)).toEqual([
      'old.example.org. DNAME new.example.org.', 'old.example.org. RRSIG DNAME',
      'host.old.example.org. CNAME host.new.example.org.',
      'host.new.example.org. A 192.0.2.77', 'host.new.example.org. RRSIG A']);
  });

  it('RFC 4035 §3.1.3.3: a wildcard answer has the wildcard\'s RRSIG under the query name, and the NSEC covering the query name', () => {
    const r = ask(z, 'x.wild', RRType.A);
    expect(show(r.sections.answer)).toEqual(['x.wild.example.org. A 192.0.2.99', 'x.wild.example.org. RRSIG A']);
    // RRSIG labels 3 = *.wild.example.org. minus the `*` (RFC 4034 §3.1.3): the validator sees the expansion.
    expect(r.sections.answer[1].rdata[3]).toBe(3);
    expect(nsecs(r.sections.authority)).toEqual(['*.wild.example.org. -> www.example.org.']);
    everyRrsetSigned(r.sections.authority);
  });

  it('RFC 4035 §3.1.3.2: NXDOMAIN with the signed SOA, the NSEC covering the name and the one covering the wildcard', () => {
    const r = ask(z, 'nope', RRType.A);
    expect(r.sections.rcode).toBe(Rcode.NXDOMAIN);
    expect(show(r.sections.authority).slice(0, 2)).toEqual([
      'example.org. SOA ns1.example.org. hostmaster.example.org. 2024010101 3600 900 604800 300', 'example.org. RRSIG SOA']);
    expect(r.sections.authority[0].ttl).toBe(300); // RFC 2308 §5: min(SOA TTL, MINIMUM)
    expect(nsecs(r.sections.authority)).toEqual(['host.new.example.org. -> ns1.example.org.', 'example.org. -> alias.example.org.']);
    everyRrsetSigned(r.sections.authority);
  });

  it('RFC 6604 §3: a CNAME to a name that does not exist answers NXDOMAIN with the CNAME and the proof for its target', () => {
    const r = ask(z, 'dangling', RRType.A);
    expect(r.sections.rcode).toBe(Rcode.NXDOMAIN);
    expect(show(r.sections.answer)).toEqual(['dangling.example.org. CNAME nothere.example.org.', 'dangling.example.org. RRSIG CNAME']);
    expect(nsecs(r.sections.authority)[0]).toBe('host.new.example.org. -> ns1.example.org.');
  });

  it('RFC 4035 §3.1.3.1: NODATA with the NSEC of the name, whose bitmap lacks the type', () => {
    const r = ask(z, 'www', RRType.MX);
    expect(show(ofType(r.sections.authority, RRType.NSEC))).toEqual(['www.example.org. NSEC example.org. A AAAA RRSIG NSEC']);
  });

  it('NODATA at an empty non-terminal: the NSEC before it, whose next name lies below it', () => {
    const r = ask(z, 'ent', RRType.A);
    expect(r.sections.rcode).toBe(Rcode.NOERROR);
    expect(nsecs(r.sections.authority)).toEqual(['dangling.example.org. -> a.b.ent.example.org.']);
  });

  it('RFC 4035 §3.1.3.4: wildcard NODATA: the NSEC covering the name and the wildcard\'s NSEC (here one record, sent once)', () => {
    const r = ask(z, 'x.wild', RRType.MX);
    expect(show(ofType(r.sections.authority, RRType.NSEC))).toEqual(['*.wild.example.org. NSEC www.example.org. A TXT RRSIG NSEC']);
    expect(ofType(r.sections.authority, RRType.RRSIG)).toHaveLength(2); // SOA and NSEC
  });

  it('RFC 4035 §3.1.4: a referral to a signed child: NS and glue unsigned, the DS with its RRSIG, not authoritative', () => {
    const r = ask(z, 'www.secure', RRType.A);
    expect(r.sections.aa).toBe(false);
    expect(show(r.sections.authority)).toEqual([
      'secure.example.org. NS ns.secure.example.org.',
      'secure.example.org. DS 12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF', 'secure.example.org. RRSIG DS']);
    expect(show(r.sections.additional)).toEqual(['ns.secure.example.org. A 192.0.2.60']);
    expect(r.missing).toEqual([]);
  });

  it('RFC 4035 §3.1.4: a referral to an unsigned child: the NSEC at the cut shows NS and no DS', () => {
    const r = ask(z, 'www.insecure', RRType.A);
    expect(show(r.sections.authority)).toEqual([
      'insecure.example.org. NS ns.insecure.example.org.',
      'insecure.example.org. NSEC mail.example.org. NS RRSIG NSEC', 'insecure.example.org. RRSIG NSEC']);
  });

  it('RFC 4035 §3.1.4.1: a DS query at an unsigned cut is NODATA from the parent side, with the NSEC at the cut', () => {
    const r = ask(z, 'insecure', RRType.DS);
    expect(r.sections.aa).toBe(true);
    expect(nsecs(r.sections.authority)).toEqual(['insecure.example.org. -> mail.example.org.']);
  });

  it('RFC 3225 §3: without DO no DNSSEC records are added, but an explicit RRSIG query gets the signatures at the name', () => {
    expect(wantsPresigned(z, RRType.A, false)).toBe(false);
    expect(show(ask(z, 'nope', RRType.A, false).sections.authority)).toHaveLength(1);
    expect(wantsPresigned(z, RRType.RRSIG, false)).toBe(true);
    const r = ask(z, 'www', RRType.RRSIG, false);
    expect(show(r.sections.answer).sort()).toEqual(['www.example.org. RRSIG A', 'www.example.org. RRSIG AAAA', 'www.example.org. RRSIG NSEC']);
  });

  it('RFC 8482 §4.1: ANY gets one existing RRset with its RRSIG (a synthesized HINFO could not be signed)', () => {
    const r = ask(z, 'www', RRType.ANY);
    expect(show(r.sections.answer)).toEqual(['www.example.org. A 192.0.2.10', 'www.example.org. RRSIG A']);
  });
});

describe('pre-signed answers from an NSEC3 zone with salt and iterations (RFC 5155 §7.2)', () => {
  const SALT = 'AABBCCDD', ITER = 2;
  let z: Zone;
  const h = (name: string) => hashOf(name, SALT, ITER);
  beforeAll(async () => {
    requireTool('nsec3hash', 'bind9-utils');
    z = await signed({ signer: 'bind', chain: 'nsec3', salt: SALT, iterations: ITER });
  });

  it('RFC 5155 §7.2.2: NXDOMAIN: NSEC3 matching the closest encloser, covering the next closer name and the wildcard', async () => {
    const r = ask(z, 'a.nope', RRType.A);
    expect(r.sections.rcode).toBe(Rcode.NXDOMAIN);
    const owners = nsec3Owners(r.sections.authority);
    expect(owners).toHaveLength(3);
    expect(owners[0]).toBe(await h('example.org'));
    const [, nextCloser, wildcard] = ofType(r.sections.authority, RRType.NSEC3);
    expect(nsec3Covers(nextCloser, await h('nope.example.org'))).toBe(true);
    expect(nsec3Covers(wildcard, await h('*.example.org'))).toBe(true);
    expect(r.missing).toEqual([]);
    everyRrsetSigned(r.sections.authority);
  });

  it('RFC 5155 §7.2.3: NODATA: the NSEC3 matching the name', async () => {
    const r = ask(z, 'www', RRType.MX);
    expect(nsec3Owners(r.sections.authority)).toEqual([await h('www.example.org')]);
  });

  it('RFC 5155 §7.2.3: an empty non-terminal matches an NSEC3 with an empty bitmap', async () => {
    const r = ask(z, 'b.ent', RRType.A);
    expect(nsec3Owners(r.sections.authority)).toEqual([await h('b.ent.example.org')]);
  });

  it('RFC 5155 §7.2.4: a DS query at an unsigned cut: the cut\'s matching NSEC3 (NS, no DS)', async () => {
    const r = ask(z, 'insecure', RRType.DS);
    expect(nsec3Owners(r.sections.authority)).toEqual([await h('insecure.example.org')]);
    expect(formatRdata(RRType.NSEC3, ofType(r.sections.authority, RRType.NSEC3)[0].rdata)).toMatch(/ NS$/);
  });

  it('RFC 5155 §7.2.5: wildcard NODATA: closest encloser proof and the wildcard\'s matching NSEC3', async () => {
    const r = ask(z, 'x.wild', RRType.MX);
    const owners = nsec3Owners(r.sections.authority);
    expect(owners[0]).toBe(await h('wild.example.org'));
    expect(nsec3Covers(ofType(r.sections.authority, RRType.NSEC3)[1], await h('x.wild.example.org'))).toBe(true);
    expect(owners[2]).toBe(await h('*.wild.example.org'));
    expect(owners).toHaveLength(3);
  });

  it('RFC 5155 §7.2.6: a wildcard answer carries the NSEC3 covering the next closer name', async () => {
    const r = ask(z, 'a.b.wild', RRType.TXT);
    const proofs = ofType(r.sections.authority, RRType.NSEC3);
    expect(proofs).toHaveLength(1);
    expect(nsec3Covers(proofs[0], await h('b.wild.example.org'))).toBe(true);
  });

  it('RFC 5155 §7.2.7: a referral to an unsigned child: the cut\'s matching NSEC3', async () => {
    const r = ask(z, 'www.insecure', RRType.A);
    expect(nsec3Owners(r.sections.authority)).toEqual([await h('insecure.example.org')]);
  });

  it('RFC 5155 §7.2.8: a query for an NSEC3 owner name is a name error, for its RRSIG too', async () => {
    const owner = `${await h('www.example.org')}.example.org.`;
    for (const type of [RRType.NSEC3, RRType.RRSIG]) {
      const r = ask(z, owner, type);
      expect(r.sections.rcode).toBe(Rcode.NXDOMAIN);
      expect(r.sections.answer).toHaveLength(0);
    }
  });
});

describe('pre-signed answers from an NSEC3 opt-out zone (RFC 5155 §6)', () => {
  let z: Zone;
  const h = (name: string) => hashOf(name, '-', 0);
  const optOut = (rrs: Rr[]) => ofType(rrs, RRType.NSEC3).map((r) => (r.rdata[1] & 1) === 1);
  beforeAll(async () => {
    z = await signed({ signer: 'bind', chain: 'nsec3-optout' });
  });

  it('RFC 5155 §7.2.7: a referral into an opt-out span: the closest provable encloser and an opt-out NSEC3 covering the cut', async () => {
    const r = ask(z, 'www.insecure', RRType.A);
    const owners = nsec3Owners(r.sections.authority);
    expect(owners).toHaveLength(2);
    expect(owners[0]).toBe(await h('example.org'));
    expect(nsec3Covers(ofType(r.sections.authority, RRType.NSEC3)[1], await h('insecure.example.org'))).toBe(true);
    expect(optOut(r.sections.authority)[1]).toBe(true);
    expect(r.missing).toEqual([]);
  });

  it('RFC 5155 §7.2.4: a DS query for a cut with no NSEC3 of its own: the closest provable encloser proof with opt-out', async () => {
    const r = ask(z, 'insec2', RRType.DS);
    expect(nsec3Owners(r.sections.authority)[0]).toBe(await h('example.org'));
    expect(optOut(r.sections.authority)[1]).toBe(true);
  });

  it('RFC 5155 §7.2.3 (errata 3441): NODATA at an empty non-terminal that only an insecure delegation makes: the closest provable encloser proof', async () => {
    const r = ask(z, 'optent', RRType.A);
    const owners = nsec3Owners(r.sections.authority);
    expect(owners).not.toContain(await h('optent.example.org'));
    expect(owners[0]).toBe(await h('example.org'));
    expect(optOut(r.sections.authority)[1]).toBe(true);
    expect(r.missing).toEqual([]);
  });
});

describe('a broken pre-signed zone is answered with what it has', () => {
  it('an RRset without its RRSIG is sent without it, and named in `missing`', async () => {
    const z = await signed({ signer: 'bind', chain: 'nsec' }, (r) => r.type === RRType.RRSIG && r.name.equals(Name.fromText('www.example.org.')) && r.rdata[1] === RRType.A);
    const r = ask(z, 'www', RRType.A);
    expect(show(r.sections.answer)).toEqual(['www.example.org. A 192.0.2.10']);
    expect(r.missing).toEqual(['www A: no RRSIG']);
  });

  it('a missing NSEC leaves the proof out, named in `missing`, without failing the answer', async () => {
    const z = await signed({ signer: 'bind', chain: 'nsec' }, (r) => r.type === RRType.NSEC && r.name.equals(Name.fromText('host.new.example.org.')));
    const r = ask(z, 'nope', RRType.A);
    expect(r.sections.rcode).toBe(Rcode.NXDOMAIN);
    expect(r.missing).toEqual(['NSEC covering nope']);
    expect(nsecs(r.sections.authority)).toEqual(['example.org. -> alias.example.org.']);
  });

  it('a missing NSEC3 of the chain: the name is then treated as unproven (closest provable encloser), and the gap is named in `missing`', async () => {
    const www = await hashOf('www.example.org', '-', 0);
    const z = await signed({ signer: 'bind', chain: 'nsec3' }, (r) => r.type === RRType.NSEC3 && new TextDecoder().decode(r.name.labels[0]).toUpperCase() === www);
    const r = ask(z, 'www', RRType.MX);
    expect(r.missing).toEqual(['NSEC3 covering www']);
    expect(nsec3Owners(r.sections.authority)).toEqual([await hashOf('example.org', '-', 0)]);
  });
});
