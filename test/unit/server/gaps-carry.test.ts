// A compact zone's order keys (server/gaps.ts, the hints and gap pushes of the cluster's workers) carried from one
// zone version to the next (issue 16: a change costs the change): after added, removed, deep (empty non-terminal)
// and wildcard names, the gaps of the carried keys are those a whole build of the new version finds, gap for gap
// and fit for fit; a change at a delegation point is made whole.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Name } from '../../../src/dns/name.js';
import { parseRdata } from '../../../src/dns/rdata.js';
import { RRType } from '../../../src/dns/types.js';
import { SignatureCache } from '../../../src/dnssec/cache.js';
import { TandemZoneManager } from '../../../src/state/manager.js';
import { allGaps, gapsFor, gapsStats } from '../../../src/server/gaps.js';
import type { Zone } from '../../../src/zone/types.js';

const Z = 'compact.test.';
let dir: string, manager: TandemZoneManager;
const clock = { now: () => 1_800_000_000 };
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-gaps-carry-'));
  const lines = ['zone:', `  soa: { mname: ns1.${Z}, rname: h.${Z}, serial: 1, minimum: 300 }`, `  nameservers: [ns1.${Z}]`, '  dnssec: { enabled: true, denial: compact }', 'records:', '  ns1: { type: A, value: 127.0.0.1 }', '  sub: { type: NS, value: ns.sub }', '  ns.sub: { type: A, value: 127.0.0.2 }'];
  for (let i = 0; i < 300; i++) lines.push(`  h${i}: { type: A, value: 127.0.${i >> 8}.${i & 255} }`);
  await writeFile(join(dir, `${Z}yaml`), lines.join('\n') + '\n');
  ({ manager } = await TandemZoneManager.open({ zonesDir: dir, stateDir: join(dir, '.state'), clock, logger: pino({ level: 'silent' }), cache: new SignatureCache() }));
}, 60_000);
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

const served = (): Zone => manager.served().zones.byKey(Name.fromText(Z).key)!;
/** The same zone as another object: its keys are made whole. */
const whole = (z: Zone): Zone => ({ ...z });
const txt = (name: string) => ({ name: Name.fromText(name), type: RRType.TXT, ttl: 300, rdata: parseRdata(RRType.TXT, '"x"', Name.fromText(Z)) });
const nx = Name.fromText(`hz.${Z}`); // between h99 and ns1

describe('compact zone: a change carries the gaps\' order keys', () => {
  it('added, removed, deep and wildcard names: the carried gaps equal a whole build\'s; a new delegation builds whole', async () => {
    const id = manager.zoneByName(Name.fromText(Z))!.id;
    expect(gapsFor(served(), nx)).toBeDefined();
    const del = (name: string) => async () => manager.deleteRecord(id, manager.records(id).find((r) => r.name.equals(Name.fromText(name)))!.id);
    const steps: [string, () => Promise<unknown>, 'carried' | 'built'][] = [
      ['a new name', () => manager.createRecord(id, txt(`new.${Z}`)), 'carried'],
      ['a deep name (empty non-terminals)', () => manager.createRecord(id, txt(`a.b.deep.${Z}`)), 'carried'],
      ['a wildcard (the gaps below w. no longer fit)', () => manager.createRecord(id, txt(`*.w.${Z}`)), 'carried'],
      ['a removed name', del(`h7.${Z}`), 'carried'],
      ['the deep name removed', del(`a.b.deep.${Z}`), 'carried'],
      ['glue below the cut (not a name of the gaps)', () => manager.createRecord(id, { name: Name.fromText(`x.ns.sub.${Z}`), type: RRType.A, ttl: 300, rdata: parseRdata(RRType.A, '127.0.0.3', Name.fromText(Z)) }), 'carried'],
      ['a new delegation (a whole build of the zone: nothing to carry from)', () => manager.createRecord(id, { name: Name.fromText(`deleg.${Z}`), type: RRType.NS, ttl: 300, rdata: parseRdata(RRType.NS, 'ns1.example.net.', Name.fromText(Z)) }), 'built'],
    ];
    for (const [what, step, how] of steps) {
      const before = served();
      await step();
      const after = served();
      expect(after, what).not.toBe(before);
      const stats = { ...gapsStats };
      const asked = gapsFor(after, nx);
      expect([gapsStats.carried - stats.carried, gapsStats.built - stats.built], what).toEqual(how === 'carried' ? [1, 0] : [0, 1]);
      const carried = allGaps(after);
      const built = allGaps(whole(after));
      expect(carried, what).toBeDefined();
      expect(carried, what).toEqual(built);
      expect(asked, what).toEqual(gapsFor(whole(after), nx));
    }
    // The wildcard's gaps are out: a name below w. is not in any gap the workers may answer from.
    expect(gapsFor(served(), Name.fromText(`q.w.${Z}`))).toBeUndefined();
  });
});
