// Where tandem's time goes: tandem under `node --cpu-prof` (one process, --workers 1), a time window per
// scenario, and a summary of self time by function (and by source file) inside each window, read from the
// .cpuprofile JSON (V8's format: nodes, samples, timeDeltas; timestamps in µs of the monotonic clock that
// process.hrtime also reads, so the bench's own clock marks the windows). No dependencies.
import { readdirSync, readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** Now, in the clock of .cpuprofile timestamps (µs, CLOCK_MONOTONIC). */
export const nowUs = () => Number(process.hrtime.bigint() / 1000n);

function shortUrl(url, repo) {
  if (!url) return '';
  let u = url.replace(/^file:\/\//, '');
  if (repo && u.startsWith(repo + '/')) u = u.slice(repo.length + 1);
  return u.replace(/^.*\/node_modules\//, 'node_modules/');
}

/**
 * Self time per function and per file inside [fromUs, toUs] of one profile. Each sample lasts until the next
 * one (as DevTools counts it). Returns { windowMs, sampledMs, idleMs, functions: [{ name, where, ms }], files }.
 */
export function summarizeProfile(profile, { fromUs = -Infinity, toUs = Infinity, repo } = {}) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const fn = new Map();
  const files = new Map();
  let t = profile.startTime;
  let sampled = 0, idle = 0;
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    t += timeDeltas[i];
    const dur = i + 1 < samples.length ? timeDeltas[i + 1] : 0;
    if (t < fromUs || t > toUs || dur <= 0) continue;
    const node = byId.get(samples[i]);
    if (!node) continue;
    const cf = node.callFrame;
    const name = cf.functionName || (cf.url ? '(anonymous)' : '(unknown)');
    const file = shortUrl(cf.url, repo);
    const where = file ? `${file}:${cf.lineNumber + 1}` : '';
    sampled += dur;
    if (name === '(idle)') idle += dur;
    const key = `${name}\u0000${where}`;
    fn.set(key, (fn.get(key) ?? 0) + dur);
    const fk = file || name; // (garbage collector), (program), (idle) stand for themselves
    files.set(fk, (files.get(fk) ?? 0) + dur);
  }
  const sortMs = (m) => [...m].map(([k, us]) => ({ k, ms: us / 1000 })).sort((a, b) => b.ms - a.ms);
  return {
    windowMs: (Math.min(toUs, profile.endTime) - Math.max(fromUs, profile.startTime)) / 1000,
    sampledMs: sampled / 1000,
    idleMs: idle / 1000,
    functions: sortMs(fn).map(({ k, ms }) => { const [name, where] = k.split('\u0000'); return { name, where, ms }; }),
    files: sortMs(files).map(({ k, ms }) => ({ file: k, ms })),
  };
}

/**
 * Reads every .cpuprofile in dir (one per thread: the main thread's file name ends in .0.<seq>, worker threads
 * such as the signer pool carry their thread id) and summarises each in the window. Threads that were idle in
 * the window (under 2 % busy) are left out.
 */
export function summarizeDir(dir, window, repo) {
  const out = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile')).sort()) {
    const m = /\.(\d+)\.(\d+)\.(\d+)\.cpuprofile$/.exec(f); // CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile
    const s = summarizeProfile(JSON.parse(readFileSync(join(dir, f), 'utf8')), { ...window, repo });
    const busy = s.sampledMs - s.idleMs;
    const thread = m && m[2] === '0' ? 'main thread' : `worker thread ${m?.[2] ?? '?'}`;
    if (thread !== 'main thread' && busy < 0.02 * Math.max(1, s.windowMs)) continue;
    out.push({ file: f, pid: m ? Number(m[1]) : undefined, thread, ...s, functions: s.functions.slice(0, 40), files: s.files.slice(0, 20) });
  }
  return out.sort((a, b) => (a.thread === 'main thread' ? -1 : b.thread === 'main thread' ? 1 : (b.sampledMs - b.idleMs) - (a.sampledMs - a.idleMs)));
}

const ms = (x) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1));
const pct = (x, total) => `${((100 * x) / total).toFixed(1)} %`;

/** bench/results/profile.md from the profile part's result. */
export function profileMarkdown(res, top = 15) {
  const p = res.profile;
  const L = ['# Where tandem\'s time goes (CPU profiles)', ''];
  const env = res.environment;
  L.push(`Run ${res.startedAt}: \`${res.command}\`. Machine: ${env.cpu}, ${env.cores} cores; Node ${env.node}` +
    `${env.loadAvgStart ? `; load average ${env.loadAvgStart[0]} at the start, ${env.loadAvgEnd?.[0] ?? '?'} at the end (above ~1 on ${env.cores} cores: other work shared the machine)` : ''}.`, '');
  L.push(`tandem runs as one process (\`--workers 1\`) under \`node --cpu-prof\` (sampling every ${p.intervalUs} µs); dnsperf runs on the same cores. ` +
    'Each table covers one window of the run (a dnsperf run, or one admin change from the POST to the first signed answer for the new name) ' +
    'and gives **self time** by function (time with that function on top of the stack), then by source file. ' +
    '`(program)` is V8/native work not attributed to JS (libuv, the syscalls of `send`, crypto in C++ below its JS caller), `(garbage collector)` GC, ' +
    '`(idle)` waiting for the event loop. Percentages are of the sampled time in the window. The machine is shared: other work on it shows as less busy time here, not as more cost.', '');
  for (const sc of p.scenarios) {
    L.push(`## ${sc.title}`, '');
    if (sc.error) { L.push(`Failed: ${sc.error.split('\n')[0]}`, ''); continue; }
    L.push(sc.what, '');
    for (const th of sc.threads ?? []) {
      const busy = th.sampledMs - th.idleMs;
      L.push(`**${th.thread}** (pid ${th.pid}): ${ms(th.sampledMs)} ms sampled in a ${ms(th.windowMs)} ms window, ${pct(busy, th.sampledMs)} busy (not idle).`, '');
      L.push('| # | function | where | self ms | self % |', '|---:|---|---|---:|---:|');
      th.functions.slice(0, top).forEach((f, i) => L.push(`| ${i + 1} | \`${f.name.length > 60 ? `${f.name.slice(0, 57)}...` : f.name}\` | ${f.where ? `\`${f.where}\`` : ''} | ${ms(f.ms)} | ${pct(f.ms, th.sampledMs)} |`));
      L.push('', `By file (top 8): ${th.files.slice(0, 8).map((f) => `\`${f.file}\` ${pct(f.ms, th.sampledMs)}`).join(', ')}.`, '');
    }
  }
  return L.join('\n') + '\n';
}

/**
 * The profile part. deps: { repo, tandem (servers.mjs factory), writeTandemYaml, ownerLabels, writePositiveQueries,
 * writeRandomNxQueries, dnsperf, adminChange, freePort, log }. Scenarios: (a) and (b) compact on one tandem,
 * (b) nsec3-chain on another, one admin change on the zone of `changeZone` names. Profiles stay in rawDir.
 */
export async function profileBench(opt, work, rawDir, deps) {
  const { repo, tandem, writeTandemYaml, ownerLabels, writePositiveQueries, writeRandomNxQueries, dnsperf, adminChange, freePort, log } = deps;
  const intervalUs = 1000;
  const out = { intervalUs, workers: 1, dnsZone: opt.dnsZone, changeZone: opt.profileZone, seconds: opt.seconds, scenarios: [] };
  const dir = join(work, 'profile');
  mkdirSync(dir, { recursive: true });
  const labels = ownerLabels(opt.dnsZone);
  const posFile = join(dir, 'positive.txt');
  await writePositiveQueries(posFile, labels);
  let nxSeq = 0;
  const nxFile = async (count) => { const f = join(dir, `nx-${nxSeq++}.txt`); await writeRandomNxQueries(f, count); return f; };

  /** Starts one profiled tandem, runs body(port, handle, mark), stops it (the profile is written at exit) and summarises. */
  const profiled = async (id, { names, denial }, body) => {
    const sdir = join(dir, id);
    const profDir = join(rawDir, `profile-${id}`);
    mkdirSync(join(sdir), { recursive: true });
    mkdirSync(profDir, { recursive: true });
    const yaml = join(sdir, 'bench.test.yaml');
    await writeTandemYaml(yaml, names, denial ? { denial } : {});
    const srv = tandem({ repo, workers: 1, denial });
    const why = await srv.available();
    if (why) throw new Error(why);
    await srv.prepare(sdir, { yaml });
    const port = await freePort();
    const windows = [];
    let handle;
    try {
      ({ handle } = await srv.start(sdir, port, { workers: 1, timeoutMs: opt.scaleTimeoutS * 1000, nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-interval', String(intervalUs)] }));
      await body(port, handle, windows);
    } finally {
      if (handle) await handle.stop(60_000); // SIGTERM: tandem exits 0 and V8 writes the profile
    }
    return windows.map((w) => ({ ...w, threads: summarizeDir(profDir, w, repo), profileDir: profDir }));
  };
  const perfWindow = async (port, windows, key, file, dnssecOk) => {
    await dnsperf({ port, file: await file(), seconds: opt.warmupSeconds, dnssecOk }); // warm-up, outside the window
    const f = await file();
    const fromUs = nowUs();
    const r = await dnsperf({ port, file: f, seconds: opt.seconds, dnssecOk });
    windows.push({ key, fromUs, toUs: nowUs(), qps: r.qps });
    log(`profile: ${key}: ${Math.round(r.qps)} q/s under --cpu-prof`);
  };
  const nxSized = () => nxFile(Math.ceil(60_000 * opt.seconds) + 10_000);
  const scenario = (key, title, what) => ({ key, title, what });
  const want = [
    scenario('a', '(a) existing names, DO=1', `dnsperf (a) for ${opt.seconds} s on the ${opt.dnsZone.toLocaleString('en-US')}-name zone, compact denial (the default).`),
    scenario('b-compact', '(b) random non-existent names, DO=1, compact denial', `dnsperf (b) for ${opt.seconds} s (fresh random names), compact denial: one NSEC signed per answer.`),
    scenario('b-nsec3-chain', '(b) random non-existent names, DO=1, nsec3-chain', `dnsperf (b) for ${opt.seconds} s, nsec3-chain: answers from the NSEC3 chain signed at load.`),
    scenario('change', `One admin change on the ${opt.profileZone.toLocaleString('en-US')}-name zone`, `\`POST /zones/{id}/dns_records\` adding one A record, from the POST to the first signed answer for the new name (\`--workers 1\`).`),
  ];
  const byKey = new Map();
  const attempt = async (keys, fn) => {
    try {
      for (const w of await fn()) byKey.set(w.key, w);
    } catch (err) {
      log(`profile: ${keys.join(', ')} failed: ${err.message}`);
      for (const k of keys) if (!byKey.has(k)) byKey.set(k, { key: k, error: err.message });
    }
  };
  log('profile: (a) and (b) compact');
  await attempt(['a', 'b-compact'], () => profiled('compact', { names: labels }, async (port, handle, windows) => {
    await perfWindow(port, windows, 'a', async () => posFile, true);
    await perfWindow(port, windows, 'b-compact', nxSized, true);
  }));
  log('profile: (b) nsec3-chain');
  await attempt(['b-nsec3-chain'], () => profiled('nsec3-chain', { names: labels, denial: 'nsec3-chain' }, async (port, handle, windows) => {
    await perfWindow(port, windows, 'b-nsec3-chain', nxSized, true);
  }));
  log(`profile: one admin change on ${opt.profileZone} names`);
  await attempt(['change'], () => profiled('change', { names: ownerLabels(opt.profileZone) }, async (port, handle, windows) => {
    let fromUs;
    const c = await adminChange({ handle, port, timeoutMs: opt.scaleTimeoutS * 1000, settleMs: 0, onWindow: (e) => { if (e === 'start') fromUs = nowUs(); else windows.push({ key: 'change', fromUs, toUs: nowUs() }); } });
    if (c.error) throw new Error(c.error);
    windows.at(-1).change = c;
    log(`profile: change: POST ${Math.round(c.postMs)} ms, answered after ${Math.round(c.visibleMs)} ms`);
  }));
  for (const sc of want) {
    const w = byKey.get(sc.key) ?? { error: 'not run' };
    out.scenarios.push({ ...sc, ...w, what: w.qps ? `${sc.what} ${Math.round(w.qps).toLocaleString('en-US')} q/s under the profiler.` : w.change ? `${sc.what} POST answered after ${(w.change.postMs / 1000).toFixed(1)} s, the name answered after ${(w.change.visibleMs / 1000).toFixed(1)} s.` : sc.what });
  }
  return out;
}
