// A full KSK double-DS rollover (RFC 6781 §4.1.2, RFC 7583 Double-DS, RFC 8901 §8) of tandem's KSK in an RFC 8901
// model-2 zone `ro.test.` served by tandem and Knot, below a signed parent `test.` (another tandem) whose DS RRset
// the test edits as a registry would from tandem's CDS. TTLs are 3 seconds. tandem asks the parent for the DS
// (--parent-resolver pointed at it). unbound, trust anchor the parent's DS, is asked every second through both
// providers during the whole rollover (cached and pinned to each ordered pair, test/helpers/rollover.ts): every
// answer must be AD.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig, requireTool } from '../helpers/dig.js';
import { startKnot, type KnotInstance } from '../helpers/knot.js';
import { startUnbound, type UnboundInstance } from '../helpers/unbound.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { api, enableMultiSigner, importKeys, tandemKeyFiles, zoneIdOf } from '../helpers/multisigner.js';
import { waitFor } from '../helpers/procs.js';
import { RO_KNOT_ZONE, RO_TANDEM_ZONE, RO_TTL, RO_ZONE, startAdPoller } from '../helpers/rollover.js';

const ZONE = RO_ZONE;
const TTL = RO_TTL;
const CHILD = RO_TANDEM_ZONE;
const KNOT_ZONE = RO_KNOT_ZONE;

/** The parent zone `test.` delegating ro.test. with these DS RRs (`ro.test. TTL IN DS tag alg type hex`). */
function parentZone(ds: string[]): string {
  const values = ds.map((d) => {
    const [tag, alg, type, ...hex] = d.replace(/^.*\sDS\s+/, '').split(/\s+/);
    return `        - { key_tag: ${tag}, algorithm: ${alg}, digest_type: ${type}, digest: ${hex.join('')} }`;
  });
  return `zone:
  ttl: ${TTL}
  soa: { mname: ns1.test., rname: hostmaster.test., serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: ${TTL}, ttl: ${TTL} }
  nameservers: [ns1.test.]
  ns_ttl: ${TTL}
  dnssec:
    enabled: true
    denial: compact
    dnskey_ttl: ${TTL}
records:
  ns1: { type: A, value: 127.0.0.1 }
  ro:
    - { type: NS, values: [ns1.tandem.ro.test., ns1.knot.ro.test.] }
    - type: DS
      values:
${values.join('\n')}
  ns1.tandem.ro: { type: A, value: 127.0.0.1 }
  ns1.knot.ro: { type: A, value: 127.0.0.1 }
`;
}

const QUERIES: [string, string][] = [[`www.${ZONE}`, 'A'], [`nope.${ZONE}`, 'A'], [ZONE, 'DNSKEY']];

describe('KSK rollover below a parent, Knot as the other provider, unbound validating throughout', () => {
  let parent: TestServer;
  let t: TestServer;
  let knot: KnotInstance;
  let u: UnboundInstance;
  let pinned: UnboundInstance;
  let id: string;
  let knotDs: string[];
  const temp: string[] = [];

  async function setParentDs(ds: string[]): Promise<void> {
    await writeFile(join(parent.zonesDir, 'test.yaml'), parentZone(ds));
    expect(await parent.server.reload()).toEqual([]);
    const tags = (await dig({ host: parent.host, port: parent.port }, ['+norec', ZONE, 'DS'])).answer.filter((r) => r.type === 'DS').map((r) => r.data.split(/\s+/)[0]);
    expect(tags.sort()).toEqual(ds.map((d) => d.replace(/^.*\sDS\s+/, '').split(/\s+/)[0]).sort());
  }

  /** tandem's CDS RRset as `ro.test. 3 IN DS ...` lines (what a registry reading CDS would put at the parent). */
  async function cdsAsDs(): Promise<string[]> {
    const r = await dig({ host: t.host, port: t.port }, ['+norec', ZONE, 'CDS']);
    return r.answer.filter((x) => x.type === 'CDS').map((x) => `${ZONE} ${TTL} IN DS ${x.data}`);
  }

  beforeAll(async () => {
    for (const [tool, pkg] of [['knotd', 'knot'], ['keymgr', 'knot'], ['unbound', 'unbound']]) requireTool(tool, pkg);
    const parentDir = await mkdtemp(join(tmpdir(), 'tandem-rollover-parent-'));
    const childDir = await mkdtemp(join(tmpdir(), 'tandem-rollover-child-'));
    temp.push(parentDir, childDir);
    await writeFile(join(parentDir, 'test.yaml'), parentZone([]));
    await writeFile(join(childDir, 'ro.test.yaml'), CHILD);
    [parent, knot] = await Promise.all([startTestServer({ zones: parentDir }), startKnot({ zone: ZONE, zoneText: KNOT_ZONE })]);
    t = await startTestServer({ zones: childDir, config: { rolloverInterval: 1, parentResolver: { host: parent.host, port: parent.port } } });
    id = await enableMultiSigner(t, 'ns1.knot.ro.test', ZONE);
    knotDs = (await knot.ds()).filter((d) => /\sDS\s+\d+\s+13\s+2\s/.test(d)).map((d) => d.replace(/\s3600\s/, ` ${TTL} `));
    for (const keyFile of await tandemKeyFiles(t, ZONE)) await knot.importPublicKey(keyFile);
    await importKeys(t, id, (await knot.keys()).filter((k) => !k.publicOnly).map((k) => k.dnskey), ZONE);
    // The parent delegates securely: the DS of tandem's KSK and of Knot's.
    const tandemDs = ((await api(t, 'GET', `/zones/${id}/dnssec`)).result.ds as string).replace(/\s\d+\sIN\s/, ` ${TTL} IN `);
    await setParentDs([tandemDs, ...knotDs]);
    const parentId = await zoneIdOf(parent, 'test.');
    const anchor = (await api(parent, 'GET', `/zones/${parentId}/dnssec`)).result.ds as string;
    const resolver = () => startUnbound({
      trustAnchors: [anchor],
      stubs: [{ zone: 'test.', addrs: [`${parent.host}@${parent.port}`] }, { zone: ZONE, addrs: [`${t.host}@${t.port}`, `${knot.host}@${knot.port}`] }],
    });
    [u, pinned] = await Promise.all([resolver(), resolver()]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([u?.stop(), pinned?.stop()]);
    await Promise.all([t?.stop(), parent?.stop(), knot?.stop()]);
    for (const d of temp) await rm(d, { recursive: true, force: true });
  });

  it('RFC 6781 §4.1.2 / RFC 7583 Double-DS: every answer stays AD from before the start until the old DS is gone', async () => {
    for (const [name, type] of QUERIES) expect((await u.query(name, type)).flags, `${name} ${type} before the rollover`).toContain('ad');
    const tandemAt = { host: t.host, port: t.port }, knotAt = { host: knot.host, port: knot.port };
    const poller = startAdPoller({
      zone: ZONE, cached: u, pinned, queries: QUERIES,
      pairs: [{ keys: knotAt, data: tandemAt, what: "Knot's DNSKEY, tandem's data" }, { keys: tandemAt, data: knotAt, what: "tandem's DNSKEY, Knot's data" }],
    });
    let result: { answers: number; failures: string[] } | undefined;
    const began = Date.now();
    try {
      const status = async () => (await api(t, 'GET', `/zones/${id}/tandem/rollover`)).result;
      const start = await api(t, 'POST', `/zones/${id}/tandem/rollover`, { kind: 'ksk' });
      expect(start.success, JSON.stringify(start.errors)).toBe(true);
      const { old_key_tag: oldTag, new_key_tag: newTag } = start.result as { old_key_tag: number; new_key_tag: number };
      // Our CDS lists both KSKs now (RFC 7344 §4); the parent has only the old DS, so nothing switches.
      const cds = await cdsAsDs();
      expect(cds.map((d) => Number(d.split(/\s+/)[4])).sort()).toEqual([oldTag, newTag, Number(knotDs[0].split(/\s+/)[4])].sort());
      await new Promise((res) => setTimeout(res, 3 * TTL * 1000));
      expect((await status()).step).toBe('publish');
      const dnskeySigners = async () => (await dig(tandemAt, ['+dnssec', '+norec', ZONE, 'DNSKEY'])).answer.filter((r) => r.type === 'RRSIG').map((r) => Number(r.data.split(/\s+/)[6]));
      expect(await dnskeySigners()).toEqual([oldTag]);

      // The registry reads the CDS RRset and publishes the DS set it asks for.
      await setParentDs(cds);
      await waitFor(async () => (await status()).step === 'retire' || undefined, 30_000, { what: 'the switch to the new KSK', intervalMs: 300 });
      expect(await dnskeySigners()).toEqual([newTag]);
      await waitFor(async () => (await status()).step === 'withdraw' || undefined, 30_000, { what: 'the old KSK removed', intervalMs: 300 });
      const after = await cdsAsDs();
      expect(after.map((d) => Number(d.split(/\s+/)[4]))).not.toContain(oldTag);
      expect((await dig(tandemAt, ['+norec', ZONE, 'DNSKEY'])).answer.some((r) => r.type === 'DNSKEY' && r.data.startsWith('257') && r.data.replace(/\s+/g, '').endsWith((start.result.old_dnskey as string).split(/\s+/).slice(-1)[0]))).toBe(false);
      // The registry follows the CDS again: the old DS goes; tandem sees it gone.
      await setParentDs(after);
      await waitFor(async () => (await status()).step === 'done' || undefined, 30_000, { what: 'the rollover to finish', intervalMs: 300 });
      await new Promise((res) => setTimeout(res, 2 * TTL * 1000 + 1000));
    } finally {
      result = await poller.stop();
    }
    const { answers, failures } = result;
    expect(failures, failures.slice(0, 10).join('\n')).toEqual([]);
    expect(answers).toBeGreaterThan(10 * 5);
    expect((Date.now() - began) / 1000).toBeLessThan(120);
  }, 180_000);
});
