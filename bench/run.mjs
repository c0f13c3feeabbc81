#!/usr/bin/env node
// tandem's benchmark suite (never part of the test suite). Entry of `npm run bench` (docs/bench.md).
//
//   node bench/run.mjs [--only signing|dns|scale|flood[,…]] [--runs N] [--seconds S] [--quick]
//                      [--servers tandem,knot,knot-nsec3,pdns] [--denial MODES|none] [--sizes 10k,100k,1M] [--dns-zone N] [--workers N]
//                      [--cpu-prof] [--profile-zone N] [--no-install] [--keep]
//
// Writes bench/results/latest.md, latest.json, throughput.svg, denial.svg and scale.svg (profile.md with
// --cpu-prof or --only profile); raw dnsperf output and the .cpuprofile files go to
// bench/results/raw/<timestamp>/ (git-ignored). Every server it starts is stopped by PID before it exits.
import { parseArgs } from 'node:util';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync, statSync, existsSync } from 'node:fs';
import { tmpdir, cpus, totalmem, availableParallelism, release, loadavg } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, freePort, stopAll, killAllSync, treeRssBytes, sleep } from './lib/proc.mjs';
import { ownerLabels, writeMasterFile, writeTandemYaml, writePositiveQueries, writeRandomNxQueries, ORIGIN } from './lib/zonegen.mjs';
import { tandem, knot, powerdns, tail } from './lib/servers.mjs';
import { floor } from './lib/floor.mjs';
import { adminChange } from './lib/change.mjs';
import { profileBench, profileMarkdown } from './lib/profile.mjs';
import { dnsperf, dnsperfLatency, DNSPERF_ARGS } from './lib/dnsperf.mjs';
import { signInWorkers, opensslSpeed, TBS_BYTES } from './lib/signing.mjs';
import { WORKLOADS, summarize, markdown, svg, denialSvg, scaleSvg, median } from './lib/report.mjs';
import { floodBench, floodMarkdown, FLOOD_MODES } from './lib/flood.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
/** tandem's denial modes other than its default (compact), each measured for (b) with --denial. */
const DENIAL_MODES = ['nsec', 'nsec3', 'nsec3-chain', 'nsec-chain'];
/** --servers choices, in the order they run (the default: all). knot-nsec3 is Knot signing with NSEC3, (b) only. */
const SERVERS = ['tandem', 'knot', 'knot-nsec3', 'pdns', 'floor'];
const REPO = dirname(HERE);
const RESULTS = join(HERE, 'results');

const USAGE = `Usage: node bench/run.mjs [options]        (npm run bench -- [options] builds first)
  --only PARTS      comma-separated: signing, dns, scale, flood, profile (default: signing, dns, scale, flood)
  --cpu-prof        add the profile part: tandem under node --cpu-prof for (a), (b) compact, (b) nsec3-chain
                    and one admin change on a large zone; self time by function in bench/results/profile.md
  --profile-zone N  names in the zone of the profiled admin change (default: the largest of --sizes)
  --runs N          measured dnsperf runs per server and workload; the median is reported (default 3)
  --seconds S       seconds per dnsperf run (default 10); signing runs S/2 seconds per figure
  --quick           smoke run: --seconds 2, 1 s warm-up, zone sizes 10k and 100k (runs stay 3)
  --servers LIST    comma-separated: tandem, knot, knot-nsec3, pdns, floor (default: all; knot-nsec3 is Knot
                    signing with NSEC3 (RFC 9276 parameters), (b) only; floor is a bare Node UDP server
                    answering one fixed packet, (a) and (c) only)
  --denial LIST     tandem's other denial modes measured for (b), one tandem each (default:
                    nsec,nsec3,nsec3-chain,nsec-chain; none: skip); compact is the main tandem's
  --sizes LIST      zone sizes for the scale part (default 10k,100k,1M)
  --scale-timeout S  limit per server and zone size for the scale part: a server that has not answered
                    by then is stopped, and a size whose load time, extrapolated linearly from the
                    previous size, would exceed it is skipped (default 300; --quick 180)
  --latency-qps Q   offered load of the extra verbose run that gives latency percentiles (default 5000)
  --dns-zone N      names in the zone served for the dnsperf part (default 10000)
  --workers N       tandem --workers (default: the number of cores, when tandem's --help lists the flag)
  --flood-rates L   offered flood rates in q/s for the flood part (default 20000,40000)
  --flood-modes L   tandem denial modes flooded (default compact,nsec,nsec3,nsec3-chain,nsec-chain)
  --udp-io MODE     tandem --udp-io: auto (default: batched recvmmsg/sendmmsg where native/udpio.node is
                    built), batched, dgram (Node's dgram, one call per datagram)
  --no-install      do not apt-get install missing peers (knot, pdns-server, pdns-backend-sqlite3, dnsperf)
  --keep            keep the temporary work directory (zones, server logs, query files)
`;

function parseSize(s) {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(s.trim());
  if (!m) throw new Error(`bad size '${s}' (use e.g. 10k, 100k, 1M)`);
  return Math.round(Number(m[1]) * (m[2] === '' ? 1 : /k/i.test(m[2]) ? 1e3 : 1e6));
}

function options() {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' }, runs: { type: 'string' }, seconds: { type: 'string' }, quick: { type: 'boolean' },
      'cpu-prof': { type: 'boolean' }, 'profile-zone': { type: 'string' },
      servers: { type: 'string' }, denial: { type: 'string' }, sizes: { type: 'string' }, 'scale-timeout': { type: 'string' }, 'latency-qps': { type: 'string' }, 'dns-zone': { type: 'string' }, workers: { type: 'string' },
      'flood-rates': { type: 'string' }, 'flood-modes': { type: 'string' }, 'udp-io': { type: 'string' },
      'no-install': { type: 'boolean' }, keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) { process.stdout.write(USAGE); process.exit(0); }
  const quick = !!values.quick;
  const parts = new Set((values.only ?? 'signing,dns,scale,flood').split(',').map((s) => s.trim()).filter(Boolean));
  if (values['cpu-prof']) parts.add('profile');
  for (const p of parts) if (!['signing', 'dns', 'scale', 'flood', 'profile'].includes(p)) throw new Error(`--only: unknown part '${p}'`);
  const servers = (values.servers ?? SERVERS.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of servers) if (!SERVERS.includes(s)) throw new Error(`--servers: unknown server '${s}' (${SERVERS.join(', ')})`);
  const denialModes = values.denial === 'none' ? [] : (values.denial ?? DENIAL_MODES.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  for (const m of denialModes) if (!DENIAL_MODES.includes(m)) throw new Error(`--denial: unknown mode '${m}' (${DENIAL_MODES.join(', ')} or none)`);
  const int = (v, d, name, min = 1) => {
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}`);
    return n;
  };
  const seconds = int(values.seconds, quick ? 2 : 10, '--seconds');
  const cores = availableParallelism();
  const sizes = (values.sizes ?? (quick ? '10k,100k' : '10k,100k,1M')).split(',').map(parseSize);
  return {
    quick, parts, servers, seconds, denialModes,
    runs: int(values.runs, 3, '--runs'),
    warmupSeconds: quick ? 1 : Math.min(3, seconds),
    latencySeconds: Math.min(3, seconds),
    latencyQps: int(values['latency-qps'], 5000, '--latency-qps'),
    scaleTimeoutS: int(values['scale-timeout'], quick ? 180 : 300, '--scale-timeout'),
    signSeconds: quick ? 2 : Math.max(2, Math.round(seconds / 2)),
    sizes,
    profileZone: values['profile-zone'] ? parseSize(values['profile-zone']) : Math.max(...sizes),
    dnsZone: values['dns-zone'] ? parseSize(values['dns-zone']) : 10_000,
    workers: int(values.workers, cores, '--workers'),
    udpIo: values['udp-io'] === undefined ? undefined : ['auto', 'batched', 'dgram'].includes(values['udp-io']) ? values['udp-io'] : (() => { throw new Error('--udp-io: auto, batched or dgram'); })(),
    get tandemArgs() { return this.udpIo ? ['--udp-io', this.udpIo] : []; },
    // The floor reads UDP as tandem does: batched unless tandem is told dgram or the addon is not built.
    get floorIo() { return this.udpIo !== 'dgram' && existsSync(join(REPO, 'native', 'udpio.node')) ? 'batched' : 'dgram'; },
    cores,
    install: !values['no-install'],
    keep: !!values.keep,
    floodRates: (values['flood-rates'] ?? '20000,40000').split(',').map((x) => int(x.trim(), 0, '--flood-rates')),
    floodModes: (values['flood-modes'] ?? FLOOD_MODES.join(',')).split(',').map((x) => x.trim()).filter((m) => FLOOD_MODES.includes(m) || (() => { throw new Error(`--flood-modes: unknown mode '${m}'`); })()),
    floodSeconds: quick ? 5 : 10, probeRate: 500, floodTimeoutMs: 1000,
  };
}

const log = (...a) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${a.join(' ')}\n`);

// ------------------------------------------------------------------------------------------- peers

async function has(cmd) {
  return (await run('sh', ['-c', `command -v ${cmd}`], { timeoutMs: 5000 })).code === 0;
}

/** Installs missing peers with apt-get (the bench runs as root); returns notes about what is missing. */
async function ensurePeers(opt) {
  const need = [];
  if ((opt.parts.has('dns') || opt.parts.has('profile')) && !(await has('dnsperf'))) need.push('dnsperf');
  if (opt.servers.some((s) => s === 'knot' || s === 'knot-nsec3') && !(await has('knotd'))) need.push('knot');
  if (opt.servers.includes('pdns') && (!(await has('pdns_server')) || !existsSync('/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql'))) need.push('pdns-server', 'pdns-backend-sqlite3');
  if ((opt.parts.has('dns') || opt.parts.has('scale') || opt.parts.has('profile') || opt.parts.has('flood')) && !(await has('dig'))) need.push('bind9-dnsutils');
  if ((opt.servers.includes('pdns')) && !(await has('sqlite3'))) need.push('sqlite3');
  if (need.length === 0) return [];
  if (!opt.install) return [`missing packages (not installed, --no-install): ${need.join(' ')}`];
  if (process.getuid?.() !== 0) return [`missing packages and not root, install them: apt-get install -y ${need.join(' ')}`];
  log(`installing ${need.join(' ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = await run('apt-get', ['install', '-y', '--no-install-recommends', ...need], { timeoutMs: 600_000, env });
  if (r.code !== 0) {
    await run('apt-get', ['update'], { timeoutMs: 300_000, env });
    r = await run('apt-get', ['install', '-y', '--no-install-recommends', ...need], { timeoutMs: 600_000, env });
  }
  return r.code === 0 ? [`installed with apt-get: ${need.join(' ')}`] : [`apt-get install ${need.join(' ')} failed: ${r.stderr.trim().split('\n').at(-1)}`];
}

async function environment() {
  const v = async (cmd, args, re) => {
    const r = await run(cmd, args, { timeoutMs: 10_000 }).catch(() => undefined);
    const m = r && re.exec(r.stdout + r.stderr);
    return m ? m[1] : undefined;
  };
  let osName = `Linux ${release()}`;
  try { osName = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? osName; } catch { /* keep */ }
  return {
    cpu: cpus()[0]?.model?.trim() ?? 'unknown CPU',
    cores: availableParallelism(),
    memGiB: Math.round(totalmem() / 2 ** 30),
    os: osName,
    node: process.version,
    loadAvgStart: loadavg().map((x) => +x.toFixed(1)),
    versions: {
      openssl: await v('openssl', ['version'], /^(OpenSSL [\d.a-z]+)/),
      knot: await v('knotd', ['-V'], /(\d+\.\d+\.\d+)/),
      pdns: await v('pdns_server', ['--version'], /PowerDNS Authoritative Server (\S+)/),
      dnsperf: await v('dnsperf', ['-H'], /Version (\S+)/),
    },
  };
}

function makeServers(opt) {
  const all = { tandem: () => tandem({ repo: REPO, workers: opt.workers, args: opt.tandemArgs }), knot, 'knot-nsec3': () => knot({ nsec3: true }), pdns: powerdns, floor: () => floor({ workers: opt.workers, io: opt.floorIo }) };
  return opt.servers.map((id) => all[id]());
}

// ----------------------------------------------------------------------------------------- signing

async function signingBench(opt) {
  // Rounds alternate tandem and openssl at the same parallelism, so each ratio compares neighbours in time
  // (other load on the machine moves both); the report gives medians over the rounds.
  const s = { seconds: opt.signSeconds, tbsBytes: TBS_BYTES, cores: opt.cores, rounds: [] };
  const tandemBuilt = existsSync(join(REPO, 'dist/dnssec/signer.js')) && existsSync(join(REPO, 'dist/dnssec/keys.js'));
  if (!tandemBuilt) s.skipped = 'tandem signer not built (dist/dnssec/signer.js missing)';
  for (let i = 0; i < opt.runs; i++) {
    const round = {};
    log(`signing round ${i + 1}/${opt.runs}: ${opt.signSeconds} s per figure (openssl: sign and verify, ${opt.signSeconds} s each)`);
    if (tandemBuilt) round.tandem1 = await signInWorkers({ repo: REPO, kind: 'tandem', threads: 1, seconds: opt.signSeconds });
    round.openssl1 = await opensslSpeed(opt.signSeconds);
    if (tandemBuilt) round.tandemN = await signInWorkers({ repo: REPO, kind: 'tandem', threads: opt.cores, seconds: opt.signSeconds });
    round.opensslMulti = await opensslSpeed(opt.signSeconds, opt.cores);
    if (i === 0) round.noble1 = await signInWorkers({ repo: REPO, kind: 'noble', threads: 1, seconds: Math.min(opt.signSeconds, 3) });
    s.rounds.push(round);
  }
  const med = (key) => {
    const xs = s.rounds.map((r) => r[key]?.signPerSec).filter((x) => x !== undefined);
    return xs.length ? { signPerSec: median(xs), min: Math.min(...xs), max: Math.max(...xs), rounds: xs.length } : undefined;
  };
  for (const k of ['tandem1', 'tandemN', 'openssl1', 'opensslMulti', 'noble1']) s[k] = med(k);
  s.openssl1.command = s.rounds[0].openssl1.command;
  s.opensslMulti.command = s.rounds[0].opensslMulti.command;
  s.openssl1.version = s.rounds[0].openssl1.version;
  if (tandemBuilt) {
    s.ratios = {
      oneCore: median(s.rounds.map((r) => r.tandem1.signPerSec / r.openssl1.signPerSec)),
      allCores: median(s.rounds.map((r) => r.tandemN.signPerSec / r.opensslMulti.signPerSec)),
    };
  }
  log(`signing: tandem ${Math.round(s.tandem1?.signPerSec ?? 0)}/s vs openssl ${Math.round(s.openssl1.signPerSec)}/s; all cores ${Math.round(s.tandemN?.signPerSec ?? 0)}/s vs ${Math.round(s.opensslMulti.signPerSec)}/s`);
  return s;
}

// --------------------------------------------------------------------------------------------- dns

/**
 * One workload against one running server: a warm-up (which also sizes the random-name files of (b)), `--runs`
 * measured runs (raw output to rawDir), then the verbose latency run. Returns { warmupQps, runs, summary, latency }.
 */
async function measureWorkload({ opt, port, handle, srv, w, posFile, nxFile, rawDir, tag = srv.id }) {
  const dnssecOk = w.id !== 'pos-nodo';
  const nx = w.id === 'nx-do';
  // Warm-up: fills caches (positive) and gives the rate that sizes the random-name files.
  const warmFile = nx ? await nxFile(150_000 * opt.warmupSeconds) : { file: posFile };
  const warm = await dnsperf({ port, file: warmFile.file, seconds: opt.warmupSeconds, dnssecOk });
  // Twice the best rate seen so far (at least 20k q/s): a cold warm-up must not undersize the file.
  const perRun = (runs) => Math.min(4_000_000, Math.ceil(Math.max(20_000, warm.qps, ...runs.map((r) => r.qps)) * 2 * opt.seconds) + 10_000);
  const runs = [];
  for (let i = 0; i < opt.runs; i++) {
    if (!handle.alive) throw new Error(`${tag} exited during ${w.id}: ${JSON.stringify(handle.exitInfo)}\n${tail(handle.log)}`);
    const f = nx ? await nxFile(perRun(runs)) : { file: posFile };
    const r = await dnsperf({ port, file: f.file, seconds: opt.seconds, dnssecOk });
    writeFileSync(join(rawDir, `${tag}-${w.id}-${i + 1}.txt`), r.raw);
    delete r.raw;
    if (nx && r.sent > f.count) r.namesRepeated = true; // dnsperf wrapped around the file
    runs.push(r);
    log(`dns: ${tag} ${w.id} run ${i + 1}/${opt.runs}: ${Math.round(r.qps)} q/s, avg ${r.latencyAvgMs?.toFixed(3)} ms, lost ${r.lost}`);
  }
  const lf = nx ? await nxFile(Math.ceil(Math.min(warm.qps, opt.latencyQps) * 1.6 * opt.latencySeconds) + 10_000) : { file: posFile };
  let latency;
  try {
    // A common moderate load (or half of what this server sustains, if that is lower).
    const maxQps = Math.max(100, Math.min(opt.latencyQps, 0.5 * summarize(runs).qps));
    latency = await dnsperfLatency({ port, file: lf.file, seconds: opt.latencySeconds, dnssecOk, maxQps });
  } catch (err) {
    latency = { error: err.message };
  }
  return { warmupQps: warm.qps, runs, summary: summarize(runs), latency };
}

/**
 * (b) random non-existent names for each of tandem's other denial modes (the default, compact, is the main
 * tandem entry): one tandem per mode on the same zone, started after the peers so their (b) figures come from
 * the same run. Returns one entry per mode, like a server entry with only the nx-do workload.
 */
async function denialModesBench({ opt, dir, zone, labels, rawDir, nxFile }) {
  const out = [];
  const w = WORKLOADS.find((x) => x.id === 'nx-do');
  for (const mode of opt.denialModes) {
    const srv = tandem({ repo: REPO, workers: opt.workers, denial: mode, args: opt.tandemArgs });
    const entry = { id: `tandem-${mode}`, mode, label: srv.label, signing: srv.signing, workloads: {} };
    out.push(entry);
    const why = await srv.available();
    if (why) { entry.error = why; continue; }
    entry.workers = srv.workers;
    const sdir = join(dir, entry.id);
    let handle;
    try {
      log(`dns: tandem denial ${mode}: prepare + start`);
      const yaml = join(sdir, 'bench.test.yaml');
      mkdirSync(sdir, { recursive: true });
      await writeTandemYaml(yaml, labels, { denial: mode });
      await srv.prepare(sdir, { ...zone, yaml });
      const port = await freePort();
      ({ handle } = await srv.start(sdir, port));
      entry.workloads[w.id] = await measureWorkload({ opt, port, handle, srv, w, posFile: undefined, nxFile, rawDir, tag: entry.id });
      entry.rssAfterRuns = treeRssBytes(handle.pid);
    } catch (err) {
      entry.error = err.message;
      log(`dns: tandem denial ${mode} failed: ${err.message}`);
    } finally {
      if (handle) entry.stop = await handle.stop();
    }
  }
  return out;
}

async function dnsBench(opt, work, rawDir, servers) {
  const dir = join(work, 'dns');
  mkdirSync(dir, { recursive: true });
  log(`dns: generating zone of ${opt.dnsZone} names`);
  const labels = ownerLabels(opt.dnsZone);
  const zone = { master: join(dir, 'bench.test.zone'), yaml: join(dir, 'bench.test.yaml') };
  const zoneRecords = await writeMasterFile(zone.master, labels);
  await writeTandemYaml(zone.yaml, labels);
  const posFile = join(dir, 'positive.txt');
  await writePositiveQueries(posFile, labels);
  const out = {
    zoneNames: labels.length, zoneRecords, seconds: opt.seconds, runs: opt.runs, warmupSeconds: opt.warmupSeconds,
    latencySeconds: opt.latencySeconds, latencyQps: opt.latencyQps, dnsperfArgs: `-s 127.0.0.1 -p PORT -d FILE -l ${opt.seconds} ${DNSPERF_ARGS.join(' ')} [-D]`, servers: [],
  };
  let nxSeq = 0;
  const nxFile = async (count) => {
    const f = join(dir, `nx-${nxSeq++ % 2}.txt`); // a fresh file of new random names every run
    await writeRandomNxQueries(f, count);
    return { file: f, count };
  };
  for (const srv of servers) {
    const entry = { id: srv.id, label: srv.label, signing: srv.signing, workloads: {} };
    out.servers.push(entry);
    const why = await srv.available();
    if (why) { entry.error = why; log(`dns: skipping ${srv.id}: ${why}`); continue; }
    if (srv.id === 'tandem' || srv.id === 'floor') entry.workers = srv.workers;
    const sdir = join(dir, srv.id);
    let handle;
    try {
      log(`dns: ${srv.id}: prepare + start`);
      await srv.prepare(sdir, zone);
      const port = await freePort();
      // The floor answers with a packet of tandem's (a) response size in this run (so both send as many bytes).
      const answerBytes = out.servers.find((s) => s.id === 'tandem')?.workloads?.['pos-do']?.summary?.responseSize;
      ({ handle } = await srv.start(sdir, port, srv.id === 'floor' ? { answerBytes } : undefined));
      if (srv.id === 'floor') { entry.answerBytes = srv.answerBytes; entry.io = srv.io; }
      entry.pid = handle.pid;
      entry.rssAtStart = treeRssBytes(handle.pid);
      for (const w of WORKLOADS.filter((x) => !srv.workloads || srv.workloads.includes(x.id))) entry.workloads[w.id] = await measureWorkload({ opt, port, handle, srv, w, posFile, nxFile, rawDir });
      entry.rssAfterRuns = treeRssBytes(handle.pid);
    } catch (err) {
      entry.error = err.message;
      log(`dns: ${srv.id} failed: ${err.message}`);
    } finally {
      if (handle) entry.stop = await handle.stop();
    }
  }
  if (opt.denialModes.length > 0 && opt.servers.includes('tandem')) out.denialModes = await denialModesBench({ opt, dir, zone, labels, rawDir, nxFile });
  const tandemEntry = out.servers.find((s) => s.id === 'tandem');
  out.ratios = {};
  for (const w of WORKLOADS) {
    out.ratios[w.id] = {};
    for (const p of out.servers.filter((s) => s.id !== 'tandem')) {
      const t = tandemEntry?.workloads?.[w.id]?.summary?.qps, q = p.workloads?.[w.id]?.summary?.qps;
      out.ratios[w.id][p.id] = t && q ? t / q : null;
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------- scale

async function digA(port, name) {
  const r = await run('dig', ['@127.0.0.1', '-p', String(port), '+dnssec', '+norec', '+time=2', '+tries=1', name, 'A'], { timeoutMs: 10_000 }).catch(() => undefined);
  return !!r && /status: NOERROR/.test(r.stdout) && /\sIN\s+A\s+10\./.test(r.stdout) && /\sRRSIG\s+A\s/.test(r.stdout);
}

async function scaleBench(opt, work, servers) {
  const out = { sizes: opt.sizes, tandemWorkers: undefined, servers: servers.map((s) => ({ id: s.id, label: s.label, points: [] })) };
  const avail = {};
  for (const s of servers) avail[s.id] = await s.available();
  const limitMs = opt.scaleTimeoutS * 1000;
  for (const n of opt.sizes) {
    const dir = join(work, `scale-${n}`);
    mkdirSync(dir, { recursive: true });
    log(`scale: generating zone of ${n} names`);
    const labels = ownerLabels(n);
    const zone = { master: join(dir, 'bench.test.zone'), yaml: join(dir, 'bench.test.yaml') };
    const records = await writeMasterFile(zone.master, labels);
    await writeTandemYaml(zone.yaml, labels);
    for (const [i, srv] of servers.entries()) {
      const point = { records };
      out.servers[i].points.push(point);
      if (avail[srv.id]) { point.error = avail[srv.id]; continue; }
      const prev = out.servers[i].points.at(-2);
      if (prev && (prev.error || prev.skipped)) { point.skipped = 'a smaller zone failed or was skipped'; continue; }
      if (prev) {
        const guess = ((prev.prepareMs ?? 0) + prev.readyMs) * (records / prev.records);
        if (guess > limitMs) { point.skipped = `linear extrapolation from ${prev.records.toLocaleString('en-US')} records gives ${Math.round(guess / 1000)} s, over the ${opt.scaleTimeoutS} s limit`; log(`scale: ${srv.id} ${n}: skipped (${point.skipped})`); continue; }
      }
      const sdir = join(dir, srv.id);
      let handle;
      try {
        log(`scale: ${srv.id} ${n} names: prepare`);
        const prep = await srv.prepare(sdir, zone);
        point.prepareMs = prep.prepareMs || undefined;
        if (prep.importMs) point.importMs = prep.importMs;
        const port = await freePort();
        // tandem with one worker: the figures are for one copy of the zone.
        const started = await srv.start(sdir, port, { timeoutMs: Math.max(10_000, limitMs - (point.prepareMs ?? 0)), workers: 1 });
        handle = started.handle;
        point.readyMs = started.readyMs;
        if (srv.id === 'tandem') out.tandemWorkers = 1;
        const rss0 = treeRssBytes(handle.pid);
        point.answersExisting = await digA(port, `${labels[labels.length - 1]}.${ORIGIN}`);
        await sleep(2000); // let load-time background work (GC, lazy signing) settle
        point.rssBytes = Math.max(rss0, treeRssBytes(handle.pid));
        if (srv.id === 'pdns') point.dbBytes = statSync(join(sdir, 'pdns.sqlite3')).size;
        log(`scale: ${srv.id} ${n} names: prepare ${((point.prepareMs ?? 0) / 1000).toFixed(1)} s, ready ${(point.readyMs / 1000).toFixed(1)} s, RSS ${(point.rssBytes / 2 ** 20).toFixed(0)} MiB`);
        if (srv.id === 'tandem' && n === Math.max(...opt.sizes)) {
          // One admin API change on the largest zone: time to the API's answer and to the signed answer, RSS growth.
          point.change = await adminChange({ handle, port, timeoutMs: limitMs });
          const c = point.change;
          log(`scale: tandem ${n} names: one admin change: ${c.error ?? `POST ${(c.postMs / 1000).toFixed(1)} s, answered ${(c.visibleMs / 1000).toFixed(1)} s, RSS ${(c.rssBeforeBytes / 2 ** 20).toFixed(0)} -> ${(c.rssAfterBytes / 2 ** 20).toFixed(0)} MiB (peak ${(c.rssPeakBytes / 2 ** 20).toFixed(0)})`}`);
        }
      } catch (err) {
        point.error = err.message;
        log(`scale: ${srv.id} ${n} failed: ${err.message}`);
      } finally {
        if (handle) await handle.stop(10_000);
      }
      rmSync(sdir, { recursive: true, force: true });
    }
    rmSync(dir, { recursive: true, force: true });
  }
  for (const s of out.servers) {
    const base = s.points.find((p) => p.rssBytes);
    if (s.id === 'pdns') continue; // PowerDNS serves from SQLite on disk: its RSS does not hold the zone
    for (const p of s.points) if (base && p !== base && p.rssBytes) p.bytesPerRecord = (p.rssBytes - base.rssBytes) / (p.records - base.records);
  }
  return out;
}

// -------------------------------------------------------------------------------------------- main

async function main() {
  const opt = options();
  const t0 = Date.now();
  const stamp = new Date(t0).toISOString().replace(/[:.]/g, '-');
  const rawDir = join(RESULTS, 'raw', stamp);
  mkdirSync(rawDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'tandem-bench-'));
  cleanup = () => { if (!opt.keep) rmSync(work, { recursive: true, force: true }); };
  const res = {
    startedAt: new Date(t0).toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, ''),
    options: { ...opt, parts: [...opt.parts] },
    notes: [],
  };
  try {
    res.notes.push(...(await ensurePeers(opt)));
    res.environment = await environment();
    const servers = makeServers(opt);
    if (opt.parts.has('signing')) res.signing = await signingBench(opt);
    if (opt.parts.has('dns')) res.dns = await dnsBench(opt, work, rawDir, servers);
    if (opt.parts.has('scale')) res.scale = await scaleBench(opt, work, servers.filter((s) => s.scale !== false));
    if (opt.parts.has('flood')) res.flood = await floodBench({ opt, work, repo: REPO, log });
    if (opt.parts.has('profile')) {
      res.profile = await profileBench(opt, work, rawDir, {
        repo: REPO, tandem, writeTandemYaml, ownerLabels, writePositiveQueries, writeRandomNxQueries, dnsperf, adminChange, freePort, log,
      });
    }
    for (const s of res.dns?.servers ?? []) {
      const n = Object.values(s.workloads).flatMap((w) => w.runs).filter((r) => r.namesRepeated).length;
      if (n) res.notes.push(`${s.label}: ${n} (b) run(s) sent more queries than the file had fresh names (dnsperf wrapped around)`);
    }
  } finally {
    await stopAll();
    cleanup();
    if (opt.keep) log(`work directory kept: ${work}`);
  }
  res.durationMs = Date.now() - t0;
  if (res.environment) res.environment.loadAvgEnd = loadavg().map((x) => +x.toFixed(1)); // other work on a shared machine
  writeFileSync(join(RESULTS, 'latest.json'), JSON.stringify(res, null, 2) + '\n');
  writeFileSync(join(rawDir, 'results.json'), JSON.stringify(res, null, 2) + '\n'); // this run's copy
  writeFileSync(join(RESULTS, 'latest.md'), markdown(res) + floodMarkdown(res.flood));
  if (res.dns) writeFileSync(join(RESULTS, 'throughput.svg'), svg(res));
  if (res.dns?.denialModes) writeFileSync(join(RESULTS, 'denial.svg'), denialSvg(res));
  if (res.scale) writeFileSync(join(RESULTS, 'scale.svg'), scaleSvg(res));
  if (res.profile) writeFileSync(join(RESULTS, 'profile.md'), profileMarkdown(res));
  log(`done in ${(res.durationMs / 60000).toFixed(1)} min: bench/results/latest.md, latest.json${res.dns ? ', throughput.svg' : ''}`);
  process.stdout.write(markdown(res) + floodMarkdown(res.flood) + '\n');
}

/** Removes the temporary work directory (unless --keep); set once it exists. */
let cleanup = () => {};

process.on('exit', killAllSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    log(`${sig}: stopping servers`);
    stopAll().finally(() => { cleanup(); process.exit(130); });
  });
}

main().catch(async (err) => {
  log(`failed: ${err.stack ?? err.message}`);
  await stopAll();
  process.exitCode = 1;
});
