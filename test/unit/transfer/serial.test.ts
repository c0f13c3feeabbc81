import { describe, expect, it } from 'vitest';
import { dateSerial, initialSerial, nextSerial, serialAdd, serialCompare, serialNewer } from '../../../src/transfer/serial.js';
import { decideSerial, soaSerial } from '../../../src/state/version.js';

describe('RFC 1982 serial arithmetic', () => {
  it('§3.1: addition wraps at 2^32 and refuses increments of 2^31 or more', () => {
    expect(serialAdd(0xffffffff, 1)).toBe(0);
    expect(serialAdd(5, 0x7fffffff)).toBe((5 + 0x7fffffff) % 2 ** 32);
    expect(() => serialAdd(1, 0x80000000)).toThrow(RangeError);
  });

  it('§3.2: comparison across the wrap, and undefined exactly 2^31 apart', () => {
    expect(serialCompare(1, 2)).toBe(-1);
    expect(serialCompare(0xffffffff, 0)).toBe(-1); // 0 is after 2^32-1
    expect(serialCompare(0, 0xffffffff)).toBe(1);
    expect(serialCompare(7, 7)).toBe(0);
    expect(serialCompare(0, 0x80000000)).toBeUndefined();
    expect(serialNewer(10, 0xfffffff0)).toBe(true);
  });
});

describe('serial policies', () => {
  const now = Date.UTC(2026, 11, 4, 12, 0, 0) / 1000;
  it('increment: one more, also across the wrap', () => {
    expect(nextSerial('increment', 41, now)).toBe(42);
    expect(nextSerial('increment', 0xffffffff, now)).toBe(0);
  });
  it('unixtime: the time, or one more when the time is not newer', () => {
    expect(nextSerial('unixtime', 1000, now)).toBe(now);
    expect(nextSerial('unixtime', now, now)).toBe(now + 1);
    expect(nextSerial('unixtime', now + 50, now)).toBe(now + 51);
  });
  it('dateserial: YYYYMMDD00 of today, else one more (more than one change a day)', () => {
    expect(dateSerial(now)).toBe(2026120400);
    expect(nextSerial('dateserial', 2026120312, now)).toBe(2026120400);
    expect(nextSerial('dateserial', 2026120400, now)).toBe(2026120401);
    expect(initialSerial('dateserial', now)).toBe(2026120400);
    expect(initialSerial('increment', now)).toBe(1);
  });
});

describe('which serial a zone is served with', () => {
  const base = { policy: 'increment' as const, fileSerial: 100, explicit: true, digest: 'd1', now: 1_800_000_000 };
  it('a zone never served takes the file\'s serial', () => {
    expect(decideSerial(base)).toEqual({ serial: 100, changed: true });
  });
  it('unchanged content keeps the stored serial, even when the file\'s is older', () => {
    expect(decideSerial({ ...base, fileSerial: 90, stored: { serial: 105, digest: 'd1' } })).toEqual({ serial: 105, changed: false });
  });
  it('changed content moves on from the stored serial, never back to an older file serial (reported as behind)', () => {
    expect(decideSerial({ ...base, digest: 'd2', fileSerial: 90, stored: { serial: 105, digest: 'd1' } })).toEqual({ serial: 106, changed: true, behind: 90 });
  });
  it('an explicit file serial newer than ours wins (an operator forcing a refresh)', () => {
    expect(decideSerial({ ...base, fileSerial: 500, stored: { serial: 105, digest: 'd1' } })).toEqual({ serial: 500, changed: true });
  });
  it('without an explicit serial, the unixtime policy starts from the file mtime and moves to the time', () => {
    expect(decideSerial({ ...base, policy: 'unixtime', explicit: false, fileSerial: 1_700_000_000 }).serial).toBe(1_700_000_000);
    expect(decideSerial({ ...base, policy: 'unixtime', explicit: false, digest: 'x', stored: { serial: 1_700_000_000, digest: 'd1' } }).serial).toBe(1_800_000_000);
  });
});

describe('the SOA serial of malformed RDATA (fuzz seed 2131439832)', () => {
  it('RFC 1035 §3.3.13: SOA RDATA too short for its names and five 32-bit fields is a RangeError, not an endless walk', () => {
    // The fuzzer's find: a name walk past the end of the RDATA read `undefined` and never stopped.
    const cut = Uint8Array.from([63, 65, 65, 65]);
    expect(() => soaSerial(cut)).toThrow(RangeError);
    expect(() => soaSerial(Uint8Array.from([0, 0, 0, 0, 0, 1]))).toThrow(/no room for its five 32-bit fields/);
    expect(soaSerial(Uint8Array.from([0, 0, 0, 0, 0, 7, ...new Array(16).fill(0)]))).toBe(7);
  });
});
