// Process helpers for the bench: every process the bench starts is spawned here, in its own process
// group, recorded by PID, and stopped by that PID (group) with bounded waits. Nothing is ever killed by name.
import { spawn, execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { readFileSync, readdirSync } from 'node:fs';

/** Every long-running child still alive, so an exit handler can stop them. */
const live = new Set();
/** Short commands (dnsperf, zone2sql, dig, ...) still running, killed by PID if the bench is stopped. */
const running = new Set();

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs a command to completion with a time limit; resolves { code, stdout, stderr, ms }. Never rejects
 * for a non-zero exit (callers decide); rejects only when the command cannot start or runs out of time.
 */
export function run(cmd, args, { timeoutMs = 600_000, input, env, cwd, maxBuffer = 512 * 1024 * 1024 } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = execFile(cmd, args, { timeout: timeoutMs, killSignal: 'SIGKILL', env, cwd, maxBuffer, encoding: 'utf8' }, (err, stdout, stderr) => {
      const ms = performance.now() - t0;
      if (err && (err.killed || err.signal === 'SIGKILL')) return reject(new Error(`${cmd} ${args.join(' ')}: timed out after ${timeoutMs} ms`));
      if (err && typeof err.code !== 'number') return reject(new Error(`${cmd}: ${err.message}`));
      resolve({ code: err ? err.code : 0, stdout, stderr, ms });
    });
    running.add(child);
    child.on('exit', () => running.delete(child));
    if (input !== undefined) child.stdin.end(input);
  });
}

/** Like run, but throws with the command's stderr on a non-zero exit. */
export async function runOk(cmd, args, opts) {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${(r.stderr || r.stdout).trim().slice(-2000)}`);
  return r;
}

/**
 * Starts a long-running server in a new session (like `setsid`), stdout/stderr appended to logFile.
 * Returns a handle { pid, name, exited (promise), stop() }.
 */
export function startDaemon(name, cmd, args, { logFd, env, cwd } = {}) {
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', logFd ?? 'ignore', logFd ?? 'ignore'], env, cwd });
  let exitInfo;
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => { exitInfo = { code, signal }; live.delete(handle); resolve(exitInfo); });
    child.on('error', (err) => { exitInfo = { code: -1, signal: null, error: err }; live.delete(handle); resolve(exitInfo); });
  });
  const handle = {
    name,
    pid: child.pid,
    exited,
    get alive() { return exitInfo === undefined; },
    get exitInfo() { return exitInfo; },
    /** SIGTERM to the process group we created, wait up to graceMs, then SIGKILL and wait up to 2 s. */
    async stop(graceMs = 5000) {
      if (exitInfo !== undefined) return exitInfo;
      signalGroup(child.pid, 'SIGTERM');
      const r = await Promise.race([exited, sleep(graceMs).then(() => undefined)]);
      if (r) { signalGroup(child.pid, 'SIGKILL'); return r; } // reap any worker left in the group
      signalGroup(child.pid, 'SIGKILL');
      return (await Promise.race([exited, sleep(2000).then(() => ({ code: null, signal: 'unreaped' }))]));
    },
  };
  live.add(handle);
  return handle;
}

/** Signals the process group led by pid (our own child started detached); ignores "no such process". */
function signalGroup(pid, signal) {
  try { process.kill(-pid, signal); } catch { try { process.kill(pid, signal); } catch { /* gone */ } }
}

/** Stops every daemon still running (on exit or error), each by its PID. */
export async function stopAll() {
  for (const c of running) { try { c.kill('SIGKILL'); } catch { /* gone */ } }
  await Promise.all([...live].map((h) => h.stop(3000)));
}

/** Registers a short-lived child started elsewhere (spawn) so stopAll can kill it. */
export function track(child) {
  running.add(child);
  child.on('exit', () => running.delete(child));
  return child;
}

/** Synchronous last resort for process 'exit': SIGKILL each recorded group. */
export function killAllSync() {
  for (const c of running) { try { c.kill('SIGKILL'); } catch { /* gone */ } }
  for (const h of live) signalGroup(h.pid, 'SIGKILL');
}

/** A free port on 127.0.0.1 for both UDP and TCP (checked by binding both, then releasing them). */
export async function freePort() {
  for (let i = 0; i < 50; i++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    if ((await canBindTcp(port)) && (await canBindUdp(port))) return port;
  }
  throw new Error('no free port found');
}

function canBindTcp(port) {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function canBindUdp(port) {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => { s.close(); resolve(false); });
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** PIDs of pid and all its descendants (Linux /proc). */
export function processTree(pid) {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    let tasks = [];
    try { tasks = readdirSync(`/proc/${out[i]}/task`); } catch { continue; }
    for (const t of tasks) {
      let kids = '';
      try { kids = readFileSync(`/proc/${out[i]}/task/${t}/children`, 'utf8'); } catch { continue; }
      for (const k of kids.split(/\s+/).filter(Boolean)) out.push(Number(k));
    }
  }
  return out;
}

/** Resident set size in bytes of pid and its descendants (VmRSS summed; 0 when gone). */
export function treeRssBytes(pid) {
  let sum = 0;
  for (const p of processTree(pid)) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) sum += Number(m[1]) * 1024;
    } catch { /* exited */ }
  }
  return sum;
}

/** Polls check() every intervalMs until it returns a truthy value or timeoutMs passes (then throws). */
export async function waitFor(what, check, { timeoutMs = 60_000, intervalMs = 100, abortIf } = {}) {
  const t0 = performance.now();
  for (;;) {
    const v = await check();
    if (v) return v;
    if (abortIf) { const why = abortIf(); if (why) throw new Error(`${what}: ${why}`); }
    if (performance.now() - t0 > timeoutMs) throw new Error(`${what}: not ready after ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}
