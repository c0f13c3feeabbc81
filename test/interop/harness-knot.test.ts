// Self-test of the interop harness with real tools alone: Knot signs, and three independent validators
// (dnspython, ldns-verify-zone, delv) accept its answers with its DS and reject them with a wrong one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig, requireTool } from '../helpers/dig.js';
import { startKnot, type KnotInstance } from '../helpers/knot.js';
import { runChecked } from '../helpers/procs.js';
import { corruptDs, delvValidated, ldnsVerifyZone, parseDs, reportErrors, validateAnswers } from '../helpers/validate.js';

const ZONE = 'harness.test.';
const ZONE_TEXT = `$TTL 300
@    IN SOA ns1 hostmaster 1 3600 600 86400 300
@    IN NS  ns1
ns1  IN A   127.0.0.1
www  IN A   192.0.2.1
www  IN TXT "hello"
sub  IN NS  ns.sub
ns.sub IN A 192.0.2.53
`;

async function bindKey(zone: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-bindkey-'));
  try {
    await runChecked('dnssec-keygen', ['-q', '-K', dir, '-a', 'ECDSAP256SHA256', '-n', 'ZONE', zone], { timeoutMs: 10_000 });
    const file = (await readdir(dir)).find((f) => f.endsWith('.key'));
    if (!file) throw new Error('dnssec-keygen wrote no .key file');
    return await readFile(join(dir, file), 'utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('harness: Knot 3.2 as provider B, checked by independent validators', () => {
  let knot: KnotInstance;
  let ds: string[];

  beforeAll(async () => {
    for (const [tool, pkg] of [['knotd', 'knot'], ['keymgr', 'knot'], ['delv', 'bind9-dnsutils'], ['ldns-verify-zone', 'ldnsutils'], ['dnssec-keygen', 'bind9-utils']]) requireTool(tool, pkg);
    knot = await startKnot({ zone: ZONE, zoneText: ZONE_TEXT });
    ds = await knot.ds();
  });
  afterAll(async () => {
    await knot?.stop();
  });

  it('Knot starts, signs with its own KSK + ZSK (P-256) and serves the DNSKEY RRset signed by the KSK', async () => {
    const keys = await knot.keys();
    const ksk = keys.filter((k) => k.ksk && !k.publicOnly);
    const zsk = keys.filter((k) => k.zsk && !k.ksk && !k.publicOnly);
    expect(ksk).toHaveLength(1);
    expect(zsk).toHaveLength(1);
    expect(keys.every((k) => k.algorithm === 13)).toBe(true);
    const r = await dig(knot, ['+dnssec', '+norec', '+nosplit', ZONE, 'DNSKEY']);
    expect(r.flags).toContain('aa');
    const served = r.answer.filter((rr) => rr.type === 'DNSKEY').map((rr) => rr.data.split(' ').slice(3).join(''));
    for (const k of [...ksk, ...zsk]) expect(served).toContain(k.publicKey);
    const sigTags = r.answer.filter((rr) => rr.type === 'RRSIG').map((rr) => Number(rr.data.split(' ')[6]));
    expect(sigTags).toContain(ksk[0].tag);
    // RFC 7344 §4: CDS/CDNSKEY published (cds-cdnskey-publish: always).
    const cds = await dig(knot, ['+norec', ZONE, 'CDS']);
    expect(cds.answer.map((rr) => Number(rr.data.split(' ')[0]))).toContain(ksk[0].tag);
    expect(ds.map((d) => parseDs(d).keyTag)).toContain(ksk[0].tag);
  });

  it('RFC 4035 §5: dnspython validates Knot answers (positive, NXDOMAIN, NODATA, referral) with Knot DS', async () => {
    const report = await validateAnswers({
      zone: ZONE, dnskeyFrom: knot, ds,
      queries: [
        { name: `www.${ZONE}`, type: 'A' },
        { name: `nope.${ZONE}`, type: 'A' },
        { name: `www.${ZONE}`, type: 'MX' },
        { name: `host.sub.${ZONE}`, type: 'A' },
      ],
    });
    expect(reportErrors(report)).toEqual([]);
    expect(report.ok).toBe(true);
    const [pos, nx, nodata, referral] = report.results;
    expect(pos.rrsets.find((s) => s.type === 'A')).toMatchObject({ section: 'answer', signed: true, valid: true });
    expect(nx.rcode).toBe('NXDOMAIN');
    expect(nx.rrsets.filter((s) => s.type === 'NSEC' && s.valid).length).toBeGreaterThan(0);
    expect(nodata.rrsets.some((s) => s.type === 'NSEC' && s.name === `www.${ZONE}` && s.valid)).toBe(true);
    // RFC 4035 §2.2: the delegation NS is unsigned and needs no signature; the insecure-delegation NSEC is signed.
    expect(referral.rrsets.find((s) => s.type === 'NS')).toMatchObject({ signed: false, needsSignature: false });
    expect(referral.rrsets.find((s) => s.type === 'NSEC')).toMatchObject({ signed: true, valid: true });
  });

  it('negative control: dnspython rejects the same answers with a wrong DS', async () => {
    const report = await validateAnswers({ zone: ZONE, dnskeyFrom: knot, ds: ds.map(corruptDs), queries: [{ name: `www.${ZONE}`, type: 'A' }] });
    expect(report.ok).toBe(false);
    expect(report.dnskey.valid).toBe(false);
    expect(report.dnskey.trustedTags).toEqual([]);
    expect(report.results[0].rrsets[0]).toMatchObject({ signed: true, valid: false });
  });

  it('negative control: dnspython rejects RRSIGs outside their validity window (RFC 4035 §5.3.1)', async () => {
    const inAYear = Math.floor(Date.now() / 1000) + 365 * 86400;
    const report = await validateAnswers({ zone: ZONE, dnskeyFrom: knot, ds, now: inAYear, queries: [{ name: `www.${ZONE}`, type: 'A' }] });
    expect(report.ok).toBe(false);
  });

  it('delv says "fully validated" for a Knot answer with Knot DS as anchor, and not with a wrong DS', async () => {
    const good = await delvValidated(knot, ds, `www.${ZONE}`, 'A');
    expect(good.validated, good.output).toBe(true);
    expect(good.output).toMatch(/192\.0\.2\.1/);
    const bad = await delvValidated(knot, ds.map(corruptDs), `www.${ZONE}`, 'A');
    expect(bad.validated).toBe(false);
  });

  it('ldns-verify-zone accepts the AXFR of the signed zone with Knot DS, and rejects it with a wrong DS', async () => {
    const zone = await knot.axfr();
    expect(zone).toMatch(/\sRRSIG\s/);
    const good = await ldnsVerifyZone(zone, ds);
    expect(good.ok, good.output).toBe(true);
    const bad = await ldnsVerifyZone(zone, ds.map(corruptDs));
    expect(good.output).toMatch(/Zone is verified and complete/);
    expect(bad.ok, bad.output).toBe(false);
    expect(bad.output).toMatch(/No keys with the keytag/);
  });

  it('importPublicKey: a fresh BIND key shows up in the DNSKEY RRset (public-only), removePublicKey drops it', async () => {
    const keyFile = await bindKey(ZONE);
    const added = await knot.importPublicKey(keyFile);
    expect(added.publicOnly).toBe(true);
    const b64 = keyFile.split('\n').find((l) => /DNSKEY/.test(l) && !l.startsWith(';'))!.split(/\s+/).slice(6).join('');
    const r = await dig(knot, ['+dnssec', '+norec', '+nosplit', ZONE, 'DNSKEY']);
    expect(r.answer.filter((rr) => rr.type === 'DNSKEY').map((rr) => rr.data.split(' ').slice(3).join(''))).toContain(b64);
    // The merged RRset still validates from the DS (signed by Knot's KSK).
    const report = await validateAnswers({ zone: ZONE, dnskeyFrom: knot, ds, queries: [] });
    expect(report.dnskey.tags).toContain(added.tag);
    expect(report.ok).toBe(true);
    await knot.removePublicKey(added.tag);
    const after = await dig(knot, ['+norec', '+nosplit', ZONE, 'DNSKEY']);
    expect(after.answer.map((rr) => rr.data.split(' ').slice(3).join(''))).not.toContain(b64);
  });
});

describe('harness: Knot "way 2" (dnskey-management incremental) keeps foreign DNSKEY/CDS/CDNSKEY', () => {
  let knot: KnotInstance;
  let foreignKey: string;
  beforeAll(async () => {
    foreignKey = (await bindKey(ZONE)).split('\n').find((l) => /DNSKEY/.test(l) && !l.startsWith(';'))!.replace(/^.*?DNSKEY\s+/, '');
    knot = await startKnot({ zone: ZONE, zoneText: ZONE_TEXT, denial: 'nsec3', foreignApexRecords: [] });
  });
  afterAll(async () => {
    await knot?.stop();
  });

  it('RFC 8901 §2.1.2: foreign KSK in DNSKEY and CDNSKEY next to Knot KSK, signed, and removable again', async () => {
    const b64 = foreignKey.split(/\s+/).slice(3).join('');
    const ksk = `${ZONE} 300 IN DNSKEY 257 3 13 ${b64}`;
    const cdnskey = `${ZONE} 0 IN CDNSKEY 257 3 13 ${b64}`;
    const cds = `${ZONE} 0 IN CDS 4242 13 2 ${'ab'.repeat(32)}`;
    await knot.setForeignApexRecords([ksk, cdnskey, cds]);
    const ds = await knot.ds();
    const report = await validateAnswers({
      zone: ZONE, dnskeyFrom: knot, ds,
      queries: [{ name: ZONE, type: 'CDNSKEY' }, { name: ZONE, type: 'CDS' }, { name: `nope.${ZONE}`, type: 'A' }],
    });
    expect(reportErrors(report)).toEqual([]);
    const [cdnskeyAns, cdsAns, nx] = report.results;
    const cdnskeys = cdnskeyAns.rrsets.find((s) => s.type === 'CDNSKEY')!;
    expect(cdnskeys.records.map((r) => r.replace(/\s+/g, ''))).toContain(`257313${b64}`);
    expect(cdnskeys.records.length).toBe(2);
    expect(cdsAns.rrsets.find((s) => s.type === 'CDS')!.records.some((r) => r.startsWith('4242 13 2'))).toBe(true);
    expect(nx.rrsets.some((s) => s.type === 'NSEC3' && s.valid)).toBe(true);
    await knot.setForeignApexRecords([]);
    const after = await dig(knot, ['+norec', '+nosplit', ZONE, 'CDNSKEY']);
    expect(after.answer.map((rr) => rr.data.replace(/\s+/g, ''))).not.toContain(`257313${b64}`);
    expect(after.answer).toHaveLength(1);
  });
});
