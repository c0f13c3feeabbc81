// `tandem check` against a real two-provider set-up (RFC 8901 model 2): tandem (compact denial) and Knot
// (NSEC, its CDS/CDNSKEY holding tandem's KSK too: "way 2" of the lab notes). The correct set-up passes; each
// negative control is made for real (Knot's DNSKEY RRset without tandem's ZSK, a DS set without Knot's KSK, a
// stale DS, signatures corrupted in flight, CDS differing, answers without AA) and must be caught with a clear
// message. The checker's verdicts are cross-checked per RRset with dnspython (test/helpers/validate.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig, requireTool } from '../helpers/dig.js';
import { CHECK_ZONE, OTHER_NS, otherZone } from '../helpers/check-zone.js';
import { startKnot, type KnotInstance } from '../helpers/knot.js';
import { api, enableMultiSigner, importKeys } from '../helpers/multisigner.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startTamperProxy } from '../helpers/tamper.js';
import { validateAnswers } from '../helpers/validate.js';
import { Name } from '../../src/dns/name.js';
import { formatRdata } from '../../src/dns/rdata.js';
import { RRType } from '../../src/dns/types.js';
import { dsRdata, generateKey } from '../../src/dnssec/keys.js';
import { parseDsText } from '../../src/lab/anchors.js';
import { runCheck, type Provider } from '../../src/lab/check.js';
import type { CheckReport } from '../../src/lab/report.js';
import { checkCommand } from '../../src/cli/check.js';
import { runCommand, type Io } from '../../src/cli/spec.js';

const ZONE = CHECK_ZONE;
const zone = Name.fromText(ZONE);
const codes = (r: CheckReport, level = 'error') => r.findings.filter((f) => f.level === level).map((f) => f.code);
const find = (r: CheckReport, code: string) => r.findings.filter((f) => f.code === code);
const summary = (r: CheckReport) => r.findings.map((f) => `${f.level} ${f.code}: ${f.message}\n  ${(f.details ?? []).join('\n  ')}`).join('\n');

function capture(): Io & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', env: {}, out: (t: string) => { io.stdout += t; }, err: (t: string) => { io.stderr += t; } };
  return io;
}

describe('tandem check: tandem (compact) and Knot (NSEC) as the two providers', () => {
  let t: TestServer;
  let knot: KnotInstance;
  let dir: string;
  let dsFile: string;
  let ds: { tandem: string; knot: string };
  let foreign: string[];
  let tags: { tandemZsk: number; tandemKsk: number; knotKsk: number };
  let providers: Provider[];
  const check = (extra: Partial<Parameters<typeof runCheck>[0]> = {}) =>
    runCheck({ zone, providers, anchors: parseDsText(`${ds.tandem}\n${ds.knot}\n`, 'ds.txt', zone), now: () => Math.floor(Date.now() / 1000), ...extra });

  beforeAll(async () => {
    for (const [tool, pkg] of [['knotd', 'knot'], ['keymgr', 'knot']]) requireTool(tool, pkg);
    dir = await mkdtemp(join(tmpdir(), 'tandem-check-'));
    [t, knot] = await Promise.all([startTestServer({ zones: 'test/fixtures/check' }), startKnot({ zone: ZONE, zoneText: otherZone(), foreignApexRecords: [] })]);
    const id = await enableMultiSigner(t, OTHER_NS);
    // Knot publishes tandem's keys and tandem's CDS/CDNSKEY beside its own (one RRset each, signed by its KSK).
    const served = async (type: string) => (await dig({ host: t.host, port: t.port }, ['+norec', ZONE, type])).answer.filter((x) => x.type === type).map((x) => `${ZONE} 300 IN ${type} ${x.data}`);
    foreign = [...await served('DNSKEY'), ...await served('CDS'), ...await served('CDNSKEY')];
    expect(foreign.filter((r) => / DNSKEY /.test(r))).toHaveLength(2);
    await knot.setForeignApexRecords(foreign);
    // tandem imports Knot's KSK and ZSK.
    const kk = (await knot.keys()).filter((k) => !k.publicOnly);
    await importKeys(t, id, kk.map((k) => k.dnskey));
    ds = {
      tandem: (await api(t, 'GET', `/zones/${id}/dnssec`)).result.ds as string,
      knot: (await knot.ds()).filter((d) => /\sDS\s+\d+\s+13\s+2\s/.test(d))[0],
    };
    dsFile = join(dir, 'ds.txt');
    await writeFile(dsFile, `; the DS set at the parent\n${ds.tandem}\n${ds.knot}\n`);
    const tagOf = (rr: string) => Number(rr.split(/\s+/)[4]);
    const tandemKeys = foreign.filter((r) => / DNSKEY /.test(r));
    tags = {
      tandemZsk: Number((await dig({ host: t.host, port: t.port }, ['+norec', '+dnssec', ZONE, 'SOA'])).answer.find((x) => x.type === 'RRSIG')!.data.split(' ')[6]),
      tandemKsk: tagOf(ds.tandem),
      knotKsk: tagOf(ds.knot),
    };
    expect(tandemKeys).toHaveLength(2);
    providers = [{ label: 'tandem', server: { host: t.host, port: t.port } }, { label: 'knot', server: { host: knot.host, port: knot.port } }];
  }, 90_000);
  afterAll(async () => {
    await Promise.all([t?.stop(), knot?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the correct set-up passes: no errors, every pinned pair valid, one name of every kind asked (from Knot\'s AXFR)', async () => {
    const r = await check();
    expect(codes(r), summary(r)).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.pairs).toHaveLength(4);
    for (const p of r.pairs) expect(p.failed, `${p.data} with ${p.keys}`).toBe(0);
    const kinds = new Set(r.names.flatMap((n) => n.answers.map((a) => a.kind)));
    for (const k of ['positive', 'cname', 'wildcard', 'nxdomain', 'nodata', 'referral']) expect(kinds, k).toContain(k);
    // Both providers agree on each name, compact denial included.
    for (const n of r.names) expect(n.answers).toHaveLength(2);
    expect(r.providers.map((p) => p.denial)).toEqual(['compact', 'nsec']);
    // Knot serves CDS/CDNSKEY with TTL 0: a TTL mismatch is a warning, not an error.
    expect(find(r, 'ttl-mismatch').map((f) => f.message)).toEqual(['CDS TTLs differ between providers', 'CDNSKEY TTLs differ between providers']);
  });

  it('RFC 9824: compact answers are name errors: NXDOMAIN with CO, NOERROR + NXNAME without; both agree with Knot\'s NXDOMAIN', async () => {
    for (const co of [true, false]) {
      const r = await check({ co });
      expect(codes(r), summary(r)).toEqual([]);
      const nx = r.names.find((n) => n.why.startsWith('NXDOMAIN'))!;
      const tandem = nx.answers.find((a) => a.provider === 'tandem')!;
      expect(tandem).toMatchObject({ kind: 'nxdomain', compact: true, rcode: co ? 'NXDOMAIN' : 'NOERROR' });
      expect(nx.answers.find((a) => a.provider === 'knot')).toMatchObject({ kind: 'nxdomain', compact: false, rcode: 'NXDOMAIN' });
      expect(r.providers[0].compactAnswersOk).toBe(co);
    }
  });

  it('the checker\'s pinned-pair verdicts agree with dnspython\'s per RRset', async () => {
    const r = await check();
    const queries = r.names.map((n) => ({ name: n.name, type: n.type }));
    for (const x of providers) {
      for (const y of providers) {
        const py = await validateAnswers({ zone: ZONE, dnskeyFrom: `${y.server.host}@${y.server.port}`, dataFrom: `${x.server.host}@${x.server.port}`, ds: [ds.tandem, ds.knot], queries });
        expect(py.ok, `dnspython: ${x.label} with ${y.label}`).toBe(true);
        expect(r.pairs.find((p) => p.data === x.label && p.keys === y.label)!.failed).toBe(0);
      }
    }
  });

  it('negative control: Knot\'s DNSKEY RRset without tandem\'s ZSK (RFC 8901 §3) is an error naming the key, and tandem\'s answers fail with Knot\'s keys (dnspython agrees)', async () => {
    const zsk = foreign.find((r) => / DNSKEY 256 /.test(r))!;
    await knot.setForeignApexRecords(foreign.filter((r) => r !== zsk));
    try {
      const r = await check();
      expect(r.ok).toBe(false);
      const missing = find(r, 'zsk-missing');
      expect(missing.map((f) => f.message)).toEqual([expect.stringContaining(`the DNSKEY RRset of knot lacks ZSK ${tags.tandemZsk} that tandem signs with`)]);
      const bad = find(r, 'validation');
      expect(bad.map((f) => f.message)).toEqual([expect.stringMatching(/^answers of tandem do not validate with the DNSKEY RRset of knot/)]);
      expect(bad[0].details!.join('\n')).toContain(`key ${tags.tandemZsk} (algorithm 13) is not in the DNSKEY RRset`);
      expect(r.pairs.find((p) => p.data === 'knot' && p.keys === 'tandem')!.failed).toBe(0);
      const py = await validateAnswers({ zone: ZONE, dnskeyFrom: `${knot.host}@${knot.port}`, dataFrom: `${t.host}@${t.port}`, ds: [ds.tandem, ds.knot], queries: [{ name: `www.${ZONE}`, type: 'A' }] });
      expect(py.ok).toBe(false);
    } finally {
      await knot.setForeignApexRecords(foreign);
    }
  });

  it('negative control: a DS set without Knot\'s KSK is an error naming that KSK; Knot\'s DNSKEY RRset is then untrusted', async () => {
    const r = await runCheck({ zone, providers, anchors: parseDsText(ds.tandem, 'ds.txt', zone), now: () => Math.floor(Date.now() / 1000) });
    expect(r.ok).toBe(false);
    expect(find(r, 'ds-missing').map((f) => f.message)).toEqual([expect.stringContaining(`KSK ${tags.knotKsk} of knot (it signs knot's DNSKEY RRset) has no DS in ds.txt`)]);
    expect(find(r, 'dnskey-untrusted').map((f) => f.provider)).toEqual(['knot']);
  });

  it('negative control: a stale DS (a key no provider publishes) is an error naming it', async () => {
    const old = generateKey(257);
    const stale = `${ZONE} 3600 IN DS ${formatRdata(RRType.DS, dsRdata(zone, old.dnskey, 2))}`;
    const r = await runCheck({ zone, providers, anchors: parseDsText([ds.tandem, ds.knot, stale].join('\n'), 'ds.txt', zone), now: () => Math.floor(Date.now() / 1000) });
    expect(codes(r)).toEqual(['ds-stale']);
    expect(find(r, 'ds-stale')[0].message).toContain(`DS ${old.keyTag} 13 2 in ds.txt matches no key that any provider publishes`);
  });

  it('negative control: signatures corrupted in flight (a tampering proxy in front of Knot) fail every pair with Knot\'s answers', async () => {
    const proxy = await startTamperProxy({ host: knot.host, port: knot.port }, { signatures: 'data' });
    try {
      const r = await runCheck({ zone, providers: [providers[0], { label: 'tampered', server: { host: '127.0.0.1', port: proxy.port } }], anchors: parseDsText(`${ds.tandem}\n${ds.knot}`, 'ds.txt', zone), now: () => Math.floor(Date.now() / 1000) });
      expect(r.ok).toBe(false);
      const bad = find(r, 'validation');
      expect(bad.map((f) => f.message)).toEqual([
        expect.stringMatching(/^answers of tampered do not validate with the DNSKEY RRset of tandem/),
        expect.stringMatching(/^answers of tampered do not validate with its own DNSKEY RRset/),
      ]);
      expect(bad[0].details!.join('\n')).toMatch(/the signature does not verify/);
      expect(r.pairs.filter((p) => p.data === 'tandem').map((p) => p.failed)).toEqual([0, 0]);
    } finally {
      await proxy.close();
    }
  });

  it('negative control: CDS/CDNSKEY differing between providers (Knot without tandem\'s) are errors (RFC 9975, RFC 8901 §8)', async () => {
    await knot.setForeignApexRecords(foreign.filter((r) => / DNSKEY /.test(r)));
    try {
      const r = await check();
      expect(r.ok).toBe(false);
      expect(find(r, 'cds-differs')[0].message).toMatch(/^CDS RRsets differ between providers/);
      expect(find(r, 'cdnskey-differs')[0].message).toMatch(/^CDNSKEY RRsets differ between providers/);
      expect(find(r, 'cds-missing-ksk').map((f) => f.message)).toContain(`the CDS RRset of knot has no record for KSK ${tags.tandemKsk} of tandem: a parent following it would drop that provider's DS (RFC 8901 §8)`);
    } finally {
      await knot.setForeignApexRecords(foreign);
    }
  });

  it('a provider answering without AA is a warning naming it (and the check still passes)', async () => {
    const proxy = await startTamperProxy({ host: knot.host, port: knot.port }, { signatures: 'none', clearAa: true });
    try {
      const r = await runCheck({ zone, providers: [providers[0], { label: 'no-aa', server: { host: '127.0.0.1', port: proxy.port } }], anchors: parseDsText(`${ds.tandem}\n${ds.knot}`, 'ds.txt', zone), now: () => Math.floor(Date.now() / 1000) });
      expect(codes(r), summary(r)).toEqual([]);
      const w = find(r, 'not-authoritative');
      expect(w.map((f) => f.provider)).toEqual(['no-aa']);
      expect(w[0].message).toMatch(/^no-aa answers without AA/);
    } finally {
      await proxy.close();
    }
  });

  it('signatures within --expiry-days of their expiry are warnings', async () => {
    const r = await check({ expiryDays: 30 });
    expect(codes(r), summary(r)).toEqual([]);
    expect(find(r, 'signature-expiring').map((f) => f.provider).sort()).toEqual(['knot', 'tandem']);
  });

  it('--parent: the DS set is asked from the parent\'s server (here a tandem serving test. with the delegation)', async () => {
    const parentDir = join(dir, 'parent');
    await mkdir(parentDir);
    const dsValue = (rr: string) => {
      const [tag, alg, dt, digest] = rr.split(/\s+/).slice(4);
      return `{ key_tag: ${tag}, algorithm: ${alg}, digest_type: ${dt}, digest: ${digest} }`;
    };
    await writeFile(join(parentDir, 'test.yaml'), [
      'zone:',
      '  soa: { mname: ns1.test., rname: hostmaster.test., serial: 1 }',
      '  nameservers: [ns1.test.]',
      'records:',
      '  ns1: { type: A, value: 127.0.0.1 }',
      '  ms:',
      `    - { type: NS, values: [ns1.tandem.ms.test., ${OTHER_NS}.] }`,
      `    - { type: DS, values: [${dsValue(ds.tandem)}, ${dsValue(ds.knot)}] }`,
      '',
    ].join('\n'));
    const parent = await startTestServer({ zones: parentDir });
    try {
      const io = capture();
      const ns = providers.flatMap((p) => ['--ns', `${p.server.host}:${p.server.port}`]);
      expect(await runCommand(checkCommand, [ZONE, ...ns, '--parent', `${parent.host}:${parent.port}`, '--json'], io), io.stdout).toBe(0);
      const report = JSON.parse(io.stdout) as CheckReport;
      expect(report.trust?.source).toBe(`the parent ${parent.host}:${parent.port}`);
      expect(report.trust?.ds).toHaveLength(2);
      // Without Knot's DS at the parent, Knot's KSK is uncovered.
      const served = join(parent.zonesDir, 'test.yaml');
      await writeFile(served, (await readFile(served, 'utf8')).replace(`, ${dsValue(ds.knot)}`, ''));
      expect(await parent.server.reload()).toEqual([]);
      expect((await dig({ host: parent.host, port: parent.port }, ['+norec', 'ms.test.', 'DS'])).answer).toHaveLength(1);
      const r = await runCheck({ zone, providers, parent: { server: { host: parent.host, port: parent.port }, label: 'parent' }, now: () => Math.floor(Date.now() / 1000) });
      expect(find(r, 'ds-missing').map((f) => f.provider)).toEqual(['knot']);
    } finally {
      await parent.stop();
    }
  });

  it('the command: human output and exit 0 for the correct set-up, --json, exit 1 with a stale DS', async () => {
    const ns = providers.flatMap((p) => ['--ns', `${p.server.host}:${p.server.port}`]);
    const io = capture();
    expect(await runCommand(checkCommand, [ZONE, ...ns, '--ds', dsFile], io)).toBe(0);
    expect(io.stdout).toMatch(/^OK: 0 errors, \d+ warnings?$/m);
    expect(io.stdout).toContain(`with 127.0.0.1:${knot.port}: `);
    const json = capture();
    expect(await runCommand(checkCommand, [ZONE, ...ns, '--ds', dsFile, '--json', '--name', `www.${ZONE} AAAA`], json)).toBe(0);
    const report = JSON.parse(json.stdout) as CheckReport;
    expect(report.ok).toBe(true);
    expect(report.names.find((n) => n.name === `www.${ZONE}` && n.type === 'AAAA')!.answers.map((a) => a.kind)).toEqual(['nodata', 'nodata']);
    const staleFile = join(dir, 'stale.txt');
    await writeFile(staleFile, `${ds.tandem}\n${ds.knot}\n${ZONE} 3600 IN DS ${formatRdata(RRType.DS, dsRdata(zone, generateKey(257).dnskey, 2))}\n`);
    const bad = capture();
    expect(await runCommand(checkCommand, [ZONE, ...ns, '--ds', staleFile], bad)).toBe(1);
    expect(bad.stdout).toMatch(/^error: DS \d+ 13 2 in .*stale.txt matches no key that any provider publishes \(stale: remove it\) \[ds-stale\]$/m);
  });
});
