// The zone manager's first read of the zones folder (issue 13): each zone served as soon as it is built,
// smallest file first, SERVFAIL for zones still loading; SIGHUP still swaps every zone at once; the folder's
// problems and a broken file under an API change as messages that name the folder, file and line.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { TandemZoneManager, type ManagerOptions } from '../../../src/state/manager.js';
import { loadZoneFilePacked } from '../../../src/state/offthread.js';
import { ZonesFolderError } from '../../../src/config/masterzone.js';
import { SignatureCache } from '../../../src/dnssec/cache.js';
import { Name } from '../../../src/dns/name.js';
import { AdminError } from '../../../src/state/types.js';
import { bigZone } from '../../helpers/zones.js';

const zoneText = (origin: string, extra = '') => `zone:
  soa: { mname: ns1.${origin}., rname: h.${origin}., serial: 1 }
  nameservers: [ns1.${origin}.]
records:
  ns1: { type: A, value: 192.0.2.53 }
  www: { type: A, value: 192.0.2.1 }
${extra}`;

let dir: string;
let zonesDir: string;
let stateDir: string;
let logs: Record<string, unknown>[];
const clock = { now: () => 1_800_000_000 };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-loading-'));
  zonesDir = join(dir, 'zones');
  stateDir = join(dir, 'state');
  await mkdir(zonesDir);
  logs = [];
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const deps = (): ManagerOptions => ({
  zonesDir, stateDir, clock, cache: new SignatureCache({ max: 1000 }),
  logger: pino({ level: 'info' }, { write: (s: string) => { logs.push(JSON.parse(s)); } }),
});
const names = (ns: Iterable<Name> | undefined) => [...(ns ?? [])].map((n) => n.toString()).sort();

describe('the first load', () => {
  it('serves each zone as soon as it is built, smallest file first; zones not read yet are SERVFAIL (failing), not absent', async () => {
    // a.test is the larger file, so b.test (later by name) goes first.
    await writeFile(join(zonesDir, 'a.test.yaml'), zoneText('a.test', Array.from({ length: 200 }, (_, i) => `  h${i}: { type: A, value: 192.0.2.9 }\n`).join('')));
    await writeFile(join(zonesDir, 'b.test.yaml'), zoneText('b.test'));
    const m = await TandemZoneManager.create(deps());
    expect(m.served().zones.zones()).toEqual([]);
    const seen: { zone: string; served: string[]; failing: string[] }[] = [];
    const errors = await m.loadZones({
      inService: (z) => {
        seen.push({ zone: z.zone, served: names(m.served().zones.zones().map((x) => x.origin)), failing: names(m.served().failing?.values()) });
      },
    });
    expect(errors).toEqual([]);
    expect(seen).toEqual([
      { zone: 'b.test.', served: ['b.test.'], failing: ['a.test.'] },
      { zone: 'a.test.', served: ['a.test.', 'b.test.'], failing: [] },
    ]);
    expect(m.loaded()).toBe(true);
  });

  it('the order is told first (a cluster primary tells its workers), then one callback per zone with its summary', async () => {
    await writeFile(join(zonesDir, 'b.test.yaml'), zoneText('b.test'));
    const m = await TandemZoneManager.create(deps());
    const order: string[][] = [];
    const summaries: unknown[] = [];
    await m.loadZones({ order: (files) => { order.push(files); }, inService: (z) => { summaries.push(z); } });
    expect(order).toEqual([[join(zonesDir, 'b.test.yaml')]]);
    expect(summaries).toEqual([expect.objectContaining({ zone: 'b.test.', file: join(zonesDir, 'b.test.yaml'), records: 3, signed: false, serial: 1 })]);
  });

  it('a file that fails is reported and its zone leaves the SERVFAIL list (REFUSED like any zone not ours)', async () => {
    await writeFile(join(zonesDir, 'bad.test.yaml'), 'zone:\n  soa: { mname: ns1.bad.test. }\nrecords: {}\n');
    await writeFile(join(zonesDir, 'b.test.yaml'), zoneText('b.test'));
    const m = await TandemZoneManager.create(deps());
    const errors = await m.loadZones();
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/^.*bad\.test\.yaml:\d+: /)]);
    expect(m.served().failing?.size).toBe(0);
    expect(m.served().zones.zones().map((z) => z.origin.toString())).toEqual(['b.test.']);
  });

  it('a worker told the files (expect) answers their zones SERVFAIL until each comes, and forgets the rest once told the load ended', async () => {
    const a = join(zonesDir, 'a.test.yaml');
    await writeFile(a, zoneText('a.test'));
    const m = await TandemZoneManager.create({ ...deps(), role: 'replica' });
    m.expect([a, join(zonesDir, 'c.test.zone')]);
    expect(names(m.served().failing?.values())).toEqual(['a.test.', 'c.test.']);
    await m.reloadFile(a);
    expect(names(m.served().failing?.values())).toEqual(['c.test.']);
    m.expectNone();
    expect(m.served().failing?.size).toBe(0);
    expect(m.served().zones.zones().map((z) => z.origin.toString())).toEqual(['a.test.']);
  });

  it('a missing zones folder is a ZonesFolderError naming it, not ENOENT ... scandir', async () => {
    const m = await TandemZoneManager.create({ ...deps(), zonesDir: join(dir, 'nope') });
    const err = await m.loadZones().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ZonesFolderError);
    expect((err as Error).message).toBe(`zones folder ${join(dir, 'nope')}: does not exist; create it and put zone files in it (<zone>.yaml or <zone>.zone), or point --zones (config \`zones:\`) at yours`);
  });

  it('an empty zones folder is a warning; so is every file it does not read', async () => {
    await writeFile(join(zonesDir, 'notes.txt'), 'x');
    const m = await TandemZoneManager.create(deps());
    expect(await m.loadZones()).toEqual([]);
    const warns = logs.filter((l) => l.level === 40);
    expect(warns).toEqual([
      expect.objectContaining({ zones: zonesDir, msg: 'no zone files in the zones folder (<zone>.yaml, <zone>.zone): every query is answered REFUSED until zone files are added (then SIGHUP)' }),
      expect.objectContaining({ file: join(zonesDir, 'notes.txt'), msg: expect.stringContaining('not a zone file, not read') }),
    ]);
  });
});

describe('SIGHUP after the first load', () => {
  it('swaps every zone in at once; a folder gone meanwhile is an error and the zones stay', async () => {
    await writeFile(join(zonesDir, 'a.test.yaml'), zoneText('a.test'));
    const { manager: m } = await TandemZoneManager.open(deps());
    const before = m.served();
    await writeFile(join(zonesDir, 'b.test.yaml'), zoneText('b.test'));
    await writeFile(join(zonesDir, 'a.test.yaml'), zoneText('a.test', '  new: { type: A, value: 192.0.2.7 }\n'));
    let swaps = 0;
    let last = m.served();
    const watch = setInterval(() => { if (m.served() !== last) { swaps++; last = m.served(); } }, 0);
    expect(await m.reload()).toEqual([]);
    clearInterval(watch);
    if (m.served() !== last) swaps++;
    expect(swaps).toBe(1); // one new served set, both zones in it
    expect(m.served()).not.toBe(before);
    expect(m.served().zones.zones().map((z) => z.origin.toString()).sort()).toEqual(['a.test.', 'b.test.']);

    await rm(zonesDir, { recursive: true });
    const errs = await m.reload();
    expect(errs).toHaveLength(1);
    expect(errs[0]).toBeInstanceOf(ZonesFolderError);
    expect(m.served().zones.zones()).toHaveLength(2);
  });
});

describe('progress of a large load', () => {
  it('records read, percent of the file and time, from the parser thread, increasing', async () => {
    const file = join(zonesDir, 'big.test.yaml');
    await writeFile(file, bigZone(40_000));
    const seen: { records: number; percent: number; ms: number }[] = [];
    const { loaded, packed } = await loadZoneFilePacked(file, { onProgress: (p) => seen.push(p), progressEveryMs: 1 });
    expect(packed).toBeDefined(); // parsed on a thread: the records as it packed them, for other processes
    expect(loaded.input.origin.toString()).toBe('big.test.');
    expect(seen.length).toBeGreaterThan(2);
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i].records).toBeGreaterThan(seen[i - 1].records);
      expect(seen[i].percent).toBeGreaterThanOrEqual(seen[i - 1].percent);
    }
    expect(seen.at(-1)!.percent).toBeGreaterThan(50);
    expect(seen.at(-1)!.percent).toBeLessThan(100);
  }, 30_000);
});

describe('an API change refused because the file on disk is broken', () => {
  it('names the file and the line of the problem, and writes nothing', async () => {
    const file = join(zonesDir, 'a.test.yaml');
    await writeFile(file, zoneText('a.test'));
    const { manager: m } = await TandemZoneManager.open(deps());
    const id = m.zoneByName(Name.fromText('a.test.'))!.id;
    // Edited by hand since it was loaded: line 7 has an address that is none.
    const broken = zoneText('a.test', '  bad: { type: A, value: 192.0.2.300 }\n');
    await writeFile(file, broken);
    const err = await m.createRecord(id, { name: Name.fromText('mail.a.test.'), type: 1, ttl: 300, rdata: new Uint8Array([192, 0, 2, 25]) }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(AdminError);
    expect((err as AdminError).message).toMatch(new RegExp(`^DNS Validation Error: the zone file on disk does not load, so no change can be written into it: ${file.replace(/[.]/g, '\\.')}:7: bad A: .*; fix the file \\(SIGHUP reloads it\\) and retry$`));
    expect(await readFile(file, 'utf8')).toBe(broken);
  });

  it('a change that itself breaks a rule (CNAME beside A, RFC 1034 §3.6.2) keeps the plain validation message', async () => {
    const file = join(zonesDir, 'a.test.yaml');
    await writeFile(file, zoneText('a.test'));
    const { manager: m } = await TandemZoneManager.open(deps());
    const id = m.zoneByName(Name.fromText('a.test.'))!.id;
    const err = await m.createRecord(id, { name: Name.fromText('www.a.test.'), type: 5, ttl: 300, rdata: Name.fromText('ns1.a.test.').wire() }).then(() => undefined, (e: unknown) => e);
    expect((err as Error).message).toMatch(/^DNS Validation Error: /);
    expect((err as Error).message).not.toContain('on disk');
  });
});
