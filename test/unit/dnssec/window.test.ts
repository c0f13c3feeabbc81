import { describe, expect, it } from 'vitest';
import { DAY, DEFAULT_VALIDITY, needsRefresh, periodStart, windowEnd, windowFor } from '../../../src/dnssec/window.js';

const V = DEFAULT_VALIDITY; // 14 days
const P = V / 4; // 3.5 days
const S = 3600;

describe('signature windows snapped to fixed boundaries', () => {
  it('every instant of one period gets the identical window', () => {
    const start = 100 * P;
    const w = windowFor(start, V);
    expect(windowFor(start + 1, V)).toEqual(w);
    expect(windowFor(start + P - 1, V)).toEqual(w);
    expect(w).toEqual({ inception: start - S, expiration: start - S + V });
  });

  it('the boundary itself starts a new window', () => {
    const start = 100 * P;
    expect(windowFor(start - 1, V).inception).toBe(start - P - S);
    expect(windowFor(start, V).inception).toBe(start - S);
    expect(windowEnd(start - 1, V)).toBe(start);
    expect(periodStart(start + 5, V)).toBe(start);
  });

  it('RFC 4035 §5.3.1: inception is back-dated by the skew, so slow validator clocks accept it', () => {
    const now = 1_700_000_000;
    const w = windowFor(now, V);
    expect(w.inception).toBeLessThanOrEqual(now - S);
    expect(w.expiration - w.inception).toBe(V);
    expect(windowFor(now, V, { skew: 0 }).inception).toBe(periodStart(now, V));
  });

  it('a phase shifts the boundaries (to spread re-signing across zones) and stays deterministic', () => {
    const w = windowFor(1_700_000_000, V, { phase: 7777 });
    expect((w.inception + S - 7777) % P).toBe(0);
    expect(windowFor(1_700_000_000, V, { phase: 7777 })).toEqual(w);
  });

  it('a signature from the current window never needs refresh during its period', () => {
    const start = 200 * P;
    for (const now of [start, start + P / 2, start + P - 1]) expect(needsRefresh(windowFor(now, V), now, V)).toBe(false);
  });

  it('needsRefresh when less than half the validity remains, or before inception', () => {
    const w = windowFor(200 * P, V);
    const half = w.expiration - V / 2;
    expect(needsRefresh(w, half, V)).toBe(false);
    expect(needsRefresh(w, half + 1, V)).toBe(true);
    expect(needsRefresh(w, w.inception - 1, V)).toBe(true);
  });

  it('short validities scale the skew; impossible settings are refused', () => {
    const w = windowFor(10_000, 160);
    expect(w.expiration - w.inception).toBe(160);
    expect(needsRefresh(w, 10_000, 160)).toBe(false);
    expect(() => windowFor(0, 8)).toThrow(RangeError);
    expect(() => windowFor(0, DAY, { period: DAY / 2 })).toThrow(/too short/);
    expect(() => windowFor(0, V, { period: 0 })).toThrow(RangeError);
  });
});
