// Crash safety of admin changes (issue 15; run by test/interop/crash-admin*.test.ts): `tandem serve` is
// killed with SIGKILL in the middle of a burst of admin API changes (creates, deletes, batches from two clients at once), at a random moment, and started
// again on the same folders. Every change the API acknowledged must be there (dig AXFR and the API decide),
// a batch cut by the kill is all there or not at all, the serial never goes back (RFC 1982), the KSK is the
// one `tandem ds` printed before (no key regenerated), and delv validates with that DS. One process and
// `--workers 2`; the seed is logged (CRASH_SEED replays the timings).
import { expect } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig, digXfr, requireTool } from './dig.js';
import { waitFor } from './procs.js';
import {
  anchorFile, apiCall, apiOk, crashSeed, leftovers, serialAtLeast, soaSerialOf, startTandem, tandemDs, validates, zoneIdOf, zoneYaml, type Tandem,
} from './crash.js';

const ZONE = 'crash.test';

/** What the client knows of each name it touched: acknowledged present, acknowledged absent, or unknown (cut). */
type Fate = 'present' | 'absent' | 'unknown';

interface Burst {
  fates: Map<string, Fate>;
  /** Batches the kill cut (no answer): their posts and deletes must be all applied or none. */
  cutBatches: { posts: string[]; deletes: string[] }[];
  acked: number;
  maxSerial: number;
}

/** Two clients changing the zone as fast as the API answers, until `stop()`; a SOA poller records the serials seen. */
function burst(t: Tandem, zoneId: string, tag: string, fates: Map<string, Fate>, ids: Map<string, string>, random: () => number, startSerial: number) {
  const state: Burst = { fates, cutBatches: [], acked: 0, maxSerial: startSerial };
  let stopped = false;
  let n = 0;
  const fresh = () => `${tag}-${n++}.${ZONE}`;
  const present = () => [...fates].filter(([name, f]) => f === 'present' && ids.has(name)).map(([name]) => name);
  const client = async () => {
    while (!stopped) {
      const r = random();
      const live = present();
      if (r < 0.5 || live.length === 0) {
        const name = fresh();
        fates.set(name, 'unknown');
        const res = await apiCall(t, 'POST', `/zones/${zoneId}/dns_records`, { type: 'TXT', name, content: `made ${name}`, ttl: 300 });
        if (!res) return;
        expect(res.json.success, JSON.stringify(res.json.errors)).toBe(true);
        fates.set(name, 'present');
        ids.set(name, res.json.result.id);
        state.acked++;
      } else if (r < 0.75) {
        const name = live[Math.floor(random() * live.length)];
        const id = ids.get(name)!;
        ids.delete(name); // never touched again by the other client
        fates.set(name, 'unknown');
        const res = await apiCall(t, 'DELETE', `/zones/${zoneId}/dns_records/${id}`);
        if (!res) return;
        expect(res.json.success, JSON.stringify(res.json.errors)).toBe(true);
        fates.set(name, 'absent');
        state.acked++;
      } else {
        const posts = [fresh(), fresh(), fresh()];
        const del = live[Math.floor(random() * live.length)];
        const delId = ids.get(del)!;
        ids.delete(del);
        for (const p of posts) fates.set(p, 'unknown');
        fates.set(del, 'unknown');
        const batch = { posts, deletes: [del] };
        const res = await apiCall(t, 'POST', `/zones/${zoneId}/dns_records/batch`, {
          posts: posts.map((name) => ({ type: 'TXT', name, content: `made ${name}`, ttl: 300 })), deletes: [{ id: delId }],
        });
        if (!res) { state.cutBatches.push(batch); return; }
        expect(res.json.success, JSON.stringify(res.json.errors)).toBe(true);
        for (const rec of res.json.result.posts) { fates.set(rec.name, 'present'); ids.set(rec.name, rec.id); }
        fates.set(del, 'absent');
        state.acked++;
      }
    }
  };
  const poll = async () => {
    while (!stopped) {
      const s = await soaSerialOf(t, ZONE).catch(() => undefined);
      if (s === undefined) return;
      if (serialAtLeast(s, state.maxSerial)) state.maxSerial = s;
      await new Promise((r) => setTimeout(r, 30));
    }
  };
  const done = Promise.all([client(), client(), poll()]);
  return { state, stop: async () => { stopped = true; await done; } };
}

/** The TXT owners the server holds, by the API and by AXFR (they must agree). */
async function txtNames(t: Tandem, zoneId: string): Promise<Set<string>> {
  const api = await apiOk(t, 'GET', `/zones/${zoneId}/dns_records?type=TXT&per_page=5000`);
  const byApi = new Set<string>(api.map((r: { name: string }) => r.name));
  const axfr = await digXfr({ host: '127.0.0.1', port: t.port }, [`${ZONE}.`, 'AXFR']);
  expect(axfr.answer.filter((a) => a.type === 'SOA').length, axfr.raw.slice(0, 500)).toBe(2);
  const byDns = new Set(axfr.answer.filter((a) => a.type === 'TXT').map((a) => a.name.replace(/\.$/, '')));
  expect([...byDns].sort()).toEqual([...byApi].sort());
  return byApi;
}

/**
 * The scenario: a signed zone of 1,500 names, `iterations` bursts each cut by SIGKILL after a random number of
 * acknowledged changes plus a random delay, each followed by a restart and every check.
 */
export async function adminBurstScenario(workers: number, iterations: number): Promise<void> {
  const cleanup: (() => Promise<void>)[] = [];
  let running: Tandem | undefined;
  try {
    requireTool('delv', 'bind9-dnsutils');
    const { between, random } = crashSeed(`admin burst, workers ${workers}`);
    const dir = await mkdtemp(join(tmpdir(), 'tandem-crash-admin-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const zones = join(dir, 'zones');
    const state = join(dir, 'state');
    await mkdir(zones);
    // 1,500 names: each change rewrites a ~60 KB file and re-signs, which gives the kill room to land mid-write.
    await writeFile(join(zones, `${ZONE}.yaml`), zoneYaml(ZONE, 'dnssec: { enabled: true, denial: nsec }\ntransfer:\n  allow: [{ address: 127.0.0.1 }]', 1500));
    let t = running = await startTandem({ zones, state, workers, timeoutMs: 60_000 });
    await t.loaded(60_000);
    const zoneId = await zoneIdOf(t, ZONE);
    const ds = await tandemDs(state, zones, ZONE);
    expect(ds).toHaveLength(1);
    const anchor = await anchorFile(dir, ZONE, ds[0]);
    const apiDs = (await apiOk(t, 'GET', `/zones/${zoneId}/dnssec`)).ds;
    let serial = (await soaSerialOf(t, ZONE))!;
    const fates = new Map<string, Fate>();
    const ids = new Map<string, string>();
    for (let i = 0; i < iterations; i++) {
      const b = burst(t, zoneId, `w${workers}i${i}`, fates, ids, random, serial);
      // After a random number of acknowledged changes, a random moment within the next ones.
      const after = between(1, 6);
      const delay = between(0, 250);
      await waitFor(() => b.state.acked >= after, 60_000, { what: `${after} changes acknowledged`, intervalMs: 5 });
      await new Promise((r) => setTimeout(r, delay));
      await t.kill();
      await b.stop();
      const cut = await leftovers(dir);
      console.log(`workers ${workers} iteration ${i}: killed ${delay} ms after change ${after}, ${b.state.acked} changes acknowledged, ${[...fates.values()].filter((f) => f === 'unknown').length} names cut, temp files left by the kill: ${cut.map((f) => f.slice(dir.length + 1)).join(', ') || 'none'}`);

      t = running = await startTandem({ zones, state, workers, timeoutMs: 60_000 });
      await t.loaded(60_000);
      // Nothing half-written is read, and nothing half-written is left: the start swept the kill's temp files.
      expect(await leftovers(dir)).toEqual([]);
      expect(t.logs()).toMatch(/"zones":1,"failed":0,"msg":"zones loaded"/);
      const names = await txtNames(t, zoneId);
      for (const [name, fate] of fates) {
        if (fate === 'present') expect(names.has(name), `acknowledged ${name} lost (iteration ${i})`).toBe(true);
        if (fate === 'absent') expect(names.has(name), `acknowledged delete of ${name} undone (iteration ${i})`).toBe(false);
      }
      for (const cb of b.state.cutBatches) {
        const applied = cb.posts.every((p) => names.has(p)) && cb.deletes.every((d) => !names.has(d));
        const notApplied = cb.posts.every((p) => !names.has(p)) && cb.deletes.every((d) => names.has(d));
        expect(applied || notApplied, `batch cut by the kill is half applied: ${JSON.stringify(cb)}`).toBe(true);
      }
      // What was cut is now known (there or not); later bursts build on it.
      for (const [name, fate] of fates) if (fate === 'unknown') fates.set(name, names.has(name) ? 'present' : 'absent');
      for (const name of [...ids.keys()]) if (!names.has(name)) ids.delete(name);
      const recs = await apiOk(t, 'GET', `/zones/${zoneId}/dns_records?type=TXT&per_page=5000`);
      for (const r of recs as { name: string; id: string }[]) if (fates.get(r.name) === 'present') ids.set(r.name, r.id);

      const now = (await soaSerialOf(t, ZONE))!;
      expect(serialAtLeast(now, b.state.maxSerial), `serial ${now} is behind ${b.state.maxSerial}, served before the kill`).toBe(true);
      serial = now;
      expect((await apiOk(t, 'GET', `/zones/${zoneId}/dnssec`)).ds).toEqual(apiDs);
      const sample = [...fates].filter(([, f]) => f === 'present').map(([n]) => n);
      const name = sample.length ? sample[Math.floor(random() * sample.length)] : `h1.${ZONE}`;
      const v = await validates(t, anchor, ZONE, name, sample.length ? 'TXT' : 'A');
      expect(v.ok, v.out).toBe(true);
      const gone = [...fates].find(([, f]) => f === 'absent');
      if (gone) {
        const nx = await validates(t, anchor, ZONE, gone[0], 'TXT');
        expect(nx.out).toMatch(/negative response, fully validated/);
      }
    }
    // The registrar's DS, as the CLI prints it from the state folder, never changed.
    expect(await tandemDs(state, zones, ZONE)).toEqual(ds);
    expect((await dig({ host: '127.0.0.1', port: t.port }, [`${ZONE}.`, 'DNSKEY'])).answer.filter((a) => a.type === 'DNSKEY')).toHaveLength(2);
    await t.stop();
  } finally {
    await running?.kill();
    for (const c of cleanup) await c();
  }
}
