// A full disk (issue 15): tandem runs in a private mount namespace (`unshare -m`) where its zones folder, or
// its state folder, is a small tmpfs the test fills up (it reaches the files as /proc/<pid>/root/...). An
// admin change is then refused with a clear error (HTTP 507, the file and "no space left on device"), the
// served zone and every file stay byte for byte as they were, no temp file is left, and once space is back
// the next change works. A secondary zone's transfer (Knot primary, NOTIFY) on a full state folder fails
// with the same reason, keeps serving and keeping its copy, and is retried on SOA RETRY until space is back;
// a copy left on disk of a version never served is then no base for IXFR.
// Needs root (or CAP_SYS_ADMIN) for the mount; skipped with a message where unshare cannot mount.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig, requireTool } from '../helpers/dig.js';
import { freePort, waitFor } from '../helpers/procs.js';
import { startKnotXfr, type KnotXfr } from '../helpers/knot-xfr.js';
import { EXAMPLE_ZONES } from '../helpers/zones.js';
import { apiCall, apiOk, leftovers, soaSerialOf, startTandem, zoneIdOf, type Tandem } from '../helpers/crash.js';
import { Name } from '../../src/dns/name.js';
import { RRType } from '../../src/dns/types.js';
import { soaSerial, withSerial } from '../../src/state/version.js';
import { readCopy, writeCopy } from '../../src/state/secondary-store.js';

/** Whether this process may mount a tmpfs in a private mount namespace. */
function canMount(): boolean {
  const probe = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d" && umount "$d"; r=$?; rmdir "$d"; exit $r'], { stdio: 'ignore' });
  if (probe.status !== 0) console.warn('full-disk tests skipped: `unshare -m` + `mount -t tmpfs` is not permitted here (needs root or CAP_SYS_ADMIN)');
  return probe.status === 0;
}
const mountable = canMount();

/** Runs tandem with `mnt` a tmpfs of `size` (mode 0700), filled first with the contents of `from` (if given). */
const onSmallDisk = (mnt: string, size: string, from?: string) => [
  'unshare', '-m', '--propagation', 'private', 'sh', '-c',
  'mount -t tmpfs -o "size=$1,mode=0700" tmpfs "$2" && { [ -z "$3" ] || cp -a "$3"/. "$2"/; } && shift 3 && exec "$@"',
  'sh', size, mnt, from ?? '',
];

/** Fills the file system holding `dir` to the last byte (the filler is removed by `free`). */
async function fill(dir: string): Promise<{ free(): Promise<void> }> {
  const file = join(dir, 'filler');
  const fh = await open(file, 'w');
  const chunk = Buffer.alloc(4096, 0x55);
  try {
    for (;;) await fh.write(chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    await fh.close();
  }
  // Even one more byte does not fit.
  await expect(writeFile(join(dir, 'probe'), 'x')).rejects.toThrow(/ENOSPC/);
  await rm(join(dir, 'probe'), { force: true });
  return { free: () => rm(file, { force: true }) };
}

let dir: string;
let running: Tandem | undefined;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'tandem-full-')); });
afterEach(async () => { await running?.kill(); running = undefined; });
afterAll(() => rm(dir, { recursive: true, force: true }));

/** What must not move while a change is refused: files' bytes, the served serial, the records. */
async function snapshot(t: Tandem, zoneId: string, files: string[]) {
  return {
    files: await Promise.all(files.map((f) => readFile(f, 'utf8'))),
    serial: await soaSerialOf(t, 'example.com'),
    records: (await apiOk(t, 'GET', `/zones/${zoneId}/dns_records?per_page=5000`)).map((r: { id: string; content: string }) => `${r.id} ${r.content}`).sort(),
  };
}

describe.skipIf(!mountable)('a full disk', () => {
  for (const where of ['zones', 'state'] as const) {
    it(`${where} folder full: the change is refused (507, the file, no space left on device), nothing moves; with space back it works`, async () => {
      const base = join(dir, where);
      const mnt = join(base, 'small');
      await mkdir(mnt, { recursive: true });
      const zones = where === 'zones' ? mnt : join(base, 'zones');
      const state = where === 'state' ? mnt : join(base, 'state');
      if (where === 'state') await cp(EXAMPLE_ZONES, zones, { recursive: true });
      const t = running = await startTandem({ zones, state, wrap: onSmallDisk(mnt, '512k', where === 'zones' ? EXAMPLE_ZONES : undefined) });
      await t.loaded();
      // The test's view of the server's mount namespace.
      const seen = (p: string) => (p.startsWith(mnt) ? `/proc/${t.pid}/root${p}` : p);
      const zoneFile = seen(join(zones, 'example.com.yaml'));
      const adminFile = seen(join(state, 'zones', 'example.com.json'));
      const zoneId = await zoneIdOf(t, 'example.com');
      await apiOk(t, 'POST', `/zones/${zoneId}/dns_records`, { type: 'A', name: 'before.example.com', content: '192.0.2.10', ttl: 300 });
      const before = await snapshot(t, zoneId, [zoneFile, adminFile]);

      const full = await fill(seen(mnt));
      const r = await apiCall(t, 'POST', `/zones/${zoneId}/dns_records`, { type: 'A', name: 'full.example.com', content: '192.0.2.11', ttl: 300 });
      expect(r?.status).toBe(507);
      expect(r?.json.success).toBe(false);
      const failed = where === 'zones' ? join(zones, 'example.com.yaml') : join(state, 'zones', 'example.com.json');
      expect(r?.json.errors[0].message).toBe(`the change could not be written: ${failed}: no space left on device (ENOSPC); nothing was changed and the zone is served as before; free some space and retry`);
      await waitFor(() => /"msg":"zone change not written: refused"/.test(t.logs()), 5000, { what: 'the error logged' });
      expect(await snapshot(t, zoneId, [zoneFile, adminFile])).toEqual(before);
      expect((await dig({ host: '127.0.0.1', port: t.port }, ['full.example.com', 'A'])).status).toBe('NXDOMAIN');
      expect(await leftovers(seen(mnt))).toEqual([]);
      expect(await leftovers(where === 'zones' ? state : zones)).toEqual([]);

      await full.free();
      await apiOk(t, 'POST', `/zones/${zoneId}/dns_records`, { type: 'A', name: 'full.example.com', content: '192.0.2.11', ttl: 300 });
      expect((await dig({ host: '127.0.0.1', port: t.port }, ['full.example.com', 'A'])).answer.map((a) => a.data)).toEqual(['192.0.2.11']);
      expect(await readFile(zoneFile, 'utf8')).toMatch(/full/);
      expect(await readFile(adminFile, 'utf8')).not.toBe(before.files[1]);
    }, 60_000);
  }

  describe('a secondary zone, state folder full', () => {
    let knot: KnotXfr | undefined;
    afterAll(() => knot?.stop());

    it('the transfer fails with the reason, the copy and what is served stay; retried on SOA RETRY, it succeeds once space is back', async () => {
      requireTool('knotd', 'knot');
      const base = join(dir, 'secondary');
      const mnt = join(base, 'small');
      const zones = join(base, 'zones');
      await mkdir(mnt, { recursive: true });
      await mkdir(zones);
      const port = await freePort();
      const zoneText = (extra = '') => `$ORIGIN sec.test.\n$TTL 300\n@ SOA ns1.sec.test. hostmaster.sec.test. 1 3600 1 1209600 60\n@ NS ns1.sec.test.\nns1 A 192.0.2.1\n${extra}`;
      knot = await startKnotXfr({ zones: [{ domain: 'sec.test', role: 'primary', zoneText: zoneText(), notify: [{ host: '127.0.0.1', port }] }] });
      await writeFile(join(zones, 'sec.test.yaml'), `zone:\n  secondary:\n    primaries: [{ address: "127.0.0.1:${knot.port}" }]\n`);
      const t = running = await startTandem({ zones, state: mnt, port, wrap: onSmallDisk(mnt, '256k') });
      await t.loaded();
      await waitFor(async () => (await soaSerialOf(t, 'sec.test')) === 1, 20_000, { what: 'first transfer' });
      const seen = (p: string) => `/proc/${t.pid}/root${p}`;
      const files = ['secondary/sec.test.xfr', 'secondary/sec.test.json'].map((f) => seen(join(mnt, f)));
      await waitFor(async () => (await Promise.all(files.map((f) => readFile(f).then(() => true, () => false)))).every(Boolean), 5000, { what: 'copy written' });
      const copy = await Promise.all(files.map((f) => readFile(f)));

      const full = await fill(seen(mnt));
      const mark = t.logs().length;
      await knot.edit('sec.test', { set: ['new 300 A 192.0.2.2'] });
      await waitFor(() => /"msg":"refresh from primary failed; the served copy stays"/.test(t.logs().slice(mark)), 20_000, { what: 'refresh failed' });
      const line = t.logs().slice(mark).split('\n').find((l) => l.includes('refresh from primary failed'))!;
      // An IXFR is journaled beside the copy (state/ixfr-delta.ts): the journal's append is what the full disk refuses.
      expect(JSON.parse(line).reason).toBe(`${join(mnt, 'secondary', 'sec.test.xfr.journal')}: no space left on device (ENOSPC)`);
      const zoneId = await zoneIdOf(t, 'sec.test');
      const incoming = await apiOk(t, 'GET', `/zones/${zoneId}/secondary_dns/incoming`);
      expect(incoming.tandem.lastError.reason).toMatch(/no space left on device/);
      expect(await soaSerialOf(t, 'sec.test')).toBe(1);
      expect((await dig({ host: '127.0.0.1', port: t.port }, ['new.sec.test', 'A'])).status).toBe('NXDOMAIN');
      expect(await Promise.all(files.map((f) => readFile(f)))).toEqual(copy);
      expect(await leftovers(seen(mnt))).toEqual([]);

      // No NOTIFY, no API call: the retry timer (SOA RETRY, 1 s) brings the new version once there is room.
      await full.free();
      await waitFor(async () => (await soaSerialOf(t, 'sec.test')) === 2, 20_000, { what: 'transfer retried after space came back' });
      expect((await dig({ host: '127.0.0.1', port: t.port }, ['new.sec.test', 'A'])).answer.map((a) => a.data)).toEqual(['192.0.2.2']);
      const stored = (await readCopy(seen(mnt), Name.fromText('sec.test.')))!;
      expect(soaSerial(stored.find((r) => r.type === RRType.SOA)!.rdata)).toBe(2); // the copy and its journal
      expect(stored.some((r) => r.name.toString() === 'new.sec.test.')).toBe(true);

      // A copy on disk of a version never served (written, then the refresh state's write failed) is no base
      // for IXFR: asked from its serial, the primary would say "current" and version 3 would never be served.
      const origin = Name.fromText('sec.test.');
      const unserved = (await readCopy(seen(mnt), origin))!.map((r) => (r.type === RRType.SOA ? { ...r, rdata: withSerial(r.rdata, 3) } : r));
      await writeCopy(seen(mnt), origin, unserved);
      await knot.edit('sec.test', { set: ['new3 300 A 192.0.2.3'] });
      await waitFor(async () => (await soaSerialOf(t, 'sec.test')) === 3, 20_000, { what: 'version 3 served' });
      expect((await dig({ host: '127.0.0.1', port: t.port }, ['new3.sec.test', 'A'])).answer.map((a) => a.data)).toEqual(['192.0.2.3']);
    }, 60_000);
  });
});
