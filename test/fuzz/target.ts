// What a fuzz target is: an input generator (fast-check arbitrary) and a check that throws when a case breaks a
// property. The harness (harness.ts) adds what every target shares: the seed, a time bound per case, the run
// index for the hang watchdog and the heap limit of the worker thread it runs in.
import type fc from 'fast-check';

export interface Prepared<T> {
  arbitrary: fc.Arbitrary<T>;
  /** Throws (any error) when the case breaks a property; may be async (the admin API target). */
  check(value: T): void | Promise<void>;
  /** True when `check` returns a promise (fast-check's async property, with its per-case timeout). */
  async?: boolean;
  /** Known inputs run before the random ones: earlier finds and hand-made nasties. */
  examples?: T[];
  close?(): Promise<void>;
}

export interface FuzzTarget<T = any> {
  name: string;
  /** One line: the code under test and what each case checks. */
  about: string;
  /** Share of a time budget, relative to the other targets. */
  weight: number;
  /** Longest one case may take (ms) before it counts as a hang-in-the-making (default 2000). */
  caseMs?: number;
  prepare(): Promise<Prepared<T>> | Prepared<T>;
}

export function target<T>(t: FuzzTarget<T>): FuzzTarget<T> {
  return t;
}
