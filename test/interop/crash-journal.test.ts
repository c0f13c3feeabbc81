// Crash safety of the IXFR journal (issue 15; transfer/journal.ts): tandem is the primary of a zone with Knot
// as its secondary (NOTIFY, IXFR); batches of admin changes run and tandem is killed with SIGKILL at a random
// moment (the journal entry of a change is written while the next change is prepared). Then every journal
// entry in the state folder decodes and they chain (each starts where the one before ends), and after the
// restart Knot, which asks by IXFR from the version it holds (RFC 1995 §4), ends with exactly the zone tandem
// serves: a garbled or wrongly chained entry would leave it with other records. Knot never holds a serial
// newer than tandem's (RFC 1982: tandem's serial never went back). The seed is logged (CRASH_SEED replays it).
import { afterAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digXfr, requireTool } from '../helpers/dig.js';
import { freePort, waitFor } from '../helpers/procs.js';
import { startKnotXfr, type KnotXfr } from '../helpers/knot-xfr.js';
import {
  apiCall, crashSeed, leftovers, serialAtLeast, soaSerialOf, startTandem, zoneIdOf, zoneYaml, type Tandem,
} from '../helpers/crash.js';
import { decodeChange } from '../../src/transfer/journal.js';

const ZONE = 'j.test';
let dir: string;
let running: Tandem | undefined;
let knot: KnotXfr | undefined;
afterAll(async () => {
  await running?.kill();
  await knot?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** tandem's zone by AXFR, one `owner TYPE rdata` line per record, SOA first, sorted. */
async function tandemZone(t: Tandem): Promise<string[]> {
  const r = await digXfr({ host: '127.0.0.1', port: t.port }, [`${ZONE}.`, 'AXFR']);
  return r.answer.slice(1).map((a) => `${a.name.toLowerCase()} ${a.type} ${a.data}`).sort();
}

/** Knot's copy (`knotc zone-read`), in the same form. */
async function knotZone(k: KnotXfr): Promise<string[]> {
  const out = await k.knotc(['zone-read', `${ZONE}.`]);
  // `[j.test.] owner TTL TYPE rdata...`
  return out.split('\n').filter((l) => l.startsWith('[')).map((l) => {
    const [, owner, , type, ...rdata] = l.trim().split(/\s+/);
    return `${owner.toLowerCase()} ${type} ${rdata.join(' ')}`;
  }).sort();
}

/** The journal entries on disk: each decodes, and each starts where the one before ended. */
async function journalOnDisk(state: string): Promise<{ from: number; to: number }[]> {
  const jdir = join(state, 'journal', ZONE);
  const files = (await readdir(jdir).catch(() => [] as string[])).filter((f) => f.endsWith('.ixfr')).sort();
  const entries: { from: number; to: number }[] = [];
  for (const f of files) {
    const c = decodeChange(await readFile(join(jdir, f)));
    expect(f, 'the file name says the change it holds').toMatch(new RegExp(`-${c.from}-${c.to}\\.ixfr$`));
    if (entries.length) expect(c.from, `${f} does not follow the entry before`).toBe(entries[entries.length - 1].to);
    entries.push({ from: c.from, to: c.to });
  }
  return entries;
}

describe('SIGKILL while the IXFR journal is written (Knot as secondary)', () => {
  it('journal entries are whole and chained; after restart Knot transfers to exactly the zone tandem serves', async () => {
    requireTool('knotd', 'knot');
    const { between, random } = crashSeed('IXFR journal');
    dir = await mkdtemp(join(tmpdir(), 'tandem-crash-journal-'));
    const zones = join(dir, 'zones');
    const state = join(dir, 'state');
    await mkdir(zones);
    const port = await freePort();
    const knotPort = await freePort();
    await writeFile(join(zones, `${ZONE}.yaml`), zoneYaml(ZONE, `transfer:\n  allow: [{ address: 127.0.0.1 }]\n  notify: [{ address: "127.0.0.1:${knotPort}" }]\n  journal: 5`, 2000));
    let t = running = await startTandem({ zones, state, port });
    await t.loaded();
    knot = await startKnotXfr({ zones: [{ domain: ZONE, role: 'secondary', primary: { host: '127.0.0.1', port } }], port: knotPort });
    await knot.waitSerial(ZONE, (await soaSerialOf(t, ZONE))!, 30_000);
    const zoneId = await zoneIdOf(t, ZONE);
    let n = 0;
    for (let i = 0; i < 3; i++) {
      let acked = 0;
      let stopped = false;
      const client = (async () => {
        while (!stopped) {
          // A batch of 40 new names and a few removed: a journal entry of some size, and a new serial each.
          const posts = Array.from({ length: 40 }, () => ({ type: 'TXT', name: `t${n++}.${ZONE}`, content: `batch ${i}`, ttl: 300 }));
          const deletes = random() < 0.5 ? [] : (await apiCall(t, 'GET', `/zones/${zoneId}/dns_records?type=TXT&per_page=3`))?.json.result?.map((r: { id: string }) => ({ id: r.id })) ?? [];
          const r = await apiCall(t, 'POST', `/zones/${zoneId}/dns_records/batch`, { posts, deletes });
          if (!r) return;
          expect(r.json.success, JSON.stringify(r.json.errors)).toBe(true);
          acked++;
        }
      })();
      const after = between(1, 5);
      const delay = between(0, 200);
      await waitFor(() => acked >= after, 60_000, { what: `${after} batches acknowledged`, intervalMs: 5 });
      await new Promise((r) => setTimeout(r, delay));
      await t.kill();
      stopped = true;
      await client;
      const entries = await journalOnDisk(state);
      const knotSerial = (await knot.serial(ZONE))!;
      console.log(`iteration ${i}: killed ${delay} ms after batch ${after}; journal ${entries.map((e) => `${e.from}->${e.to}`).join(' ') || 'empty'}; Knot holds ${knotSerial}; temp left: ${(await leftovers(state)).length}`);

      t = running = await startTandem({ zones, state, port });
      await t.loaded();
      expect(await leftovers(dir)).toEqual([]);
      const serial = (await soaSerialOf(t, ZONE))!;
      expect(serialAtLeast(serial, knotSerial), `tandem serves ${serial}, Knot already had ${knotSerial}`).toBe(true);
      // tandem NOTIFYs Knot when the zone is loaded; Knot asks by IXFR from what it holds.
      await knot.waitSerial(ZONE, serial, 30_000);
      expect(await knot.serial(ZONE)).toBe(serial);
      expect(await knotZone(knot)).toEqual(await tandemZone(t));
      await journalOnDisk(state);
    }
    expect(knot.logs()).toMatch(/IXFR/);
    await t.stop();
    running = undefined;
  }, 150_000);
});
