// Master-file zones as the zones folder loads them: `<zone>.zone` with its settings from `<zone>.yaml` beside it
// or the server config's zone-defaults; the same LoadedZone (records, settings) as the equivalent YAML zone, the
// same record policy, and the folder's other files reported.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ZoneFileError } from '../../../src/config/errors.js';
import { parseMasterZone, zoneDefaultsProblem, zoneFolder, masterOrigin } from '../../../src/config/masterzone.js';
import { buildLoadedZone, parseZoneFile, type LoadedZone } from '../../../src/config/zonefile.js';
import { resolveConfig, ConfigError } from '../../../src/config/server.js';
import { loadZoneFileAsync, parseZoneFileAsync } from '../../../src/state/offthread.js';
import { Name } from '../../../src/dns/name.js';
import { formatRdata } from '../../../src/dns/rdata.js';
import { typeName } from '../../../src/dns/types.js';

const ZONE = `$ORIGIN m.test.
$TTL 300
@ IN SOA ns1 hostmaster ( 7 1d 2h 1000h 300 )
  IN NS ns1
ns1 A 192.0.2.53
www 60 A 192.0.2.1
    AAAA 2001:db8::1
mail MX 10 mx.example.net.
txt TXT "v=spf1 -all"
`;

const YAML = `zone:
  ttl: 300
  soa: { mname: ns1.m.test., rname: hostmaster.m.test., serial: 7, refresh: 1d, retry: 2h, expire: 1000h, minimum: 300, ttl: 300 }
records:
  '': { type: NS, value: ns1.m.test. }
  ns1: { type: A, value: 192.0.2.53 }
  www:
    - { type: A, ttl: 60, value: 192.0.2.1 }
    - { type: AAAA, value: 2001:db8::1 }   # $TTL, not the line before (RFC 2308 §4)
  mail: { type: MX, value: { preference: 10, exchange: mx.example.net. } }
  txt: { type: TXT, value: v=spf1 -all }
`;

let dir: string;
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'tandem-mz-')); });
afterEach(() => rm(dir, { recursive: true, force: true }));

const records = (z: LoadedZone) =>
  z.input.records.map((r) => `${r.name} ${r.ttl} ${typeName(r.type)} ${formatRdata(r.type, r.rdata)}`).sort();

async function load(files: Record<string, string>, main = 'm.test.zone', zoneDefaults?: Record<string, unknown>): Promise<LoadedZone> {
  for (const [f, t] of Object.entries(files)) await writeFile(join(dir, f), t);
  return loadZoneFileAsync(join(dir, main), { zoneDefaults });
}

async function loadError(files: Record<string, string>, zoneDefaults?: Record<string, unknown>): Promise<ZoneFileError> {
  const e = await load(files, 'm.test.zone', zoneDefaults).then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(ZoneFileError);
  return e as ZoneFileError;
}

describe('a master-file zone loads as the equivalent YAML zone does', () => {
  it('same records, same settings, and it builds', async () => {
    const m = await load({ 'm.test.zone': ZONE });
    const y = parseZoneFile(join(dir, 'm.test.yaml'), YAML);
    expect(records(m)).toEqual(records(y));
    expect(m.input.origin.toString()).toBe('m.test.');
    expect(m.input.settings).toEqual(y.input.settings);
    expect(m.config).toEqual(y.config);
    expect(m.defaultTtl).toBe(300); // the file's $TTL
    expect(buildLoadedZone(m).recordCount).toBe(buildLoadedZone(y).recordCount);
  });

  it('without a settings file or defaults: unsigned, apex NS from the file', async () => {
    const m = await load({ 'm.test.zone': ZONE });
    expect(m.config.dnssec.enabled).toBe(false);
    expect(m.input.settings.nameservers).toEqual([]);
  });

  it('the root zone is root.zone', () => {
    expect(masterOrigin('/zones/root.zone').isRoot()).toBe(true);
    expect(masterOrigin('/zones/example.com.zone').toString()).toBe('example.com.');
  });
});

describe('settings: <zone>.yaml beside the file, zone-defaults from the server config', () => {
  it('the settings file\'s zone: section applies (DNSSEC, nameservers, ttl)', async () => {
    const m = await load({ 'm.test.zone': ZONE, 'm.test.yaml': '# settings\nzone:\n  ttl: 120\n  nameservers: [ns1]\n  dnssec: { enabled: true, denial: nsec3 }\n' });
    expect(m.config.dnssec).toMatchObject({ enabled: true, denial: 'nsec3' });
    expect(m.input.settings.nameservers.map(String)).toEqual(['ns1.m.test.']);
    expect(m.defaultTtl).toBe(120);
    expect(m.input.settings.nsTtl).toBe(120);
  });

  it('zone-defaults fill what the settings file leaves out, key by key (the file wins)', async () => {
    const defaults = { dnssec: { enabled: true, denial: 'nsec', multi_signer: true }, ns_ttl: 86400 };
    const m = await load({ 'm.test.zone': ZONE, 'm.test.yaml': 'zone:\n  dnssec: { denial: nsec3 }\n' }, 'm.test.zone', defaults);
    expect(m.config.dnssec).toMatchObject({ enabled: true, denial: 'nsec3', multiSigner: true });
    expect(m.input.settings.nsTtl).toBe(86400);
    const d = await load({}, 'm.test.zone', { dnssec: { enabled: true } });
    expect(d.config.dnssec.enabled).toBe(true);
  });

  it('soa and records do not belong in the settings file; an origin must be the zone\'s', async () => {
    let e = await loadError({ 'm.test.zone': ZONE, 'm.test.yaml': 'zone:\n  soa: { mname: a., rname: b. }\n' });
    expect(e).toMatchObject({ file: join(dir, 'm.test.yaml'), line: 2 });
    expect(e.reason).toMatch(/SOA comes from the master file/);
    e = await loadError({ 'm.test.zone': ZONE, 'm.test.yaml': 'zone: {}\nrecords:\n  www: { type: A, value: 192.0.2.1 }\n' });
    expect(e).toMatchObject({ line: 2 });
    expect(e.reason).toMatch(/records belong in the master file/);
    e = await loadError({ 'm.test.zone': ZONE, 'm.test.yaml': 'zone:\n  origin: other.test.\n' });
    expect(e.reason).toMatch(/zone.origin must be m.test./);
    await rm(join(dir, 'm.test.yaml'));
    expect((await load({ 'm.test.yaml': 'zone:\n  origin: m.test\n' })).input.origin.toString()).toBe('m.test.');
  });

  it('a bad setting is reported at its line in the settings file', async () => {
    const e = await loadError({ 'm.test.zone': ZONE, 'm.test.yaml': 'zone:\n  dnssec:\n    denial: nsec5\n' });
    expect(e).toMatchObject({ file: join(dir, 'm.test.yaml'), line: 3 });
  });

  it('zone-defaults are checked when the server config is read', async () => {
    expect(zoneDefaultsProblem({ dnssec: { enabled: true } })).toBeUndefined();
    expect(zoneDefaultsProblem({ soa: {} })).toMatch(/not a default/);
    expect(zoneDefaultsProblem({ dnsec: {} })).toMatch(/unknown key "dnsec"/);
    expect(zoneDefaultsProblem({ dnssec: { denial: 'nsec5' } })).toMatch(/zone-defaults.dnssec.denial/);
    expect(zoneDefaultsProblem([1])).toMatch(/mapping/);
    await writeFile(join(dir, 'c.yaml'), 'zone-defaults:\n  dnssec: { enabled: true }\n');
    expect((await resolveConfig({}, join(dir, 'c.yaml'))).zoneDefaults).toEqual({ dnssec: { enabled: true } });
    await writeFile(join(dir, 'c.yaml'), 'zone-defaults:\n  ttl: forever\n');
    await expect(resolveConfig({}, join(dir, 'c.yaml'))).rejects.toThrow(ConfigError);
  });
});

describe('the record policy is the YAML zones\'', () => {
  it('RFC 4035 §2: RRSIG, NSEC, NSEC3, NSEC3PARAM are refused, with a way to strip them', async () => {
    const e = await loadError({ 'm.test.zone': `${ZONE}@ NSEC3PARAM 1 0 0 -\n` });
    expect(e).toMatchObject({ line: 10, owner: '@', type: 'NSEC3PARAM' });
    expect(e.reason).toMatch(/made by the signer.*ldns-read-zone -s/);
  });

  it('RFC 8901 §2: DNSKEY only with dnssec.multi_signer', async () => {
    const key = '@ DNSKEY 256 3 13 GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==\n';
    expect((await loadError({ 'm.test.zone': ZONE + key })).reason).toMatch(/multi_signer/);
    const m = await load({ 'm.test.yaml': 'zone:\n  dnssec: { multi_signer: true }\n' });
    expect(m.input.records.some((r) => typeName(r.type) === 'DNSKEY')).toBe(true);
  });

  it('RFC 1035 §5.2: exactly one SOA, at the apex', async () => {
    expect((await loadError({ 'm.test.zone': `${ZONE}www SOA a b 1 2 3 4 5\n` })).reason).toMatch(/belongs at the zone's apex/);
    const two = await loadError({ 'm.test.zone': `${ZONE}@ SOA a b 1 2 3 4 5\n` });
    expect(two).toMatchObject({ line: 10 });
    expect(two.reason).toMatch(/a second SOA \(the first is at .*m\.test\.zone:3\)/);
    expect((await loadError({ 'm.test.zone': '$TTL 60\n@ NS ns1\n' })).reason).toMatch(/no SOA record for m\.test\./);
  });

  it('RFC 6895 §3.1: meta types are refused', async () => {
    expect((await loadError({ 'm.test.zone': `${ZONE}x AXFR \\# 0\n` })).reason).toMatch(/meta type/);
  });

  it('a zone rule broken by an $INCLUDEd record is reported in that file at its line', async () => {
    await writeFile(join(dir, 'inc.zone'), '\nwww CNAME elsewhere.example.\n');
    const m = await load({ 'm.test.zone': ZONE.replace('www 60 A 192.0.2.1\n    AAAA 2001:db8::1\n', '$INCLUDE inc.zone\nwww 60 A 192.0.2.1\n') }, 'm.test.zone');
    expect(() => buildLoadedZone(m)).toThrow(ZoneFileError);
    try { buildLoadedZone(m); } catch (e) {
      expect(e).toMatchObject({ file: join(dir, 'inc.zone'), line: 2, owner: 'www' });
    }
  });
});

describe('large files take the parser thread, with the same result', () => {
  it('parseZoneFileAsync on a thread = parseMasterZone in place (records, settings, locations)', async () => {
    await writeFile(join(dir, 'm.test.yaml'), 'zone:\n  dnssec: { enabled: true }\n');
    await writeFile(join(dir, 'inc.zone'), 'deep 60 A 192.0.2.7\n');
    const text = `${ZONE}$INCLUDE inc.zone\n`;
    const file = join(dir, 'm.test.zone');
    const here = parseMasterZone(file, text, { zoneDefaults: { ns_ttl: 99 } });
    const off = await parseZoneFileAsync(file, text, { offThreadFromBytes: 0, zoneDefaults: { ns_ttl: 99 } });
    expect(records(off)).toEqual(records(here));
    expect(off.config).toEqual(here.config);
    expect(off.input.settings).toEqual(here.input.settings);
    expect(off.locations.files).toEqual(here.locations.files);
    expect(off.input.settings.nsTtl).toBe(99);
  });
});

describe('the zones folder', () => {
  it('reads .zone, .yaml and .yml; a .yaml beside a .zone is its settings; everything else is reported', async () => {
    for (const f of ['a.test.zone', 'a.test.yaml', 'b.test.yaml', 'c.test.yml', 'README', 'b.test.yaml.bak', 'notes.txt', '.hidden']) await writeFile(join(dir, f), '');
    await mkdir(join(dir, 'sub'));
    const f = await zoneFolder(dir);
    expect(f.files.map((x) => x.slice(dir.length + 1))).toEqual(['a.test.zone', 'b.test.yaml', 'c.test.yml']);
    expect(f.ignored.map((x) => x.file.slice(dir.length + 1))).toEqual(['README', 'b.test.yaml.bak', 'notes.txt', 'sub']);
    expect(f.ignored[0].reason).toMatch(/not a zone file/);
    expect(f.ignored[3].reason).toMatch(/folder/);
  });

  it('a settings file whose .zone is missing is not a zone: the error says where the master file should be', async () => {
    await writeFile(join(dir, 'lone.test.yaml'), 'zone:\n  dnssec: { enabled: true }\n');
    const e = await loadZoneFileAsync(join(dir, 'lone.test.yaml')).catch((x: unknown) => x);
    expect((e as ZoneFileError).reason).toMatch(/missing SOA.*settings file of a master-file zone, put <zone>\.zone beside it/);
  });

  it('the settings file is not read as a zone of its own', async () => {
    await writeFile(join(dir, 'm.test.zone'), ZONE);
    await writeFile(join(dir, 'm.test.yaml'), 'zone:\n  dnssec: { enabled: true }\n');
    expect((await zoneFolder(dir)).files).toEqual([join(dir, 'm.test.zone')]);
    expect(await readFile(join(dir, 'm.test.yaml'), 'utf8')).toContain('dnssec'); // untouched
    expect(Name.fromText('m.test.').equals((await loadZoneFileAsync(join(dir, 'm.test.zone'))).input.origin)).toBe(true);
  });
});
