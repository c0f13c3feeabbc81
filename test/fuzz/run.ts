// Runs one fuzz target inside its worker thread (worker.mjs): fast-check with the seed, the time budget and the
// target's examples first; each case is timed (a sync case over the target's bound fails) and its index is
// published in shared memory before it starts, so the watchdog in harness.ts can name a case that never ends.
import fc from 'fast-check';
import { targets } from './targets.js';

export interface RunRequest {
  target: string;
  seed: number;
  /** Time budget of the random cases (ms); shrinking a failure may add to it. */
  ms: number;
  /** Replay this one case (fast-check's path, "N" = the N-th case, examples counted first). */
  path?: string;
  /** With `path`: print the case's input without running the check (a case that hangs). */
  show?: boolean;
  /** [0]: index of the current case, [1]: 1 while a case runs. */
  state: SharedArrayBuffer;
}

export interface RunReport {
  target: string;
  seed: number;
  /** Cases run (examples included). */
  runs: number;
  /** Set when a property failed: fast-check's report (seed, path, counterexample, error). */
  failure?: string;
  /** The input at `path` (show mode). */
  shown?: string;
}

export async function runTarget(req: RunRequest): Promise<RunReport> {
  const t = targets.find((x) => x.name === req.target);
  if (!t) throw new Error(`no fuzz target ${req.target} (targets: ${targets.map((x) => x.name).join(', ')})`);
  const prepared = await t.prepare();
  const state = new Int32Array(req.state);
  const caseMs = t.caseMs ?? 2000;
  let calls = 0;
  let shown: string | undefined;
  const begin = (): number => {
    Atomics.store(state, 0, calls++);
    Atomics.store(state, 1, 1);
    return performance.now();
  };
  const end = (t0: number): void => {
    Atomics.store(state, 1, 0);
    const took = performance.now() - t0;
    if (took > caseMs) throw new Error(`the case took ${Math.round(took)} ms, over the bound of ${caseMs} ms`);
  };
  const params: fc.Parameters<[unknown]> = {
    seed: req.seed,
    numRuns: req.path !== undefined ? 1 : 1_000_000_000,
    examples: (prepared.examples ?? []).map((v) => [v] as [unknown]),
    ...(req.path !== undefined ? { path: req.path, endOnFailure: true } : { interruptAfterTimeLimit: req.ms }),
  };
  try {
    if (req.show) {
      await fc.check(fc.property(prepared.arbitrary, (v) => { shown = fc.stringify(v); }), params);
      return { target: t.name, seed: req.seed, runs: 0, shown };
    }
    const details = prepared.async
      ? await fc.check(fc.asyncProperty(prepared.arbitrary, async (v) => { const t0 = begin(); await prepared.check(v); end(t0); }), { ...params, timeout: caseMs })
      : fc.check(fc.property(prepared.arbitrary, (v) => { const t0 = begin(); prepared.check(v); end(t0); }), params);
    let failure: string | undefined;
    if (details.failed) {
      const report = prepared.async ? await fc.asyncDefaultReportMessage(details) : fc.defaultReportMessage(details);
      const err = details.errorInstance;
      failure = `${report}\nError: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
    }
    return { target: t.name, seed: req.seed, runs: calls, ...(failure ? { failure } : {}) };
  } finally {
    await prepared.close?.();
  }
}
