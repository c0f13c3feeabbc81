// Key sync's backoff after failures (update/sync/service.ts): 30 s by default, doubling, capped at the interval.
import { describe, expect, it } from 'vitest';
import { retryDelay } from '../../../../src/update/sync/service.js';

describe('key sync retry backoff', () => {
  it('starts at retryMs and doubles with each failure in a row', () => {
    expect([1, 2, 3, 4, 5].map((f) => retryDelay(f, 30_000, 86_400_000))).toEqual([30_000, 60_000, 120_000, 240_000, 480_000]);
  });
  it('never waits longer than the peers\' interval', () => {
    expect(retryDelay(10, 30_000, 3_600_000)).toBe(3_600_000);
    expect(retryDelay(1, 30_000, 10_000)).toBe(10_000);
  });
});
