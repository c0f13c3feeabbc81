// A zone with `denial: nsec3-chain` / `nsec-chain` through the zone manager: an admin change, a reload and the
// API's dnssec_use_nsec3 go through the one change flow, and the chain of the new version is patched from
// the served one: only the links next to a changed name are signed again (counted by the signing observer,
// as the metrics count signatures).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { TandemZoneManager } from '../../../src/state/manager.js';
import { SignatureCache } from '../../../src/dnssec/cache.js';
import { Name } from '../../../src/dns/name.js';
import { RRType } from '../../../src/dns/types.js';
import { parseRdata } from '../../../src/dns/rdata.js';
import { verifyRrsig } from '../../../src/dnssec/signer.js';
import { signAnswer } from '../../../src/dnssec/answer.js';
import { lookup } from '../../../src/zone/lookup.js';
import type { ZoneSigning } from '../../../src/dnssec/types.js';

const origin = Name.fromText('c.test.');
const zoneText = (denial: string) => `zone:
  soa: { mname: ns1.c.test., rname: h.c.test., serial: 7, minimum: 300 }
  nameservers: [ns1.c.test.]
  dnssec: { enabled: true, denial: ${denial} }
records:
  ns1: { type: A, value: 192.0.2.53 }
  www: { type: A, value: 192.0.2.1 }
  mail: { type: A, value: 192.0.2.25 }
  a.b.deep: { type: TXT, value: deep }
  sub: { type: NS, value: ns.example.net. }
`;

let dir: string;
let zonesDir: string;
let stateDir: string;
let signatures = 0;
const clock = { now: () => Math.floor(Date.now() / 1000) };

async function open(denial: string): Promise<TandemZoneManager> {
  await writeFile(join(zonesDir, 'c.test.yaml'), zoneText(denial));
  const { manager, errors } = await TandemZoneManager.open({
    zonesDir, stateDir, clock, logger: pino({ level: 'silent' }), cache: new SignatureCache({ max: 1000 }),
    signingObserver: { signed: () => { signatures++; }, failed: () => undefined },
  });
  expect(errors).toEqual([]);
  return manager;
}

const zid = (m: TandemZoneManager) => m.zoneByName(origin)!.id;
const signingOf = (m: TandemZoneManager): ZoneSigning => m.served().signing.get(origin.key)!;
const rec = (name: string, type: keyof typeof RRType, text: string) => ({ name: Name.fromText(name, origin), type: RRType[type], ttl: 300, rdata: parseRdata(RRType[type], text, origin) });

/** The signed answer the server gives for a DO=1 query, every RRSIG verified with the zone's ZSK. */
async function verifiedAnswer(m: TandemZoneManager, qname: string, qtype: number) {
  const zone = m.served().zones.get(origin)!;
  const signing = signingOf(m);
  const name = Name.fromText(qname, origin);
  const sec = await signAnswer(zone, signing, lookup(zone, name, qtype), { name, type: qtype, co: false });
  const zsk = m.dnssec(zid(m)).keys.find((k) => k.flags === 256)!.dnskey;
  for (const sig of sec.authority.filter((r) => r.type === RRType.RRSIG && ((r.rdata[0] << 8) | r.rdata[1]) !== RRType.SOA)) {
    const covered = (sig.rdata[0] << 8) | sig.rdata[1];
    const set = sec.authority.filter((r) => r.type === covered && r.name.equals(sig.name));
    expect(verifyRrsig(sig.rdata, { name: sig.name, type: covered, class: 1, ttl: set[0].ttl, rdatas: set.map((r) => r.rdata) }, zsk), `${qname}: RRSIG ${sig.name}`).toBe(true);
  }
  return sec;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-chain-'));
  zonesDir = join(dir, 'zones');
  stateDir = join(dir, 'state');
  await mkdir(zonesDir);
  signatures = 0;
});
afterEach(() => rm(dir, { recursive: true, force: true }));

for (const [denial, type] of [['nsec3-chain', RRType.NSEC3], ['nsec-chain', RRType.NSEC]] as const) {
  describe(`${denial}: admin changes patch the served chain`, () => {
    it('adding a name signs two links (its own and its predecessor\'s), removing it one; every other link and RRSIG is carried over', async () => {
      const m = await open(denial);
      const c1 = signingOf(m).chain!;
      await c1.sign();
      expect(c1.links().every((l) => c1.isSigned(l))).toBe(true);

      let before = signatures;
      const r = await m.createRecord(zid(m), rec('new', 'A', '192.0.2.99'));
      const c2 = signingOf(m).chain!;
      expect(c2).not.toBe(c1);
      expect(c2.stats).toMatchObject({ full: false, made: 2, links: c1.links().length + 1 });
      expect(signatures - before).toBe(2); // the new links only: nothing else of the zone is signed by the change
      expect(c2.links().filter((l) => !c1.links().includes(l))).toHaveLength(2);
      expect(c2.links().every((l) => c2.isSigned(l))).toBe(true);

      // The new name answers, a name next to it is still denied, with RRSIGs that verify.
      expect((await verifiedAnswer(m, 'new', RRType.A)).answer.some((x) => x.type === RRType.A)).toBe(true);
      const nx = await verifiedAnswer(m, 'nope', RRType.A);
      expect(nx.rcode).toBe(3);
      expect(nx.authority.some((x) => x.type === type)).toBe(true);

      before = signatures;
      await m.deleteRecord(zid(m), r.id);
      const c3 = signingOf(m).chain!;
      expect(c3.stats).toMatchObject({ full: false, made: 1, links: c1.links().length });
      expect(signatures - before).toBe(1);
      expect((await verifiedAnswer(m, 'new', RRType.A)).rcode).toBe(3);
    });

    it('a reload of an unchanged file signs nothing; a changed file patches', async () => {
      const m = await open(denial);
      await signingOf(m).chain!.sign();
      let before = signatures;
      expect(await m.reload()).toEqual([]);
      expect(signingOf(m).chain!.stats).toMatchObject({ full: false, made: 0 });
      expect(signatures - before).toBe(0);
      const file = join(zonesDir, 'c.test.yaml');
      await writeFile(file, (await readFile(file, 'utf8')).replace('serial: 7', 'serial: 8') + '  mail2: { type: A, value: 192.0.2.26 }\n');
      before = signatures;
      expect(await m.reload()).toEqual([]);
      expect(signingOf(m).chain!.stats).toMatchObject({ full: false, made: 2 });
      expect(signatures - before).toBe(2);
    });
  });
}

describe('dnssec_use_nsec3 and the chain modes', () => {
  it('reads true for nsec3-chain; PATCH true keeps nsec3-chain, PATCH false selects compact (and clears opt-out)', async () => {
    await writeFile(join(zonesDir, 'c.test.yaml'), zoneText('nsec3-chain').replace('denial: nsec3-chain }', 'denial: nsec3-chain, nsec3_opt_out: true }'));
    const { manager: m } = await TandemZoneManager.open({ zonesDir, stateDir, clock, logger: pino({ level: 'silent' }), cache: new SignatureCache() });
    expect(m.dnssec(zid(m)).useNsec3).toBe(true);
    await m.patchDnssec(zid(m), { useNsec3: true });
    expect(m.served().zones.get(origin)!.settings.denial).toBe('nsec3-chain');
    await m.patchDnssec(zid(m), { useNsec3: false });
    expect(m.served().zones.get(origin)!.settings.denial).toBe('compact');
    expect(m.dnssec(zid(m)).useNsec3).toBe(false);
    expect(await readFile(join(zonesDir, 'c.test.yaml'), 'utf8')).toMatch(/nsec3_opt_out: false/);
  });

  it('nsec-chain reads false; PATCH true selects nsec3 (made per answer, as Cloudflare signs)', async () => {
    const m = await open('nsec-chain');
    expect(m.dnssec(zid(m)).useNsec3).toBe(false);
    await m.patchDnssec(zid(m), { useNsec3: true });
    expect(m.served().zones.get(origin)!.settings.denial).toBe('nsec3');
    expect(signingOf(m).chain).toBeUndefined();
  });
});
