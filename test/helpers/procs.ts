// Process plumbing for interop tests: free loopback ports, daemons in their own process group stopped by PID,
// and bounded waits. Every daemon a test starts goes through spawnDaemon, so none outlives the test process.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createServer as createTcpServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { rm } from 'node:fs/promises';

/** Binds TCP and UDP on 127.0.0.1 port 0 (or `host`), keeps the port only if both are free, then closes both. */
export async function freePort(host = '127.0.0.1', attempts = 20): Promise<number> {
  for (let i = 0; i < attempts; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createTcpServer();
      srv.once('error', reject);
      srv.listen(0, host, () => {
        const addr = srv.address();
        srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no address'))));
      });
    });
    // A daemon needs the same number on UDP too: skip ports some UDP socket already holds.
    const udpFree = await new Promise<boolean>((resolve) => {
      const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
      sock.once('error', () => { sock.close(); resolve(false); });
      sock.bind(port, host, () => sock.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error(`freePort: no free TCP+UDP port on ${host} after ${attempts} attempts`);
}

export interface WaitOptions {
  /** Poll interval (default 100 ms). */
  intervalMs?: number;
  /** What is awaited, for the timeout message. */
  what?: string;
  /** Checked before each poll: a string aborts the wait at once (e.g. "daemon exited"). */
  abort?: () => string | undefined;
}

/**
 * Polls `fn` until it returns something other than undefined/false/null (returned), bounded by `timeoutMs`.
 * Errors thrown by `fn` count as "not yet"; the last one is quoted in the timeout error.
 */
export async function waitFor<T>(
  fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs: number,
  opts: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const interval = opts.intervalMs ?? 100;
  let lastError: unknown;
  for (;;) {
    const aborted = opts.abort?.();
    if (aborted) throw new Error(`waitFor ${opts.what ?? ''}: ${aborted}`);
    try {
      const v = await fn();
      if (v !== undefined && v !== null && v !== false) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
      throw new Error(`waitFor ${opts.what ?? 'condition'}: timed out after ${timeoutMs} ms${why}`);
    }
    await new Promise((r) => setTimeout(r, Math.min(interval, Math.max(1, deadline - Date.now()))));
  }
}

export interface DaemonOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Name used in messages (default: the command). */
  name?: string;
  /** Bytes of stdout+stderr kept (default 1 MiB; older output is dropped). */
  maxLogBytes?: number;
}

export interface Daemon {
  pid: number;
  name: string;
  /** Exit code or signal once the process has exited, else undefined. */
  exited(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** stdout and stderr, interleaved as received. */
  logs(): string;
  /** SIGTERM to the daemon's own process group, SIGKILL after `graceMs` (default 3 s); resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
}

// Daemons still running, killed synchronously if the test process exits without stopping them.
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) signalGroup(child.pid, 'SIGKILL');
  });
}

/** Signals the process group whose leader is `pid` (the group spawnDaemon created), falling back to the PID. */
function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try { process.kill(pid, signal); } catch { /* already gone */ }
  }
}

/** Runs `fn`; if it throws, removes the scratch folder `dir` first, so a helper that fails to start leaves nothing. */
export async function orRemove<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Starts a daemon and waits until it is ready, retrying with fresh ports when the log says a port was taken
 * between freePort and the daemon's bind (other test workers pick ports too). A failed attempt's daemon is
 * stopped; the last error carries its log.
 */
export async function startDaemonWithRetry(opts: {
  name: string;
  /** Log text that means "port already taken". */
  busy: RegExp;
  /** Writes the config with fresh ports and spawns the daemon (attempt 0, 1, ...). */
  start: (attempt: number) => Promise<Daemon>;
  ready: (d: Daemon) => Promise<unknown>;
  attempts?: number;
}): Promise<Daemon> {
  for (let attempt = 0; ; attempt++) {
    const d = await opts.start(attempt);
    try {
      await opts.ready(d);
      return d;
    } catch (e) {
      const busy = opts.busy.test(d.logs());
      await d.stop();
      if (!busy || attempt >= (opts.attempts ?? 3) - 1) throw new Error(`${(e as Error).message}\n${opts.name} log:\n${d.logs()}`);
    }
  }
}

/**
 * Starts `cmd args` detached (setsid: its own session and process group, leader = pid), capturing its output.
 * Stopping signals exactly that group, never anything found by name.
 */
export function spawnDaemon(cmd: string, args: string[], opts: DaemonOptions = {}): Daemon {
  const name = opts.name ?? cmd;
  const max = opts.maxLogBytes ?? 1 << 20;
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`spawnDaemon: ${cmd} did not start`);
  const pid = child.pid;
  let out = '';
  const append = (b: Buffer): void => {
    out += b.toString('utf8');
    if (out.length > max) out = out.slice(out.length - max);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  let status: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitedP = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      status = { code, signal };
      live.delete(child);
      resolve();
    });
    child.once('error', (e) => {
      append(Buffer.from(`spawn error: ${e.message}\n`));
      status = { code: -1, signal: null };
      live.delete(child);
      resolve();
    });
  });
  live.add(child);
  installExitHook();
  child.unref();
  return {
    pid,
    name,
    exited: () => status,
    logs: () => out,
    async stop(graceMs = 3000) {
      if (status) return;
      signalGroup(pid, 'SIGTERM');
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs));
      if ((await Promise.race([exitedP.then(() => 'exited' as const), timer])) === 'timeout') {
        signalGroup(pid, 'SIGKILL');
        await Promise.race([exitedP, new Promise((r) => setTimeout(r, 2000))]);
      }
    },
  };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a short command to completion, bounded by `timeoutMs` (default 15 s); never throws on a non-zero exit. */
export function runCommand(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: opts.timeoutMs ?? 15_000, cwd: opts.cwd, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) + (err && code === -1 ? `\n${err.message}` : '') });
    });
    // A command that exits before reading its input must not crash the test run with EPIPE.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(opts.input ?? '');
  });
}

/** Like runCommand, but a non-zero exit is an error quoting the command and its output. */
export async function runChecked(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string; cwd?: string } = {}): Promise<string> {
  const r = await runCommand(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}
