// Rollovers through the real zone manager (rollover/service.ts): each step changes what the zone serves (DNSKEY,
// CDS, which key's RRSIGs), the state is written after each step, and a service opened again on the same state
// folder (a restart) resumes at the step it was in. Clock and DNS answers are fakes.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Name } from '../../../src/dns/name.js';
import { RRType } from '../../../src/dns/types.js';
import { rdataEquals } from '../../../src/dns/rdata.js';
import { dsRdata, keyTag } from '../../../src/dnssec/keys.js';
import { SignatureCache } from '../../../src/dnssec/cache.js';
import type { ZoneSigningImpl } from '../../../src/dnssec/zonesigning.js';
import { TandemZoneManager } from '../../../src/state/manager.js';
import { RolloverService, type RolloverProbes } from '../../../src/rollover/service.js';
import { addPublishedKey } from '../../../src/state/keystore.js';
import type { ParentPoll } from '../../../src/rollover/machine.js';
import { exampleZoneDir } from '../../helpers/zones.js';

const ZONE = Name.fromText('example.com.');
const T0 = 1_800_000_000;

interface Fixture {
  manager: TandemZoneManager;
  clock: { t: number; now(): number };
  zonesDir: string;
  stateDir: string;
  id: string;
  /** What the other provider publishes (the fake poll answers with these plus our served keys). */
  other: Uint8Array[] | undefined;
  parent: ParentPoll;
  probes: RolloverProbes;
}

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function open(f?: Fixture): Promise<Fixture> {
  const clock = f?.clock ?? { t: T0, now() { return this.t; } };
  const zonesDir = f?.zonesDir ?? await exampleZoneDir();
  const stateDir = f?.stateDir ?? await mkdtemp(join(tmpdir(), 'tandem-rollover-'));
  if (!f) dirs.push(zonesDir, stateDir);
  const { manager, errors } = await TandemZoneManager.open({ zonesDir, stateDir, clock, logger: pino({ level: 'silent' }), cache: new SignatureCache() });
  expect(errors).toEqual([]);
  const fx: Fixture = {
    manager, clock, zonesDir, stateDir, id: manager.zoneByName(ZONE)!.id, other: f?.other, parent: f?.parent ?? { ok: true, ds: [], ttl: 3600 },
    probes: undefined as never,
  };
  fx.probes = {
    async providers(_zone, providers) {
      const ours = served(fx, RRType.DNSKEY);
      return [
        { provider: 'us', ok: true, dnskeys: ours, ttl: 3600 },
        ...providers.map((p) => (fx.other ? { provider: p, ok: true as const, dnskeys: fx.other, ttl: 3600 } : { provider: p, ok: false as const, reason: 'timeout' })),
      ];
    },
    async parentDs() { return fx.parent; },
  };
  return fx;
}

function served(f: Fixture, type: number): Uint8Array[] {
  return f.manager.served().zones.zones().find((z) => z.origin.equals(ZONE))!.nodes.get(ZONE.key)!.rrsets.get(type)?.rdatas ?? [];
}
const tags = (f: Fixture) => served(f, RRType.DNSKEY).map(keyTag).sort();
const signing = (f: Fixture) => f.manager.served().signing.get(ZONE.key) as ZoneSigningImpl;
const service = (f: Fixture) => RolloverService.open({ zones: f.manager, stateDir: f.stateDir, clock: f.clock, logger: pino({ level: 'silent' }), probes: f.probes });

describe('ZSK rollover through the zone manager', () => {
  it('RFC 6781 §4.1.1.1: publish, wait for every provider, switch, retire, remove; a restart resumes where it was', async () => {
    let f = await open();
    const oldZsk = signing(f).zsk.keyTag;
    const ksk = signing(f).ksk.keyTag;
    const serial0 = f.manager.zoneByName(ZONE)!.serial!;
    let s = await service(f);
    const v = await s.start(f.id, 'zsk', ['192.0.2.53']);
    expect(v.rollover.providers).toEqual(['192.0.2.53:53']);
    const newZsk = v.rollover.newTag;
    // Published, not signing: the DNSKEY RRset has three keys, the old ZSK still signs, the serial moved (NOTIFY).
    expect(tags(f)).toEqual([ksk, oldZsk, newZsk].sort());
    expect(signing(f).zsk.keyTag).toBe(oldZsk);
    expect(f.manager.zoneByName(ZONE)!.serial).not.toBe(serial0);
    expect(f.manager.dnssec(f.id).keys.filter((k) => k.source === 'own').map((k) => k.keyTag).sort()).toEqual([ksk, oldZsk, newZsk].sort());
    await expect(s.start(f.id, 'ksk')).rejects.toThrow(/in progress/);

    // The other provider does not answer: nothing moves, even hours later.
    f.clock.t += 7200;
    await s.tick();
    expect(s.status(f.id)!.step).toBe('publish');
    expect(s.status(f.id)!.waitingFor).toContain('192.0.2.53:53 (timeout)');

    // Restart: a new manager and service on the same folders resume at `publish`.
    f = await open(f);
    s = await service(f);
    expect(s.status(f.id)!.rollover.newTag).toBe(newZsk);
    expect(tags(f)).toEqual([ksk, oldZsk, newZsk].sort());
    expect(signing(f).zsk.keyTag).toBe(oldZsk);

    f.other = served(f, RRType.DNSKEY);
    await s.tick();
    const st = s.status(f.id)!;
    expect(st.rollover.seenAt).toBe(f.clock.t);
    expect(st.earliestNext).toBe(f.clock.t + 3600);
    f.clock.t += 3599;
    await s.tick();
    expect(signing(f).zsk.keyTag).toBe(oldZsk);
    f.clock.t += 1;
    await s.tick();
    // Switched: the new ZSK signs, the old stays published; the KSK still signs the DNSKEY RRset.
    expect(s.status(f.id)!.step).toBe('retire');
    expect(signing(f).zsk.keyTag).toBe(newZsk);
    expect(signing(f).ksk.keyTag).toBe(ksk);
    expect(tags(f)).toEqual([ksk, oldZsk, newZsk].sort());
    const state = JSON.parse(await readFile(join(f.stateDir, 'rollover', 'example.com.json'), 'utf8'));
    expect(state.step).toBe('retire');

    // Restart during retire: the new ZSK still signs (the key files say so).
    f = await open(f);
    s = await service(f);
    expect(signing(f).zsk.keyTag).toBe(newZsk);
    const until = s.status(f.id)!.earliestNext!;
    f.clock.t = until - 1;
    await s.tick();
    expect(tags(f)).toContain(oldZsk);
    f.clock.t = until;
    await s.tick();
    expect(s.status(f.id)!.step).toBe('done');
    expect(tags(f)).toEqual([ksk, newZsk].sort());
    expect(signing(f).zsk.keyTag).toBe(newZsk);
    // And after one more restart the old key stays gone.
    f = await open(f);
    expect(tags(f)).toEqual([ksk, newZsk].sort());
    // A new rollover may start once the last is done.
    s = await service(f);
    await expect(s.start(f.id, 'zsk')).resolves.toBeTruthy();
  });
});

describe('KSK rollover through the zone manager', () => {
  it('RFC 6781 §4.1.2 / RFC 7344: the new KSK and its CDS are published, it signs DNSKEY after the DS TTL, the old leaves DNSKEY and CDS', async () => {
    let f = await open();
    const oldKsk = signing(f).ksk.keyTag;
    const zsk = signing(f).zsk.keyTag;
    const oldDnskey = served(f, RRType.DNSKEY).find((d) => keyTag(d) === oldKsk)!;
    f.parent = { ok: true, ds: [dsRdata(ZONE, oldDnskey, 2)], ttl: 600 };
    let s = await service(f);
    const v = await s.start(f.id, 'ksk');
    const newKsk = v.rollover.newTag;
    const newDnskey = served(f, RRType.DNSKEY).find((d) => keyTag(d) === newKsk)!;
    expect(tags(f)).toEqual([oldKsk, zsk, newKsk].sort());
    // CDS/CDNSKEY list both KSKs (RFC 7344 §4: the parent adds the new DS).
    expect(served(f, RRType.CDS).map((d) => (d[0] << 8) | d[1]).sort()).toEqual([oldKsk, newKsk].sort());
    expect(served(f, RRType.CDNSKEY).some((d) => rdataEquals(d, newDnskey))).toBe(true);
    expect(signing(f).ksk.keyTag).toBe(oldKsk);

    f.clock.t += 1000;
    await s.tick();
    expect(s.status(f.id)!.step).toBe('publish');
    f.parent = { ok: true, ds: [dsRdata(ZONE, oldDnskey, 2), dsRdata(ZONE, newDnskey, 2)], ttl: 600 };
    await s.tick();
    f = await open(f); // restart while waiting for the DS TTL
    s = await service(f);
    f.clock.t += 600;
    await s.tick();
    expect(s.status(f.id)!.step).toBe('retire');
    expect(signing(f).ksk.keyTag).toBe(newKsk);
    expect(signing(f).zsk.keyTag).toBe(zsk);
    expect(tags(f)).toContain(oldKsk);

    f.clock.t += 300; // the example zone's DNSKEY TTL (default)
    await s.tick();
    f.clock.t += 3600;
    await s.tick();
    const st = s.status(f.id)!;
    expect(st.step).toBe('withdraw');
    expect(tags(f)).toEqual([zsk, newKsk].sort());
    expect(served(f, RRType.CDS).map((d) => (d[0] << 8) | d[1])).toEqual([newKsk]);
    f.parent = { ok: true, ds: [dsRdata(ZONE, newDnskey, 2)], ttl: 600 };
    await s.tick();
    expect(s.status(f.id)!.step).toBe('done');
  });
});

describe('starting a rollover', () => {
  it('two starts at once: one publishes a key, the other is refused', async () => {
    const f = await open();
    const s = await service(f);
    const results = await Promise.allSettled([s.start(f.id, 'zsk'), s.start(f.id, 'zsk')]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(tags(f)).toHaveLength(3);
  });

  it('a start that crashed after publishing its key (no state written) adopts that key instead of making another', async () => {
    let f = await open();
    const orphan = await addPublishedKey(f.stateDir, ZONE, 'zsk', { clock: f.clock });
    f = await open(f);
    expect(tags(f)).toContain(orphan.key.keyTag);
    const s = await service(f);
    const v = await s.start(f.id, 'zsk');
    expect(v.rollover.newTag).toBe(orphan.key.keyTag);
    expect(tags(f)).toHaveLength(3);
  });

  it('an unknown zone id is refused (7003, as every zone route)', async () => {
    const f = await open();
    const s = await service(f);
    await expect(s.start('0'.repeat(32), 'zsk')).rejects.toThrow(/Could not route/);
  });
});
