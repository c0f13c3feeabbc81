// Issue 16 for master-file zones: an admin change of a zone served from an RFC 1035 master file is applied as a
// delta, its file edited and read back range by range (state/masterrange.ts). Counted, not timed: the records
// read back are the same for 2,000 and 20,000 names; what is served after a run of changes is what a fresh load
// of the written file serves; a file edited by hand since it was read is refused with its file and line, as
// for a YAML zone (the whole way reads it).
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
import { parseMasterZone } from '../../../src/config/masterzone.js';
import { buildLoadedZone } from '../../../src/config/zonefile.js';

const origin = Name.fromText('big.test.');
const clock = { now: () => 1_800_000_000 };

/** A master file of `n` names with one A record each, a comment and a multi-line SOA. */
function zoneText(n: number, comment?: string): string {
  const lines = ['; big.test, generated', '$ORIGIN big.test.', '$TTL 3600', '@ IN SOA ns1 h ( 7 ; serial', '    1d 2h 1000h 300 )', '  NS ns1', 'ns1 A 192.0.2.53 ; ours'];
  for (let i = 0; i < n; i++) {
    if (comment && i === n >> 1) lines.push(`; ${comment}`);
    lines.push(`h${i} 300 IN A 127.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  }
  return lines.join('\n') + '\n';
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-delta-master-'));
  logs = [];
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Log lines of the managers opened by `open` ('zone changed' says `"delta":true` for a change applied as a delta). */
let logs: string[] = [];

async function open(n: number, sub: string, extra: { offThreadFromBytes?: number } = {}, comment?: string): Promise<{ m: TandemZoneManager; file: string; zonesDir: string; stateDir: string }> {
  const zonesDir = join(dir, sub, 'zones');
  const stateDir = join(dir, sub, 'state');
  await mkdir(zonesDir, { recursive: true });
  const file = join(zonesDir, 'big.test.zone');
  await writeFile(file, zoneText(n, comment));
  await writeFile(join(zonesDir, 'big.test.yaml'), 'zone:\n  dnssec: { enabled: true }\n');
  const { manager: m, errors } = await TandemZoneManager.open({
    zonesDir, stateDir, clock, logger: pino({ level: 'info' }, { write: (l: string) => { logs.push(l); } }), cache: new SignatureCache({ max: 100_000 }), ...extra,
  });
  expect(errors).toEqual([]);
  return { m, file, zonesDir, stateDir };
}

const rec = (name: string, type: keyof typeof RRType, text: string, ttl = 300) => ({ name: Name.fromText(name, origin), type: RRType[type], ttl, rdata: parseRdata(RRType[type], text, origin) });

describe('a master-file zone: an admin change costs the change (issue 16)', () => {
  it('one new name on 2,000 vs 20,000 names reads back the same few records, and touches only its lines', { timeout: 120_000 }, async () => {
    const cost = async (n: number, sub: string) => {
      const { m, file } = await open(n, sub);
      const before = await readFile(file, 'utf8');
      const s0 = { ...m.deltaStats };
      await m.createRecord(m.zoneByName(origin)!.id, rec('new-name', 'A', '192.0.2.7'));
      const after = await readFile(file, 'utf8');
      expect(after).toBe(before.replace('( 7 ; serial', '( 8 ; serial') + 'new-name\t300\tIN\tA\t192.0.2.7\n');
      expect(m.served().zones.get(origin)!.nodes).toBeInstanceOf(LayeredNodes); // patched, not built again
      return { parsed: m.deltaStats.recordsParsed - s0.recordsParsed, rrsets: m.deltaStats.rrsets - s0.rrsets, hashed: m.deltaStats.recordsHashed - s0.recordsHashed };
    };
    const small = await cost(2_000, 'small');
    const large = await cost(20_000, 'large');
    expect(small.rrsets).toBe(1); // the delta path (a whole build counts nothing here)
    expect(large).toEqual(small);
    // Read back: the SOA and the new record; never the 20,000 (a whole read-back would count them all).
    expect(large.parsed).toBeLessThan(10);
    expect(large.hashed).toBe(3);
  });

  // On the parser thread the file is written from the bytes read (one byte per character) or encoded anew (a
  // comment of two- to four-byte characters in the middle: the text's offsets are not the bytes').
  for (const [offThread, comment] of [[false], [true], [true, 'half way — café 𝄞']] as [boolean, string?][]) {
    it(`serves what a fresh load of the written file serves after a run of changes${offThread ? ' (edited on the parser thread)' : ''}${comment ? ', a comment not ASCII' : ''}`, { timeout: 120_000 }, async () => {
      const { m, file, zonesDir, stateDir } = await open(3_000, 'same', offThread ? { offThreadFromBytes: 0 } : {}, comment);
      const id = m.zoneByName(origin)!.id;
      const s0 = { ...m.deltaStats };
      await m.createRecord(id, rec('h5', 'TXT', '"beside"', 60));
      const h7 = m.recordsAt(id, Name.fromText('h7', origin), RRType.A)[0];
      await m.updateRecord(id, h7.id, { name: h7.name, type: RRType.TXT, ttl: 60, rdata: parseRdata(RRType.TXT, '"moved"', origin) });
      const h9 = m.recordsAt(id, Name.fromText('h9', origin), RRType.A)[0];
      await m.deleteRecord(id, h9.id);
      await m.createRecord(id, rec('x.y.z', 'AAAA', '2001:db8::1'));
      const h5 = m.recordsAt(id, Name.fromText('h5', origin), RRType.A)[0];
      await m.deleteRecord(id, h5.id);
      await m.createRecord(id, rec('h2999', 'A', '192.0.2.99', 300));
      const changes = logs.filter((l) => l.includes('"zone changed"'));
      expect(changes).toHaveLength(6);
      expect(changes.every((l) => l.includes('"delta":true'))).toBe(true); // every change took the delta path
      expect(m.deltaStats.recordsParsed - s0.recordsParsed).toBeLessThan(60);
      const zone = m.served().zones.get(origin)!;
      const text = await readFile(file, 'utf8');
      const fresh = buildLoadedZone(parseMasterZone(file, text));
      const describe = (z: typeof zone) => new Map([...z.nodes.values()].map((n) => [n.name.key,
        `${n.children}|${[...n.rrsets.values()].filter((s) => !([RRType.SOA, RRType.DNSKEY, RRType.NSEC3PARAM, RRType.CDS, RRType.CDNSKEY] as number[]).includes(s.type)).map((s) => `${s.type}/${s.ttl}/${s.rdatas.map((r) => Buffer.from(r).toString('hex')).sort()}`).sort()}`]));
      expect(describe(zone)).toEqual(describe(fresh));
      expect(lookup(zone, Name.fromText('h9', origin), RRType.A).kind).toBe('nxdomain');
      expect(lookup(zone, Name.fromText('y.z', origin), RRType.A).kind).toBe('nodata'); // an empty non-terminal
      expect(text).toContain('( 13 ; serial'); // one bump per change, in place
      expect(text).toContain('ns1 A 192.0.2.53 ; ours'); // comments and every untouched line byte for byte
      if (comment) expect(text).toContain(`; ${comment}\nh1500 300 IN A 127.0.5.220\n`);
      // No temp file left beside the zone.
      expect((await readdir(zonesDir)).sort()).toEqual(['big.test.yaml', 'big.test.zone']);
      // A restart reads the file whole and keeps the serial (the digest patched change by change is the content's).
      const { manager: again } = await TandemZoneManager.open({ zonesDir, stateDir, clock, logger: pino({ level: 'silent' }), cache: new SignatureCache({ max: 1000 }) });
      expect(again.zoneByName(origin)!.serial).toBe(m.zoneByName(origin)!.serial);
    });
  }

  it('a cluster worker applies the primary\'s delta to its copy of the master-file zone and serves the same zone', { timeout: 120_000 }, async () => {
    const { zonesDir, stateDir } = await open(1_000, 'cluster');
    const { primary, replica: worker, told } = await openPrimaryAndReplica(zonesDir, stateDir, clock);
    const id = primary.zoneByName(origin)!.id;
    await primary.createRecord(id, rec('a.new.sub', 'A', '192.0.2.1'));
    const h3 = primary.recordsAt(id, Name.fromText('h3', origin), RRType.A)[0];
    await primary.deleteRecord(id, h3.id);
    expect(told).toEqual(['delta', 'delta']);
    const show = (m: TandemZoneManager) => {
      const z = m.served().zones.get(origin)!;
      return { serial: Buffer.from(z.soa.rdatas[0]).toString('hex'), nodes: [...z.nodes.keys()].sort() };
    };
    expect(show(worker!)).toEqual(show(primary));
    expect(worker!.served().zones.get(origin)!.nodes).toBeInstanceOf(LayeredNodes);
  });

  it('a file broken by hand far from the change is refused with file and line, as for a YAML zone; nothing is written', { timeout: 120_000 }, async () => {
    const { m, file } = await open(2_000, 'broken');
    const id = m.zoneByName(origin)!.id;
    const broken = (await readFile(file, 'utf8')) + 'late 300 IN A 192.0.2.300\n';
    await writeFile(file, broken);
    await expect(m.createRecord(id, rec('h1', 'TXT', '"x"'))).rejects.toThrow(/big\.test\.zone:2008: .*late A/);
    expect(await readFile(file, 'utf8')).toBe(broken);
  });

  it('a change the zone rules refuse (RFC 1034 §3.6.2: CNAME beside A; RFC 8901 §2: a DNSKEY without multi_signer) is refused; no temp file is left', { timeout: 120_000 }, async () => {
    const { m, file, zonesDir } = await open(500, 'cname');
    const before = await readFile(file, 'utf8');
    await expect(m.createRecord(m.zoneByName(origin)!.id, rec('h8', 'CNAME', 'x.example.'))).rejects.toThrow(/CNAME beside A/);
    await expect(m.createRecord(m.zoneByName(origin)!.id, rec('h8', 'DNSKEY', '257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=='))).rejects.toThrow(/DNSKEY/);
    expect(await readFile(file, 'utf8')).toBe(before);
    expect((await readdir(zonesDir)).sort()).toEqual(['big.test.yaml', 'big.test.zone']);
  });
});
