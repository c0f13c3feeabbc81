// SOA serial numbers: RFC 1982 sequence-space arithmetic and the policies that choose the next serial
// when a zone changes (Knot's and BIND's names: increment, unixtime, dateserial).

/** Serials are 32-bit (RFC 1982 §2, SERIAL_BITS = 32). */
const MOD = 0x1_0000_0000;
const HALF = 0x8000_0000;

export type SerialPolicy = 'unixtime' | 'dateserial' | 'increment';
export const SERIAL_POLICIES: readonly SerialPolicy[] = ['unixtime', 'dateserial', 'increment'];

/** RFC 1982 §3.1: s + n for n in 0..2^31-1. */
export function serialAdd(s: number, n: number): number {
  if (n < 0 || n >= HALF) throw new RangeError(`serial increment ${n} outside 0..2^31-1 (RFC 1982 §3.1)`);
  return (s + n) % MOD;
}

/**
 * RFC 1982 §3.2: -1 when a < b, 1 when a > b, 0 when equal; undefined for the pairs exactly 2^31 apart,
 * whose order the RFC leaves undefined.
 */
export function serialCompare(a: number, b: number): -1 | 0 | 1 | undefined {
  if (a === b) return 0;
  if ((a < b && b - a < HALF) || (a > b && a - b > HALF)) return -1;
  if ((a < b && b - a > HALF) || (a > b && a - b < HALF)) return 1;
  return undefined;
}

/** True when `a` is newer than `b` (RFC 1982 §3.2 "greater than"). */
export function serialNewer(a: number, b: number): boolean {
  return serialCompare(a, b) === 1;
}

/**
 * The serial after `current` under `policy`, always newer than `current` (RFC 1982), given the time `now`
 * (epoch seconds):
 * - increment: current + 1
 * - unixtime: now, or current + 1 when that is not newer (two changes in one second, or a clock behind)
 * - dateserial: YYYYMMDD00 of today (UTC), or current + 1 when that is not newer (more than 99 changes a day)
 */
export function nextSerial(policy: SerialPolicy, current: number, now: number): number {
  const step = serialAdd(current, 1);
  let candidate: number;
  switch (policy) {
    case 'increment': return step;
    case 'unixtime': candidate = Math.floor(now) % MOD; break;
    case 'dateserial': candidate = dateSerial(now); break;
  }
  return serialNewer(candidate, current) ? candidate : step;
}

/** The first serial a zone gets under `policy` when nothing has been served before. */
export function initialSerial(policy: SerialPolicy, now: number): number {
  switch (policy) {
    case 'increment': return 1;
    case 'unixtime': return Math.floor(now) % MOD;
    case 'dateserial': return dateSerial(now);
  }
}

/** YYYYMMDD00 for the UTC date of `now`. */
export function dateSerial(now: number): number {
  const d = new Date(now * 1000);
  return (d.getUTCFullYear() * 10000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate()) * 100;
}

/** The newer of two serials (RFC 1982); `a` when their order is undefined. */
export function newerOf(a: number, b: number): number {
  return serialNewer(b, a) ? b : a;
}
