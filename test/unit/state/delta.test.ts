// Issue 16: an admin change costs the change, not the zone. The same change on a zone of N and of 10N names is
// counted, not timed: records read back from the file, records hashed for the serial's digest, RRsets and
// nodes made, signatures made (the signing observer, as the metrics count them). Each count is the same for
// both sizes; and what is served is what a whole build of the changed file serves.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { TandemZoneManager } from '../../../src/state/manager.js';
import { openPrimaryAndReplica } from '../../helpers/replica.js';
import { SignatureCache } from '../../../src/dnssec/cache.js';
import { Name } from '../../../src/dns/name.js';
import { RRType } from '../../../src/dns/types.js';
import { parseRdata } from '../../../src/dns/rdata.js';
import { lookup } from '../../../src/zone/lookup.js';
import { LayeredNodes } from '../../../src/zone/patch.js';
import { parseZoneFile } from '../../../src/config/zonefile.js';

const origin = Name.fromText('big.test.');
const clock = { now: () => 1_800_000_000 };

/** A zone of `n` names with one A record each; `denial` as zone.dnssec.denial. */
function zoneText(n: number, denial: string): string {
  const lines = [
    'zone:', '  soa: { mname: ns1.big.test., rname: h.big.test., serial: 7, minimum: 300 }', '  nameservers: [ns1.big.test.]',
    `  dnssec: { enabled: true, denial: ${denial} }`, 'records:', '  ns1: { type: A, value: 192.0.2.53 }',
  ];
  for (let i = 0; i < n; i++) lines.push(`  h${i}: { type: A, value: 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255} }`);
  return lines.join('\n') + '\n';
}

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-delta-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Cost {
  parsed: number;
  hashed: number;
  rrsets: number;
  nodes: number;
  signatures: number;
  fileBytesChanged: number;
}

/** Opens a zone of `n` names, makes one POST-like change (a new name), and counts what it cost. */
async function oneChange(n: number, denial: string, sub: string, offThreadFromBytes?: number): Promise<{ cost: Cost; m: TandemZoneManager; file: string }> {
  const zonesDir = join(dir, sub, 'zones');
  const stateDir = join(dir, sub, 'state');
  await mkdir(zonesDir, { recursive: true });
  const file = join(zonesDir, 'big.test.yaml');
  // Sliced like a large file from 16 KiB on, 500 lines a slice (the slice path), so the small test zones take the large zones' path.
  await writeFile(file, zoneText(n, denial));
  let signatures = 0;
  const { manager: m, errors } = await TandemZoneManager.open({
    zonesDir, stateDir, clock, logger: pino({ level: 'silent' }), cache: new SignatureCache({ max: 100_000 }),
    signingObserver: { signed: () => { signatures++; }, failed: () => undefined }, sliceFromBytes: 16 << 10, sliceLines: 500, offThreadFromBytes,
  });
  expect(errors).toEqual([]);
  // Let a chain zone's background signing of the whole chain finish before counting.
  const signed = m.served().signing.get(origin.key)!;
  if (signed.chain) await signed.chain.sign();
  const before = await readFile(file, 'utf8');
  const s0 = { ...m.deltaStats };
  signatures = 0;
  const id = m.zoneByName(origin)!.id;
  await m.createRecord(id, { name: Name.fromText('new-name', origin), type: RRType.A, ttl: 300, rdata: parseRdata(RRType.A, '192.0.2.7', origin) });
  const after = await readFile(file, 'utf8');
  const cost: Cost = {
    parsed: m.deltaStats.recordsParsed - s0.recordsParsed,
    hashed: m.deltaStats.recordsHashed - s0.recordsHashed,
    rrsets: m.deltaStats.rrsets - s0.rrsets,
    nodes: m.deltaStats.nodes - s0.nodes,
    signatures,
    fileBytesChanged: changedBytes(before, after),
  };
  return { cost, m, file };
}

/** Bytes of the lines of `b` that `a` does not have: what an edit wrote anew (every other line stays byte for byte). */
function changedBytes(a: string, b: string): number {
  const old = new Set(a.split('\n'));
  return b.split('\n').filter((l) => !old.has(l)).reduce((n, l) => n + l.length + 1, 0);
}

describe('an admin change on a large zone is O(change) (issue 16)', () => {
  for (const denial of ['compact', 'nsec3-chain']) {
    it(`${denial}: one new name on 2,000 vs 20,000 names reads back, hashes, builds and signs the same amount`, { timeout: 120_000 }, async () => {
      const small = await oneChange(2_000, denial, 'small');
      const large = await oneChange(20_000, denial, 'large');
      // The delta path was taken (a whole build parses every record and counts nothing here).
      expect(small.cost.rrsets).toBe(1);
      expect(large.cost).toEqual(small.cost);
      // Read back: the zone: part and the slice holding the new owner, never the 20,000 records.
      expect(large.cost.parsed).toBeLessThan(5_000);
      expect(large.cost.hashed).toBe(3); // the old SOA, the new SOA, the new record
      expect(large.cost.fileBytesChanged).toBeLessThan(200); // the serial and the new line; the rest byte for byte
      // compact: nothing signed before serving (the new RRset and SOA are signed by the answer that needs them);
      // nsec3-chain: the new name's link and its predecessor's, RFC 5155 §7.1.
      expect(large.cost.signatures).toBe(denial === 'compact' ? 0 : 2);
      expect(large.m.served().zones.get(origin)!.nodes).toBeInstanceOf(LayeredNodes);
    });
  }

  it('with the default slicing, a change on a zone of a few thousand records reads back one slice, not the file', { timeout: 120_000 }, async () => {
    // 3,000 names: about 130 KB, a file the size of many operators' zones (edited whole below 64 KiB only).
    const zonesDir = join(dir, 'defaults', 'zones');
    await mkdir(zonesDir, { recursive: true });
    const file = join(zonesDir, 'big.test.yaml');
    await writeFile(file, zoneText(3_000, 'compact'));
    const { manager: m } = await TandemZoneManager.open({ zonesDir, stateDir: join(dir, 'defaults', 'state'), clock, logger: pino({ level: 'silent' }), cache: new SignatureCache({ max: 1000 }) });
    const s0 = m.deltaStats.recordsParsed;
    const id = m.zoneByName(origin)!.id;
    await m.createRecord(id, { name: Name.fromText('new-name', origin), type: RRType.A, ttl: 300, rdata: parseRdata(RRType.A, '192.0.2.7', origin) });
    const parsed = m.deltaStats.recordsParsed - s0;
    expect(parsed).toBeGreaterThan(0); // the delta path
    expect(parsed).toBeLessThan(1_100); // the zone: part and the last slice of about 1,000 lines, not 3,000 records
  });

  it('RFC 1995 §4: the journal difference of a delta version is the difference of the whole zones', { timeout: 120_000 }, async () => {
    const { m } = await oneChange(3_000, 'compact', 'ixfr');
    const id = m.zoneByName(origin)!.id;
    const h9 = m.recordsAt(id, Name.fromText('h9', origin), RRType.A)[0];
    await m.updateRecord(id, h9.id, { name: h9.name, type: RRType.A, ttl: 300, rdata: parseRdata(RRType.A, '192.0.2.9', origin) });
    const mid = m.version(origin)!;
    await m.createRecord(id, { name: Name.fromText('h10', origin), type: RRType.TXT, ttl: 3600, rdata: parseRdata(RRType.TXT, '"t"', origin) });
    const after = m.version(origin)!;
    expect(after.changed?.from).toBe(mid.serial);
    const show = (d: { deleted: { name: Name; type: number; ttl: number; rdata: Uint8Array }[]; added: typeof d.deleted }) =>
      ({ deleted: d.deleted.map((r) => `${r.name} ${r.type} ${r.ttl} ${Buffer.from(r.rdata).toString('hex')}`).sort(), added: d.added.map((r) => `${r.name} ${r.type} ${r.ttl} ${Buffer.from(r.rdata).toString('hex')}`).sort() });
    const { diffUnsigned } = await import('../../../src/transfer/content.js');
    const prevOfLast = mid;
    // The last change alone (h10 TXT added), from the delta and from comparing every RRset of both versions.
    const fast = diffUnsigned(prevOfLast, after, { includeKsk: false });
    expect(show(fast)).toEqual(show(diffUnsigned(prevOfLast, { ...after, changed: undefined }, { includeKsk: false })));
    expect(show(fast).added).toEqual([`h10.big.test. 16 3600 ${Buffer.from(parseRdata(RRType.TXT, '"t"', origin)).toString('hex')}`]);
  });

  it('a cluster worker applies the primary\'s delta to its copy and serves the same zone, without reading the file', { timeout: 120_000 }, async () => {
    const zonesDir = join(dir, 'cluster', 'zones');
    const stateDir = join(dir, 'cluster', 'state');
    await mkdir(zonesDir, { recursive: true });
    await writeFile(join(zonesDir, 'big.test.yaml'), zoneText(1_000, 'nsec3-chain'));
    const { primary, replica: worker, told } = await openPrimaryAndReplica(zonesDir, stateDir, clock);
    const id = primary.zoneByName(origin)!.id;
    await primary.createRecord(id, { name: Name.fromText('a.new.sub', origin), type: RRType.A, ttl: 300, rdata: parseRdata(RRType.A, '192.0.2.1', origin) });
    const h3 = primary.recordsAt(id, Name.fromText('h3', origin), RRType.A)[0];
    await primary.deleteRecord(id, h3.id);
    expect(told).toEqual(['delta', 'delta']);
    const show = (m: TandemZoneManager) => {
      const z = m.served().zones.get(origin)!;
      const chain = m.served().signing.get(origin.key)!.chain!;
      return { serial: z.soa.rdatas[0], nodes: [...z.nodes.keys()].sort(), links: chain.links().map((l) => `${l.name} ${Buffer.from(l.rdatas[0]).toString('hex')}`) };
    };
    expect(show(worker!)).toEqual(show(primary));
    expect(worker!.served().zones.get(origin)!.nodes).toBeInstanceOf(LayeredNodes);
  });

  it('serves what a whole build of the changed file serves, and keeps its serial across a restart', { timeout: 120_000 }, async () => {
    // Edited on the worker thread, as a large file is (offthread.ts), and written from the bytes it hands back.
    const { m, file } = await oneChange(3_000, 'compact', 'same', 0);
    const id = m.zoneByName(origin)!.id;
    const h5 = m.recordsAt(id, Name.fromText('h5', origin), RRType.A)[0];
    await m.deleteRecord(id, h5.id);
    const h7 = m.recordsAt(id, Name.fromText('h7', origin), RRType.A)[0];
    await m.updateRecord(id, h7.id, { name: h7.name, type: RRType.TXT, ttl: 60, rdata: parseRdata(RRType.TXT, '"moved"', origin) });
    await m.createRecord(id, { name: Name.fromText('x.y.z', origin), type: RRType.AAAA, ttl: 300, rdata: parseRdata(RRType.AAAA, '2001:db8::1', origin) });
    const zone = m.served().zones.get(origin)!;
    expect(zone.nodes).toBeInstanceOf(LayeredNodes);
    const whole = parseZoneFile(file, await readFile(file, 'utf8'));
    // Every node and RRset of the patched zone is the whole build's (empty non-terminals and child counts too).
    const fresh = new Map<string, string>();
    const describeNode = (n: { name: Name; rrsets: { values(): Iterable<{ type: number; ttl: number; rdatas: readonly Uint8Array[] }> }; children: number }) =>
      `${n.children}|${[...n.rrsets.values()].filter((s) => !([RRType.SOA, RRType.DNSKEY, RRType.NS, RRType.CDS, RRType.CDNSKEY, RRType.NSEC3PARAM] as number[]).includes(s.type)).map((s) => `${s.type}/${s.ttl}/${s.rdatas.map((r) => Buffer.from(r).toString('hex')).sort()}`).sort()}`;
    const { buildLoadedZone } = await import('../../../src/config/zonefile.js');
    for (const n of buildLoadedZone(whole).nodes.values()) fresh.set(n.name.key, describeNode(n));
    const patched = new Map([...zone.nodes.values()].map((n) => [n.name.key, describeNode(n)]));
    expect(patched).toEqual(fresh);
    expect(zone.nodes.size).toBe(fresh.size);
    expect(lookup(zone, Name.fromText('y.z', origin), RRType.A).kind).toBe('nodata'); // an empty non-terminal
    expect(lookup(zone, Name.fromText('h5', origin), RRType.A).kind).toBe('nxdomain');
    // A change the zone rules refuse (RFC 1034 §3.6.2: CNAME beside A) is refused as a whole build refuses it, and
    // the edited file's temp file (written by the delta path before the zone is patched) is gone.
    await expect(m.createRecord(id, { name: Name.fromText('h8', origin), type: RRType.CNAME, ttl: 300, rdata: parseRdata(RRType.CNAME, 'x.example.', origin) }))
      .rejects.toThrow(/CNAME beside A/);
    expect(await readdir(join(dir, 'same', 'zones'))).toEqual(['big.test.yaml']);
    // One owner's records without a view of every record (the list route's `name=` filter), the same as the whole list's.
    const at = m.recordsAt(id, Name.fromText('h7', origin));
    expect(at.map((r) => r.id)).toEqual(m.records(id).filter((r) => r.name.key === at[0].name.key).map((r) => r.id));
    expect(at.map((r) => [r.type, r.ttl])).toEqual([[RRType.TXT, 60]]);
    // The digest patched change by change is the digest of the content: a restart reads the file whole,
    // finds the stored digest and keeps the serial (RFC 1982: a new serial only for new content).
    const { manager: again } = await TandemZoneManager.open({
      zonesDir: join(dir, 'same', 'zones'), stateDir: join(dir, 'same', 'state'), clock, logger: pino({ level: 'silent' }), cache: new SignatureCache({ max: 1000 }),
    });
    expect(again.zoneByName(origin)!.serial).toBe(m.zoneByName(origin)!.serial);
  });
});
