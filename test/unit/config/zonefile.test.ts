import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildLoadedZone, loadZoneDir, loadZoneFile, parseZoneFile, ZoneFileError } from '../../../src/config/zonefile.js';
import { Name } from '../../../src/dns/name.js';
import { RRType, typeName } from '../../../src/dns/types.js';
import { FILE, HEADER, parseRecords, thrown } from './helpers.js';
import { EXAMPLE_ZONE_FILE } from '../../helpers/zones.js';

const fixtures = join(import.meta.dirname, '../../fixtures/zones');
const exampleFile = EXAMPLE_ZONE_FILE;
const n = (s: string) => Name.fromText(s);

describe('the example zone (test/fixtures/example, a copy of the demo zone)', async () => {
  const loaded = await loadZoneFile(exampleFile);
  const zone = buildLoadedZone(loaded);
  const node = (s: string) => zone.nodes.get(n(s).key);
  const types = (s: string) => [...(node(s)?.rrsets.keys() ?? [])].map(typeName).sort();

  it('loads and builds without warnings, DNSSEC on with compact denial', () => {
    expect(loaded.warnings).toEqual([]);
    expect(zone.origin.toString()).toBe('example.com.');
    expect(loaded.config.dnssec).toEqual({ enabled: true, denial: 'compact', signatureValidity: 14 * 86400, multiSigner: false, dnskeyTtl: 3600, dnskeySet: 'union', allowForeignAlgorithms: false, presigned: false });
    expect(zone.settings.dnssec).toBe(true);
  });

  it('has every record type the server core answers', () => {
    const present = new Set(loaded.input.records.map((r) => typeName(r.type)));
    for (const t of ['SOA', 'A', 'AAAA', 'MX', 'TXT', 'CAA', 'NS', 'CNAME', 'DS', 'SRV', 'NAPTR', 'PTR', 'TLSA', 'SSHFP', 'SVCB', 'HTTPS', 'DNAME', 'TYPE65400']) {
      expect(present, t).toContain(t);
    }
  });

  it('apex: A/AAAA/MX/TXT/CAA/HTTPS and the NS RRset from zone.nameservers with ns_ttl', () => {
    expect(types('example.com.')).toEqual(['A', 'AAAA', 'CAA', 'HTTPS', 'MX', 'NS', 'SOA', 'TXT']);
    expect(zone.apexNs.rdatas.length).toBe(2);
    expect(zone.apexNs.ttl).toBe(86400);
    expect(node('example.com.')!.rrsets.get(RRType.A)!.rdatas.length).toBe(2);
    for (const ns of ['ns1.example.com.', 'ns2.example.com.']) expect(types(ns)).toEqual(['A', 'AAAA']);
  });

  it('a CNAME chain alias -> www2 -> www, and a CNAME out of the zone', () => {
    expect(types('alias.example.com.')).toEqual(['CNAME']);
    expect(types('www2.example.com.')).toEqual(['CNAME']);
    expect(types('www.example.com.')).toEqual(['A', 'AAAA']);
    const ext = node('ext.example.com.')!.rrsets.get(RRType.CNAME)!;
    expect(Name.read(ext.rdatas[0], 0).name.isSubdomainOf(zone.origin)).toBe(false);
  });

  it('a wildcard with A and TXT, and b.deep as an empty non-terminal', () => {
    expect(types('*.wild.example.com.')).toEqual(['A', 'TXT']);
    expect(node('b.deep.example.com.')!.rrsets.size).toBe(0);
    expect(types('a.b.deep.example.com.')).toEqual(['A']);
  });

  it('a secure delegation (NS + DS + glue) and an insecure one (NS only)', () => {
    expect(types('sub.example.com.')).toEqual(['DS', 'NS']);
    expect(types('ns1.sub.example.com.')).toEqual(['A', 'AAAA']);
    expect(types('insecure.example.com.')).toEqual(['NS']);
  });

  it('the big TXT RRset needs more than 512 octets, so +bufsize=512 truncates', () => {
    const big = node('big.example.com.')!.rrsets.get(RRType.TXT)!;
    // Each answer RR: compressed owner (2) + type, class, TTL, RDLENGTH (10) + RDATA; plus header (12).
    const size = 12 + big.rdatas.reduce((sum, rd) => sum + 12 + rd.length, 0);
    expect(size).toBeGreaterThan(512);
    expect(size).toBeLessThan(1232 - 300);
  });

  it('RFC 1035 §3.3.14: the DKIM string over 255 octets is stored as a 255-octet string and the rest', () => {
    const dkim = node('sel1._domainkey.example.com.')!.rrsets.get(RRType.TXT)!;
    expect(dkim.rdatas.length).toBe(1);
    const rd = dkim.rdatas[0];
    expect(rd[0]).toBe(255);
    expect(rd.length).toBe(1 + 255 + 1 + rd[256]);
    expect(new TextDecoder().decode(rd.subarray(1, 20))).toBe('v=DKIM1; k=rsa; p=H');
  });

  it('SRV target, TLSA, SSHFP, SVCB (two values), DNAME and the unknown type are where the comments say', () => {
    expect(types('_sip._tcp.example.com.')).toEqual(['SRV']);
    expect(types('sip.example.com.')).toEqual(['A']);
    expect(types('_443._tcp.www.example.com.')).toEqual(['TLSA']);
    expect(types('ssh.example.com.')).toEqual(['A', 'SSHFP']);
    expect(node('_dns.example.com.')!.rrsets.get(RRType.SVCB)!.rdatas.length).toBe(2);
    expect(types('old.example.com.')).toEqual(['DNAME']);
    expect(Array.from(node('unknown.example.com.')!.rrsets.get(65400)!.rdatas[0])).toEqual([0x0a, 0, 0, 1]);
  });
});

describe('the zone: section', () => {
  it('the origin comes from the file name unless zone.origin is set', () => {
    expect(parseRecords('').input.origin.toString()).toBe('example.org.');
    const z = parseZoneFile('zones/whatever.yaml', 'zone:\n  origin: example.edu\n  soa: { mname: ns1, rname: h }\n');
    expect(z.input.origin.toString()).toBe('example.edu.');
  });

  it('defaults: ttl 3600, ns_ttl = ttl, no DNSSEC, compact denial, 14d validity, RIPE-203 SOA timers', () => {
    const z = parseZoneFile(FILE, 'zone:\n  soa: { mname: ns1, rname: hostmaster }\nrecords:\n  ns1: { type: A, value: 192.0.2.1 }\n');
    expect(z.input.settings).toEqual({ dnssec: false, denial: 'compact', nameservers: [], nsTtl: 3600, multiProvider: false });
    expect(z.config.dnssec).toEqual({ enabled: false, denial: 'compact', signatureValidity: 1209600, multiSigner: false, dnskeyTtl: 3600, dnskeySet: 'union', allowForeignAlgorithms: false, presigned: false });
    expect(z.input.records.find((r) => r.name.toString() === 'ns1.example.org.')!.ttl).toBe(3600);
    const soa = z.input.records[0];
    expect(soa.type).toBe(RRType.SOA);
    const tail = new DataView(soa.rdata.buffer, soa.rdata.byteOffset + soa.rdata.length - 20, 20);
    expect([0, 4, 8, 12, 16].map((o) => tail.getUint32(o))).toEqual([1, 86400, 7200, 3600000, 3600]);
  });

  it('RFC 1982: without a serial the SOA serial is the file mtime in seconds', () => {
    const z = parseZoneFile(FILE, HEADER.replace(', serial: 7', ''), { mtime: new Date(1_700_000_000_500) });
    const soa = z.input.records[0].rdata;
    expect(new DataView(soa.buffer, soa.byteOffset + soa.length - 20).getUint32(0)).toBe(1_700_000_000);
  });

  it('settings map to ZoneSettings; durations work for TTLs and timers', () => {
    const z = parseZoneFile(FILE, `zone:
  ttl: 1h
  soa: { mname: ns1.example.org., rname: hostmaster@example.org, expire: 2w, minimum: 5m }
  nameservers: [ns1, ns2.example.net.]
  ns_ttl: 1d
  multi_provider: true
  dnssec: { enabled: true, denial: nsec3, signature_validity: 1w12h, multi_signer: true }
records:
  x: { type: A, value: 192.0.2.1, ttl: 90s }
`);
    expect(z.input.settings.nameservers.map(String)).toEqual(['ns1.example.org.', 'ns2.example.net.']);
    expect(z.input.settings.nsTtl).toBe(86400);
    expect(z.input.settings.multiProvider).toBe(true);
    expect(z.config.dnssec).toEqual({ enabled: true, denial: 'nsec3', signatureValidity: 7 * 86400 + 12 * 3600, multiSigner: true, dnskeyTtl: 3600, dnskeySet: 'union', allowForeignAlgorithms: false, presigned: false });
    expect(z.input.records[1].ttl).toBe(90);
    expect(z.input.records[0].ttl).toBe(3600);
  });

  it('RFC 1035 §8: an rname written as an address keeps the dots of the local part inside the first label', () => {
    const z = parseZoneFile(FILE, 'zone:\n  soa: { mname: ns1, rname: host.master@example.org }\n');
    const rname = Name.read(z.input.records[0].rdata, Name.read(z.input.records[0].rdata, 0).next).name;
    expect(rname.labels.length).toBe(3);
    expect(rname.toString()).toBe('host\\.master.example.org.');
  });

  it('an unknown key in zone: is an error with its line (catches typos)', () => {
    const e = thrown(() => parseZoneFile(FILE, 'zone:\n  soa: { mname: a, rname: b }\n  nameserver: [ns1]\n')) as ZoneFileError;
    expect(e).toBeInstanceOf(ZoneFileError);
    expect(e.message).toBe('zones/example.org.yaml:3: unknown key "nameserver" in zone (allowed: origin, ttl, soa, nameservers, ns_ttl, multi_provider, dnssec, serial_policy, transfer, secondary, update, sync)');
    expect(thrown(() => parseZoneFile(FILE, 'zone:\n  soa: { mname: a, rname: b, serail: 1 }\n')).message).toMatch(/:2: unknown key "serail" in zone\.soa/);
  });

  it('a bad duration is an error with its line', () => {
    const e = thrown(() => parseZoneFile(FILE, `${HEADER}  dnssec:\n    signature_validity: 14x\n`));
    expect(e.message).toBe('zones/example.org.yaml:5: zone.dnssec.signature_validity "14x" is not a duration (seconds, or like 30s, 15m, 12h, 14d, 2w)');
    expect(thrown(() => parseZoneFile(FILE, `${HEADER}  dnssec: { signature_validity: 10m }\n`)).message).toMatch(/outside 1h\.\.366d/);
    expect(thrown(() => parseZoneFile(FILE, `${HEADER}  dnssec: { denial: nsec5 }\n`)).message).toMatch(/"nsec5" is not one of compact, nsec, nsec3, nsec3-chain, nsec-chain/);
  });

  it('RFC 5155 §6: denial nsec3-chain takes nsec3_opt_out; nsec-chain and the other modes refuse it, with its line', () => {
    const z = parseZoneFile(FILE, `${HEADER}  dnssec: { enabled: true, denial: nsec3-chain, nsec3_opt_out: true }\n`);
    expect(z.config.dnssec).toMatchObject({ denial: 'nsec3-chain', nsec3OptOut: true });
    expect(z.input.settings).toMatchObject({ denial: 'nsec3-chain', nsec3OptOut: true });
    expect(parseZoneFile(FILE, `${HEADER}  dnssec: { enabled: true, denial: nsec-chain }\n`).input.settings.denial).toBe('nsec-chain');
    expect(parseZoneFile(FILE, `${HEADER}  dnssec: { enabled: true, denial: nsec3-chain }\n`).input.settings.nsec3OptOut).toBeUndefined();
    const e = thrown(() => parseZoneFile(FILE, `${HEADER}  dnssec:\n    denial: nsec-chain\n    nsec3_opt_out: true\n`));
    expect(e.message).toBe('zones/example.org.yaml:6: zone.dnssec.nsec3_opt_out applies to denial: nsec3-chain (RFC 5155 §6 Opt-Out spans a precomputed chain), not to denial: nsec-chain');
  });

  it('RFC 2181 §8: a TTL above 2147483647 (or negative) is an error with the record line', () => {
    const e = thrown(() => parseRecords('  x:\n    - { type: A, value: 192.0.2.1, ttl: 2147483648 }\n')) as ZoneFileError;
    expect(e.message).toMatch(/^zones\/example\.org\.yaml:6: x A: ttl "2147483648" is not a TTL: seconds 0\.\.2147483647 .*RFC 2181 §8/);
    expect(parseRecords('  x: { type: A, value: 192.0.2.1, ttl: 2147483647 }\n').input.records[1].ttl).toBe(2147483647);
    expect(thrown(() => parseRecords('  x: { type: A, value: 192.0.2.1, ttl: -1 }\n')).message).toMatch(/ttl "-1" is not a TTL/);
    expect(thrown(() => parseZoneFile(FILE, `${HEADER}  ttl: 1.5\n`)).message).toMatch(/:4: zone\.ttl "1\.5" is not a TTL/);
  });

  it('RFC 1982: a serial beyond 32 bits is an error', () => {
    expect(thrown(() => parseZoneFile(FILE, 'zone:\n  soa: { mname: a, rname: b, serial: 4294967296 }\n')).message).toMatch(/:2: zone\.soa\.serial "4294967296" is not an integer 0\.\.4294967295/);
  });

  it('missing SOA is an error: the SOA comes only from zone.soa', () => {
    expect(thrown(() => parseZoneFile(FILE, 'zone:\n  ttl: 60\nrecords: {}\n')).message).toBe('zones/example.org.yaml:1: missing SOA: add zone.soa with at least mname and rname');
    expect(thrown(() => parseZoneFile(FILE, "'':\n  type: A\n  value: 192.0.2.1\n")).message).toMatch(/^zones\/example\.org\.yaml: missing SOA: add zone\.soa .*plain octoDNS file/);
  });
});

describe('file structure and YAML', () => {
  it('a YAML syntax error is a ZoneFileError with its line', () => {
    const e = thrown(() => parseZoneFile(FILE, `${HEADER}records:\n  www: { type: A, value: [192.0.2.1 }\n`)) as ZoneFileError;
    expect(e).toBeInstanceOf(ZoneFileError);
    expect(e.line).toBe(5);
    expect(e.message).toMatch(/^zones\/example\.org\.yaml:5: YAML syntax error: /);
  });

  it('duplicate keys are YAML errors (two entries for one owner)', () => {
    const e = thrown(() => parseRecords('  www: { type: A, value: 192.0.2.1 }\n  www: { type: AAAA, value: "::1" }\n')) as ZoneFileError;
    expect(e.line).toBe(6);
    expect(e.message).toMatch(/duplicate key "www" \(YAML 1.2/);
  });

  it('one owner written two ways (case, escapes, relative and absolute) is an error, not two entries merged', () => {
    for (const second of ['WWW', "'\\119ww'", 'www.example.org.']) {
      const e = thrown(() => parseRecords(`  www: { type: A, value: 192.0.2.1 }\n  ${second}: { type: AAAA, value: "::1" }\n`)) as ZoneFileError;
      expect(e.line, second).toBe(6);
      expect(e.reason).toMatch(/is the same name as the owner at line 5 .*RFC 4343/);
    }
  });

  it('an empty file and unknown top-level keys beside records: are errors', () => {
    expect(thrown(() => parseZoneFile(FILE, '# nothing\n')).message).toMatch(/empty zone file/);
    expect(thrown(() => parseZoneFile(FILE, `${HEADER}records: {}\nwww: { type: A, value: 192.0.2.1 }\n`)).message).toMatch(/:5: unknown key "www" in the top level \(owner names go under records:\)/);
  });

  it('a plain octoDNS file (owners at the top level) is read as records beside a zone: section', () => {
    const z = parseZoneFile('example.info.yaml', "zone:\n  soa: { mname: ns1, rname: h }\n'':\n  - { type: NS, values: [ns1.example.info.] }\nwww: { type: CNAME, value: example.info. }\n");
    expect(z.input.records.map((r) => `${r.name} ${typeName(r.type)}`)).toEqual(['example.info. SOA', 'example.info. NS', 'www.example.info. CNAME']);
  });

  it('zone: is always the settings section; a record there gets a pointed message', () => {
    expect(thrown(() => parseZoneFile(FILE, 'zone: { type: A, value: 192.0.2.1 }\n')).message).toMatch(/:1: zone: is tandem's settings section; records for the owner "zone" go under records:/);
  });

  it('owner names: "" and @ are the apex; numeric keys keep their text (reverse zones)', () => {
    const z = parseZoneFile('zones/2.0.192.in-addr.arpa.yaml', `zone:\n  soa: { mname: ns1.example.org., rname: h.example.org. }\nrecords:\n  '@': { type: NS, value: ns1.example.org. }\n  010: { type: PTR, value: host.example.org. }\n`);
    expect(z.input.records.map((r) => r.name.toString())).toEqual(['2.0.192.in-addr.arpa.', '2.0.192.in-addr.arpa.', '010.2.0.192.in-addr.arpa.']);
  });
});

describe('buildLoadedZone', () => {
  it('RFC 1034 §3.6.2: CNAME beside A is reported with file, owner line, owner and type', () => {
    const z = parseRecords('  ns1: { type: A, value: 192.0.2.53 }\n  www:\n    - { type: A, value: 192.0.2.1 }\n    - { type: CNAME, value: example.org. }\n');
    const e = thrown(() => buildLoadedZone(z)) as ZoneFileError;
    expect(e).toBeInstanceOf(ZoneFileError);
    expect(e.line).toBe(6);
    expect(e.owner).toBe('www');
    expect(e.type).toBe('CNAME');
    expect(e.message).toMatch(/^zones\/example\.org\.yaml:6: www CNAME: CNAME beside A \(RFC 1034 §3\.6\.2/);
  });

  it('passes apex RRsets through and appends build warnings', () => {
    const z = parseRecords('  x:\n    type: TXT\n    values: [a, b]\n');
    z.input.records.push({ ...z.input.records[1], ttl: 60, rdata: Uint8Array.of(1, 0x63) });
    const origin = z.input.origin;
    const zone = buildLoadedZone(z, [{ name: origin, type: RRType.DNSKEY, class: 1, ttl: 3600, rdatas: [Uint8Array.of(1, 1, 3, 13, 0)] }]);
    expect(zone.nodes.get(origin.key)!.rrsets.has(RRType.DNSKEY)).toBe(true);
    expect(z.warnings.join('\n')).toMatch(/RFC 2181 §5\.2/);
    buildLoadedZone(z);
    expect(z.warnings.filter((w) => w.includes('RFC 2181 §5.2')).length).toBe(1);
  });
});

describe('loading from disk', () => {
  it('a directory with one good and one bad file loads the good one and reports the bad one', async () => {
    const { zones, errors } = await loadZoneDir(join(fixtures, 'dir'));
    expect(zones.map((z) => z.input.origin.toString())).toEqual(['example.net.']);
    expect(errors.length).toBe(1);
    expect(errors[0].file).toBe(join(fixtures, 'dir', 'broken.example.yml'));
    expect(errors[0].line).toBe(6);
    expect(errors[0].message).toMatch(/broken\.example\.yml:6: www A: bad value "192\.0\.2\.300"/);
  });

  it('two files for one origin: the second is reported', async () => {
    const { zones, errors } = await loadZoneDir(join(fixtures, 'duplicate'));
    expect(zones.length).toBe(1);
    expect(errors[0].message).toMatch(/b\.yaml: zone example\.net\. is already loaded from .*a\.yaml/);
  });

  it('a missing directory or file is reported, not thrown', async () => {
    const { zones, errors } = await loadZoneDir(join(fixtures, 'no-such-dir'));
    expect(zones).toEqual([]);
    expect(errors[0].message).toMatch(/cannot read the zone directory/);
    await expect(loadZoneFile(join(fixtures, 'nope.yaml'))).rejects.toThrow(ZoneFileError);
  });

  it('loadZoneFile takes the default serial from the file mtime', async () => {
    const file = join(fixtures, 'example.info.yaml');
    await utimes(file, 1_800_000_000, 1_800_000_000);
    const z = await loadZoneFile(file);
    const soa = z.input.records[0].rdata;
    expect(new DataView(soa.buffer, soa.byteOffset + soa.length - 20).getUint32(0)).toBe(1_800_000_000);
    expect(buildLoadedZone(z).nodes.get(n('www.example.info.').key)!.rrsets.has(RRType.CNAME)).toBe(true);
  });
});

describe('multi-signer settings (issue 4)', () => {
  const base = (dnssec: string) => `zone:\n  soa: { mname: ns1.example.com., rname: h.example.com. }\n  nameservers: [ns1.example.com.]\n  dnssec:\n${dnssec}\nrecords:\n  ns1: { type: A, value: 192.0.2.1 }\n`;
  it('reads dnskey_ttl, dnskey_set, key_tag_range and allow_foreign_algorithms', () => {
    const z = parseZoneFile('zones/example.com.yaml', base('    enabled: true\n    dnskey_ttl: 1h\n    dnskey_set: own-ksk\n    key_tag_range: "0-32767"\n    allow_foreign_algorithms: true'));
    expect(z.config.dnssec).toMatchObject({ dnskeyTtl: 3600, dnskeySet: 'own-ksk', keyTagRange: [0, 32767], allowForeignAlgorithms: true });
  });
  it('refuses a tag range too narrow to find keys in, and an unknown dnskey_set', () => {
    expect(() => parseZoneFile('zones/example.com.yaml', base('    key_tag_range: "10-20"'))).toThrow(/key_tag_range/);
    expect(() => parseZoneFile('zones/example.com.yaml', base('    dnskey_set: all'))).toThrow(/dnskey_set/);
  });
});
