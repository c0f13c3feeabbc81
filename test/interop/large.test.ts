// A zone file over 1 MiB takes the large-file path (records parsed in slices on a worker thread, issue 6):
// the server serves it signed (delv validates an answer and a denial), and while such a zone is re-read the
// event loop stays free, so the other zones are answered before the reload finishes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { OFF_THREAD_FROM_BYTES } from '../../src/state/offthread.js';
import { Name } from '../../src/dns/name.js';
import { delv, dig } from '../helpers/dig.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { bigZone, EXAMPLE_ZONE_FILE } from '../helpers/zones.js';

const NAMES = 40_000;

describe('a zone file over 1 MiB', () => {
  let s: TestServer;
  let zones: string;
  beforeAll(async () => {
    zones = await mkdtemp(join(tmpdir(), 'tandem-large-'));
    await copyFile(EXAMPLE_ZONE_FILE, join(zones, 'example.com.yaml'));
    const text = bigZone(NAMES, 1);
    expect(text.length).toBeGreaterThan(OFF_THREAD_FROM_BYTES);
    await writeFile(join(zones, 'big.test.yaml'), text);
    s = await startTestServer({ zones });
  }, 120_000);
  afterAll(async () => {
    await s?.stop();
    await rm(zones, { recursive: true, force: true });
  });

  it('is served signed: delv validates an answer and an NSEC denial', async () => {
    const z = s.server.manager.zoneByName(Name.fromText('big.test.'))!;
    const ds = s.server.manager.dnssec(z.id).ds!;
    const [tag, alg, dt, digest] = ds.text.split(/\s+/).slice(4);
    const anchor = join(s.dir, 'anchor.conf');
    await writeFile(anchor, `trust-anchors { "big.test." static-ds ${tag} ${alg} ${dt} "${digest}"; };\n`);
    const last = await delv({ host: s.host, port: s.port }, anchor, ['+root=big.test', `h${NAMES - 1}.big.test`, 'A']);
    expect(last.validated, last.out).toBe(true);
    expect(last.out).toContain(`10.0.${((NAMES - 1) >> 8) & 255}.${(NAMES - 1) & 255}`);
    const none = await delv({ host: s.host, port: s.port }, anchor, ['+root=big.test', 'nope.big.test', 'A']);
    expect(none.out).toMatch(/; negative response, fully validated/);
    expect(none.out).toMatch(/ncache nxdomain/);
  });

  it('while it is re-read the event loop stays free (the parse runs on a thread); then the new serial is served', async () => {
    await writeFile(join(s.zonesDir, 'big.test.yaml'), bigZone(NAMES, 2)); // the server's copy of the folder
    // The longest stretch the event loop (which answers every zone) was blocked, against the whole reload.
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const started = performance.now();
    let reloaded = false;
    const reload = s.server.reload().then((errors) => { reloaded = true; return errors; });
    const other = await dig({ host: s.host, port: s.port }, ['example.com.', 'SOA', '+norec']);
    expect(other.status).toBe('NOERROR');
    expect(reloaded).toBe(false); // answered during the reload
    expect(await reload).toEqual([]);
    const total = performance.now() - started;
    delay.disable();
    const longest = delay.max / 1e6;
    expect(longest, `longest block ${longest.toFixed(0)} ms of a ${total.toFixed(0)} ms reload`).toBeLessThan(total / 2);
    const soa = await dig({ host: s.host, port: s.port }, ['big.test.', 'SOA', '+norec']);
    expect(soa.answer[0].data.split(' ')[2]).toBe('2');
  }, 60_000);

  it('a broken large file on reload: the error names file and line, the last good zone stays in service', async () => {
    const file = join(s.zonesDir, 'big.test.yaml');
    const good = await readFile(file, 'utf8');
    const lines = good.split('\n');
    const bad = lines.length - 10; // a record near the end: in the last slice the parser thread reads
    lines[bad - 1] = '  broken: { type: A, value: 192.0.2.300 }';
    await writeFile(file, lines.join('\n'));
    const errors = await s.server.reload();
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(new RegExp(`big\\.test\\.yaml:${bad}: broken A: `))]);
    const still = await dig({ host: s.host, port: s.port }, [`h${NAMES - 1}.big.test.`, 'A', '+norec']);
    expect(still.answer.map((a) => a.data)).toEqual([`10.0.${((NAMES - 1) >> 8) & 255}.${(NAMES - 1) & 255}`]);
    await writeFile(file, good);
    expect(await s.server.reload()).toEqual([]);
  }, 60_000);

  it('takes a record through the API: served at once; the file keeps every record line as it was', async () => {
    const file = join(s.zonesDir, 'big.test.yaml');
    const before = await readFile(file, 'utf8');
    const z = s.server.manager.zoneByName(Name.fromText('big.test.'))!;
    const r = await fetch(`${s.api}/client/v4/zones/${z.id}/dns_records`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'A', name: 'added.big.test', content: '192.0.2.77', ttl: 300 }),
    });
    const j = (await r.json()) as { success: boolean; errors: unknown[] };
    expect(j.success, JSON.stringify(j.errors)).toBe(true);
    const a = await dig({ host: s.host, port: s.port }, ['added.big.test.', 'A', '+norec']);
    expect(a.answer.map((x) => x.data)).toEqual(['192.0.2.77']);
    const after = await readFile(file, 'utf8');
    const lines = new Set(after.split('\n'));
    // Only the zone: section is written anew (the serial went up); every record line is as it was.
    const changed = before.split('\n').flatMap((l, i) => (lines.has(l) ? [] : [i]));
    expect(changed.every((i) => i < 4), `changed lines ${changed.join(', ')}`).toBe(true);
    expect(after).toMatch(/serial: 3\b/);
    expect(after.endsWith("  added: { type: A, ttl: 300, value: 192.0.2.77 }\n")).toBe(true);
  }, 60_000);
});
