// Crash safety of a secondary zone's transfer (issue 15): Knot is the primary of a 40,000-name zone, tandem its
// secondary; Knot changes the zone (knotc) and sends NOTIFY, and tandem is killed with SIGKILL at a random
// moment of the refresh (IXFR applied to the 40,000-record copy, the copy written: secondary-store.ts). The
// copy in the state folder is then the old version or the new one, whole (its SOA serial and a marker record
// that names the version agree, every record is there); the restart serves that copy at once, and a refresh
// brings the new version. The seed is logged (CRASH_SEED replays the timings).
import { afterAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig, requireTool } from '../helpers/dig.js';
import { freePort, waitFor } from '../helpers/procs.js';
import { startKnotXfr, type KnotXfr } from '../helpers/knot-xfr.js';
import { apiOk, crashSeed, leftovers, soaSerialOf, startTandem, zoneIdOf, type Tandem } from '../helpers/crash.js';
import { Name } from '../../src/dns/name.js';
import { RRType } from '../../src/dns/types.js';
import { formatRdata } from '../../src/dns/rdata.js';
import { soaSerial } from '../../src/state/version.js';
import { readCopy, readMeta } from '../../src/state/secondary-store.js';

const NAMES = 40_000;
const origin = Name.fromText('sec.test.');
let dir: string;
let running: Tandem | undefined;
let knot: KnotXfr | undefined;
afterAll(async () => {
  await running?.kill();
  await knot?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Version 1 of the primary's zone: 40,000 names and `v TXT "1"`; each knotc edit below makes `v` the new serial. */
function primaryZone(): string {
  const lines = ['$ORIGIN sec.test.', '$TTL 300', '@ SOA ns1.sec.test. hostmaster.sec.test. 1 3600 2 1209600 60', '@ NS ns1.sec.test.', 'ns1 A 192.0.2.1', 'v TXT "1"'];
  for (let i = 0; i < NAMES; i++) lines.push(`h${i} A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  return lines.join('\n') + '\n';
}

/** The copy tandem keeps: its serial, and the version its marker names (they must agree). */
async function copyOnDisk(state: string): Promise<{ serial: number; marker: string; count: number }> {
  const records = (await readCopy(state, origin))!;
  const soa = records.find((r) => r.type === RRType.SOA)!;
  const v = records.filter((r) => r.type === RRType.TXT && r.name.equals(Name.fromText('v.sec.test.')));
  expect(v).toHaveLength(1);
  return { serial: soaSerial(soa.rdata), marker: formatRdata(RRType.TXT, v[0].rdata), count: records.length };
}

const servedVersion = async (t: Tandem) => {
  const soa = await soaSerialOf(t, 'sec.test');
  const v = await dig({ host: '127.0.0.1', port: t.port }, ['+norec', 'v.sec.test.', 'TXT']);
  return { serial: soa, marker: v.answer.map((a) => a.data).join(' ') };
};

describe('SIGKILL while a secondary zone of 40,000 names is transferred and written', () => {
  it('the copy is the old or the new version, whole; the restart serves it; a refresh brings the new one', async () => {
    requireTool('knotd', 'knot');
    const { between } = crashSeed('secondary transfer');
    dir = await mkdtemp(join(tmpdir(), 'tandem-crash-sec-'));
    const zones = join(dir, 'zones');
    const state = join(dir, 'state');
    await mkdir(zones);
    const port = await freePort();
    knot = await startKnotXfr({ zones: [{ domain: 'sec.test', role: 'primary', zoneText: primaryZone(), notify: [{ host: '127.0.0.1', port }] }], startTimeoutMs: 60_000 });
    await writeFile(join(zones, 'sec.test.yaml'), `zone:\n  secondary:\n    primaries: [{ address: "127.0.0.1:${knot.port}" }]\n`);
    let t = running = await startTandem({ zones, state, port, timeoutMs: 60_000 });
    await t.loaded(60_000);
    const started = Date.now();
    await waitFor(async () => (await soaSerialOf(t, 'sec.test')) === 1, 60_000, { what: 'first transfer', intervalMs: 50 });
    const transferMs = Date.now() - started;
    const zoneId = await zoneIdOf(t, 'sec.test');
    for (let serial = 1; serial <= 4; serial++) {
      const next = serial + 1;
      await knot.edit('sec.test', { unset: ['v TXT'], set: [`v 300 TXT "${next}"`] });
      await knot.waitSerial('sec.test', next);
      // NOTIFY is on its way: the refresh (SOA query, IXFR, the change applied to the copy, the zone built,
      // the copy written) takes about as long as the first transfer did.
      const delay = between(0, Math.round(transferMs * 1.2));
      await new Promise((r) => setTimeout(r, delay));
      await t.kill();
      const copy = await copyOnDisk(state);
      console.log(`version ${next}: killed ${delay} ms after the change at the primary; the copy holds version ${copy.serial}; temp left: ${(await leftovers(state)).length}`);
      expect([serial, next]).toContain(copy.serial);
      expect(copy.marker).toBe(`"${copy.serial}"`);
      expect(copy.count).toBe(NAMES + 4);
      expect((await readMeta(state, origin))?.serial).toBeTypeOf('number');

      t = running = await startTandem({ zones, state, port, timeoutMs: 60_000 });
      await t.loaded(60_000);
      expect(await leftovers(dir)).toEqual([]);
      // Served from the copy at once (or already refreshed, when Knot's NOTIFY retry reached the new process).
      const first = await servedVersion(t);
      expect([copy.serial, next]).toContain(first.serial);
      expect(first.marker).toBe(`"${first.serial}"`);
      await apiOk(t, 'POST', `/zones/${zoneId}/secondary_dns/refresh`);
      await waitFor(async () => (await servedVersion(t)).marker === `"${next}"`, 60_000, { what: `version ${next} served`, intervalMs: 100 });
      expect(await soaSerialOf(t, 'sec.test')).toBe(next);
      expect((await dig({ host: '127.0.0.1', port: t.port }, [`h${NAMES - 1}.sec.test`, 'A'])).answer.map((a) => a.data)).toEqual(['10.0.156.63']);
      await waitFor(async () => (await copyOnDisk(state)).serial === next, 10_000, { what: 'copy written' });
    }
    await t.stop();
    running = undefined;
  }, 180_000);
});
