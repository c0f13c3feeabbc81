// The zone manager with a master-file zone: admin changes land in the master file (only the changed lines,
// serial bumped), in an $INCLUDEd file when the record is there, and settings in <zone>.yaml; the folder's other
// files are logged at warn; zone-defaults reach the zone.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { TandemZoneManager, type ManagerOptions } from '../../../src/state/manager.js';
import { SignatureCache } from '../../../src/dnssec/cache.js';
import { Name } from '../../../src/dns/name.js';
import { RRType } from '../../../src/dns/types.js';
import { parseRdata } from '../../../src/dns/rdata.js';
import { lookup } from '../../../src/zone/lookup.js';

const origin = Name.fromText('m.test.');
const ZONE = `; hand-written, comments stay
$TTL 300
@ IN SOA ns1 hostmaster ( 41 1d 2h 1000h 300 )
  IN NS ns1
ns1 A 192.0.2.53 ; our nameserver
www A 192.0.2.1
$INCLUDE hosts.inc
`;
const HOSTS = 'h1 A 192.0.2.11\nh2 A 192.0.2.12\n';

let dir: string;
let zonesDir: string;
let stateDir: string;
let logs: string[];
const clock = { now: () => Math.floor(Date.now() / 1000) };
const zoneFile = () => join(zonesDir, 'm.test.zone');

async function open(extra: Partial<ManagerOptions> = {}): Promise<TandemZoneManager> {
  const logger = pino({ level: 'warn' }, { write: (s: string) => { logs.push(s); } });
  const { manager, errors } = await TandemZoneManager.open({ zonesDir, stateDir, clock, logger, cache: new SignatureCache({ max: 1000 }), ...extra });
  expect(errors).toEqual([]);
  return manager;
}

const zid = (m: TandemZoneManager) => m.zoneByName(origin)!.id;
const rec = (name: string, type: keyof typeof RRType, text: string, ttl = 300) => ({ name: Name.fromText(name, origin), type: RRType[type], ttl, rdata: parseRdata(RRType[type], text, origin) });
const served = (m: TandemZoneManager) => m.served().zones.get(origin)!;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-mgrm-'));
  zonesDir = join(dir, 'zones');
  stateDir = join(dir, 'state');
  logs = [];
  await mkdir(zonesDir);
  await writeFile(zoneFile(), ZONE);
  await writeFile(join(zonesDir, 'hosts.inc'), HOSTS);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('a master-file zone through the admin API', () => {
  it('a new record is appended, the serial bumped, the rest of the file kept byte for byte', async () => {
    const m = await open();
    await m.createRecord(zid(m), rec('mail', 'A', '192.0.2.25', 600));
    expect(lookup(served(m), Name.fromText('mail.m.test.'), RRType.A).kind).toBe('answer');
    expect(await readFile(zoneFile(), 'utf8')).toBe(ZONE.replace('( 41 ', '( 42 ') + 'mail\t600\tIN\tA\t192.0.2.25\n');
    expect(await readFile(join(zonesDir, 'hosts.inc'), 'utf8')).toBe(HOSTS);
  });

  it('a record from the $INCLUDEd file is changed in that file; ids survive a restart', async () => {
    const m = await open();
    const h1 = m.records(zid(m)).find((r) => r.name.toString() === 'h1.m.test.')!;
    const u = await m.updateRecord(zid(m), h1.id, rec('h1', 'A', '192.0.2.99'));
    expect(await readFile(join(zonesDir, 'hosts.inc'), 'utf8')).toBe('h1\t300\tIN\tA\t192.0.2.99\nh2 A 192.0.2.12\n');
    expect(await readFile(zoneFile(), 'utf8')).toBe(ZONE.replace('( 41 ', '( 42 '));
    const again = await open();
    expect(again.record(zid(again), u.id)?.rdata).toEqual(Uint8Array.of(192, 0, 2, 99));
    await again.deleteRecord(zid(again), u.id);
    expect(await readFile(join(zonesDir, 'hosts.inc'), 'utf8')).toBe('h2 A 192.0.2.12\n');
  });

  it('a change that breaks a zone rule is refused and no file is written', async () => {
    const m = await open();
    await expect(m.createRecord(zid(m), rec('www', 'CNAME', 'ns1.m.test.'))).rejects.toMatchObject({ code: 1004 });
    expect(await readFile(zoneFile(), 'utf8')).toBe(ZONE);
  });

  it('turning DNSSEC on writes <zone>.yaml beside the file (created) and the zone is signed', async () => {
    const m = await open();
    await m.patchDnssec(zid(m), { status: 'active' });
    expect(await readFile(join(zonesDir, 'm.test.yaml'), 'utf8')).toBe('zone:\n  dnssec:\n    enabled: true\n');
    expect(await readFile(zoneFile(), 'utf8')).toBe(ZONE);
    expect(m.served().signing.has(origin.key)).toBe(true);
    const again = await open();
    expect(again.dnssec(zid(again)).status).toBe('pending');
    expect(again.zones()).toHaveLength(1); // the settings file is not a zone of its own
  });

  it('zone-defaults from the server config apply; the settings file beside wins', async () => {
    const m = await open({ zoneDefaults: { dnssec: { enabled: true, denial: 'nsec' } } });
    expect(m.served().signing.has(origin.key)).toBe(true);
    expect(served(m).settings.denial).toBe('nsec');
    await writeFile(join(zonesDir, 'm.test.yaml'), 'zone:\n  dnssec: { denial: nsec3 }\n');
    expect(await m.reload()).toEqual([]);
    expect(served(m).settings.denial).toBe('nsec3');
  });
});

describe('the zones folder', () => {
  it('a file tandem does not read is logged at warn once per load, never skipped silently', async () => {
    await writeFile(join(zonesDir, 'README'), 'hello');
    await writeFile(join(zonesDir, 'm.test.zone.bak'), ZONE);
    const m = await open();
    const warned = () => logs.map((l) => JSON.parse(l) as { level: number; file?: string; msg: string }).filter((l) => l.level === 40).map((l) => l.file!.slice(zonesDir.length + 1));
    // hosts.inc is not warned about: the zone reads it ($INCLUDE).
    expect(warned()).toEqual(['README', 'm.test.zone.bak']);
    logs = [];
    await m.reload();
    expect(warned()).toEqual(['README', 'm.test.zone.bak']);
    expect((await readdir(zonesDir)).sort()).toEqual(['README', 'hosts.inc', 'm.test.zone', 'm.test.zone.bak']);
  });
});
