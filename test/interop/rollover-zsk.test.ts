// A full ZSK pre-publish rollover (RFC 6781 §4.1.1.1, RFC 8901 §6) in an RFC 8901 model-2 zone served by tandem
// and Knot, with TTLs of 3 seconds: unbound, which cached the DNSKEY RRsets with the old keys before the rollover
// started, is asked every second, through both providers, during the whole rollover; every answer must be AD.
// A second unbound is pinned each second to one ordered pair of providers (test/helpers/rollover.ts): an answer
// signed by a key the other provider does not publish yet fails there at once (checked: switching at once fails).
// Knot is the other provider: the test publishes tandem's new ZSK there when `tandem rollover status` asks for it
// (keymgr import-pub), and withdraws the old one once the rollover is done.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
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
const TANDEM_ZONE = RO_TANDEM_ZONE;
const KNOT_ZONE = RO_KNOT_ZONE;
const QUERIES: [string, string][] = [[`www.${ZONE}`, 'A'], [`nope.${ZONE}`, 'A'], [ZONE, 'DNSKEY']];

describe('ZSK rollover with Knot as the other provider, unbound validating throughout', () => {
  let t: TestServer;
  let knot: KnotInstance;
  let u: UnboundInstance;
  let pinned: UnboundInstance;
  let id: string;
  let zonesDir: string;

  beforeAll(async () => {
    for (const [tool, pkg] of [['knotd', 'knot'], ['keymgr', 'knot'], ['unbound', 'unbound']]) requireTool(tool, pkg);
    zonesDir = await mkdtemp(join(tmpdir(), 'tandem-rollover-zones-'));
    await writeFile(join(zonesDir, 'ro.test.yaml'), TANDEM_ZONE);
    [t, knot] = await Promise.all([
      startTestServer({ zones: zonesDir, config: { rolloverInterval: 1 } }),
      startKnot({ zone: ZONE, zoneText: KNOT_ZONE }),
    ]);
    id = await enableMultiSigner(t, 'ns1.knot.ro.test', ZONE);
    const knotDs = (await knot.ds()).filter((d) => /\sDS\s+\d+\s+13\s+2\s/.test(d));
    for (const keyFile of await tandemKeyFiles(t, ZONE)) await knot.importPublicKey(keyFile);
    await importKeys(t, id, (await knot.keys()).filter((k) => !k.publicOnly).map((k) => k.dnskey), ZONE);
    const tandemDs = (await api(t, 'GET', `/zones/${id}/dnssec`)).result.ds as string;
    const resolver = () => startUnbound({
      trustAnchors: [tandemDs, ...knotDs],
      stubs: [{ zone: ZONE, addrs: [`${t.host}@${t.port}`, `${knot.host}@${knot.port}`] }],
    });
    [u, pinned] = await Promise.all([resolver(), resolver()]);
  }, 90_000);
  afterAll(async () => {
    await Promise.all([u?.stop(), pinned?.stop()]);
    await Promise.all([t?.stop(), knot?.stop()]);
    if (zonesDir) await rm(zonesDir, { recursive: true, force: true });
  });

  it('RFC 6781 §4.1.1.1 / RFC 8901 §6: every answer stays AD from before the start until after the old ZSK is gone everywhere', async () => {
    expect(await zoneIdOf(t, ZONE)).toBe(id);
    // The resolver caches both providers' DNSKEY RRsets with the old keys.
    for (const [name, type] of QUERIES) expect((await u.query(name, type)).flags).toContain('ad');

    const tandemAt = { host: t.host, port: t.port }, knotAt = { host: knot.host, port: knot.port };
    const poller = startAdPoller({
      zone: ZONE, cached: u, pinned, queries: QUERIES,
      pairs: [{ keys: knotAt, data: tandemAt, what: "Knot's DNSKEY, tandem's data" }, { keys: tandemAt, data: knotAt, what: "tandem's DNSKEY, Knot's data" }],
    });

    let result: { answers: number; failures: string[] } | undefined;
    const began = Date.now();
    try {
      const start = await api(t, 'POST', `/zones/${id}/tandem/rollover`, { kind: 'zsk', providers: [`${t.host}:${t.port}`, `${knot.host}:${knot.port}`] });
      expect(start.success, JSON.stringify(start.errors)).toBe(true);
      const { old_key_tag: oldTag, new_key_tag: newTag } = start.result as { old_key_tag: number; new_key_tag: number };
      expect(start.result.step).toBe('publish');
      expect(start.result.todo[0]).toContain(`DNSKEY 256 3 13`);

      // Tandem waits: Knot does not publish the new ZSK yet, so tandem must not sign with it.
      await new Promise((res) => setTimeout(res, 3 * TTL * 1000));
      let st = (await api(t, 'GET', `/zones/${id}/tandem/rollover`)).result;
      expect(st.step).toBe('publish');
      expect(st.waiting_for).toContain(`${knot.host}:${knot.port}`);
      const sig = async () => (await dig({ host: t.host, port: t.port }, ['+dnssec', '+norec', `www.${ZONE}`, 'A'])).answer.filter((r) => r.type === 'RRSIG').map((r) => Number(r.data.split(/\s+/)[6]));
      expect(await sig()).toEqual([oldTag]);

      // The operator's part: the new ZSK published at Knot (the key file tandem wrote, as key sync would send it).
      const dir = join(t.stateDir, 'keys', ZONE.slice(0, -1));
      const file = (await readdir(dir)).find((f) => f.endsWith(`+${String(newTag).padStart(5, '0')}.key`))!;
      await knot.importPublicKey(await readFile(join(dir, file), 'utf8'));

      // Switch once both publish it and the DNSKEY TTL passed; then the old ZSK leaves after the zone's largest TTL.
      await waitFor(async () => ((await api(t, 'GET', `/zones/${id}/tandem/rollover`)).result.step === 'done') || undefined, 60_000, { what: 'the rollover to finish', intervalMs: 500 });
      st = (await api(t, 'GET', `/zones/${id}/tandem/rollover`)).result;
      expect(st.todo[0]).toContain('remove the old ZSK');
      expect(await sig()).toEqual([newTag]);
      const tandemKeys = (await dig({ host: t.host, port: t.port }, ['+norec', ZONE, 'DNSKEY'])).answer.filter((r) => r.type === 'DNSKEY');
      expect(tandemKeys.some((r) => r.data.startsWith('256 3 13') && r.data.replace(/\s+/g, '').endsWith(st.old_dnskey.split(/\s+/).slice(-1)[0]))).toBe(false);
      // The operator withdraws the old ZSK at Knot too; the resolver keeps validating a while longer.
      await knot.removePublicKey(oldTag);
      await new Promise((res) => setTimeout(res, 2 * TTL * 1000 + 1000));
    } finally {
      result = await poller.stop();
    }
    const { answers, failures } = result;
    const seconds = (Date.now() - began) / 1000;
    expect(failures, failures.slice(0, 10).join('\n')).toEqual([]);
    expect(answers).toBeGreaterThan(3 * 10);
    expect(seconds).toBeLessThan(120);
  }, 150_000);
});
