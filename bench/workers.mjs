#!/usr/bin/env node
// Memory and change propagation of `tandem serve --workers N` on a large zone (issue 16, "Workers").
//
//   node bench/workers.mjs [--records 1M] [--workers 1,2] [--seconds 10] [--dir /tmp/tandem-workers] [--main dist/cli/main.js]
//
// For each worker count: starts `dist/cli/main.js serve` on the generated zone (bench/lib/zonegen.mjs,
// DNSSEC on), waits until /ready, then reports
//   - the memory of the whole process tree: VmRSS summed and PSS summed (/proc/PID/smaps_rollup; PSS
//     splits pages shared between processes, so it is the honest "how much RAM does this take"),
//   - one admin API change (a TXT record): time until the API answers 200, and time until that many
//     consecutive queries for the new name over UDP all answer it (the datagrams spread over the workers),
//   - dnsperf -c10 -q100, DO=1, on existing names (cached answers), queries per second,
//   - the tree's memory again after the change.
// Every process is started in its own group and stopped by PID (lib/proc.mjs).
import { parseArgs } from 'node:util';
import { existsSync, mkdirSync, readFileSync, rmSync, openSync, closeSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSocket } from 'node:dgram';
import { request } from 'node:http';
import { ownerLabels, writeTandemYaml, writePositiveQueries, ORIGIN } from './lib/zonegen.mjs';
import { startDaemon, freePort, processTree, waitFor, sleep, stopAll } from './lib/proc.mjs';
import { dnsperf } from './lib/dnsperf.mjs';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: {
  records: { type: 'string', default: '1M' }, workers: { type: 'string', default: '1,2' },
  seconds: { type: 'string', default: '10' }, dir: { type: 'string', default: '/tmp/tandem-workers' },
  probes: { type: 'string', default: '40' },
  'log-level': { type: 'string', default: 'warn' },
  /** Skip the dnsperf run (e.g. with --log-level debug, which logs every query). */
  'no-perf': { type: 'boolean', default: false },
  /** Another build to measure (e.g. a copy of main's dist/ for a before/after). */
  main: { type: 'string', default: join(REPO, 'dist/cli/main.js') },
} });
const size = (s) => { const m = /^(\d+)([kM]?)$/.exec(s); if (!m) throw new Error(`bad size ${s}`); return Number(m[1]) * (m[2] === 'k' ? 1e3 : m[2] === 'M' ? 1e6 : 1); };
const records = size(values.records);
const counts = values.workers.split(',').map(Number);
const seconds = Number(values.seconds);
const probes = Number(values.probes);
const TOKEN = 'bench-workers-token';

/** Memory of pid's tree: { rss, pss } in bytes, and the number of processes. */
export function treeMemory(pid) {
  let rss = 0; let pss = 0; let n = 0;
  for (const p of processTree(pid)) {
    try {
      const t = readFileSync(`/proc/${p}/smaps_rollup`, 'utf8');
      rss += Number(/^Rss:\s+(\d+) kB/m.exec(t)?.[1] ?? 0) * 1024;
      pss += Number(/^Pss:\s+(\d+) kB/m.exec(t)?.[1] ?? 0) * 1024;
      n++;
    } catch { /* exited */ }
  }
  return { rss, pss, processes: n };
}

/** A DNS query (RD=0) for `name` type TXT, id `id`. */
function query(name, id) {
  const labels = name.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  return Buffer.concat([Buffer.from([id >> 8, id & 255, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, 16, 0, 1])]);
}

/** Sends `n` queries for name one after the other; how many answered NOERROR with at least one answer record. */
async function probe(port, name, n) {
  const s = createSocket('udp4');
  await new Promise((r) => s.bind(0, '127.0.0.1', r));
  let ok = 0;
  try {
    for (let i = 0; i < n; i++) {
      const id = (i * 7919 + 1) & 0xffff;
      const got = await new Promise((resolve) => {
        const t = setTimeout(() => { s.off('message', on); resolve(undefined); }, 1000);
        const on = (m) => { if (m.readUInt16BE(0) !== id) return; clearTimeout(t); s.off('message', on); resolve(m); };
        s.on('message', on);
        s.send(query(name, id), port, '127.0.0.1');
      });
      if (got && (got[3] & 15) === 0 && got.readUInt16BE(6) > 0) ok++;
    }
  } finally { s.close(); }
  return ok;
}

/** An admin API call (node:http: no headers timeout, a change to a large zone may take minutes); 15 min at most. */
function api(base, method, path, body) {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/client/v4${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, timeout: 900_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => { let json; try { json = JSON.parse(text); } catch { /* not JSON */ } resolve({ status: res.statusCode, json }); });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 15 min`)));
    req.on('error', reject);
    req.end(body && JSON.stringify(body));
  });
}

const mib = (b) => Math.round(b / 2 ** 20);

async function measure(dir, workers, queryFile) {
  const state = join(dir, `state-${workers}`);
  rmSync(state, { recursive: true, force: true });
  mkdirSync(state, { recursive: true, mode: 0o700 });
  const port = await freePort();
  const apiPort = await freePort();
  const logFd = openSync(join(dir, `serve-${workers}.log`), 'w');
  const t0 = performance.now();
  const srv = startDaemon('tandem', process.execPath, [values.main, 'serve', '--zones', join(dir, 'zones'), '--state', state,
    '--listen', `127.0.0.1:${port}`, '--api', `127.0.0.1:${apiPort}`, '--api-token', TOKEN, '--log-level', values['log-level'], '--workers', String(workers)], { logFd, cwd: REPO });
  closeSync(logFd);
  const base = `http://127.0.0.1:${apiPort}`;
  try {
    await waitFor('ready', async () => (await fetch(`${base}/ready`).catch(() => undefined))?.status === 200, { timeoutMs: 900_000, intervalMs: 500, abortIf: () => (srv.alive ? undefined : 'exited') });
    const readyS = (performance.now() - t0) / 1000;
    await sleep(3000);
    const atReady = treeMemory(srv.pid);
    console.error(JSON.stringify({ workers, readyS: +readyS.toFixed(1), rssMiB: mib(atReady.rss), pssMiB: mib(atReady.pss), processes: atReady.processes }));
    const list = await api(base, "GET", `/zones?name=${ORIGIN.slice(0, -1)}`);
    const zone = list.json?.result?.[0]?.id;
    if (!zone) throw new Error(`zone not listed: ${JSON.stringify(list)} after ${readyS} s`);
    const name = `probe-${Date.now()}.${ORIGIN}`;
    const c0 = performance.now();
    const res = await api(base, 'POST', `/zones/${zone}/dns_records`, { type: 'TXT', name: name.slice(0, -1), content: 'workers bench', ttl: 300 });
    const apiMs = performance.now() - c0;
    console.error(JSON.stringify({ workers, changeApiMs: Math.round(apiMs), during: mib(treeMemory(srv.pid).pss) }));
    if (res.status !== 200) throw new Error(`change failed: ${res.status} ${JSON.stringify(res.json)}`);
    // Every worker must answer: `probes` consecutive queries (spread by the kernel) all see the new name.
    let allMs;
    for (let i = 0; i < 200 && allMs === undefined; i++) {
      if ((await probe(port, name, probes)) === probes) allMs = performance.now() - c0;
    }
    await sleep(2000);
    const afterChange = treeMemory(srv.pid);
    const perf = values['no-perf'] ? { qps: NaN, lost: undefined } : await dnsperf({ port, file: queryFile, seconds, dnssecOk: true });
    const afterPerf = treeMemory(srv.pid);
    return { workers, records, readyS: +readyS.toFixed(1), processes: atReady.processes,
      rssMiB: mib(atReady.rss), pssMiB: mib(atReady.pss), rssAfterChangeMiB: mib(afterChange.rss), pssAfterChangeMiB: mib(afterChange.pss),
      changeApiMs: Math.round(apiMs), changeEveryWorkerMs: allMs && Math.round(allMs), qpsCachedDo: Math.round(perf.qps), lost: perf.lost,
      pssAfterPerfMiB: mib(afterPerf.pss) };
  } finally {
    await srv.stop(15_000);
  }
}

const dir = values.dir;
mkdirSync(join(dir, 'zones'), { recursive: true });
const zoneFile = join(dir, 'zones', `${ORIGIN}yaml`);
const queryFile = join(dir, 'queries.txt');
if (!existsSync(zoneFile) || !existsSync(queryFile) || !existsSync(join(dir, `records-${records}`))) {
  const labels = ownerLabels(records);
  await writeTandemYaml(zoneFile, labels);
  await writePositiveQueries(queryFile, labels);
  closeSync(openSync(join(dir, `records-${records}`), 'w'));
}
try {
  for (const w of counts) {
    const r = await measure(dir, w, queryFile);
    console.log(JSON.stringify(r));
  }
} finally {
  await stopAll();
}
