// Provider removal (update/sync/removal.ts), RFC 8901 §8: the leaving provider's DS goes first (its KSKs leave our
// DNSKEY RRset, so our CDS/CDNSKEY stop listing them), its ZSKs only after the parent dropped the DS and the DS and
// DNSKEY TTLs have passed.
import { describe, expect, it } from 'vitest';
import { Name } from '../../../../src/dns/name.js';
import { parseRdata } from '../../../../src/dns/rdata.js';
import { RRType } from '../../../../src/dns/types.js';
import { dsRdata } from '../../../../src/dnssec/keys.js';
import { advance, startRemoval, waitingFor, type Removal } from '../../../../src/update/sync/removal.js';

const origin = Name.fromText('example.com.');
const key = (flags: number, fill: number) => parseRdata(RRType.DNSKEY, `${flags} 3 13 ${Buffer.alloc(64, fill).toString('base64')}`, Name.ROOT);
const b64 = (r: Uint8Array) => Buffer.from(r).toString('base64');
const ksk = key(257, 1);
const zsk = key(256, 2);
const T0 = 1_800_000_000;
const input = (now: number, parentDs?: { ok: true; ds: Uint8Array[]; ttl?: number } | { ok: false; reason: string }) => ({ now, origin, dnskeyTtl: 300, parentDs });

describe('RFC 8901 §8 provider removal', () => {
  const start = () => startRemoval([b64(ksk), b64(zsk)], T0);

  it('sorts the peer\'s keys: KSKs (flags 257) to withdraw first, the others last', () => {
    expect(start()).toEqual({ step: 'withdraw-ds', startedAt: T0, ksks: [b64(ksk)], zsks: [b64(zsk)] });
  });

  it('step 1: the KSKs leave our DNSKEY RRset (the claims keep only the ZSKs)', () => {
    const a = advance(start(), input(T0));
    expect(a.removal.step).toBe('wait-ds');
    expect(a.claims).toEqual([b64(zsk)]);
  });

  it('step 2 waits while the parent still has a DS for the KSK, remembering the largest DS TTL', () => {
    const r = advance(start(), input(T0)).removal;
    const ds = dsRdata(origin, ksk, 2);
    let a = advance(r, input(T0 + 10, { ok: true, ds: [ds], ttl: 3600 }));
    expect(a.removal.step).toBe('wait-ds');
    expect(a.removal.dsTtl).toBe(3600);
    expect(a.claims).toBeUndefined();
    // A failed question is no answer: still waiting.
    a = advance(a.removal, input(T0 + 20, { ok: false, reason: 'timeout' }));
    expect(a.removal.step).toBe('wait-ds');
    expect(waitingFor(a.removal, T0 + 20, { ok: false, reason: 'timeout' })).toMatch(/asking it failed \(timeout\); --ds-absent says it is gone/);
    expect(waitingFor(a.removal, T0 + 20)).toMatch(/no parent resolver is configured/);
  });

  it('step 3: once the DS is gone, the keys stay for the DS TTL plus our DNSKEY TTL', () => {
    let r = advance(start(), input(T0)).removal;
    r = advance(r, input(T0 + 10, { ok: true, ds: [dsRdata(origin, ksk, 2)], ttl: 600 })).removal;
    r = advance(r, input(T0 + 100, { ok: true, ds: [] })).removal;
    expect(r).toMatchObject({ step: 'wait-ttl', dsGoneAt: T0 + 100, until: T0 + 100 + 600 + 300 });
    expect(waitingFor(r, T0 + 100)).toMatch(/the caches to forget the DS \(TTL 600 s\) and our DNSKEY RRset \(TTL 300 s\): the keys \d+ go at .* \(in 900 s\)/);
    const early = advance(r, input(T0 + 999));
    expect(early.removal.step).toBe('wait-ttl');
    expect(early.claims).toBeUndefined();
    const done = advance(r, input(T0 + 1000));
    expect(done.removal.step).toBe('done');
    expect(done.claims).toEqual([]);
  });

  it('a DS of another provider at the parent does not hold the removal up', () => {
    const r = advance(start(), input(T0)).removal;
    const other = dsRdata(origin, key(257, 9), 2);
    expect(advance(r, input(T0 + 1, { ok: true, ds: [other] })).removal.step).toBe('wait-ttl');
  });

  it('--ds-absent: the operator says the DS is gone (no parent resolver); a peer with no KSK skips the wait', () => {
    const r: Removal = { ...advance(start(), input(T0)).removal, dsAbsent: true };
    expect(advance(r, input(T0 + 1)).removal).toMatchObject({ step: 'wait-ttl', until: T0 + 1 + 300 });
    const zskOnly = advance(startRemoval([b64(zsk)], T0), input(T0)).removal;
    expect(advance(zskOnly, input(T0 + 1)).removal.step).toBe('wait-ttl');
  });
});
