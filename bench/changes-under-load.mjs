#!/usr/bin/env node
// Admin changes while the server answers a stream of random names (issue 16: "a change costs the change"; an
// ACME client adding and removing TXT records on a zone under a random-subdomain flood).
//
//   npm run build && node bench/changes-under-load.mjs [--names 10000] [--denial nsec3-chain] [--rate 1] [--seconds 8]
//     [--workers 2] [--no-load]
//
// Generates the bench zone (bench/lib/zonegen.mjs), starts `dist/cli/main.js serve --workers N`, waits until it
// answers signed and 3 s more (the chain signed and pushed to the workers), then runs dnsperf -c10 -q100 -D on
// fresh random names for --seconds + 2 s (none with --no-load) and, from its second second, POSTs one TXT record
// every 1/--rate s through the Cloudflare-shaped API (each waits for the one before). Prints one JSON line: the
// changes made, their latency (p50, p90, max: until the API answered, i.e. served by every worker), the primary's
// CPU over the changes (% of one core; the workers are other processes) and dnsperf's queries per second.
// Everything lives in a temp folder that is removed; the server is stopped by its PID.
import { parseArgs } from 'node:util';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ownerLabels, writeTandemYaml, writeRandomNxQueries, ORIGIN } from './lib/zonegen.mjs';
import { startDaemon, freePort, run, sleep, stopAll, waitFor } from './lib/proc.mjs';
import { dnsperf } from './lib/dnsperf.mjs';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: o } = parseArgs({ options: {
  names: { type: 'string', default: '10000' }, denial: { type: 'string', default: 'nsec3-chain' }, rate: { type: 'string', default: '1' },
  seconds: { type: 'string', default: '8' }, workers: { type: 'string', default: '2' }, 'no-load': { type: 'boolean', default: false },
} });
const names = Number(o.names), rate = Number(o.rate), seconds = Number(o.seconds);
if (!(names > 0 && rate > 0 && rate <= 100 && seconds > 0 && seconds <= 600)) throw new Error('--names > 0, --rate in (0, 100], --seconds in (0, 600]');

const dir = mkdtempSync(join(tmpdir(), 'tandem-changes-'));
const token = 'changes-under-load-token';
let server;
try {
  mkdirSync(join(dir, 'zones'));
  await writeTandemYaml(join(dir, 'zones', `${ORIGIN.slice(0, -1)}.yaml`), ownerLabels(names), { denial: o.denial });
  const queries = join(dir, 'random.txt');
  await writeRandomNxQueries(queries, Math.ceil(150_000 * (seconds + 2)));
  const [port, api] = [await freePort(), await freePort()];
  const logFd = openSync(join(dir, 'serve.log'), 'a');
  server = startDaemon('tandem', process.execPath, [join(REPO, 'dist/cli/main.js'), 'serve', '--zones', join(dir, 'zones'), '--state', join(dir, 'state'),
    '--listen', `127.0.0.1:${port}`, '--api', `127.0.0.1:${api}`, `--api-token=${token}`, '--workers', o.workers, '--log-level', 'warn'], { logFd, cwd: REPO });
  closeSync(logFd);
  await waitFor('tandem answers signed', async () => (await run('dig', ['+dnssec', '+time=1', '+tries=1', '-p', String(port), '@127.0.0.1', ORIGIN, 'SOA'], { timeoutMs: 5000 })).stdout.includes('RRSIG'),
    { timeoutMs: 120_000, abortIf: () => (server.alive ? undefined : `tandem exited: ${readFileSync(join(dir, 'serve.log'), 'utf8').slice(-2000)}`) });
  await sleep(3000);
  const call = async (method, path, body) => {
    const r = await fetch(`http://127.0.0.1:${api}/client/v4${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
    const j = await r.json();
    if (!j.success) throw new Error(`${method} ${path}: ${JSON.stringify(j.errors)}`);
    return j.result;
  };
  const id = (await call('GET', `/zones?name=${ORIGIN.slice(0, -1)}`))[0].id;
  const cpuMs = () => { const f = readFileSync(`/proc/${server.pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
  const load = o['no-load'] ? sleep((seconds + 2) * 1000).then(() => undefined) : dnsperf({ port, file: queries, seconds: seconds + 2, dnssecOk: true });
  await sleep(1000);
  const c0 = cpuMs(), t0 = Date.now(), lat = [];
  for (let n = 0; Date.now() - t0 < seconds * 1000; n++) {
    const s = Date.now();
    await call('POST', `/zones/${id}/dns_records`, { type: 'TXT', name: `_acme-challenge.c${n}.${ORIGIN.slice(0, -1)}`, content: `"token ${n}"`, ttl: 60 });
    lat.push(Date.now() - s);
    const wait = 1000 / rate - (Date.now() - s);
    if (wait > 0) await sleep(wait);
  }
  const cpu = cpuMs() - c0, wall = Date.now() - t0;
  const perf = await load;
  lat.sort((a, b) => a - b);
  console.log(JSON.stringify({
    names, denial: o.denial, workers: Number(o.workers), rate, load: !o['no-load'], changes: lat.length,
    changeMs: { p50: lat[lat.length >> 1], p90: lat[Math.floor(lat.length * 0.9)], max: lat.at(-1) },
    primaryCpuPct: Math.round((100 * cpu) / wall), qps: perf ? Math.round(perf.qps) : null,
  }));
} finally {
  await server?.stop();
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
}
