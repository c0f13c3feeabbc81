// The signing budget (issue 15): fresh signatures wait in a bounded queue worked off in slices; past the bound a
// UDP query that needs one is answered TC=1 (or dropped), TCP queries always get their answer, and answers whose
// signatures are cached never wait.
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { encodeQuery } from '../../../src/dns/message.js';
import { Name } from '../../../src/dns/name.js';
import { RRType } from '../../../src/dns/types.js';
import { createHandler } from '../../../src/server/handle.js';
import { OverBudget, SigningBudget } from '../../../src/server/budget.js';
import { ResponseCache } from '../../../src/server/respcache.js';
import { Metrics } from '../../../src/metrics/registry.js';
import { decode as decodePacket } from '../../helpers/client.js';
import { useExampleManager } from '../../helpers/manager.js';

const logger = pino({ level: 'silent' });
/** The answer with its TC bit (RFC 1035 §4.1.1: 0x0200 of the flags). */
const decode = (b: Buffer) => ({ ...decodePacket(b), flag_tc: (b.readUInt16BE(2) & 0x0200) !== 0 });

/** A budget whose slices run when the test says (`tick`), on a clock the test moves. */
function manual(limit: number, opts: { sliceMs?: number; overflow?: 'tc' | 'drop' } = {}) {
  const ran: (() => void)[] = [];
  const clock = { t: 0 };
  const budget = new SigningBudget({ limit, overflow: opts.overflow ?? 'tc', sliceMs: opts.sliceMs, now: () => clock.t, defer: (fn) => ran.push(fn) });
  const tick = async () => {
    const fns = ran.splice(0);
    for (const fn of fns) fn();
    await new Promise((r) => setImmediate(r)); // let resolved jobs' continuations run
    return fns.length;
  };
  return { budget, clock, tick };
}

describe('SigningBudget: the queue', () => {
  it('admits a UDP query while fewer than `limit` signatures wait, then refuses with OverBudget', async () => {
    const { budget, tick } = manual(2);
    const done: string[] = [];
    const job = (v: string) => () => Promise.resolve(v);
    const a = budget.gate('udp').run(job('a')).then((v) => done.push(v));
    const b = budget.gate('udp').run(job('b')).then((v) => done.push(v));
    expect(budget.waiting).toBe(2);
    await expect(budget.gate('udp').run(job('c'))).rejects.toBeInstanceOf(OverBudget);
    await tick();
    await Promise.all([a, b]);
    expect(done).toEqual(['a', 'b']);
    expect(budget.stats.signed).toBe(2);
    expect(budget.stats.peak).toBe(2);
    // Worked off: room again.
    await expect(Promise.race([budget.gate('udp').run(job('d')), tick().then(() => 'not yet')])).resolves.toBe('d');
  });

  it('a query admitted once keeps its later signatures (half an answer is no answer)', async () => {
    const { budget, tick } = manual(1);
    const g = budget.gate('udp');
    const first = g.run(() => Promise.resolve(1));
    const second = g.run(() => Promise.resolve(2)); // the queue is full, but this query is in
    await expect(budget.gate('udp').run(() => Promise.resolve(3))).rejects.toBeInstanceOf(OverBudget);
    await tick();
    expect(await Promise.all([first, second])).toEqual([1, 2]);
  });

  it('limit 0: every UDP signature is refused, TCP ones are made', async () => {
    const { budget, tick } = manual(0);
    await expect(budget.gate('udp').run(() => Promise.resolve('u'))).rejects.toBeInstanceOf(OverBudget);
    const t = budget.gate('tcp').run(() => Promise.resolve('t'));
    await tick();
    expect(await t).toBe('t');
  });

  it('TCP is never refused and is served before UDP queries that waited longer', async () => {
    const { budget, tick } = manual(1);
    const order: string[] = [];
    const u = budget.gate('udp').run(async () => { order.push('udp'); });
    const ts = [1, 2, 3].map((i) => budget.gate('tcp').run(async () => { order.push(`tcp${i}`); }));
    expect(budget.waiting).toBe(4); // past the bound: TCP queues beyond it
    await tick();
    await Promise.all([u, ...ts]);
    expect(order).toEqual(['tcp1', 'tcp2', 'tcp3', 'udp']);
  });

  it('a slice stops after sliceMs and lets the event loop read sockets before the next one', async () => {
    const { budget, clock, tick } = manual(100, { sliceMs: 1 });
    let made = 0;
    const jobs = Array.from({ length: 10 }, () => budget.gate('udp').run(async () => { made++; clock.t += 0.3; }));
    expect(await tick()).toBe(1);
    expect(made).toBe(4); // 0.3, 0.6, 0.9, 1.2 ms: the fourth crosses the slice
    expect(await tick()).toBe(1);
    expect(made).toBe(8);
    await tick();
    await Promise.all(jobs);
    expect(made).toBe(10);
    expect(await tick()).toBe(0); // nothing scheduled once empty
  });

  it('while the socket is backlogged (32 datagrams read in one loop turn) a slice lasts busySliceMs', async () => {
    const ran: (() => void)[] = [];
    const clock = { t: 0 };
    const budget = new SigningBudget({ limit: 100, overflow: 'tc', sliceMs: 1, busySliceMs: 0.25, now: () => clock.t, defer: (fn) => ran.push(fn) });
    let made = 0;
    const jobs = Array.from({ length: 20 }, () => budget.gate('udp').run(async () => { made++; clock.t += 0.1; }));
    for (let i = 0; i < 32; i++) budget.read();
    ran.shift()!();
    expect(made).toBe(3); // 0.1, 0.2, 0.3 ms: the third crosses 0.25
    for (let i = 0; i < 31; i++) budget.read(); // fewer: not backlogged
    ran.shift()!();
    expect(made).toBe(13); // a whole 1 ms slice
    while (ran.length) ran.shift()!();
    await Promise.all(jobs);
  });

  it('a failing signature rejects its own query only', async () => {
    const { budget, tick } = manual(5);
    const bad = budget.gate('udp').run(() => { throw new Error('HSM gone'); }).catch((e: Error) => e.message);
    const good = budget.gate('udp').run(() => Promise.resolve('ok'));
    await tick();
    await expect(bad).resolves.toBe('HSM gone');
    await expect(good).resolves.toBe('ok');
  });

  it('counts refusals per overflow action, and logs one summary line per period, not one per query', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({ write(chunk, _e, cb) { lines.push(JSON.parse(String(chunk))); cb(); } });
    const budget = new SigningBudget({ limit: 0, overflow: 'drop', summaryMs: 30, logger: pino({ level: 'info' }, sink) });
    try {
      for (let i = 0; i < 50; i++) budget.refused();
      expect(budget.stats).toMatchObject({ dropped: 50, truncated: 0 });
      expect(lines).toHaveLength(0);
      const until = Date.now() + 2000;
      while (lines.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ dropped: 50, truncated: 0, limit: 0, overflow: 'drop', msg: expect.stringMatching(/signing budget exceeded/) });
      // A quiet period ends the summaries.
      await new Promise((r) => setTimeout(r, 100));
      expect(lines).toHaveLength(1);
    } finally {
      budget.close();
    }
  });
});

describe('the request path under a signing budget', () => {
  const ex = useExampleManager(1_800_000_000);
  const q = (name: string, type: number = RRType.A, id = 1) => Buffer.from(encodeQuery(Name.fromText(name), type, { id, udpSize: 1232, do: true }));
  const setup = (limit: number, overflow: 'tc' | 'drop' = 'tc') => {
    const budget = new SigningBudget({ limit, overflow });
    const metrics = new Metrics({ clock: ex.clock, processMetrics: false });
    metrics.watchBudget(budget);
    const handler = createHandler(() => ex.manager.served(), logger, { clock: ex.clock, cache: new ResponseCache(), budget, queries: metrics.queries });
    return { budget, handler, metrics };
  };

  // First in this block: the negative SOA's RRSIG is not cached yet, so both queries need it at once.
  it('a TCP query that joined a UDP query\'s refused signature (singleflight) is still answered', async () => {
    const { handler } = setup(0);
    const [udp, tcp] = await Promise.all([handler(q('join-u.example.com.'), 'udp'), handler(q('join-t.example.com.'), 'tcp')]);
    expect(decode(Buffer.from(udp!)).flag_tc).toBe(true);
    const r = decode(Buffer.from(tcp!));
    expect(r.flag_tc).toBe(false);
    expect(r.rcode).toBe('NOERROR');
    expect(r.authorities!.filter((a) => a.type === 'RRSIG').length).toBe(2);
  });

  it('RFC 1035 §4.2.1: over UDP, a fresh name past the budget is TC=1 with no records, never cached', async () => {
    const { budget, handler, metrics } = setup(0);
    for (const id of [1, 2]) {
      const r = decode(Buffer.from((await handler(q('fresh-1.example.com.', RRType.A, id), 'udp'))!));
      expect(r.flag_tc).toBe(true);
      expect(r.id).toBe(id);
      expect([r.answers!.length, r.authorities!.length]).toEqual([0, 0]);
      expect(r.additionals!.some((a) => a.type === 'OPT')).toBe(true); // RFC 6891 §7: OPT answered with OPT
    }
    expect(budget.stats.truncated).toBe(2);
    expect(await metrics.text()).toMatch(/tandem_signing_budget_refused_total\{action="truncated"\} 2/);
  });

  it('signing-overflow: drop sends nothing', async () => {
    const { budget, handler } = setup(0, 'drop');
    expect(await handler(q('fresh-2.example.com.'), 'udp')).toBeNull();
    expect(budget.stats.dropped).toBe(1);
  });

  it('TCP is never truncated: the fresh name gets its signed denial', async () => {
    const { handler } = setup(0);
    const r = decode(Buffer.from((await handler(q('fresh-3.example.com.'), 'tcp'))!));
    expect(r.flag_tc).toBe(false);
    const types = r.authorities!.map((a) => a.type);
    expect(types).toContain('NSEC');
    expect(r.authorities!.filter((a) => a.type === 'RRSIG').length).toBe(2); // SOA and the NSEC
  });

  it('an answer whose signatures are cached is served over UDP even with a full budget', async () => {
    const { budget, handler } = setup(0);
    await handler(q('www.example.com.'), 'tcp'); // signs the A RRset (cache)
    const r = decode(Buffer.from((await handler(q('www.example.com.'), 'udp'))!));
    expect(r.flag_tc).toBe(false);
    expect(r.answers!.map((a) => a.type).sort()).toEqual(['A', 'RRSIG']);
    expect(budget.stats.truncated).toBe(0);
  });

  it('under a burst, the queries the bound holds are answered and the rest truncated', async () => {
    const { budget, handler } = setup(2);
    await handler(q('warm.example.com.'), 'tcp'); // the negative SOA's RRSIG is cached from here on
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => handler(q(`burst-${i}.example.com.`, RRType.A, i), 'udp')));
    const decoded = answers.map((a) => decode(Buffer.from(a!)));
    const full = decoded.filter((r) => !r.flag_tc);
    expect(full).toHaveLength(2);
    for (const r of full) expect(r.authorities!.some((a) => a.type === 'NSEC')).toBe(true);
    expect(budget.stats).toMatchObject({ truncated: 4, peak: 2 });
  });
});
