// Crash safety of key generation (issue 15): the first start of 24 signed zones (every one generates its KSK
// and ZSK) is killed with SIGKILL after a random number of them, at a random moment. Then, before the restart,
// every key folder is complete or absent (keystore.ts renames a finished temp folder into place); after it,
// every zone is served, a zone that had keys kept them byte for byte (same DS by `tandem ds`, by the API and
// by delv, which validates with it), only the zones without keys generated theirs, and no temp folder is
// left. One process and `--workers 2`; the seed is logged (CRASH_SEED replays the timings).
import { afterAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from '../helpers/dig.js';
import { waitFor } from '../helpers/procs.js';
import {
  anchorFile, apiOk, crashSeed, leftovers, startTandem, tandemDs, validates, zoneYaml, type Tandem,
} from '../helpers/crash.js';
import { Name } from '../../src/dns/name.js';
import { RRType } from '../../src/dns/types.js';
import { formatRdata } from '../../src/dns/rdata.js';
import { dsRdata } from '../../src/dnssec/keys.js';
import { readZoneKeyDir, zoneKeyDir } from '../../src/state/keystore.js';

const ZONES = 24;
const origins = Array.from({ length: ZONES }, (_, i) => `k${String(i).padStart(2, '0')}.test`);
const denial = ['compact', 'nsec', 'nsec3'];

let dir: string;
let running: Tandem | undefined;
afterAll(async () => {
  await running?.kill();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The key folders found in the state folder: zone -> DS (SHA-256) and a digest of every file's name and bytes. */
async function keysOnDisk(state: string): Promise<Map<string, { ds: string; files: string }>> {
  const out = new Map<string, { ds: string; files: string }>();
  for (const origin of origins) {
    const zone = Name.fromText(`${origin}.`);
    const kdir = zoneKeyDir(state, zone);
    let names: string[];
    try { names = (await readdir(kdir)).sort(); } catch { continue; }
    // A folder that exists is whole: one KSK and one ZSK, each pair complete (readZoneKeyDir throws otherwise).
    const keys = await readZoneKeyDir(kdir, zone);
    expect(keys.map((k) => k.role).sort(), kdir).toEqual(['ksk', 'zsk']);
    const h = createHash('sha256');
    for (const n of names) h.update(`${n}\n`).update(await readFile(join(kdir, n)));
    const ksk = keys.find((k) => k.role === 'ksk')!;
    out.set(origin, { ds: formatRdata(RRType.DS, dsRdata(zone, ksk.key.dnskey, 2)), files: h.digest('hex') });
  }
  return out;
}

describe('SIGKILL during key generation (first start of 24 signed zones)', () => {
  it('key folders are whole or absent; after restart no key is regenerated or lost, same DS (tandem ds, API, delv)', async () => {
    requireTool('delv', 'bind9-dnsutils');
    const { between } = crashSeed('key generation');
    dir = await mkdtemp(join(tmpdir(), 'tandem-crash-keys-'));
    const zones = join(dir, 'zones');
    await mkdir(zones);
    for (const [i, o] of origins.entries()) await writeFile(join(zones, `${o}.yaml`), zoneYaml(o, `dnssec: { enabled: true, denial: ${denial[i % 3]} }`, 30));
    for (const [i, workers] of [1, 2, 1].entries()) {
      const state = join(dir, `state-${i}`);
      let t = running = await startTandem({ zones, state, workers });
      const after = between(0, ZONES - 2);
      const delay = between(0, 15);
      const generated = () => t.logs().match(/"msg":"generated KSK and ZSK"/g)?.length ?? 0;
      await waitFor(() => generated() >= after, 90_000, { what: `${after} key sets generated`, intervalMs: 2 });
      await new Promise((r) => setTimeout(r, delay));
      await t.kill();
      const before = await keysOnDisk(state);
      const cut = await leftovers(state);
      console.log(`iteration ${i} (workers ${workers}): killed ${delay} ms after key set ${after}: ${before.size} key folders whole, temp left: ${cut.map((c) => c.slice(state.length + 1)).join(', ') || 'none'}`);
      const sample = [...before.keys()][0];

      t = running = await startTandem({ zones, state, workers });
      await t.loaded();
      expect(t.logs()).toMatch(new RegExp(`"zones":${ZONES},"failed":0,"msg":"zones loaded"`));
      expect(generated(), 'only the zones without keys generate theirs').toBe(ZONES - before.size);
      expect(await leftovers(state)).toEqual([]);
      const now = await keysOnDisk(state);
      expect(now.size).toBe(ZONES);
      for (const [origin, k] of before) expect(now.get(origin), `${origin}: keys changed by the restart`).toEqual(k);
      for (const origin of origins) {
        const id = (await apiOk(t, 'GET', `/zones?name=${origin}`))[0].id;
        const ds = (await apiOk(t, 'GET', `/zones/${id}/dnssec`)).ds as string;
        expect(ds.split(/\s+/).slice(4).join(' '), origin).toBe(now.get(origin)!.ds);
      }
      // delv with the DS the CLI prints: a zone whose keys predate the kill (the DS read from its folder before
      // the restart) and one made after it.
      const fresh = origins.find((o) => !before.has(o));
      for (const origin of [sample, fresh].filter((o): o is string => o !== undefined)) {
        const ds = await tandemDs(state, zones, origin);
        expect(ds[0].split(/\s+/).slice(4).join(' ')).toBe((before.get(origin) ?? now.get(origin))!.ds);
        const v = await validates(t, await anchorFile(dir, origin, ds[0]), origin, `h1.${origin}`, 'A');
        expect(v.ok, v.out).toBe(true);
      }
      await t.stop();
      running = undefined;
    }
  }, 150_000);
});
