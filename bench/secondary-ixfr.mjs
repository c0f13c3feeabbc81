#!/usr/bin/env node
// A change at a primary reaching a large secondary by NOTIFY and IXFR (issue 16: a change costs the change, for IXFR
// as for the API): tandem A serves the bench zone of --names names as primary (transfer allowed to loopback, NOTIFY
// to B); tandem B is its secondary (`dnssec: live`, compact denial). After B serves the zone signed, --changes times:
// one TXT POST to A's API, then dig polls B every 20 ms until it answers the new record. Prints one JSON line: B's
// first transfer (ms to its first signed answer, RSS), and per change the API's time at A, the time until B served
// it (from the POST), and B's VmRSS before and after.
//
//   npm run build && node bench/secondary-ixfr.mjs [--names 200000] [--changes 4] [--secondary PATH/dist/cli/main.js]
//
// --secondary runs B from another build (an A/B of the secondary side). Everything lives in a temp folder that is
// removed; both servers are stopped by their PIDs.
import { parseArgs } from 'node:util';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ownerLabels, writeTandemYaml, ORIGIN } from './lib/zonegen.mjs';
import { startDaemon, freePort, run, sleep, stopAll, waitFor } from './lib/proc.mjs';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: o } = parseArgs({ options: {
  names: { type: 'string', default: '200000' }, changes: { type: 'string', default: '4' }, secondary: { type: 'string' },
} });
const names = Number(o.names), changes = Number(o.changes);
if (!(names > 0 && names <= 2_000_000 && changes > 0 && changes <= 100)) throw new Error('--names in (0, 2000000], --changes in (0, 100]');
const main = join(REPO, 'dist/cli/main.js');
const secondaryMain = o.secondary ?? main;
const zone = ORIGIN.slice(0, -1);

const dir = mkdtempSync(join(tmpdir(), 'tandem-secondary-ixfr-'));
const token = 'secondary-ixfr-token';
const rss = (pid) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024);
const signed = (port) => async () => (await run('dig', ['+dnssec', '+time=1', '+tries=1', '-p', String(port), '@127.0.0.1', ORIGIN, 'SOA'], { timeoutMs: 5000 })).stdout.includes('RRSIG');
try {
  const [pa, pb, api] = [await freePort(), await freePort(), await freePort()];
  mkdirSync(join(dir, 'a'));
  mkdirSync(join(dir, 'b'));
  const fa = join(dir, 'a', `${zone}.yaml`);
  await writeTandemYaml(fa, ownerLabels(names), {});
  writeFileSync(fa, readFileSync(fa, 'utf8').replace('zone:\n', `zone:\n  transfer:\n    allow: [{ address: 127.0.0.1/32 }]\n    notify: ["127.0.0.1:${pb}"]\n`));
  writeFileSync(join(dir, 'b', `${zone}.yaml`), `zone:\n  secondary:\n    primaries: ["127.0.0.1:${pa}"]\n    dnssec: live\n  dnssec: { denial: compact }\n`);
  const la = openSync(join(dir, 'a.log'), 'a'), lb = openSync(join(dir, 'b.log'), 'a');
  const A = startDaemon('primary', process.execPath, [main, 'serve', '--zones', join(dir, 'a'), '--state', join(dir, 'state-a'),
    '--listen', `127.0.0.1:${pa}`, '--api', `127.0.0.1:${api}`, `--api-token=${token}`, '--log-level', 'warn'], { logFd: la, cwd: REPO });
  await waitFor('primary answers signed', signed(pa), { timeoutMs: 300_000, abortIf: () => (A.alive ? undefined : 'primary exited') });
  const t0 = Date.now();
  const B = startDaemon('secondary', process.execPath, [secondaryMain, 'serve', '--zones', join(dir, 'b'), '--state', join(dir, 'state-b'),
    '--listen', `127.0.0.1:${pb}`, '--log-level', 'warn'], { logFd: lb, cwd: REPO });
  closeSync(la);
  closeSync(lb);
  await waitFor('secondary answers signed', signed(pb), { timeoutMs: 300_000, abortIf: () => (B.alive ? undefined : 'secondary exited') });
  const first = { ms: Date.now() - t0, rssMiB: rss(B.pid) };
  await sleep(5000); // the secondary's background signing settles
  const call = async (method, path, body) => {
    const r = await (await fetch(`http://127.0.0.1:${api}/client/v4${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body && JSON.stringify(body) })).json();
    if (!r.success) throw new Error(`${method} ${path}: ${JSON.stringify(r.errors)}`);
    return r.result;
  };
  const id = (await call('GET', `/zones?name=${zone}`))[0].id;
  const out = [];
  for (let i = 0; i < changes; i++) {
    const before = rss(B.pid), c0 = Date.now();
    await call('POST', `/zones/${id}/dns_records`, { type: 'TXT', name: `ixfr${i}.${zone}`, content: `"v${i}"`, ttl: 60 });
    const apiMs = Date.now() - c0;
    await waitFor('secondary serves the change', async () => (await run('dig', ['+short', '+time=1', '+tries=1', '-p', String(pb), '@127.0.0.1', `ixfr${i}.${ORIGIN}`, 'TXT'], { timeoutMs: 5000 })).stdout.includes(`v${i}`), { timeoutMs: 300_000, intervalMs: 20 });
    out.push({ apiMs, servedMs: Date.now() - c0, rssMiB: [before, rss(B.pid)] });
    await sleep(2000);
  }
  console.log(JSON.stringify({ names, secondary: secondaryMain, first, changes: out }));
} finally {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
}
