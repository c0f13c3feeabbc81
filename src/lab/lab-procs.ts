// Process plumbing of `tandem lab`: free loopback ports, daemons started detached (setsid: a session and process
// group of their own, so they outlive the command that started them), stopped later by the PID recorded in the
// lab's folder, and bounded waits. Nothing here looks a process up by name.
import { execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { closeSync, openSync } from 'node:fs';
import { access, constants, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';

/** A port free on 127.0.0.1 for TCP and UDP both (bound and closed; the daemon may still lose a race for it). */
export async function freePort(attempts = 20): Promise<number> {
  for (let i = 0; i < attempts; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const a = srv.address();
        srv.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no address'))));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const sock = createSocket('udp4');
      sock.once('error', () => { sock.close(); resolve(false); });
      sock.bind(port, '127.0.0.1', () => sock.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error(`no free TCP+UDP port on 127.0.0.1 after ${attempts} attempts`);
}

/** Polls `fn` until it returns a value (not undefined/false), at most `timeoutMs`; `abort` ends the wait at once. */
export async function waitUntil<T>(fn: () => Promise<T | undefined | false>, timeoutMs: number, what: string, abort?: () => Promise<string | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const why = await abort?.();
    if (why) throw new Error(`${what}: ${why}`);
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = `; last error: ${(e as Error).message}`;
    }
    if (Date.now() >= deadline) throw new Error(`${what}: not within ${Math.round(timeoutMs / 1000)} s${last}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Starts `cmd args` detached with stdout and stderr appended to `log`; returns its PID (= its process group). */
export function spawnDetached(cmd: string, args: string[], log: string, opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<number> {
  const fd = openSync(log, 'a');
  try {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, detached: true, stdio: ['ignore', fd, fd] });
    return new Promise((resolve, reject) => {
      child.once('error', (e) => reject(new Error(`cannot start ${cmd}: ${e.message}`)));
      child.once('spawn', () => {
        child.unref();
        resolve(child.pid!);
      });
    });
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether `pid` is a running process of this lab: it exists, is no zombie, and its command line names `mark`
 * (the lab's folder), so a PID the system gave to someone else since is never signalled.
 */
export async function labProcessAlive(pid: number, mark: string): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    if (/\) Z /.test(stat)) return false;
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replace(/\0/g, ' ');
    return cmdline.includes(mark);
  } catch {
    return false;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try { process.kill(pid, signal); } catch { /* gone */ }
  }
}

/** SIGTERM to the process group led by `pid`, SIGKILL after `graceMs`; resolves once it is gone (bounded). */
export async function stopProcess(pid: number, mark: string, graceMs = 5000): Promise<'stopped' | 'not running'> {
  if (!(await labProcessAlive(pid, mark))) return 'not running';
  signalGroup(pid, 'SIGTERM');
  const gone = async (ms: number) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (!(await labProcessAlive(pid, mark))) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return !(await labProcessAlive(pid, mark));
  };
  if (await gone(graceMs)) return 'stopped';
  signalGroup(pid, 'SIGKILL');
  if (await gone(3000)) return 'stopped';
  throw new Error(`process ${pid} did not stop after SIGKILL`);
}

/** Runs a tool to completion, bounded; a non-zero exit is an error quoting its output. */
export function runTool(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: opts.timeoutMs ?? 20_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${String(stderr).trim() || String(stdout).trim() || err.message}`));
      else resolve(String(stdout));
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(opts.input ?? '');
  });
}

/** The absolute path of `tool` on PATH (and /usr/sbin, /usr/local/sbin), or undefined. */
export async function which(tool: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const dirs = [...(env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/sbin'].filter(Boolean);
  for (const d of dirs) {
    try {
      await access(`${d}/${tool}`, constants.X_OK);
      return `${d}/${tool}`;
    } catch { /* next */ }
  }
  return undefined;
}

/**
 * Starts a daemon and waits (bounded) until `ready`; when its log says a port was taken between freePort and its
 * bind, tries again with fresh ports (3 attempts). A daemon that does not become ready is stopped: the lab records
 * only processes that work.
 */
export async function startDaemon<T extends { pid: number }>(o: {
  what: string;
  log: string;
  mark: string;
  timeoutMs: number;
  busy: RegExp;
  spawn: (attempt: number) => Promise<T>;
  ready: (started: T) => Promise<boolean>;
  /** Told each PID at once, so the lab records it before the wait (an interrupted `up` leaves nothing `down` misses). */
  onSpawn?: (pid: number) => Promise<void>;
}): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const logStart = await readFile(o.log, 'utf8').then((t) => t.length, () => 0);
    const started = await o.spawn(attempt);
    await o.onSpawn?.(started.pid);
    try {
      await waitUntil(async () => o.ready(started), o.timeoutMs, o.what,
        async () => ((await labProcessAlive(started.pid, o.mark)) ? undefined : `it exited; see ${o.log}`));
      return started;
    } catch (e) {
      await stopProcess(started.pid, o.mark);
      const text = (await readFile(o.log, 'utf8').catch(() => '')).slice(logStart);
      if (attempt < 2 && o.busy.test(text)) continue;
      // Say why: the last lines the daemon logged (the whole log stays in the lab folder until `down`).
      const tail = text.trim().split('\n').slice(-5).join('\n');
      throw tail && e instanceof Error ? new Error(`${e.message}\nlast lines of ${o.log}:\n${tail}`) : e;
    }
  }
}
