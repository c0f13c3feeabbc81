// The flood part of the bench (`--only flood`, issue 15): a random-subdomain flood (DO=1, fresh random labels, from
// several loopback source addresses) at each offered rate, with a steady probe of existing names beside it. Per
// server and rate: the fraction of probes answered correctly (NOERROR, A + RRSIG, not truncated, within the probe
// timeout), their p50/p99 latency, the server's CPU (all its processes, % of one core) and RSS at the end, and
// what the flood got back (answers, TC=1). tandem in each denial mode (compact is its default), Knot pre-signed and
// PowerDNS live-signing as references when installed. Flooder and prober are processes of their own
// (flood-worker.mjs); every server is stopped by PID.
import { mkdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { run, freePort, processTree, treeRssBytes, sleep } from './proc.mjs';
import { ownerLabels, writeMasterFile, writeTandemYaml, ORIGIN } from './zonegen.mjs';
import { tandem, knot, powerdns } from './servers.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const WORKER = join(HERE, 'flood-worker.mjs');
// `compact+rrl`: compact denial with response rate limiting on (`--rrl 5`, BIND-like defaults otherwise): the flood's
// sources share one /24 (and the probe's), so its NXNAME answers draw on one account while each probed name has its own.
export const FLOOD_MODES = ['compact', 'nsec', 'nsec3', 'nsec3-chain', 'nsec-chain', 'compact+rrl'];
/** Source addresses of the flood (Linux answers on all of 127/8). */
const SOURCES = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7', '127.0.0.8', '127.0.0.9'];

/** CPU seconds (user + system) used so far by pid and its descendants (/proc/PID/stat, USER_HZ = 100). */
function cpuSeconds(pid) {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(f[11]) + Number(f[12]); // utime, stime (fields 14, 15)
    } catch { /* exited */ }
  }
  return ticks / 100;
}

function worker(args, timeoutMs) {
  return run(process.execPath, [WORKER, JSON.stringify(args)], { timeoutMs }).then((r) => {
    if (r.code !== 0) throw new Error(`flood-worker ${args.role} exited ${r.code}: ${r.stderr.trim().slice(-500)}`);
    return JSON.parse(r.stdout.trim().split('\n').at(-1));
  });
}

/** One flood at `rate` q/s for `seconds` beside the probe, against a server listening on `port` (pid: its process). */
export async function floodOnce({ port, pid, rate, seconds, probeRate, names, timeoutMs, alive = () => true }) {
  const limit = (seconds + 30) * 1000;
  const probeArgs = { role: 'probe', port, seconds: seconds + 2, rate: probeRate, names, origin: ORIGIN, timeoutMs };
  const cpu0 = cpuSeconds(pid), t0 = performance.now();
  const probeP = worker(probeArgs, limit);
  await sleep(1000); // the probe runs alone for a second first, then beside the flood
  const c1 = cpuSeconds(pid), t1 = performance.now();
  const flood = await worker({ role: 'flood', port, seconds, rate, sources: SOURCES, origin: ORIGIN }, limit);
  const c2 = cpuSeconds(pid), t2 = performance.now();
  const rssBytes = treeRssBytes(pid);
  const exited = !alive();
  const probe = await probeP;
  if (exited) return { rate, seconds, probe, flood, loadavg1: loadavg()[0], exited: true, serverCpuPercent: null, rssBytes: null };
  return {
    rate, seconds, probe, flood, loadavg1: loadavg()[0],
    serverCpuPercent: (100 * (c2 - c1)) / ((t2 - t1) / 1000),
    serverCpuBeforePercent: (100 * (c1 - cpu0)) / ((t1 - t0) / 1000),
    rssBytes,
  };
}

/** A server entry: prepare, start, probe warm-up, one flood per rate (each after a pause), stop. */
async function measureServer({ srv, id, label, dir, zone, opt, names, log }) {
  const entry = { id, label, signing: srv.signing, rates: [] };
  const why = await srv.available();
  if (why) { entry.error = why; log(`flood: skipping ${id}: ${why}`); return entry; }
  let handle;
  try {
    log(`flood: ${id}: prepare + start`);
    await srv.prepare(dir, zone);
    const port = await freePort();
    ({ handle } = await srv.start(dir, port));
    if (srv.id === 'tandem') entry.workers = srv.workers;
    // Warm-up: every probe name asked once (caches filled, as for a resolver's steady traffic).
    await worker({ role: 'probe', port, seconds: 2, rate: Math.max(names.length / 2, 100), names, origin: ORIGIN, timeoutMs: opt.floodTimeoutMs }, 30_000);
    for (const rate of opt.floodRates) {
      if (!handle.alive) throw new Error(`${id} exited: ${JSON.stringify(handle.exitInfo)}`);
      const r = await floodOnce({ port, pid: handle.pid, rate, seconds: opt.floodSeconds, probeRate: opt.probeRate, names, timeoutMs: opt.floodTimeoutMs, alive: () => handle.alive });
      entry.rates.push(r);
      if (r.exited) throw new Error(`${id} exited during the ${rate} q/s flood: ${JSON.stringify(handle.exitInfo)}`);
      log(`flood: ${id} ${rate} q/s offered (${Math.round(r.flood.sentPerSec)} sent): probes ${(100 * r.probe.answeredFraction).toFixed(1)} % answered, p50 ${r.probe.p50Ms?.toFixed(2)} ms, p99 ${r.probe.p99Ms?.toFixed(2)} ms; server CPU ${r.exited ? '–' : Math.round(r.serverCpuPercent)} %, RSS ${r.exited ? '–' : (r.rssBytes / 2 ** 20).toFixed(0)} MiB; flood answered ${Math.round(r.flood.answers / r.flood.sent * 100)} % (TC ${r.flood.truncated})`);
      await sleep(2000); // let queues drain before the next rate
    }
  } catch (err) {
    entry.error = err.message;
    log(`flood: ${id} failed: ${err.message}`);
  } finally {
    if (handle) entry.stop = await handle.stop();
  }
  return entry;
}

/**
 * The flood part. `opt`: { workers, floodRates, floodSeconds, probeRate, floodTimeoutMs, floodModes, servers,
 * dnsZone }; `work`: a temporary folder; `repo`: tandem's checkout (dist/ built).
 */
export async function floodBench({ opt, work, repo, log }) {
  const dir = join(work, 'flood');
  mkdirSync(dir, { recursive: true });
  const labels = ownerLabels(opt.dnsZone);
  const zone = { master: join(dir, 'bench.test.zone'), yaml: join(dir, 'bench.test.yaml') };
  await writeMasterFile(zone.master, labels);
  const names = labels.slice(0, 1000);
  const out = {
    zoneNames: labels.length, rates: opt.floodRates, seconds: opt.floodSeconds, probeRate: opt.probeRate, probeTimeoutMs: opt.floodTimeoutMs,
    probeNames: names.length, sources: SOURCES, servers: [],
  };
  if (opt.servers.includes('tandem')) {
    for (const mode of opt.floodModes) {
      const denial = mode.replace(/\+rrl$/, '');
      const srv = tandem({ repo, workers: opt.workers, denial: denial === 'compact' ? undefined : denial, args: mode.endsWith('+rrl') ? ['--rrl', '5'] : [] });
      const sdir = join(dir, `tandem-${mode}`);
      mkdirSync(sdir, { recursive: true });
      const yaml = join(sdir, 'bench.test.yaml');
      await writeTandemYaml(yaml, labels, { denial: denial === 'compact' ? undefined : denial });
      out.servers.push(await measureServer({ srv, id: `tandem-${mode}`, label: `tandem ${mode}`, dir: sdir, zone: { ...zone, yaml }, opt, names, log }));
    }
  }
  for (const [key, make] of [['knot', knot], ['pdns', powerdns]]) {
    if (!opt.servers.includes(key)) continue;
    const srv = make();
    out.servers.push(await measureServer({ srv, id: srv.id, label: srv.label, dir: join(dir, srv.id), zone, opt, names, log }));
  }
  return out;
}

const pct = (x) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)} %`);
const ms = (x) => (x === null || x === undefined ? '–' : x.toFixed(2));

/** The flood section of the report (markdown). */
export function floodMarkdown(f) {
  if (!f) return '';
  const lines = [
    '## Random-subdomain flood (issue 15)',
    '',
    `Flood: fresh random names under the zone, DO=1, from ${f.sources.length} loopback addresses, ${f.seconds} s per rate; probe: ${f.probeRate} q/s for ` +
      `${f.probeNames} existing names (DO=1) from 127.0.0.1, an answer counts when NOERROR with A + RRSIG, not truncated, within ${f.probeTimeoutMs} ms. ` +
      'CPU: the server\'s processes during the flood, % of one core; RSS at its end; load: the machine\'s 1-minute load average after the flood (other work on the cores skews every figure).',
    '',
    '| server | offered q/s | flood sent q/s | probes answered | probe p50 ms | probe p99 ms | server CPU | RSS MiB | flood answered | flood TC=1 | load |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const s of f.servers) {
    if (s.error && s.rates.length === 0) { lines.push(`| ${s.label} | ${s.error} | | | | | | | | | |`); continue; }
    for (const r of s.rates) {
      lines.push(`| ${s.label}${s.workers ? ` (${s.workers} workers)` : ''} | ${r.rate} | ${Math.round(r.flood.sentPerSec)} | ${pct(r.probe.answeredFraction)} | ${ms(r.probe.p50Ms)} | ${ms(r.probe.p99Ms)} | ${r.exited ? 'exited' : `${Math.round(r.serverCpuPercent)} %`} | ${r.exited ? '–' : (r.rssBytes / 2 ** 20).toFixed(0)} | ${pct(r.flood.answers / r.flood.sent)} | ${pct(r.flood.truncated / r.flood.sent)} | ${r.loadavg1?.toFixed(1) ?? '–'} |`);
    }
    if (s.error) lines.push(`| ${s.label} | failed: ${s.error} | | | | | | | | | |`);
  }
  lines.push('');
  return lines.join('\n');
}
