// The bounded fuzz run of `npm test`: about 30 s in all, shared by the targets by weight (FUZZ_SECONDS changes the
// total, FUZZ_SEED replays a run). Each target runs in a worker thread with a heap limit and a hang watchdog
// (harness.ts); a failure prints fast-check's report with the seed and path that replay it. The long run is
// `npm run fuzz -- --seconds N` (main.ts).
import { describe, expect, it } from 'vitest';
import { typeSpec } from '../../src/dns/rdata/schemas.js';
import { RDATA } from './arbitraries.js';
import { fuzz, fuzzSeed } from './harness.js';
import { targets } from './targets.js';

const TOTAL_MS = Number(process.env.FUZZ_SECONDS ?? 24) * 1000;
const weights = targets.reduce((n, t) => n + t.weight, 0);
const seed = fuzzSeed();

describe(`fuzz (seed ${seed}; replay with FUZZ_SEED=${seed})`, () => {
  for (const t of targets) {
    const ms = Math.round((TOTAL_MS * t.weight) / weights);
    it(`${t.name}: ${t.about}`, async () => {
      const r = await fuzz(t.name, { seed, ms });
      console.log(`fuzz ${t.name}: ${r.runs} cases in ${ms} ms, seed ${seed}`);
      expect(r.failure, r.failure).toBeUndefined();
      // A target that ran only its examples (at most 6) tested nothing random; a loaded machine still runs dozens.
      expect(r.runs).toBeGreaterThan(10);
    }, ms + 90_000);
  }

  it('the RDATA generators cover every type dns/rdata/schemas.ts lays out', () => {
    const missing: number[] = [];
    for (let type = 0; type <= 0xffff; type++) if (typeSpec(type) && !RDATA.has(type)) missing.push(type);
    expect(missing).toEqual([]);
  });
});
