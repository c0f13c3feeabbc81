// Runs the real `tandem` command (from source, through tsx) as a child process.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const entry = ['--import', 'tsx', 'src/cli/main.ts'];

export async function tandem(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [...entry, ...args], { env: { ...process.env, ...env }, timeout: 30_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

export interface ServeProcess {
  child: ChildProcess;
  port: number;
  logs(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/**
 * `tandem serve` on an ephemeral port; resolves once it logs that every zone is loaded ("zones loaded", with the
 * addresses), within `startTimeoutMs` (default 20 s; a start that parses a large zone on a loaded 2-core machine
 * needs more). It listens earlier ("listening (udp+tcp); loading zones"), answering each zone once it is loaded.
 */
export function serve(args: string[], env: NodeJS.ProcessEnv = {}, startTimeoutMs = 20_000): Promise<ServeProcess> {
  // Ephemeral ports unless the caller names its own.
  const defaults = [...(args.includes('--listen') ? [] : ['--listen', '127.0.0.1:0']), ...(args.includes('--api') ? [] : ['--api', '127.0.0.1:0'])];
  const child = spawn(process.execPath, [...entry, 'serve', ...defaults, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tandem serve did not start within ${startTimeoutMs} ms:\n${out}`));
    }, startTimeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /"listen":\["127\.0\.0\.1:(\d+)"[^\n]*"msg":"zones loaded"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), logs: () => out, exited });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tandem serve exited (${code}):\n${out}`));
    });
  });
}
