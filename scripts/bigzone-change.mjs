#!/usr/bin/env node
// Measures what an admin API change costs on a large signed zone (issue 16): generates the bench zone of N
// names (bench/lib/zonegen.mjs) in a temp folder, starts `node dist/cli/main.js serve --workers 1`, and reports
// the time to the first signed answer, then for one POST, one filtered list, one PATCH and one DELETE of a
// record: the wall time of the request (curl's view: until the API answered, which is after the change is
// durable and served) and the server's VmRSS before and after (VmHWM too). Each change is checked with dig.
//
//   npm run build && node scripts/bigzone-change.mjs [--records 1000000] [--denial nsec3-chain] [--settle-s 30] [--cpu-prof DIR]
//     [--format yaml|master]
//
// --format master serves the same zone from an RFC 1035 master file (bench.test.zone, with bench.test.yaml beside it
// holding only the DNSSEC settings), as an operator of a large zone exported from another server would.
// --cpu-prof DIR passes `--cpu-prof --cpu-prof-dir DIR` to the server (the profile is written when it stops);
// BIGZONE_TRACE_GC=1 passes --trace-gc (its lines go to serve.log in the folder --keep keeps).
// Prints one JSON line at the end. The zone and state live in a temp folder that is removed (--keep keeps it).
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ORIGIN, ownerLabels, writeMasterFile, writeTandemYaml } from '../bench/lib/zonegen.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opt } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    denial: { type: 'string' },
    format: { type: 'string', default: 'yaml' },
    'cpu-prof': { type: 'string' },
    keep: { type: 'boolean', default: false },
    'timeout-s': { type: 'string', default: '600' },
    // After the first signed answer the server presigns up to 100,000 RRsets in the background: let it finish,
    // so the changes' time and RSS are theirs.
    'settle-s': { type: 'string', default: '30' },
  },
});
const n = Number(opt.records);
const timeoutMs = Number(opt['timeout-s']) * 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mib = (kib) => Math.round(kib / 1024);

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function sh(cmd, args, ms = 30_000) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: ms, killSignal: 'SIGKILL', maxBuffer: 256 << 20 }, (err, stdout, stderr) => resolve({ ok: !err, stdout, stderr }));
  });
}

function status(pid) {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0);
  // utime + stime of every thread (the parser thread included), in clock ticks (USER_HZ, 100 on Linux):
  // the work a request cost, which a busy machine stretches less than the wall time.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { rss: field('VmRSS'), hwm: field('VmHWM'), cpuMs: (Number(f[11]) + Number(f[12])) * 10 };
}

const dir = mkdtempSync(join(tmpdir(), 'tandem-bigzone-'));
mkdirSync(join(dir, 'zones'));
const labels = ownerLabels(n);
console.error(`generating ${n} names in ${dir}`);
const zoneBase = join(dir, 'zones', ORIGIN.slice(0, -1));
if (opt.format === 'master') {
  await writeMasterFile(`${zoneBase}.zone`, labels);
  writeFileSync(`${zoneBase}.yaml`, `zone:\n  dnssec:\n    enabled: true\n${opt.denial ? `    denial: ${opt.denial}\n` : ''}`);
} else if (opt.format === 'yaml') await writeTandemYaml(`${zoneBase}.yaml`, labels, { denial: opt.denial });
else throw new Error(`--format ${opt.format}: yaml or master`);

const [dnsPort, apiPort] = [await freePort(), await freePort()];
const token = 'bigzone-bench-token';
const nodeArgs = [...(opt['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', opt['cpu-prof']] : []), ...(process.env.BIGZONE_TRACE_GC ? ['--trace-gc'] : [])];
const log = openSync(join(dir, 'serve.log'), 'a');
const t0 = performance.now();
const child = spawn(process.execPath, [...nodeArgs, join(root, 'dist/cli/main.js'), 'serve', '--zones', join(dir, 'zones'), '--state', join(dir, 'state'),
  '--listen', `127.0.0.1:${dnsPort}`, '--api', `127.0.0.1:${apiPort}`, '--api-token', token, '--workers', '1', '--log-level', 'warn'],
{ stdio: ['ignore', log, log] });
let exited = false;
child.on('exit', () => { exited = true; });
const stop = async () => {
  if (exited) return;
  child.kill('SIGTERM');
  for (let i = 0; i < 100 && !exited; i++) await sleep(100);
  if (!exited) child.kill('SIGKILL');
};
process.on('SIGINT', () => { void stop().then(() => process.exit(130)); });

const dig = (name, type) => sh('dig', ['+dnssec', '+norec', '+time=2', '+tries=1', '-p', String(dnsPort), '@127.0.0.1', name, type]);
const api = `http://127.0.0.1:${apiPort}/client/v4`;
async function call(method, path, body) {
  const t = performance.now();
  const res = await fetch(`${api}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body && JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
  const json = await res.json();
  const ms = performance.now() - t;
  if (!json.success) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json.errors)}`);
  return { json, ms };
}

const out = { records: n + 6, format: opt.format, denial: opt.denial ?? 'default', node: process.version };
try {
  // Time to the first signed answer (SOA with its RRSIG).
  for (;;) {
    if (exited) throw new Error(`tandem serve exited; see ${join(dir, 'serve.log')}`);
    if (performance.now() - t0 > timeoutMs) throw new Error('no signed answer in time');
    const r = await dig(ORIGIN, 'SOA');
    if (r.ok && /\sRRSIG\s+SOA\s/.test(r.stdout)) break;
    await sleep(250);
  }
  out.loadSeconds = +((performance.now() - t0) / 1000).toFixed(1);
  out.rssAfterLoadMiB = mib(status(child.pid).rss);
  console.error(`first signed answer after ${out.loadSeconds} s, RSS ${out.rssAfterLoadMiB} MiB`);
  await sleep(Number(opt['settle-s']) * 1000);
  out.rssSettledMiB = mib(status(child.pid).rss);

  const { json: zones } = await call('GET', `/zones?name=${ORIGIN.slice(0, -1)}`);
  const zid = zones.result[0].id;
  const step = async (what, fn, check) => {
    const before = status(child.pid);
    const { json, ms } = await fn();
    const after = status(child.pid);
    const ok = check ? await check(json) : true;
    out[what] = { ms: Math.round(ms), cpuMs: after.cpuMs - before.cpuMs, rssBeforeMiB: mib(before.rss), rssAfterMiB: mib(after.rss), growthMiB: mib(after.rss - before.rss), hwmMiB: mib(after.hwm), served: ok };
    console.error(`${what}: ${Math.round(ms)} ms (server CPU ${after.cpuMs - before.cpuMs} ms), RSS ${mib(before.rss)} -> ${mib(after.rss)} MiB (peak ${mib(after.hwm)}), served: ${ok}`);
    return json;
  };
  const name = `bigzone-change.${ORIGIN.slice(0, -1)}`;
  // Served: the answer holds the value with its RRSIG; gone: no A record in the answer (compact denial, RFC 9824,
  // answers NOERROR with an NXNAME NSEC rather than NXDOMAIN).
  const served = (value) => async () => {
    const r = await dig(name, 'A');
    const answer = r.stdout.split(';; ANSWER SECTION:')[1]?.split('\n\n')[0] ?? '';
    return value === undefined ? r.ok && !/\sIN\s+A\s/.test(answer) : answer.includes(value) && /\sRRSIG\s+A\s/.test(answer);
  };
  const post = await step('post', () => call('POST', `/zones/${zid}/dns_records`, { type: 'A', name, content: '192.0.2.1', ttl: 300 }), served('192.0.2.1'));
  const id = post.result.id;
  await step('list', () => call('GET', `/zones/${zid}/dns_records?name=${name}&type=A`), undefined);
  await step('listOther', () => call('GET', `/zones/${zid}/dns_records?name=${labels[n >> 1]}.${ORIGIN.slice(0, -1)}&type=A`), undefined);
  await step('patch', () => call('PATCH', `/zones/${zid}/dns_records/${id}`, { content: '192.0.2.2' }), served('192.0.2.2'));
  await step('delete', () => call('DELETE', `/zones/${zid}/dns_records/${id}`), served(undefined));
  await step('post2', () => call('POST', `/zones/${zid}/dns_records`, { type: 'A', name, content: '192.0.2.3', ttl: 300 }), served('192.0.2.3'));
} catch (err) {
  out.error = err.message;
  console.error(err.message);
} finally {
  await stop();
  if (!opt.keep) rmSync(dir, { recursive: true, force: true });
  else console.error(`kept ${dir}`);
}
console.log(JSON.stringify(out));
process.exitCode = out.error ? 1 : 0;
