// The white-lie modes' name indexes carried from one zone version to the next (issue 16: a change costs the change;
// dnssec/denial/nsec.ts carryNameIndex, nsec3.ts carryNsec3Index, called by state/prepare.ts preparePatched):
// after changes that add a name, remove one and make empty non-terminals, the carried index is the one a whole build
// of the new version makes, name for name and hash for hash; a version whose predecessor had none is built whole.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Name } from '../../../src/dns/name.js';
import { parseRdata } from '../../../src/dns/rdata.js';
import { RRType } from '../../../src/dns/types.js';
import { SignatureCache } from '../../../src/dnssec/cache.js';
import { nameIndex, nameIndexStats } from '../../../src/dnssec/denial/nsec.js';
import { nsec3Index } from '../../../src/dnssec/denial/nsec3.js';
import { TandemZoneManager } from '../../../src/state/manager.js';
import type { Zone } from '../../../src/zone/types.js';

let dir: string, manager: TandemZoneManager;
const clock = { now: () => 1_800_000_000 };
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-carry-'));
  for (const [z, denial] of [['nsec.test.', 'nsec'], ['nsec3.test.', 'nsec3']]) {
    const lines = ['zone:', `  soa: { mname: ns1.${z}, rname: h.${z}, serial: 1, minimum: 300 }`, `  nameservers: [ns1.${z}]`, `  dnssec: { enabled: true, denial: ${denial} }`, 'records:', '  ns1: { type: A, value: 127.0.0.1 }', '  sub: { type: NS, value: ns.sub }', '  ns.sub: { type: A, value: 127.0.0.2 }'];
    for (let i = 0; i < 300; i++) lines.push(`  h${i}: { type: A, value: 127.0.${i >> 8}.${i & 255} }`);
    await writeFile(join(dir, `${z}yaml`), lines.join('\n') + '\n');
  }
  ({ manager } = await TandemZoneManager.open({ zonesDir: dir, stateDir: join(dir, '.state'), clock, logger: pino({ level: 'silent' }), cache: new SignatureCache() }));
}, 60_000);
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

const served = (z: string): Zone => manager.served().zones.byKey(Name.fromText(z).key)!;
/** The same zone as another object: its indexes are built whole. */
const whole = (z: Zone): Zone => ({ ...z });
const rec = (name: string, z: string) => ({ name: Name.fromText(name), type: RRType.TXT, ttl: 300, rdata: parseRdata(RRType.TXT, '"x"', Name.fromText(z)) });

describe.each(['nsec.test.', 'nsec3.test.'])('%s: a change carries the name index', (z) => {
  it('added, removed and deep names (empty non-terminals): the carried index equals a whole build', async () => {
    const id = manager.zoneByName(Name.fromText(z))!.id;
    nameIndex(served(z));
    nsec3Index(served(z));
    const steps = [
      () => manager.createRecord(id, rec(`new.${z}`, z)),
      () => manager.createRecord(id, rec(`a.b.deep.${z}`, z)), // b.deep and deep: empty non-terminals
      async () => manager.deleteRecord(id, manager.records(id).find((r) => r.name.equals(Name.fromText(`h7.${z}`)))!.id),
      async () => manager.deleteRecord(id, manager.records(id).find((r) => r.name.equals(Name.fromText(`a.b.deep.${z}`)))!.id),
      () => manager.createRecord(id, { name: Name.fromText(`x.ns.sub.${z}`), type: RRType.A, ttl: 300, rdata: parseRdata(RRType.A, '127.0.0.3', Name.fromText(z)) }), // glue below a cut: not in the index
    ];
    for (const [i, step] of steps.entries()) {
      const before = served(z);
      const stats = { ...nameIndexStats };
      await step();
      const after = served(z);
      expect(after).not.toBe(before);
      const carried = nameIndex(after).names.map((n) => n.key);
      // Carried, not built (the glue step names the cut above it among its changed names: built whole, also right).
      if (i < 4) expect([nameIndexStats.carried - stats.carried, nameIndexStats.built - stats.built]).toEqual([1, 0]);
      const built = nameIndex(whole(after)).names.map((n) => n.key);
      expect(carried).toEqual(built);
      const key = (m: Map<bigint, Name>) => [...m].map(([h, n]) => `${h.toString(16)} ${n.key}`).sort();
      expect(key(nsec3Index(after))).toEqual(key(nsec3Index(whole(after))));
    }
    expect(nameIndex(served(z)).names.some((n) => n.key === `new.${z}`)).toBe(true);
    expect(nameIndex(served(z)).names.some((n) => n.key === `h7.${z}`)).toBe(false);
  });
});
