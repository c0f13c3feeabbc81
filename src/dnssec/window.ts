// RRSIG validity windows snapped to fixed period boundaries (the PowerDNS approach): every call within one
// period returns the same inception/expiration, so workers, restarts and the signature cache agree and
// the same RRset gets the same RRSIG times all period long.
//
//   period start S = floor((now - phase) / period) * period + phase
//   inception      = S - skew            (RFC 4035 §5.3.1 validators with a slow clock still accept)
//   expiration     = inception + validity
//
// At the end of a period a fresh window still has validity - period - skew left; windowFor refuses settings
// where that is not more than half the validity, so a signature from the current window never needs refresh.
import type { SignatureWindow } from './types.js';

export const DAY = 86_400;
/** Default RRSIG validity: 14 days. */
export const DEFAULT_VALIDITY = 14 * DAY;
/** Default allowance for validators whose clocks run behind. */
export const DEFAULT_SKEW = 3600;

export interface WindowOptions {
  /** Snap period in seconds; default validity / 4 (3.5 days for 14 days). */
  period?: number;
  /** Seconds the inception is back-dated; default min(1 h, validity / 16). */
  skew?: number;
  /** Offset of the period boundaries from the epoch (e.g. per zone, to spread re-signing); default 0. */
  phase?: number;
}

function settings(validity: number, opts: WindowOptions): { period: number; skew: number; phase: number } {
  if (!Number.isInteger(validity) || validity < 16) throw new RangeError(`signature validity ${validity} s is too short`);
  const period = opts.period ?? Math.floor(validity / 4);
  const skew = opts.skew ?? Math.min(DEFAULT_SKEW, Math.floor(validity / 16));
  const phase = opts.phase ?? 0;
  if (!Number.isInteger(period) || period < 1) throw new RangeError(`window period ${period} must be a positive integer`);
  if (!Number.isInteger(skew) || skew < 0) throw new RangeError(`window skew ${skew} must be a non-negative integer`);
  if (validity - period - skew <= validity / 2)
    throw new RangeError(`validity ${validity} s is too short for period ${period} s and skew ${skew} s (need validity > 2 * (period + skew))`);
  return { period, skew, phase };
}

/** Start of the period containing `now`. */
export function periodStart(now: number, validity: number = DEFAULT_VALIDITY, opts: WindowOptions = {}): number {
  const { period, phase } = settings(validity, opts);
  return Math.floor((now - phase) / period) * period + phase;
}

/** The signature window for `now`; identical for every `now` in one period. */
export function windowFor(now: number, validity: number = DEFAULT_VALIDITY, opts: WindowOptions = {}): SignatureWindow {
  const { skew } = settings(validity, opts);
  const inception = periodStart(now, validity, opts) - skew;
  return { inception, expiration: inception + validity };
}

/** When the window for `now` stops being current (the next period boundary). */
export function windowEnd(now: number, validity: number = DEFAULT_VALIDITY, opts: WindowOptions = {}): number {
  const { period } = settings(validity, opts);
  return periodStart(now, validity, opts) + period;
}

/**
 * True when a signature with this window should be re-made: less than half the validity remains, or it is
 * not yet valid (a clock step backwards).
 */
export function needsRefresh(window: SignatureWindow, now: number, validity: number = DEFAULT_VALIDITY): boolean {
  return now < window.inception || window.expiration - now < validity / 2;
}
