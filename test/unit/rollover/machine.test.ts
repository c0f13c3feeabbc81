// The rollover state machine alone (rollover/machine.ts), driven by a fake clock and fake answers: every
// transition, the condition it waits for, and that nothing moves a moment early.
import { describe, expect, it } from 'vitest';
import { Name } from '../../../src/dns/name.js';
import { dsRdata, generateKey } from '../../../src/dnssec/keys.js';
import { advance, describe as describeRollover, type ParentPoll, type ProviderPoll, type RolloverEnv } from '../../../src/rollover/machine.js';
import type { Rollover } from '../../../src/rollover/state.js';

const ZONE = Name.fromText('example.test.');
const T0 = 1_800_000_000;
const b64 = (d: Uint8Array) => Buffer.from(d).toString('base64');

function world(kind: 'zsk' | 'ksk') {
  const oldKey = generateKey(kind === 'zsk' ? 256 : 257);
  const newKey = generateKey(kind === 'zsk' ? 256 : 257);
  const w = {
    t: T0,
    dnskeyTtl: 60,
    maxTtl: 300,
    /** Provider name -> its DNSKEY RRset (undefined: it does not answer). */
    providers: new Map<string, Uint8Array[] | undefined>([['a:53', [oldKey.dnskey, newKey.dnskey]], ['b:53', [oldKey.dnskey]]]),
    providerTtl: 60,
    parent: { ok: true, ds: [dsRdata(ZONE, oldKey.dnskey, 2)], ttl: 120 } as ParentPoll,
    calls: [] as string[],
  };
  const env: RolloverEnv = {
    now: () => w.t,
    zone: () => ({ dnskeyTtl: w.dnskeyTtl, maxTtl: w.maxTtl }),
    pollProviders: async () => [...w.providers].map(([provider, keys]): ProviderPoll => (keys ? { provider, ok: true, dnskeys: keys, ttl: w.providerTtl } : { provider, ok: false, reason: 'timeout' })),
    parentDs: async () => w.parent,
    switchKeys: async () => { w.calls.push('switch'); },
    removeOld: async () => { w.calls.push('remove'); },
  };
  const r: Rollover = {
    version: 1, zone: ZONE.toString(), kind, step: 'publish', oldTag: oldKey.keyTag, newTag: newKey.keyTag,
    oldDnskey: 'old', newDnskey: 'new', oldKey: b64(oldKey.dnskey), newKey: b64(newKey.dnskey),
    startedAt: T0, stepSince: T0, providers: [],
  };
  return { w, env, r, oldKey, newKey };
}

describe('ZSK pre-publish rollover (RFC 6781 §4.1.1.1, RFC 8901 §6)', () => {
  it('RFC 8901 §6: does not sign with the new ZSK while one provider lacks it, however long that lasts', async () => {
    const { w, env, r } = world('zsk');
    w.t = T0 + 10_000;
    const { rollover, moved } = await advance(r, env);
    expect(moved).toBe(false);
    expect(w.calls).toEqual([]);
    expect(rollover.seenAt).toBeUndefined();
    expect(rollover.seen?.find((s) => s.provider === 'b:53')?.hasNew).toBe(false);
    const st = describeRollover(rollover, w.t, env.zone());
    expect(st.waitingFor).toContain('missing at b:53');
    expect(st.earliestNext).toBeUndefined();
    expect(st.todo[0]).toContain('new');
  });

  it('a provider that does not answer counts as not publishing the key', async () => {
    const { w, env, r } = world('zsk');
    w.providers.set('b:53', undefined);
    w.t += 1000;
    const { rollover } = await advance(r, env);
    expect(rollover.seenAt).toBeUndefined();
    expect(describeRollover(rollover, w.t, env.zone()).waitingFor).toContain('b:53 (timeout)');
  });

  it('RFC 7583 Pre-Publication: once every provider publishes it, waits the DNSKEY TTL from then, then switches', async () => {
    const { w, env, r, oldKey, newKey } = world('zsk');
    w.t += 5;
    w.providers.set('b:53', [oldKey.dnskey, newKey.dnskey]);
    let { rollover } = await advance(r, env);
    expect(rollover.seenAt).toBe(T0 + 5);
    expect(rollover.step).toBe('publish');
    expect(describeRollover(rollover, w.t, env.zone()).earliestNext).toBe(T0 + 5 + 60);
    w.t = T0 + 5 + 59;
    ({ rollover } = await advance(rollover, env));
    expect(rollover.step).toBe('publish');
    expect(w.calls).toEqual([]);
    w.t = T0 + 5 + 60;
    const res = await advance(rollover, env);
    expect(res.moved).toBe(true);
    expect(res.rollover.step).toBe('retire');
    expect(res.rollover.switchedAt).toBe(w.t);
    expect(res.rollover.retireTtl).toBe(300);
    expect(w.calls).toEqual(['switch']);
  });

  it('waits the largest DNSKEY TTL any provider serves, when it is longer than ours', async () => {
    const { w, env, r, oldKey, newKey } = world('zsk');
    w.providerTtl = 200;
    w.providers.set('b:53', [oldKey.dnskey, newKey.dnskey]);
    let { rollover } = await advance(r, env);
    w.t += 199;
    ({ rollover } = await advance(rollover, env));
    expect(rollover.step).toBe('publish');
    w.t += 1;
    ({ rollover } = await advance(rollover, env));
    expect(rollover.step).toBe('retire');
  });

  it('a provider that drops the new key restarts the DNSKEY TTL wait', async () => {
    const { w, env, r, oldKey, newKey } = world('zsk');
    w.providers.set('b:53', [oldKey.dnskey, newKey.dnskey]);
    let { rollover } = await advance(r, env);
    w.t += 30;
    w.providers.set('b:53', [oldKey.dnskey]);
    ({ rollover } = await advance(rollover, env));
    expect(rollover.seenAt).toBeUndefined();
    w.t += 10;
    w.providers.set('b:53', [oldKey.dnskey, newKey.dnskey]);
    ({ rollover } = await advance(rollover, env));
    expect(rollover.seenAt).toBe(T0 + 40);
    w.t = T0 + 60;
    ({ rollover } = await advance(rollover, env));
    expect(rollover.step).toBe('publish');
  });

  it('RFC 7583 Pre-Publication: the old ZSK stays published for the largest TTL in the zone after the switch, then is removed', async () => {
    const { w, env, r } = world('zsk');
    const retiring: Rollover = { ...r, step: 'retire', switchedAt: T0, stepSince: T0, retireTtl: 300 };
    w.t = T0 + 299;
    let res = await advance(retiring, env);
    expect(res.moved).toBe(false);
    expect(describeRollover(retiring, w.t, env.zone()).earliestNext).toBe(T0 + 300);
    w.t = T0 + 300;
    res = await advance(retiring, env);
    expect(res.rollover.step).toBe('done');
    expect(res.rollover.removedAt).toBe(T0 + 300);
    expect(w.calls).toEqual(['remove']);
    expect(describeRollover(res.rollover, w.t, env.zone()).todo[0]).toContain('remove the old ZSK');
  });

  it('done is final: nothing is polled or changed', async () => {
    const { w, env, r } = world('zsk');
    const res = await advance({ ...r, step: 'done' }, env);
    expect(res.moved).toBe(false);
    expect(w.calls).toEqual([]);
  });
});

describe('KSK double-DS rollover (RFC 6781 §4.1.2, RFC 7583 Double-DS, RFC 8901 §8)', () => {
  it('waits for the new DS at the parent; a failing parent check changes nothing', async () => {
    const { w, env, r } = world('ksk');
    w.t += 10_000;
    let res = await advance(r, env);
    expect(res.rollover.seenAt).toBeUndefined();
    expect(res.moved).toBe(false);
    const st = describeRollover(res.rollover, w.t, env.zone());
    expect(st.waitingFor).toContain(`DS of KSK ${r.newTag}`);
    expect(st.todo[0]).toContain(`example.test. IN DS ${r.newTag} 13 2 `);
    w.parent = { ok: false, reason: 'no answer' };
    res = await advance(res.rollover, env);
    expect(res.rollover.step).toBe('publish');
    expect(describeRollover(res.rollover, w.t, env.zone()).waitingFor).toContain('no answer');
    expect(w.calls).toEqual([]);
  });

  it('RFC 7583 Double-DS: switches to the new KSK one DS TTL after its DS is seen at the parent (SHA-384 DS counts too)', async () => {
    const { w, env, r, oldKey, newKey } = world('ksk');
    w.parent = { ok: true, ds: [dsRdata(ZONE, oldKey.dnskey, 2), dsRdata(ZONE, newKey.dnskey, 4)], ttl: 120 };
    let res = await advance(r, env);
    expect(res.rollover.seenAt).toBe(T0);
    w.t = T0 + 119;
    res = await advance(res.rollover, env);
    expect(res.rollover.step).toBe('publish');
    w.t = T0 + 120;
    res = await advance(res.rollover, env);
    expect(res.rollover.step).toBe('retire');
    expect(res.rollover.retireTtl).toBe(60); // the DNSKEY TTL
    expect(w.calls).toEqual(['switch']);
  });

  it('after the DNSKEY TTL the old KSK is removed, then waits until the parent drops its DS', async () => {
    const { w, env, r, newKey } = world('ksk');
    const retiring: Rollover = { ...r, step: 'retire', switchedAt: T0, stepSince: T0, retireTtl: 60 };
    w.t = T0 + 59;
    expect((await advance(retiring, env)).moved).toBe(false);
    w.t = T0 + 60;
    let res = await advance(retiring, env);
    expect(res.rollover.step).toBe('withdraw');
    expect(w.calls).toEqual(['remove']);
    // The parent still has the old DS.
    w.t += 500;
    res = await advance(res.rollover, env);
    expect(res.rollover.step).toBe('withdraw');
    expect(describeRollover(res.rollover, w.t, env.zone()).waitingFor).toContain(`DS of KSK ${r.oldTag}`);
    w.parent = { ok: true, ds: [dsRdata(ZONE, newKey.dnskey, 2)], ttl: 120 };
    res = await advance(res.rollover, env);
    expect(res.rollover.step).toBe('done');
    expect(res.rollover.doneAt).toBe(w.t);
  });
});
