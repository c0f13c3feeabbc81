// Crash safety of a large reload (issue 15): a 40,000-name signed zone file is replaced (a new version with a
// marker name) and tandem told with SIGHUP, then killed with SIGKILL at a random moment of the reload (a
// reload takes about as long as the first load; the kill lands between the SIGHUP and 1.2 times that). After
// the restart both zones are served (nothing half-written read: the admin state it was writing is whole),
// the new file's marker is there, the serial is not behind any served before (RFC 1982) even when the new
// file kept the old serial, the DS is the one `tandem ds` printed first, and delv validates with it.
// The seed is logged (CRASH_SEED replays the timings).
import { afterAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig, requireTool } from '../helpers/dig.js';
import { bigZone, EXAMPLE_ZONES } from '../helpers/zones.js';
import {
  anchorFile, apiOk, crashSeed, leftovers, replaceFile, serialAtLeast, soaSerialOf, startTandem, tandemDs, validates, type Tandem,
} from '../helpers/crash.js';

const NAMES = 40_000;
let dir: string;
let running: Tandem | undefined;
afterAll(async () => {
  await running?.kill();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The 40,000-name zone with a marker name `m<i>` and the given explicit serial. */
const version = (i: number, serial: number) => bigZone(NAMES, serial).replace('records:\n', `records:\n  m${i}: { type: TXT, value: version ${i} }\n`);

describe('SIGKILL during a SIGHUP reload of a 40,000-name zone', () => {
  it('both zones served after restart, the new version whole, serial never back, same DS, delv validates', async () => {
    requireTool('delv', 'bind9-dnsutils');
    const { between } = crashSeed('large reload');
    dir = await mkdtemp(join(tmpdir(), 'tandem-crash-reload-'));
    const zones = join(dir, 'zones');
    const state = join(dir, 'state');
    await cp(EXAMPLE_ZONES, zones, { recursive: true });
    const file = join(zones, 'big.test.yaml');
    await writeFile(file, version(0, 1));
    let t = running = await startTandem({ zones, state, timeoutMs: 90_000 });
    await t.loaded(90_000);
    const ds = await tandemDs(state, zones, 'big.test');
    const anchor = await anchorFile(dir, 'big.test', ds[0]);
    const exampleBefore = await readFile(join(state, 'zones', 'example.com.json'), 'utf8');
    let seen = (await soaSerialOf(t, 'big.test'))!;
    // A reload does about the work of the first load: the kill lands anywhere from the SIGHUP to a bit after.
    const loadMs = Number(/"ms":(\d+),"zones":2,"failed":0,"msg":"zones loaded"/.exec(t.logs())![1]);
    // Iteration 2 keeps the file's serial although the content changed: tandem picks the next one itself.
    const serials = [5, 5];
    for (const [i, fileSerial] of serials.entries()) {
      await replaceFile(file, version(i + 1, fileSerial));
      process.kill(t.pid, 'SIGHUP');
      const delay = between(0, Math.round(loadMs * 1.2));
      const poll = (async () => {
        const until = Date.now() + delay;
        while (Date.now() < until) {
          const s = await soaSerialOf(t, 'big.test').catch(() => undefined);
          if (s !== undefined && serialAtLeast(s, seen)) seen = s;
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      await new Promise((r) => setTimeout(r, delay));
      await t.kill();
      await poll;
      const reloaded = /"msg":"zones reloaded"/.test(t.logs());
      console.log(`iteration ${i + 1}: killed ${delay} ms after SIGHUP (${reloaded ? 'after' : 'before'} the reload ended), temp left: ${(await leftovers(dir)).length}`);

      t = running = await startTandem({ zones, state, timeoutMs: 90_000 });
      await t.loaded(90_000);
      expect(t.logs()).toMatch(/"zones":2,"failed":0,"msg":"zones loaded"/);
      expect(await leftovers(dir)).toEqual([]);
      const at = { host: '127.0.0.1', port: t.port };
      expect((await dig(at, [`m${i + 1}.big.test`, 'TXT'])).answer.map((a) => a.data)).toEqual([`"version ${i + 1}"`]);
      expect((await dig(at, [`m${i}.big.test`, 'TXT'])).status).toBe('NXDOMAIN');
      expect((await dig(at, [`h${NAMES - 1}.big.test`, 'A'])).answer.map((a) => a.data)).toEqual(['10.0.156.63']);
      const now = (await soaSerialOf(t, 'big.test'))!;
      expect(serialAtLeast(now, seen), `serial ${now} is behind ${seen}, served before the kill`).toBe(true);
      expect(serialAtLeast(now, fileSerial)).toBe(true);
      if (i === 1) expect(now, 'content changed under the same file serial: a newer serial').not.toBe(fileSerial);
      seen = now;
      const v = await validates(t, anchor, 'big.test', `m${i + 1}.big.test`, 'TXT');
      expect(v.ok, v.out).toBe(true);
      // The other zone is untouched by the reload and the kill.
      expect(await readFile(join(state, 'zones', 'example.com.json'), 'utf8')).toBe(exampleBefore);
      expect((await dig(at, ['www.example.com', 'A'])).status).toBe('NOERROR');
    }
    expect(await tandemDs(state, zones, 'big.test')).toEqual(ds);
    await t.stop();
    running = undefined;
  }, 180_000);
});
