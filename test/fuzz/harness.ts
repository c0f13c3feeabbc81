// Runs fuzz targets, each in a worker thread of its own: a heap limit turns unbounded allocation into a failure
// instead of a swapping machine, and a watchdog ends a case that never returns (a sync loop cannot be
// interrupted from inside) and names it by seed and path. `npm test` (fuzz.test.ts) and `npm run fuzz`
// (main.ts) both come through here.
import { Worker } from 'node:worker_threads';
import type { RunReport, RunRequest } from './run.js';

export type { RunReport } from './run.js';

export interface FuzzOptions {
  seed: number;
  /** Time budget of the random cases, ms. */
  ms: number;
  path?: string;
  show?: boolean;
  /** A case still running after this long is a hang (default 15 s). */
  hangMs?: number;
  /** Heap limit of the worker (default 384 MiB): a case that needs more is a failure. */
  heapMb?: number;
}

/** A seed for this run: FUZZ_SEED replays one (STYLE habit 15). */
export function fuzzSeed(env: NodeJS.ProcessEnv = process.env): number {
  return env.FUZZ_SEED !== undefined ? Number(env.FUZZ_SEED) : Math.floor(Math.random() * 0x7fffffff);
}

export function fuzz(target: string, opts: FuzzOptions): Promise<RunReport> {
  const state = new SharedArrayBuffer(8);
  const cells = new Int32Array(state);
  const request: Omit<RunRequest, 'state'> & { state: SharedArrayBuffer } = { target, seed: opts.seed, ms: opts.ms, path: opts.path, show: opts.show, state };
  const hangMs = opts.hangMs ?? 15_000;
  const replay = (n: number) => `npm run fuzz -- --target ${target} --seed ${opts.seed} --path ${n} --show`;
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./worker.mjs', import.meta.url), {
      workerData: request,
      resourceLimits: { maxOldGenerationSizeMb: opts.heapMb ?? 384 },
      stdout: false,
      stderr: false,
    });
    let settled = false;
    let seen = -1;
    let since = Date.now();
    const finish = (r: RunReport | Error) => {
      if (settled) return;
      settled = true;
      clearInterval(watch);
      clearTimeout(deadline);
      void worker.terminate();
      if (r instanceof Error) reject(r);
      else resolve(r);
    };
    const failed = (failure: string) => finish({ target, seed: opts.seed, runs: Atomics.load(cells, 0) + 1, failure });
    const watch = setInterval(() => {
      const n = Atomics.load(cells, 0);
      const busy = Atomics.load(cells, 1) === 1;
      if (!busy || n !== seen) { seen = n; since = Date.now(); return; }
      if (Date.now() - since > hangMs) failed(`case ${n} (seed ${opts.seed}, path "${n}") was still running after ${hangMs} ms: a hang. Its input: ${replay(n)}`);
    }, 100);
    // Preparing (a server start) and shrinking a failure take time too; past this the run itself is stuck.
    const deadline = setTimeout(() => failed(`no result ${opts.ms + 4 * hangMs} ms after the start (seed ${opts.seed}, last case ${Atomics.load(cells, 0)})`), opts.ms + 4 * hangMs);
    worker.on('message', (r: RunReport) => finish(r));
    worker.on('error', (err: Error & { code?: string }) => {
      const n = Atomics.load(cells, 0);
      const why = err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `ran out of its ${opts.heapMb ?? 384} MiB heap` : `died: ${err.stack ?? err.message}`;
      failed(`the worker ${why} at case ${n} (seed ${opts.seed}, path "${n}"). Its input: ${replay(n)}`);
    });
    worker.on('exit', (code) => { if (!settled) failed(`the worker exited (code ${code}) without a result (seed ${opts.seed})`); });
  });
}
