// RFC 2136 §3.4.2 applied by the zone manager (state/update-apply.ts through manager.applyUpdate): each update
// section rule, the claims of keys added by UPDATE (source `ddns`), what tandem keeps for itself (its own keys,
// the signer's records, its nameservers, the SOA), and the whole-or-nothing rule: a refused RR anywhere leaves
// the zone file, the admin state and the served serial as they were.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { TandemZoneManager, type UpdateOp, type UpdateResult } from '../../../src/state/manager.js';
import { SignatureCache } from '../../../src/dnssec/cache.js';
import { Name } from '../../../src/dns/name.js';
import { RRClass, RRType, Rcode } from '../../../src/dns/types.js';
import { parseRdata } from '../../../src/dns/rdata.js';
import { dsRdata, generateKey, keyTag } from '../../../src/dnssec/keys.js';
import { encodeCsync } from '../../../src/dns/csync.js';

const origin = Name.fromText('u.test.');
const ZONE = `zone:
  soa: { mname: ns1.u.test., rname: h.u.test., serial: 7, minimum: 300 }
  nameservers: [ns1.u.test.]
  multi_provider: true
  dnssec:
    enabled: true
    multi_signer: true
records:
  '': { type: NS, value: ns.other.net. }
  ns1: { type: A, value: 192.0.2.53 }
  www: { type: A, value: 192.0.2.1 }
  alias: { type: CNAME, value: www }
`;

let dir: string;
let zonesDir: string;
let stateDir: string;
let m: TandemZoneManager;
const clock = { now: () => Math.floor(Date.now() / 1000) };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-upd-'));
  zonesDir = join(dir, 'zones');
  stateDir = join(dir, 'state');
  await mkdir(zonesDir);
  await writeFile(join(zonesDir, 'u.test.yaml'), ZONE);
  const r = await TandemZoneManager.open({ zonesDir, stateDir, clock, logger: pino({ level: 'silent' }), cache: new SignatureCache({ max: 1000 }) });
  expect(r.errors).toEqual([]);
  m = r.manager;
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const zid = () => m.zoneByName(origin)!.id;
const serial = () => m.version(origin)!.serial;
const zone = () => m.served().zones.get(origin)!;
const rrset = (name: string, type: number) => zone().nodes.get(Name.fromText(name, origin).key)?.rrsets.get(type);
const n = (s: string) => Name.fromText(s, origin);
const add = (name: string, type: keyof typeof RRType, text: string, ttl = 300): UpdateOp =>
  ({ op: 'add', rr: { name: n(name), type: RRType[type], class: RRClass.IN, ttl, rdata: parseRdata(RRType[type], text, origin) } });
const addRdata = (name: string, type: number, rdata: Uint8Array): UpdateOp => ({ op: 'add', rr: { name: n(name), type, class: RRClass.IN, ttl: 300, rdata } });
const delRr = (name: string, type: number, rdata: Uint8Array): UpdateOp => ({ op: 'delete-rr', name: n(name), type, rdata });
const update = (ops: UpdateOp[]) => m.applyUpdate(zid(), ops);
const ok = (r: UpdateResult) => {
  if (!r.ok) throw new Error(`not applied: ${r.reason}`);
  return r;
};
const refused = (r: UpdateResult) => {
  expect(r.ok).toBe(false);
  if (r.ok) throw new Error('applied');
  expect(r.rcode).toBe(Rcode.REFUSED);
  return r.reason;
};
const ownKeys = () => m.dnssec(zid()).keys.filter((k) => k.source === 'own').map((k) => k.dnskey);

describe('RFC 2136 §3.4.2.2: adds', () => {
  it('adds an RR and bumps the serial once; the change is in the zone file', async () => {
    const before = serial();
    const r = ok(await update([add('new', 'A', '192.0.2.9'), add('new', 'A', '192.0.2.10')]));
    expect(r.changes).toEqual(['+new.u.test. A', '+new.u.test. A']);
    expect(rrset('new', RRType.A)!.rdatas).toHaveLength(2);
    expect(serial()).not.toBe(before);
    expect(await readFile(join(zonesDir, 'u.test.yaml'), 'utf8')).toMatch(/192\.0\.2\.10/);
  });

  it('a duplicate RR changes nothing and keeps the serial (no-op update)', async () => {
    const before = serial();
    const text = await readFile(join(zonesDir, 'u.test.yaml'), 'utf8');
    const r = ok(await update([add('www', 'A', '192.0.2.1', 3600)]));
    expect(r.changes).toEqual([]);
    expect(serial()).toBe(before);
    expect(await readFile(join(zonesDir, 'u.test.yaml'), 'utf8')).toBe(text);
  });

  it('a CNAME beside other data is ignored, and other data beside a CNAME', async () => {
    const before = serial();
    const r = ok(await update([add('www', 'CNAME', 'elsewhere.example.'), add('alias', 'TXT', '"x"')]));
    expect(r.changes).toEqual([]);
    expect(r.ignored).toHaveLength(2);
    expect(rrset('www', RRType.CNAME)).toBeUndefined();
    expect(rrset('alias', RRType.TXT)).toBeUndefined();
    expect(serial()).toBe(before);
  });

  it('a CNAME replaces the CNAME at its name', async () => {
    ok(await update([add('alias', 'CNAME', 'elsewhere.example.')]));
    expect(rrset('alias', RRType.CNAME)!.rdatas).toHaveLength(1);
    expect(Name.read(rrset('alias', RRType.CNAME)!.rdatas[0], 0).name.toString()).toBe('elsewhere.example.');
  });

  it('an SOA is taken only when its serial is newer (RFC 1982); the serial policy never goes back', async () => {
    const cur = serial();
    const older = ok(await update([add('@', 'SOA', `ns1.u.test. h.u.test. ${cur} 1 2 3 4`)]));
    expect(older.ignored[0]).toMatch(/not newer/);
    expect(serial()).toBe(cur);
    // Newer than the unixtime policy's next serial: served as given, with the new timers.
    const ahead = (clock.now() + 1_000_000) >>> 0;
    ok(await update([add('@', 'SOA', `ns1.u.test. h.u.test. ${ahead} 1800 900 604800 60`)]));
    expect(serial()).toBe(ahead);
    const soa = Buffer.from(zone().soa.rdatas[0]);
    expect(soa.readUInt32BE(soa.length - 4)).toBe(60);
    expect(soa.readUInt32BE(soa.length - 16)).toBe(1800);
    expect(await readFile(join(zonesDir, 'u.test.yaml'), 'utf8')).toMatch(new RegExp(`serial: ${ahead}`));
  });
});

describe('RFC 2136 §3.4.2.3-4: deletes', () => {
  it('the apex SOA and NS RRsets are never deleted; ANY ANY at the apex leaves them', async () => {
    ok(await update([{ op: 'delete-rrset', name: origin, type: RRType.NS }, { op: 'delete-rrset', name: origin, type: RRType.SOA }]));
    expect(rrset('@', RRType.NS)!.rdatas).toHaveLength(2);
    ok(await update([add('@', 'TXT', '"gone soon"'), { op: 'delete-name', name: origin }]));
    expect(rrset('@', RRType.TXT)).toBeUndefined();
    expect(rrset('@', RRType.NS)!.rdatas).toHaveLength(2);
    expect(zone().soa).toBeDefined();
  });

  it('an RRset and a name are deleted below the apex', async () => {
    ok(await update([add('www', 'TXT', '"t"'), { op: 'delete-rrset', name: n('www'), type: RRType.A }]));
    expect(rrset('www', RRType.A)).toBeUndefined();
    expect(rrset('www', RRType.TXT)).toBeDefined();
    ok(await update([{ op: 'delete-name', name: n('www') }]));
    expect(zone().nodes.get(n('www').key)).toBeUndefined();
  });

  it('one apex NS is deleted; our own nameserver (zone.nameservers) stays', async () => {
    ok(await update([delRr('@', RRType.NS, parseRdata(RRType.NS, 'ns.other.net.', origin)), delRr('@', RRType.NS, parseRdata(RRType.NS, 'NS1.u.test.', origin))]));
    expect(rrset('@', RRType.NS)!.rdatas.map((r) => Name.read(r, 0).name.toString())).toEqual(['ns1.u.test.']);
  });

  it('the SOA is never deleted by a delete of one RR', async () => {
    const r = ok(await update([delRr('@', RRType.SOA, zone().soa.rdatas[0])]));
    expect(r.changes).toEqual([]);
  });
});

describe('keys and the signer\'s records', () => {
  it('a DNSKEY added by UPDATE is held by ddns, served with the DNSKEY TTL, and released by UPDATE', async () => {
    const k = generateKey(256).dnskey;
    ok(await update([addRdata('@', RRType.DNSKEY, k)]));
    expect(rrset('@', RRType.DNSKEY)!.rdatas.some((r) => Buffer.compare(r, k) === 0)).toBe(true);
    const view = m.records(zid()).find((r) => r.type === RRType.DNSKEY)!;
    expect(view.keySources).toEqual(['ddns']);
    expect(view.ttl).toBe(3600);
    ok(await update([delRr('@', RRType.DNSKEY, k)]));
    expect(rrset('@', RRType.DNSKEY)!.rdatas).toHaveLength(2);
  });

  it('a key held by another source gains the ddns claim; a delete by UPDATE removes only that claim', async () => {
    const k = generateKey(256).dnskey;
    await m.createRecord(zid(), { name: origin, type: RRType.DNSKEY, ttl: 3600, rdata: k }, { source: 'cli' });
    ok(await update([addRdata('@', RRType.DNSKEY, k)]));
    expect(m.records(zid()).find((r) => r.type === RRType.DNSKEY)!.keySources).toEqual(['cli', 'ddns']);
    ok(await update([{ op: 'delete-rrset', name: origin, type: RRType.DNSKEY }]));
    expect(m.records(zid()).find((r) => r.type === RRType.DNSKEY)!.keySources).toEqual(['cli']);
    expect(rrset('@', RRType.DNSKEY)!.rdatas).toHaveLength(3);
    // A key UPDATE does not hold is not UPDATE's to delete.
    expect(refused(await update([delRr('@', RRType.DNSKEY, k)]))).toMatch(/held by tandem import-key, not by DNS UPDATE/);
  });

  it('our own keys cannot be deleted (REFUSED), and adding one is a no-op', async () => {
    const [ksk, zsk] = ownKeys();
    expect(refused(await update([delRr('@', RRType.DNSKEY, zsk)]))).toMatch(new RegExp(`delete DNSKEY ${keyTag(zsk)}: our own key`));
    const r = ok(await update([addRdata('@', RRType.DNSKEY, ksk)]));
    expect(r.changes).toEqual([]);
  });

  it('a DNSKEY that fails the multi-signer checks (REVOKE) is refused', async () => {
    const k = generateKey(257).dnskey.slice();
    k[1] |= 0x80; // REVOKE (RFC 5011 §3)
    expect(refused(await update([addRdata('@', RRType.DNSKEY, k)]))).toMatch(/REVOKE/);
  });

  it('RRSIG, NSEC, NSEC3 and NSEC3PARAM are refused', async () => {
    expect(refused(await update([{ op: 'delete-rrset', name: origin, type: RRType.NSEC3PARAM }]))).toMatch(/made by tandem's signer/);
    expect(refused(await update([{ op: 'delete-rrset', name: n('www'), type: RRType.RRSIG }]))).toMatch(/made by tandem's signer/);
  });

  it('another provider\'s CDS and CDNSKEY are published beside ours; the signer\'s cannot be deleted', async () => {
    const theirs = generateKey(257).dnskey;
    const cds = dsRdata(origin, theirs, 2);
    ok(await update([addRdata('@', RRType.CDNSKEY, theirs), addRdata('@', RRType.CDS, cds)]));
    expect(rrset('@', RRType.CDNSKEY)!.rdatas).toHaveLength(2);
    expect(rrset('@', RRType.CDS)!.rdatas).toHaveLength(2);
    // Not in our DNSKEY set: a key of theirs we do not serve.
    expect(rrset('@', RRType.DNSKEY)!.rdatas).toHaveLength(2);
    const ours = rrset('@', RRType.CDS)!.rdatas.find((r) => Buffer.compare(r, cds) !== 0)!;
    expect(refused(await update([delRr('@', RRType.CDS, ours)]))).toMatch(/made by tandem's signer/);
    ok(await update([{ op: 'delete-rrset', name: origin, type: RRType.CDS }, delRr('@', RRType.CDNSKEY, theirs)]));
    expect(rrset('@', RRType.CDS)!.rdatas).toEqual([ours]);
    expect(rrset('@', RRType.CDNSKEY)!.rdatas).toHaveLength(1);
  });

  it('the RFC 8078 delete form is refused as another provider\'s CDS', async () => {
    expect(refused(await update([addRdata('@', RRType.CDS, Uint8Array.of(0, 0, 0, 0, 0))]))).toMatch(/RFC 8078/);
  });
});

describe('CSYNC (RFC 7477)', () => {
  it('RFC 7477 §2.1: is published at the apex, one record: a second add replaces the first', async () => {
    ok(await update([addRdata('@', RRType.CSYNC, encodeCsync({ serial: 1, immediate: true, soaminimum: false, types: [RRType.NS] }))]));
    ok(await update([addRdata('@', RRType.CSYNC, encodeCsync({ serial: 2, immediate: true, soaminimum: true, types: [RRType.NS, RRType.A, RRType.AAAA] }))]));
    expect(rrset('@', RRType.CSYNC)!.rdatas).toHaveLength(1);
    expect(rrset('@', RRType.CSYNC)!.rdatas[0][3]).toBe(2);
  });

  it('not at the apex, or with types a parent does not copy, it is refused', async () => {
    expect(refused(await update([addRdata('www', RRType.CSYNC, encodeCsync({ serial: 1, immediate: true, soaminimum: false, types: [RRType.NS] }))]))).toMatch(/apex/);
    expect(refused(await update([addRdata('@', RRType.CSYNC, encodeCsync({ serial: 1, immediate: true, soaminimum: false, types: [RRType.MX] }))]))).toMatch(/NS, A and AAAA/);
  });
});

describe('RFC 2136 §3.4.2.1: all or nothing', () => {
  it('a message whose second RR is refused changes nothing: file, admin state and serial stay', async () => {
    const file = join(zonesDir, 'u.test.yaml');
    const text = await readFile(file, 'utf8');
    const before = serial();
    const k = generateKey(256).dnskey;
    const r = refused(await update([add('x', 'A', '192.0.2.7'), addRdata('@', RRType.DNSKEY, k), delRr('@', RRType.DNSKEY, ownKeys()[0])]));
    expect(r).toMatch(/our own key/);
    expect(await readFile(file, 'utf8')).toBe(text);
    expect(serial()).toBe(before);
    expect(rrset('x', RRType.A)).toBeUndefined();
    expect(m.records(zid()).some((x) => x.type === RRType.DNSKEY)).toBe(false);
  });

  it('RFC 2136 §3.2: a failed prerequisite is answered with its RCODE and nothing changes', async () => {
    const before = serial();
    const r = await m.applyUpdate(zid(), [add('y', 'A', '192.0.2.8')], { prerequisite: () => ({ rcode: Rcode.NXRRSET, reason: 'no' }) });
    expect(r).toEqual({ ok: false, rcode: Rcode.NXRRSET, reason: 'no' });
    expect(serial()).toBe(before);
  });

  it('the prerequisite sees the zone as served when the change runs', async () => {
    let seen: number | undefined;
    ok(await m.applyUpdate(zid(), [], { prerequisite: (z) => { seen = z.nodes.get(origin.key)!.rrsets.get(RRType.DNSKEY)!.rdatas.length; return undefined; } }));
    expect(seen).toBe(2);
  });
});

describe('a master-file zone (RFC 1035 file)', () => {
  it('an UPDATE lands in the file like an API change; an SOA by UPDATE is left to the file', async () => {
    const mz = Name.fromText('mf.test.');
    const file = join(zonesDir, 'mf.test.zone');
    await writeFile(file, '$TTL 300\n@ IN SOA ns1 hostmaster ( 41 1d 2h 1000h 300 )\n  IN NS ns1\nns1 A 192.0.2.53\n');
    const r = await TandemZoneManager.open({ zonesDir, stateDir, clock, logger: pino({ level: 'silent' }), cache: new SignatureCache({ max: 1000 }) });
    const id = r.manager.zoneByName(mz)!.id;
    const rdata = parseRdata(RRType.A, '192.0.2.80', mz);
    ok(await r.manager.applyUpdate(id, [{ op: 'add', rr: { name: Name.fromText('dyn', mz), type: RRType.A, class: RRClass.IN, ttl: 300, rdata } }]));
    expect(await readFile(file, 'utf8')).toMatch(/^dyn\s.*A\s+192\.0\.2\.80$/m);
    const soa = parseRdata(RRType.SOA, `ns1 hostmaster ${(r.manager.version(mz)!.serial + 1000) >>> 0} 1 1 1 1`, mz);
    const s = ok(await r.manager.applyUpdate(id, [{ op: 'add', rr: { name: mz, type: RRType.SOA, class: RRClass.IN, ttl: 300, rdata: soa } }]));
    expect(s.ignored).toEqual(['+SOA: the SOA of a master-file zone is changed in its file']);
  });
});
