// The zone manager with real files: every accepted change is validated, durable, served at once, and survives
// a restart; a rejected change writes nothing. DNSSEC states as Cloudflare documents them; imported keys
// (RFC 8901 model 2).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { TandemZoneManager } from '../../../src/state/manager.js';
import { AdminError } from '../../../src/state/types.js';
import { SignatureCache } from '../../../src/dnssec/cache.js';
import { Name } from '../../../src/dns/name.js';
import { RRType } from '../../../src/dns/types.js';
import { parseRdata } from '../../../src/dns/rdata.js';
import { generateKey, keyTag } from '../../../src/dnssec/keys.js';
import { verifyRrsig } from '../../../src/dnssec/signer.js';
import { lookup } from '../../../src/zone/lookup.js';

const origin = Name.fromText('m.test.');
const ZONE = `# comment that must survive admin edits
zone:
  soa: { mname: ns1.m.test., rname: h.m.test., serial: 7, minimum: 300 }
  nameservers: [ns1.m.test.]
  dnssec:
    enabled: true
    multi_signer: false
records:
  ns1: { type: A, value: 192.0.2.53 }   # our nameserver
  www: { type: A, value: 192.0.2.1 }
`;

let dir: string;
let zonesDir: string;
let stateDir: string;
const clock = { now: () => Math.floor(Date.now() / 1000) };

async function open(): Promise<TandemZoneManager> {
  const { manager, errors } = await TandemZoneManager.open({ zonesDir, stateDir, clock, logger: pino({ level: 'silent' }), cache: new SignatureCache({ max: 1000 }) });
  expect(errors).toEqual([]);
  return manager;
}

const zid = (m: TandemZoneManager) => m.zoneByName(origin)!.id;
const zoneFile = () => join(zonesDir, 'm.test.yaml');
const rec = (name: string, type: keyof typeof RRType, text: string, ttl = 300) => ({ name: Name.fromText(name, origin), type: RRType[type], ttl, rdata: parseRdata(RRType[type], text, origin) });
const served = (m: TandemZoneManager) => m.served().zones.get(origin)!;
const dnskeys = (m: TandemZoneManager) => served(m).nodes.get(origin.key)!.rrsets.get(RRType.DNSKEY)!;
const foreignKsk = () => generateKey(257);
const foreignZsk = () => generateKey(256);
const dnskeyText = (rdata: Uint8Array) => `${(rdata[0] << 8) | rdata[1]} 3 13 ${Buffer.from(rdata.subarray(4)).toString('base64')}`;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-mgr-'));
  zonesDir = join(dir, 'zones');
  stateDir = join(dir, 'state');
  await mkdir(zonesDir);
  await writeFile(zoneFile(), ZONE);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('records', () => {
  it('a created record is served at once, written into the YAML (comments kept, serial bumped) and keeps its id after a restart', async () => {
    const m = await open();
    const r = await m.createRecord(zid(m), rec('mail', 'A', '192.0.2.25'));
    expect(r.id).toMatch(/^[0-9a-f]{32}$/);
    expect(lookup(served(m), Name.fromText('mail.m.test.'), RRType.A).kind).toBe('answer');
    const text = await readFile(zoneFile(), 'utf8');
    expect(text).toContain('# comment that must survive admin edits');
    expect(text).toContain('# our nameserver');
    expect(text).toMatch(/mail:/);
    expect(text).toMatch(/serial: 8/);
    const again = await open();
    expect(again.record(zid(again), r.id)?.name.toString()).toBe('mail.m.test.');
  });

  it('an update keeps the id; a delete removes the record everywhere', async () => {
    const m = await open();
    const r = await m.createRecord(zid(m), rec('mail', 'A', '192.0.2.25'));
    const u = await m.updateRecord(zid(m), r.id, rec('mail', 'A', '192.0.2.26'));
    expect(u.id).toBe(r.id);
    expect((await open()).record(zid(m), r.id)?.rdata).toEqual(Uint8Array.of(192, 0, 2, 26));
    await m.deleteRecord(zid(m), r.id);
    expect(lookup(served(m), Name.fromText('mail.m.test.'), RRType.A).kind).toBe('nxdomain');
    expect(await readFile(zoneFile(), 'utf8')).not.toMatch(/mail:/);
  });

  it('a change that breaks a zone rule is refused with 1004 and nothing is written', async () => {
    const m = await open();
    const before = await readFile(zoneFile(), 'utf8');
    await expect(m.createRecord(zid(m), rec('www', 'CNAME', 'ns1.m.test.'))).rejects.toMatchObject({ code: 1004, status: 400 });
    expect(await readFile(zoneFile(), 'utf8')).toBe(before);
    expect(lookup(served(m), Name.fromText('www.m.test.'), RRType.A).kind).toBe('answer');
  });

  it('a refused change leaves the records as the API lists them (a new TTL for an RRset is not half-applied)', async () => {
    const m = await open();
    const ttlOfWww = () => m.records(zid(m)).filter((r) => r.name.toString() === 'www.m.test.' && r.type === RRType.A).map((r) => r.ttl);
    expect(ttlOfWww()).toEqual([3600]);
    // The first post would give www's A RRset TTL 60; the second is refused, so the batch changes nothing.
    await expect(m.batch(zid(m), { deletes: [], patches: [], puts: [], posts: [rec('www', 'A', '192.0.2.2', 60), rec('m.test.', 'SOA', 'a. b. 1 2 3 4 5')] }))
      .rejects.toMatchObject({ code: 1004 });
    expect(ttlOfWww()).toEqual([3600]);
  });

  it('a duplicate is 81058 and an unknown id 81044/404', async () => {
    const m = await open();
    const www = m.records(zid(m)).find((r) => r.type === RRType.A && r.name.toString() === 'www.m.test.')!;
    await expect(m.createRecord(zid(m), rec('www', 'A', '192.0.2.1'))).rejects.toMatchObject({ code: 81058 });
    await expect(m.deleteRecord(zid(m), 'f'.repeat(32))).rejects.toMatchObject({ code: 81044, status: 404 });
    expect(www.id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('concurrent changes are serialised: none is lost', async () => {
    const m = await open();
    await Promise.all(Array.from({ length: 15 }, (_, i) => m.createRecord(zid(m), rec(`h${i}`, 'A', `192.0.2.${100 + i}`))));
    const again = await open();
    for (let i = 0; i < 15; i++) expect(again.records(zid(again)).some((r) => r.name.toString() === `h${i}.m.test.`)).toBe(true);
  });
});

describe('imported keys (RFC 8901 model 2)', () => {
  it('a DNSKEY is refused (1004) while multi-signer is off, accepted once on', async () => {
    const m = await open();
    const k = foreignZsk();
    await expect(m.createRecord(zid(m), rec('@', 'DNSKEY', dnskeyText(k.dnskey)))).rejects.toMatchObject({ code: 1004, message: expect.stringMatching(/multi-signer/) });
    await m.patchDnssec(zid(m), { multiSigner: true });
    await m.createRecord(zid(m), rec('@', 'DNSKEY', dnskeyText(k.dnskey)));
    expect(dnskeys(m).rdatas.some((r) => Buffer.compare(Buffer.from(r), Buffer.from(k.dnskey)) === 0)).toBe(true);
  });

  it('changing the key set re-signs the DNSKEY RRset at once with our KSK only (RFC 8901 §3)', async () => {
    const m = await open();
    await m.patchDnssec(zid(m), { multiSigner: true });
    const k = foreignZsk();
    await m.createRecord(zid(m), rec('@', 'DNSKEY', dnskeyText(k.dnskey)));
    const set = dnskeys(m);
    expect(set.rdatas).toHaveLength(3);
    const sigs = await m.served().signing.get(origin.key)!.signRrset(set);
    expect(sigs).toHaveLength(1);
    const ours = m.dnssec(zid(m)).ksk!;
    expect(verifyRrsig(sigs[0].rdata, set, ours.dnskey)).toBe(true);
  });

  it('validation: revoked, bad protocol, unknown algorithm, bad point, other algorithm (unless forced), our own key', async () => {
    const m = await open();
    await m.patchDnssec(zid(m), { multiSigner: true });
    const k = foreignZsk();
    const pub = Buffer.from(k.dnskey.subarray(4)).toString('base64');
    const refuse = (text: string, why: RegExp) => expect(m.createRecord(zid(m), rec('@', 'DNSKEY', text))).rejects.toMatchObject({ code: 1004, message: expect.stringMatching(why) });
    await refuse(`385 3 13 ${pub}`, /REVOKE/);
    await refuse(`256 3 99 ${pub}`, /unknown DNSSEC algorithm 99/);
    await refuse(`256 3 13 ${Buffer.alloc(64, 1).toString('base64')}`, /P-256/);
    await refuse(`256 3 15 ${Buffer.alloc(32, 7).toString('base64')}`, /differs from the zone's 13.*RFC 8901 §4/);
    await refuse(dnskeyText(m.dnssec(zid(m)).ksk!.dnskey), /own keys/);
  });

  it('CDS/CDNSKEY list our KSK and every imported KSK; own-ksk mode leaves their KSK out of DNSKEY only', async () => {
    const m = await open();
    await m.patchDnssec(zid(m), { multiSigner: true });
    const ksk = foreignKsk();
    await m.createRecord(zid(m), rec('@', 'DNSKEY', dnskeyText(ksk.dnskey)));
    const apex = served(m).nodes.get(origin.key)!.rrsets;
    expect(apex.get(RRType.CDNSKEY)!.rdatas).toHaveLength(2);
    expect(apex.get(RRType.CDS)!.rdatas.map((r) => (r[0] << 8) | r[1]).sort()).toEqual([keyTag(ksk.dnskey), m.dnssec(zid(m)).ksk!.keyTag].sort());
    expect(apex.get(RRType.DNSKEY)!.rdatas).toHaveLength(3);
    await writeFile(zoneFile(), (await readFile(zoneFile(), 'utf8')).replace('multi_signer: true', 'multi_signer: true\n    dnskey_set: own-ksk'));
    await m.reload();
    const apex2 = served(m).nodes.get(origin.key)!.rrsets;
    expect(apex2.get(RRType.DNSKEY)!.rdatas).toHaveLength(2);
    expect(apex2.get(RRType.CDNSKEY)!.rdatas).toHaveLength(2);
  });

  it('our keys are generated inside the zone\'s key tag range', async () => {
    await writeFile(zoneFile(), ZONE.replace('multi_signer: false', 'multi_signer: false\n    key_tag_range: "40000-40999"'));
    const m = await open();
    for (const k of m.dnssec(zid(m)).keys) expect(k.keyTag).toBeGreaterThanOrEqual(40000), expect(k.keyTag).toBeLessThanOrEqual(40999);
  });

  it('an imported key whose TTL differs from the DNSKEY TTL is served with the RRset TTL and warned about', async () => {
    const m = await open();
    await m.patchDnssec(zid(m), { multiSigner: true });
    await m.createRecord(zid(m), rec('@', 'DNSKEY', dnskeyText(foreignZsk().dnskey), 86400));
    expect(dnskeys(m).ttl).toBe(3600);
  });
});

describe('DNSSEC states (Cloudflare: pending, active, pending-disabled, disabled, deleted)', () => {
  it('pending until the parent has our DS, then active; disabling publishes the RFC 8078 delete CDS; delete only from disabled', async () => {
    const m = await open();
    const id = zid(m);
    expect(m.dnssec(id).status).toBe('pending');
    expect((await m.setParentDs(id, true)).status).toBe('active');
    await expect(m.deleteDnssec(id)).rejects.toBeInstanceOf(AdminError);
    expect((await m.patchDnssec(id, { status: 'disabled' })).status).toBe('pending-disabled');
    const apex = served(m).nodes.get(origin.key)!.rrsets;
    expect(apex.get(RRType.CDS)!.rdatas).toEqual([Uint8Array.of(0, 0, 0, 0, 0)]);
    expect(apex.get(RRType.CDNSKEY)!.rdatas).toEqual([Uint8Array.of(0, 0, 3, 0, 0)]);
    expect(m.served().signing.has(origin.key)).toBe(true);
    expect((await m.setParentDs(id, false)).status).toBe('disabled');
    await m.deleteDnssec(id);
    const d = m.dnssec(id);
    expect(d.status).toBe('disabled');
    expect(d.modifiedOn).toBeNull();
    expect(m.served().signing.has(origin.key)).toBe(false);
    expect(served(m).nodes.get(origin.key)!.rrsets.has(RRType.DNSKEY)).toBe(false);
    // The state survives a restart.
    expect((await open()).dnssec(id).modifiedOn).toBeNull();
  });

  it('re-enabling after delete goes back to pending and publishes keys again', async () => {
    const m = await open();
    const id = zid(m);
    await m.patchDnssec(id, { status: 'disabled' });
    await m.deleteDnssec(id);
    const v = await m.patchDnssec(id, { status: 'active' });
    expect(v.status).toBe('pending');
    expect(v.modifiedOn).not.toBeNull();
    expect(served(m).nodes.get(origin.key)!.rrsets.has(RRType.DNSKEY)).toBe(true);
  });

  it('dnssec_use_nsec3 switches the denial method and publishes NSEC3PARAM; presigned is refused', async () => {
    const m = await open();
    await m.patchDnssec(zid(m), { useNsec3: true });
    expect(served(m).settings.denial).toBe('nsec3');
    expect(served(m).nodes.get(origin.key)!.rrsets.has(RRType.NSEC3PARAM)).toBe(true);
    await expect(m.patchDnssec(zid(m), { presigned: true })).rejects.toMatchObject({ code: 1004 });
  });
});

describe('DNS settings', () => {
  it('multi_provider serves the zone\'s apex NS records with ours', async () => {
    const m = await open();
    await m.createRecord(zid(m), rec('@', 'NS', 'ns.other.example.'));
    const ns = () => served(m).apexNs.rdatas.length;
    expect(ns()).toBe(1);
    await m.patchDnsSettings(zid(m), { multiProvider: true });
    expect(ns()).toBe(2);
    expect(m.dnsSettings(zid(m)).multiProvider).toBe(true);
    expect(await readFile(zoneFile(), 'utf8')).toMatch(/multi_provider: true/);
  });
});

describe('who holds an imported key (issue 13)', () => {
  const keyOf = (k: { dnskey: Uint8Array }) => ({ flags: (k.dnskey[0] << 8) | k.dnskey[1], protocol: 3, algorithm: 13, publicKey: Buffer.from(k.dnskey.subarray(4)).toString('base64') });
  const served1 = (m: TandemZoneManager, k: { dnskey: Uint8Array }) => dnskeys(m).rdatas.some((r) => Buffer.compare(Buffer.from(r), Buffer.from(k.dnskey)) === 0);
  const view = (m: TandemZoneManager, k: { dnskey: Uint8Array }) => m.records(zid(m)).find((r) => r.type === RRType.DNSKEY && Buffer.compare(Buffer.from(r.rdata), Buffer.from(k.dnskey)) === 0);

  it('claims survive restarts: a set deleted after a restart leaves the key the CLI holds', async () => {
    const m = await open();
    await m.patchDnssec(zid(m), { multiSigner: true });
    const k = foreignZsk();
    await m.createRecord(zid(m), rec('@', 'DNSKEY', dnskeyText(k.dnskey)), { source: 'cli' });
    await m.putExternalKeySet(zid(m), 'a', 3600, [keyOf(k)]);
    const again = await open();
    expect(view(again, k)?.keySources).toEqual(['cli', 'ns1:a']);
    await again.deleteExternalKeySet(zid(again), 'a');
    const third = await open();
    expect(served1(third, k)).toBe(true);
    expect(view(third, k)?.keySources).toEqual(['cli']);
    expect(JSON.parse(await readFile(join(stateDir, 'zones', 'm.test.json'), 'utf8')).keyClaims).toEqual({ [Buffer.from(k.dnskey).toString('base64')]: ['cli'] });
    const left = await third.deleteRecord(zid(third), view(third, k)!.id, { source: 'cli' });
    expect(left.keySources).toEqual([]);
    expect(served1(third, k)).toBe(false);
  });

  it('state from before claims keeps every key of the file: the file holds it besides the NS1 sets that list it', async () => {
    const k = foreignKsk();
    const b64 = Buffer.from(k.dnskey).toString('base64');
    await writeFile(zoneFile(), ZONE.replace('multi_signer: false', 'multi_signer: true').replace('records:\n', `records:\n  '': { type: DNSKEY, value: '${dnskeyText(k.dnskey)}' }\n`));
    await mkdir(join(stateDir, 'zones'), { recursive: true });
    const old = { version: 1, createdOn: '2024-01-01T00:00:00Z', modifiedOn: '2024-01-01T00:00:00Z', dnssec: { modifiedOn: null, parentDs: null, disabling: false }, records: {}, keySets: { a: { ttl: 3600, keys: [b64] } } };
    await writeFile(join(stateDir, 'zones', 'm.test.json'), JSON.stringify(old));
    const m = await open();
    expect(view(m, k)?.keySources).toEqual(['records', 'ns1:a']);
    await m.deleteExternalKeySet(zid(m), 'a');
    expect(served1(m, k)).toBe(true);
    expect(served(m).nodes.get(origin.key)!.rrsets.get(RRType.CDS)!.rdatas.map((r) => (r[0] << 8) | r[1])).toContain(keyTag(k.dnskey));
  });

  it('the same source adding a key twice is 81058; an NS1 set turns multi-signer on and adds its keys', async () => {
    const m = await open();
    const k = foreignZsk();
    await m.putExternalKeySet(zid(m), 'x', 3600, [keyOf(k)]);
    expect(m.dnssec(zid(m)).multiSigner).toBe(true);
    expect(served1(m, k)).toBe(true);
    await m.createRecord(zid(m), rec('@', 'DNSKEY', dnskeyText(k.dnskey)), { source: 'cli' });
    await expect(m.createRecord(zid(m), rec('@', 'DNSKEY', dnskeyText(k.dnskey)), { source: 'cli' })).rejects.toMatchObject({ code: 81058 });
    expect(m.dnssec(zid(m)).keys.find((x) => x.source === 'external')?.sources).toEqual(['ns1:x', 'cli']);
  });

  it('a DNSKEY record changed into another key is refused while other sources hold the old one', async () => {
    const m = await open();
    await m.patchDnssec(zid(m), { multiSigner: true });
    const k = foreignZsk();
    await m.createRecord(zid(m), rec('@', 'DNSKEY', dnskeyText(k.dnskey)));
    await m.putExternalKeySet(zid(m), 'x', 3600, [keyOf(k)]);
    const other = foreignZsk();
    await expect(m.updateRecord(zid(m), view(m, k)!.id, rec('@', 'DNSKEY', dnskeyText(other.dnskey)))).rejects.toMatchObject({ code: 1004, message: expect.stringMatching(/also held by NS1 set 'x'/) });
    // The same key with another TTL keeps its claims.
    await m.updateRecord(zid(m), view(m, k)!.id, rec('@', 'DNSKEY', dnskeyText(k.dnskey), 600));
    expect(view(m, k)?.keySources).toEqual(['records', 'ns1:x']);
  });
});
