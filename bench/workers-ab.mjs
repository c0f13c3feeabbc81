#!/usr/bin/env node
// Cached-answer throughput of two builds of tandem, alternated (A B A B ...) so that a busy machine weighs on
// both alike: dnsperf -c10 -q100, DO=1, on existing names of a generated zone (bench/lib/zonegen.mjs).
//
//   node bench/workers-ab.mjs --a /tmp/main/dist/cli/main.js --b dist/cli/main.js [--records 10k] [--workers 2] [--rounds 3] [--seconds 10] [--nx]
// --nx: fresh random NXDOMAIN names instead (every answer made afresh: the uncached path).
import { parseArgs } from 'node:util';
import { mkdirSync, rmSync, openSync, closeSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ownerLabels, writeTandemYaml, writePositiveQueries, writeRandomNxQueries } from './lib/zonegen.mjs';
import { startDaemon, freePort, stopAll, processTree } from './lib/proc.mjs';
import { signedSoa } from './lib/servers.mjs';
import { waitFor } from './lib/proc.mjs';
import { dnsperf } from './lib/dnsperf.mjs';

const { values } = parseArgs({ options: {
  a: { type: 'string' }, b: { type: 'string' }, records: { type: 'string', default: '10k' }, workers: { type: 'string', default: '2' },
  rounds: { type: 'string', default: '3' },
  /** Fresh random non-existent names instead of existing ones (every answer a miss: the uncached path). */
  nx: { type: 'boolean', default: false }, seconds: { type: 'string', default: '10' }, dir: { type: 'string', default: '/tmp/tandem-workers-ab' },
} });
if (!values.a || !values.b) throw new Error('--a and --b: the two dist/cli/main.js to compare');
const m = /^(\d+)([kM]?)$/.exec(values.records);
const records = Number(m[1]) * (m[2] === 'k' ? 1e3 : m[2] === 'M' ? 1e6 : 1);
const dir = join(values.dir, String(records));
mkdirSync(join(dir, 'zones'), { recursive: true });
const queries = join(dir, 'queries.txt');
if (!existsSync(queries)) {
  const labels = ownerLabels(records);
  await writeTandemYaml(join(dir, 'zones', 'bench.test.yaml'), labels);
  await writePositiveQueries(queries, labels);
}

/**
 * CPU time (user + system, clock ticks of 10 ms) of pid's descendants, the workers: divided by the answers it
 * gives the cost of one answer, which a busy machine does not change as much as it changes queries per second.
 */
function workersTicks(pid) {
  let sum = 0;
  for (const p of processTree(pid).slice(1)) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
      sum += Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15 of stat)
    } catch { /* exited */ }
  }
  return sum;
}

async function once(main, label) {
  const state = join(dir, `state-${label}`);
  rmSync(state, { recursive: true, force: true });
  mkdirSync(state, { recursive: true, mode: 0o700 });
  const port = await freePort();
  const fd = openSync(join(dir, `${label}.log`), 'w');
  const srv = startDaemon(label, process.execPath, [main, 'serve', '--zones', join(dir, 'zones'), '--state', state, '--listen', `127.0.0.1:${port}`, '--api', 'off', '--log-level', 'warn', '--workers', values.workers], { logFd: fd });
  closeSync(fd);
  try {
    await waitFor(`${label} ready`, () => signedSoa(port), { timeoutMs: 600_000, intervalMs: 200, abortIf: () => (srv.alive ? undefined : 'exited') });
    if (values.nx) {
      const file = join(dir, `nx-${label}.txt`);
      await writeRandomNxQueries(file, 2_000_000);
      const r = await dnsperf({ port, file, seconds: Number(values.seconds), dnssecOk: true });
      return { qps: Math.round(r.qps), lost: r.lost };
    }
    // One pass to warm the caches, then the measured run.
    await dnsperf({ port, file: queries, seconds: 6, dnssecOk: true });
    const t0 = workersTicks(srv.pid);
    const r = await dnsperf({ port, file: queries, seconds: Number(values.seconds), dnssecOk: true });
    const ticks = workersTicks(srv.pid) - t0;
    return { qps: Math.round(r.qps), lost: r.lost, workerUsPerAnswer: r.completed ? +((ticks * 10_000) / r.completed).toFixed(2) : undefined };
  } finally {
    await srv.stop(15_000);
  }
}

const out = { a: [], b: [] };
const us = { a: [], b: [] };
try {
  for (let i = 0; i < Number(values.rounds); i++) {
    for (const k of i % 2 ? ['b', 'a'] : ['a', 'b']) {
      const r = await once(values[k], k);
      out[k].push(r.qps);
      if (r.workerUsPerAnswer !== undefined) us[k].push(r.workerUsPerAnswer);
      console.error(JSON.stringify({ round: i, build: k, ...r }));
    }
  }
} finally {
  await stopAll();
}
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
console.log(JSON.stringify({ records, workers: Number(values.workers), a: out.a, b: out.b, medianA: median(out.a), medianB: median(out.b), bOverA: +(median(out.b) / median(out.a)).toFixed(3),
  workerUsPerAnswerA: us.a, workerUsPerAnswerB: us.b }));
