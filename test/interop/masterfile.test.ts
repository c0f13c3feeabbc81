// RFC 1035 master files against real tools. BIND (named-compilezone, named-checkzone), ldns (ldns-read-zone) and
// Knot (knotd's own dump) decide what a hand-written file means: tandem's parse of the source must give the same
// records as its parse of each tool's output. dnssec-signzone's signed output parses (NSEC and NSEC3). Then a
// tandem server serving the `.zone` answers dig as one serving the converted YAML does, and delv validates it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMasterFile } from '../../src/config/masterfile.js';
import { convertMasterFile } from '../../src/cli/convert.js';
import { Name } from '../../src/dns/name.js';
import { formatRdata } from '../../src/dns/rdata.js';
import { typeName } from '../../src/dns/types.js';
import { delv, dig, type DigRecord } from '../helpers/dig.js';
import { startKnot } from '../helpers/knot.js';
import { runChecked } from '../helpers/procs.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const ZONE = 's.test';
const origin = Name.fromText(`${ZONE}.`);
const digest = 'B4C8C1FE2E7477127B27115656AD6256F424625BF5C1E2770CE6D6E37DF61D17';

// Written the way people write zones: $TTL changes, blank owners, TTL and class in both orders, parentheses with
// comments, escapes, a wildcard, a delegation with glue and DS, RFC 3597 data, an $INCLUDE with an origin.
const SOURCE = `; s.test, by hand
$TTL 1h
@ IN SOA ns1 hostmaster ( 2024010101 ; serial
      1d 2h 4w ; refresh retry expire
      300 )    ; minimum
  IN NS ns1
  NS ns2.example.net.
  MX 10 mail
  TXT "v=spf1 mx -all"
ns1 300 IN A 192.0.2.53
    IN 300 AAAA 2001:db8::53
mail IN 600 A 192.0.2.25
www CNAME @
txt TXT "hello; world" "a\\"b\\\\c" \\065bc "\\200" ; a comment
*.w TXT "wildcard"
$TTL 120
_sip._tcp SRV 0 5 5060 sip
sip A 192.0.2.60
caa CAA 0 issue "letsencrypt.org"
svc HTTPS 1 . alpn=h2,h3 port=8443
_443._tcp.tlsa TLSA 3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6
unk TYPE65400 \\# 3 ABCDEF
known TXT \\# 6 0568656C6C6F
a\\.b A 192.0.2.7
sub NS ns.sub
    DS 55648 13 2 ${digest}
ns.sub A 192.0.2.99
$INCLUDE hosts.inc h
$ORIGIN deep.s.test.
x 60 A 192.0.2.200
y A 192.0.2.201
`;
const HOSTS = 'h1 A 192.0.2.11\n   A 192.0.2.12\nh2 30 A 192.0.2.13\n';

// RFC 1035 TTL semantics: no $TTL, a record without a TTL takes the previous one.
const PREVIOUS = `@ 3600 IN SOA ns1 hostmaster 1 3600 600 86400 300
  NS ns1
ns1 300 A 192.0.2.53
a A 192.0.2.1
b 60 A 192.0.2.2
c A 192.0.2.3
`;

/** A file's records as sorted `owner ttl TYPE rdata` lines, read by tandem's parser. */
function records(text: string, file = 'x.zone', read: (p: string) => string = () => { throw new Error('no include expected'); }): string[] {
  return parseMasterFile(file, text, { origin, readText: read }).records.map((r) => `${r.name.key} ${r.ttl} ${typeName(r.type)} ${formatRdata(r.type, r.rdata)}`).sort();
}

const DNSSEC = new Set(['RRSIG', 'NSEC', 'NSEC3', 'NSEC3PARAM', 'DNSKEY', 'CDS', 'CDNSKEY']);

let dir: string;
let source: string[];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-mf-interop-'));
  await writeFile(join(dir, `${ZONE}.zone`), SOURCE);
  await writeFile(join(dir, 'hosts.inc'), HOSTS);
  await writeFile(join(dir, 'previous.zone'), PREVIOUS);
  source = records(SOURCE, join(dir, `${ZONE}.zone`), (p) => (p === join(dir, 'hosts.inc') ? HOSTS : ''));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/**
 * named-compilezone's output (BIND resolves $INCLUDE against its working directory: run it in the zone's folder;
 * `-k ignore`: the owner `a\\.b` is fine for DNS, only BIND's host-name policy objects).
 */
async function compile(file: string, style: 'full' | 'relative'): Promise<string> {
  const out = join(dir, `${file}.${style}`);
  await runChecked('named-compilezone', ['-q', '-k', 'ignore', '-s', style, '-o', out, ZONE, file], { cwd: dir });
  return readFile(out, 'utf8');
}

describe('RFC 1035 §5: files written by real tools mean to tandem what they mean to the tool', () => {
  it('the source is what it should be (sanity: 27 records, the include and both TTL rules applied)', () => {
    expect(source).toHaveLength(27);
    expect(source).toContain('h1.h.s.test. 120 A 192.0.2.12');
    expect(source).toContain('ns1.s.test. 300 AAAA 2001:db8::53');
    expect(source).toContain('y.deep.s.test. 120 A 192.0.2.201');
  });

  it('BIND: named-compilezone -s full and -s relative output gives the same records', async () => {
    expect(records(await compile(`${ZONE}.zone`, 'full'))).toEqual(source);
    const relative = await compile(`${ZONE}.zone`, 'relative');
    expect(relative).toMatch(/^\$ORIGIN /m);
    expect(records(relative)).toEqual(source);
  });

  it('BIND: the previous-TTL rule (no $TTL) as named-compilezone applies it', async () => {
    const prev = records(PREVIOUS);
    expect(prev).toContain('a.s.test. 300 A 192.0.2.1');
    expect(prev).toContain('c.s.test. 60 A 192.0.2.3');
    expect(records(await compile('previous.zone', 'full'))).toEqual(prev);
  });

  it('BIND: named-checkzone -D (the canonical dump)', async () => {
    const out = await runChecked('named-checkzone', ['-q', '-k', 'ignore', '-D', '-o', '-', ZONE, `${ZONE}.zone`], { cwd: dir });
    expect(records(out)).toEqual(source);
  });

  it('ldns: ldns-read-zone output, also with types in the RFC 3597 \\# form (-u)', async () => {
    const full = join(dir, `${ZONE}.zone.full`);
    expect(records(await runChecked('ldns-read-zone', [full]))).toEqual(source);
    const unknown = await runChecked('ldns-read-zone', ['-u', 'A', '-u', 'TXT', full]);
    expect(unknown).toMatch(/\tTYPE1\t\\# 4 c0000207\n/); // RFC 3597 §5: TYPEnnn and lower-case hex
    expect(records(unknown)).toEqual(source);
  });

  it('Knot: the zone as knotd dumps it (knotc zone-flush), signed; the data records are the same', async () => {
    const knot = await startKnot({ zone: ZONE, zoneText: await readFile(join(dir, `${ZONE}.zone.full`), 'utf8') });
    try {
      const outdir = join(knot.dir, 'flushed');
      await knot.knotc(['zone-flush', `${ZONE}.`, '+outdir', outdir]);
      const [name] = await readdir(outdir);
      const dumped = records(await readFile(join(outdir, name), 'utf8'));
      expect(dumped.filter((l) => !DNSSEC.has(l.split(' ')[2]))).toEqual(source);
      const types = new Set(dumped.map((l) => l.split(' ')[2]));
      for (const t of ['RRSIG', 'NSEC', 'DNSKEY', 'CDS', 'CDNSKEY']) expect(types.has(t), t).toBe(true);
    } finally {
      await knot.stop();
    }
  });

  it.each([['NSEC', []], ['NSEC3', ['-3', '-']]] as const)('BIND: a zone signed by dnssec-signzone (%s) parses, as named-checkzone reads it', async (_mode, extra) => {
    const kdir = await mkdtemp(join(dir, 'keys-'));
    const ksk = (await runChecked('dnssec-keygen', ['-q', '-K', kdir, '-a', '13', '-L', '3600', '-f', 'KSK', ZONE])).trim();
    const zsk = (await runChecked('dnssec-keygen', ['-q', '-K', kdir, '-a', '13', '-L', '3600', ZONE])).trim();
    const unsigned = join(kdir, 'in.zone');
    await writeFile(unsigned, `${await readFile(join(dir, `${ZONE}.zone.full`), 'utf8')}$INCLUDE ${ksk}.key\n$INCLUDE ${zsk}.key\n`);
    const signedFile = join(kdir, 'signed.zone');
    await runChecked('dnssec-signzone', ['-q', ...extra, '-K', kdir, '-o', ZONE, '-f', signedFile, unsigned], { cwd: kdir, timeoutMs: 30_000 });
    const signed = await readFile(signedFile, 'utf8');
    expect(signed).toMatch(/RRSIG\s+SOA 13 2 3600 \(\n/); // BIND's multi-line form with parentheses and comments
    const ours = records(signed);
    const bind = records(await runChecked('named-checkzone', ['-q', '-k', 'ignore', '-D', '-o', '-', ZONE, signedFile], { cwd: kdir }));
    expect(ours).toEqual(bind);
    expect(ours.filter((l) => !DNSSEC.has(l.split(' ')[2]))).toEqual(source);
    expect(ours.some((l) => l.split(' ')[2] === _mode)).toBe(true);
  }, 60_000);
});

describe('a tandem server serving the .zone answers as one serving the equivalent YAML', () => {
  let fromMaster: TestServer;
  let fromYaml: TestServer;
  const settings = 'zone:\n  dnssec:\n    enabled: true\n    denial: nsec\n';
  beforeAll(async () => {
    const a = join(dir, 'served-master');
    const b = join(dir, 'served-yaml');
    await mkdir(a);
    await mkdir(b);
    await writeFile(join(a, `${ZONE}.zone`), SOURCE);
    await writeFile(join(a, 'hosts.inc'), HOSTS);
    await writeFile(join(a, `${ZONE}.yaml`), settings);
    const { yaml } = convertMasterFile(join(a, `${ZONE}.zone`), SOURCE, origin, settings);
    await writeFile(join(b, `${ZONE}.yaml`), yaml);
    [fromMaster, fromYaml] = await Promise.all([startTestServer({ zones: a }), startTestServer({ zones: b })]);
  });
  afterAll(async () => {
    await Promise.all([fromMaster?.stop(), fromYaml?.stop()]);
  });

  const questions: [string, string][] = [
    [ZONE, 'SOA'], [ZONE, 'NS'], [ZONE, 'MX'], [ZONE, 'TXT'], [`ns1.${ZONE}`, 'AAAA'], [`www.${ZONE}`, 'A'],
    [`txt.${ZONE}`, 'TXT'], [`any.w.${ZONE}`, 'TXT'], [`_sip._tcp.${ZONE}`, 'SRV'], [`caa.${ZONE}`, 'CAA'], [`svc.${ZONE}`, 'HTTPS'],
    [`_443._tcp.tlsa.${ZONE}`, 'TLSA'], [`unk.${ZONE}`, 'TYPE65400'], [`a\\.b.${ZONE}`, 'A'], [`host.sub.${ZONE}`, 'A'],
    [`h1.h.${ZONE}`, 'A'], [`y.deep.${ZONE}`, 'A'], [`nothere.${ZONE}`, 'A'], [`mail.${ZONE}`, 'TXT'],
  ];
  const view = (rrs: DigRecord[]) => rrs.filter((r) => r.type !== 'RRSIG' && r.type !== 'NSEC').map((r) => `${r.name} ${r.ttl} ${r.type} ${r.data}`).sort();

  it('dig: the same status, answer, authority and additional data for every question', async () => {
    let answered = 0;
    for (const [name, type] of questions) {
      const [m, y] = await Promise.all([fromMaster, fromYaml].map((s) => dig({ host: s.host, port: s.port }, ['+norec', name, type])));
      if (m.status === 'NOERROR' && m.answer.length > 0) answered++;
      expect(m.status, `${name} ${type}`).toBe(y.status);
      expect(view(m.answer), `${name} ${type}`).toEqual(view(y.answer));
      expect(view(m.authority), `${name} ${type}`).toEqual(view(y.authority));
      expect(view(m.additional), `${name} ${type}`).toEqual(view(y.additional));
    }
    expect(answered).toBe(questions.length - 3); // all but the referral, the NXDOMAIN and the NODATA
    const www = await dig({ host: fromMaster.host, port: fromMaster.port }, ['+norec', `www.${ZONE}`, 'MX']);
    expect(www.answer.map((r) => r.type)).toEqual(['CNAME', 'MX']);
  });

  it('delv validates answers and a denial from the .zone server (signed by tandem, settings from the file beside)', async () => {
    const z = fromMaster.server.manager.zoneByName(origin)!;
    const ds = fromMaster.server.manager.dnssec(z.id).ds!;
    const [tag, alg, dt, hex] = ds.text.split(/\s+/).slice(4);
    const anchor = join(fromMaster.dir, 'anchor.conf');
    await writeFile(anchor, `trust-anchors { "${ZONE}." static-ds ${tag} ${alg} ${dt} "${hex}"; };\n`);
    const t = { host: fromMaster.host, port: fromMaster.port };
    for (const [name, type] of [[`txt.${ZONE}`, 'TXT'], [`h2.h.${ZONE}`, 'A'], [`unk.${ZONE}`, 'TYPE65400']]) {
      const r = await delv(t, anchor, [`+root=${ZONE}`, name, type]);
      expect(r.validated, r.out).toBe(true);
    }
    const none = await delv(t, anchor, [`+root=${ZONE}`, `nothere.${ZONE}`, 'A']);
    expect(none.out).toMatch(/; negative response, fully validated/);
  });
});
