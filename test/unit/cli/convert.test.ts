// `tandem convert`: a master file becomes tandem's YAML zone file, and the YAML loads and serves the same records
// (compared as record sets after both are loaded and built).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertMasterFile } from '../../../src/cli/convert.js';
import { parseMasterZone } from '../../../src/config/masterzone.js';
import { buildLoadedZone, parseZoneFile, type LoadedZone } from '../../../src/config/zonefile.js';
import { Name } from '../../../src/dns/name.js';
import { formatRdata } from '../../../src/dns/rdata.js';
import { typeName } from '../../../src/dns/types.js';
import { tandem } from '../../helpers/cli.js';

const origin = Name.fromText('c.test.');
const long = 'v=DKIM1; k=rsa; p=' + 'A'.repeat(300);
const ZONE = `$ORIGIN c.test.
$TTL 3600
@ 3600 IN SOA ns1 hostmaster\\.name ( 2024 7200 900 1209600 300 )
  NS ns1
  NS ns2.other.net.
  MX 10 mail
  TXT "v=spf1 include:_spf.example.net -all"
  CAA 0 issue "letsencrypt.org"
ns1 300 A 192.0.2.53
    AAAA 2001:db8::53
mail A 192.0.2.25
www CNAME @
*.wild TXT "wild; card" "two strings" "\\"quoted\\""
dkim._domainkey TXT "${long.slice(0, 255)}" "${long.slice(255)}"
_sip._tcp SRV 0 5 5060 sip
sip A 192.0.2.60
svc HTTPS 1 . alpn=h2,h3 port=8443
naptr NAPTR 100 10 "S" "SIP+D2U" "" _sip._udp
sub NS ns.sub
  DS 55648 13 2 B4C8C1FE2E7477127B27115656AD6256F424625BF5C1E2770CE6D6E37DF61D17
ns.sub A 192.0.2.99
odd\\032name A 192.0.2.7
un 60 TYPE65400 \\# 3 ABCDEF
yes TXT "no"
num 60 TXT 1234
sshfp SSHFP 4 2 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6
`;

const records = (z: LoadedZone) => {
  const built = buildLoadedZone(z);
  const out: string[] = [];
  for (const node of built.nodes.values()) for (const t of node.rrsets.keys()) {
    const set = node.rrsets.get(t)!;
    for (const r of set.rdatas) out.push(`${set.name} ${set.ttl} ${typeName(set.type)} ${formatRdata(set.type, r)}`);
  }
  return out.sort();
};

describe('convertMasterFile', () => {
  it('the converted YAML loads in tandem and serves the same record sets as the master file', () => {
    const master = parseMasterZone('/z/c.test.zone', ZONE, { readText: () => { throw Object.assign(new Error('none'), { code: 'ENOENT' }); } });
    const { yaml, notes } = convertMasterFile('/z/c.test.zone', ZONE, origin);
    const converted = parseZoneFile('/z/c.test.yaml', yaml);
    expect(records(converted)).toEqual(records(master));
    expect(records(master).length).toBe(24);
    expect(converted.defaultTtl).toBe(3600);
    expect(notes).toEqual([]);
    expect(yaml.split('\n').slice(0, 6)).toEqual(['zone:', '  origin: c.test.', '  ttl: 3600', '  soa:', '    mname: ns1.c.test.', '    rname: hostmaster\\.name.c.test.']);
  });

  it('DNSSEC records the signer makes are left out with a note; DNSKEY too unless multi_signer', () => {
    const signed = `${ZONE}@ 300 DNSKEY 257 3 13 GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==\n` +
      '@ 300 NSEC ns1.c.test. NS SOA RRSIG NSEC DNSKEY\n@ 300 NSEC3PARAM 1 0 0 -\n';
    const { yaml, notes } = convertMasterFile('/z/c.test.zone', signed, origin);
    expect(notes.map((n) => n.split(':')[0])).toEqual(['left out 1 DNSKEY', 'left out 1 NSEC', 'left out 1 NSEC3PARAM']);
    expect(yaml).not.toMatch(/DNSKEY|NSEC/);
    const multi = convertMasterFile('/z/c.test.zone', signed, origin, 'zone:\n  # from the settings file\n  dnssec: { multi_signer: true }\n');
    expect(multi.yaml).toContain('# from the settings file');
    expect(multi.yaml).toContain('type: DNSKEY');
    expect(() => buildLoadedZone(parseZoneFile('/z/c.test.yaml', multi.yaml))).not.toThrow();
  });

  it('records of one RRset with different TTLs get the lowest, with a note (RFC 2181 §5.2)', () => {
    const { yaml, notes } = convertMasterFile('/z/c.test.zone', `${ZONE}multi 60 A 192.0.2.1\nmulti 120 A 192.0.2.2\n`, origin);
    expect(notes).toEqual(['multi A: the records have different TTLs; the RRset gets 60 (RFC 2181 §5.2)']);
    expect(yaml).toMatch(/ {2}multi:\n {4}- type: A\n {6}ttl: 60\n {6}values:\n/);
  });
});

describe('tandem convert (the command)', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'tandem-conv-')); });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes --out; the zone name comes from <zone>.zone or --origin', async () => {
    await writeFile(join(dir, 'c.test.zone'), ZONE);
    const r = await tandem(['convert', join(dir, 'c.test.zone'), '--out', join(dir, 'out.yaml')]);
    expect(r.code, r.stderr).toBe(0);
    const y = parseZoneFile(join(dir, 'out.yaml'), await readFile(join(dir, 'out.yaml'), 'utf8'));
    expect(y.input.origin.toString()).toBe('c.test.');
    await writeFile(join(dir, 'db.c'), ZONE);
    expect((await tandem(['convert', join(dir, 'db.c')])).code).toBe(2);
    const s = await tandem(['convert', join(dir, 'db.c'), '--origin', 'c.test']);
    expect(s.code).toBe(0);
    expect(s.stdout).toBe(await readFile(join(dir, 'out.yaml'), 'utf8'));
    const bad = await tandem(['convert', join(dir, 'db.c'), '--origin', 'other.test']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/0 SOA records at other\.test\./);
  });
});
