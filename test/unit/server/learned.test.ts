// A cluster worker answering names that do not exist from NSEC3 chain records it learned from the primary's
// answers (server/learned.ts, issue 16): differential against the full request path on the same served zones.
// Every answer the worker makes itself must carry the records the primary would send (RFC 5155 §7.2.2: closest
// encloser, next closer covered, wildcard covered); every case the learned records do not prove (a name that
// exists, a cut, a DNAME, a wildcard that exists, an answer too big, an Opt-Out chain, a zone with a zone of
// ours below it) must go to the primary.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { encodeQuery } from '../../../src/dns/message.js';
import { Name } from '../../../src/dns/name.js';
import { readMessage, type Message, type MessageRr } from '../../../src/dns/reader.js';
import { Rcode, RRType } from '../../../src/dns/types.js';
import { SignatureCache } from '../../../src/dnssec/cache.js';
import { TandemZoneManager } from '../../../src/state/manager.js';
import { createHandler, type Handler } from '../../../src/server/handle.js';
import { answerChainAsk, answerFront, changedZones, createFront, type FrontAnswer, type FrontChain, type FrontChainAsk, type FrontMore } from '../../../src/server/front.js';
import { pushZones, zoneDenial } from '../../../src/server/chainpush.js';
import { ZoneSet } from '../../../src/zone/zoneset.js';
import { verifyRrsig } from '../../../src/dnssec/signer.js';
import { SigningBudget } from '../../../src/server/budget.js';
import { LearnedDenial, orderKey } from '../../../src/server/learned.js';
import { ResponseCache } from '../../../src/server/respcache.js';
import { QueryCounters, type QuerySeries } from '../../../src/metrics/queries.js';

const u16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const logger = pino({ level: 'silent' });
const clock = { t: 1_800_000_000, now() { return this.t; } };

/** A zone with every shape a denial can meet (names, empty non-terminals, a cut with glue, a wildcard, a DNAME, a CNAME). */
function zone(origin: string, denial: string, extra = ''): string {
  const lines = [
    'zone:',
    `  soa: { mname: ns1.${origin}, rname: hostmaster.${origin}, serial: 1, minimum: 300 }`,
    `  nameservers: [ns1.${origin}]`,
    `  dnssec: { enabled: true, denial: ${denial}${extra} }`,
    'records:',
    '  ns1: { type: A, value: 127.0.0.1 }',
    "  a.b.c: { type: TXT, value: deep }", // b.c and c are empty non-terminals
    "  '*.wild': { type: A, value: 192.0.2.9 }",
    '  alias: { type: CNAME, value: www }',
    '  dn: { type: DNAME, value: example.org. }',
    '  sub: { type: NS, value: ns.sub }',
    "  ns.sub: { type: A, value: 192.0.2.77 }",
  ];
  for (let i = 0; i < 60; i++) lines.push(`  h${i}: { type: A, value: 192.0.2.${i} }`);
  return lines.join('\n') + '\n';
}

let zonesDir: string, stateDir: string, manager: TandemZoneManager;
beforeAll(async () => {
  zonesDir = await mkdtemp(join(tmpdir(), 'tandem-learned-'));
  stateDir = await mkdtemp(join(tmpdir(), 'tandem-learned-state-'));
  await writeFile(join(zonesDir, 'chain.test.yaml'), zone('chain.test.', 'nsec3-chain'));
  await writeFile(join(zonesDir, 'optout.test.yaml'), zone('optout.test.', 'nsec3-chain', ', nsec3_opt_out: true'));
  // An NSEC chain (RFC 4034 §4) with a wildcard that is an empty non-terminal (x.*.went: RFC 4592 §2.2.2).
  await writeFile(join(zonesDir, 'nchain.test.yaml'), zone('nchain.test.', 'nsec-chain') + "  'x.*.went': { type: TXT, value: ent }\n");
  await writeFile(join(zonesDir, 'nparent.test.yaml'), zone('nparent.test.', 'nsec-chain'));
  await writeFile(join(zonesDir, 'kid.nparent.test.yaml'), zone('kid.nparent.test.', 'nsec-chain'));
  await writeFile(join(zonesDir, 'compact.test.yaml'), zone('compact.test.', 'compact'));
  // A parent whose child zone is ours too, without a delegation in the parent: the parent's chain knows nothing of it.
  await writeFile(join(zonesDir, 'parent.test.yaml'), zone('parent.test.', 'nsec3-chain'));
  await writeFile(join(zonesDir, 'kid.parent.test.yaml'), zone('kid.parent.test.', 'nsec3-chain'));
  ({ manager } = await TandemZoneManager.open({ zonesDir, stateDir, clock, logger, cache: new SignatureCache() }));
}, 60_000);
afterAll(async () => {
  await rm(zonesDir, { recursive: true, force: true });
  await rm(stateDir, { recursive: true, force: true });
});

const q = (name: string, type: number = RRType.A, o: Parameters<typeof encodeQuery>[2] = {}) =>
  Buffer.from(encodeQuery(Name.fromText(name), type, { udpSize: 1232, do: true, ...o }));

/**
 * A worker linked to a primary with the full request path (as front.test.ts), and its learned chains; `whole`: the
 * worker asks for a zone's whole denial data after its first answer (chainpush.ts), as cluster.ts wires it.
 */
function link(budget?: SigningBudget, whole = false) {
  const handler: Handler = createHandler(() => manager.served(), logger, { clock, cache: new ResponseCache() });
  const learned = new LearnedDenial();
  const counters = new QueryCounters();
  let gen = 1;
  const asks: FrontChainAsk[] = [];
  const replies: FrontChain[] = [];
  const askZone = (m: FrontChainAsk) => {
    asks.push(m);
    setImmediate(() => answerChainAsk(m, manager.served(), () => gen, logger, (x) => setImmediate(() => {
      replies.push(x);
      front.receive(x);
    })));
  };
  const front = createFront((m) => {
    setImmediate(() => answerFront(m, handler, () => gen, undefined, logger, (x: FrontMore | FrontAnswer) => setImmediate(() => front.receive(x))));
  }, logger, { clock, learned, queries: counters, budget, askZone: whole ? askZone : undefined });
  return { front, learned, counters, asks, replies, bump: () => ++gen };
}

/** What a worker must leave to the primary in every denial mode (the learned records cannot prove it). */
const notProven = (z: string) => [
  [`h3.${z}`, RRType.A], [`h3.${z}`, RRType.MX], [`${z}`, RRType.TXT], // exist (NODATA or data)
  [`b.c.${z}`, RRType.A], [`c.${z}`, RRType.TXT], // empty non-terminals: NODATA (RFC 5155 §7.2.3)
  [`x.sub.${z}`, RRType.A], [`ns.sub.${z}`, RRType.A], // at or below a cut: referral
  [`x.dn.${z}`, RRType.A], // below a DNAME: synthesis (RFC 6672)
  [`anything.wild.${z}`, RRType.A], [`a.b.wild.${z}`, RRType.TXT], // the wildcard exists
] as const;
/** And in a compact zone: names with a label sorting before `*` (learned.ts answerCompact). */
const notProvenCompact = (z: string) => [...notProven(z), [`!x.${z}`, RRType.A], [`(y.b.c.${z}`, RRType.A], [`*.${z}`, RRType.A]] as const;

/** The full request path's answer, uncached. */
const direct = (msg: Uint8Array) => createHandler(() => manager.served(), logger, { clock, cache: false })(msg, 'udp');

// The SOA's names in RDATA may follow the question's case on the full path (compressed into it): compared
// case-insensitively, as its canonical form is (RFC 4034 §6.2).
const lower = (r: MessageRr) => (r.type === RRType.SOA ? Buffer.from(r.rdata).map((c) => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c)) : Buffer.from(r.rdata));
const rrs = (list: MessageRr[]) => list.map((r) => `${r.name.key} ${r.ttl} ${r.type} ${lower(r).toString('hex')}`).sort();
/** Both messages read, with the same header fields and question; undefined (after a failed expectation) otherwise. */
function readBoth(mine: Uint8Array, theirs: Uint8Array): [Message, Message] | undefined {
  const a = readMessage(mine), b = readMessage(theirs);
  expect(a.ok && b.ok).toBe(true);
  if (!a.ok || !b.ok) return undefined;
  const m = a.message, t = b.message;
  expect({ id: m.id, flags: m.flags, rcode: m.rcode }).toEqual({ id: t.id, flags: t.flags, rcode: t.rcode });
  expect(m.question.map((x) => [x.name.toString(), x.type, x.class])).toEqual(t.question.map((x) => [x.name.toString(), x.type, x.class]));
  return [m, t];
}

function same(mine: Uint8Array, theirs: Uint8Array): void {
  const both = readBoth(mine, theirs);
  if (!both) return;
  const [m, t] = both;
  expect(m.answer).toHaveLength(0);
  expect(rrs(m.authority)).toEqual(rrs(t.authority));
  expect(m.additional).toHaveLength(t.additional.length);
  expect(m.opt && { size: m.opt.udpSize, do: m.opt.do, co: m.opt.co }).toEqual(t.opt && { size: t.opt.udpSize, do: t.opt.do, co: t.opt.co });
}

/** `mine` equals the full path's answer but for the NSEC's RRSIG signature, which verifies with the ZSK of zone `z`. */
function sameSigned(mine: Uint8Array, theirs: Uint8Array, z: string): void {
  const both = readBoth(mine, theirs);
  if (!both) return;
  const [m, t] = both;
  const strip = (list: MessageRr[]) => list.map((r) => (r.type === RRType.RRSIG && u16(r.rdata, 0) === RRType.NSEC ? { ...r, rdata: r.rdata.subarray(0, r.rdata.length - 64) } : r));
  expect(rrs(strip(m.authority))).toEqual(rrs(strip(t.authority)));
  const nsec = m.authority.find((r) => r.type === RRType.NSEC);
  const sig = m.authority.find((r) => r.type === RRType.RRSIG && u16(r.rdata, 0) === RRType.NSEC);
  if (nsec || sig) {
    expect(nsec && sig).toBeTruthy();
    const rrset = { name: nsec!.name, type: nsec!.type, class: nsec!.class, ttl: nsec!.ttl, rdatas: [nsec!.rdata] };
    const zsk = manager.version(Name.fromText(z))!.keys!.zsk.dnskey;
    expect(verifyRrsig(sig!.rdata, rrset, zsk, { now: clock.t })).toBe(true);
    expect(Buffer.from(sig!.rdata).equals(Buffer.from(t.authority.find((r) => r.type === RRType.RRSIG && u16(r.rdata, 0) === RRType.NSEC)!.rdata))).toBe(false);
  }
  expect(m.opt && { do: m.opt.do, co: m.opt.co }).toEqual(t.opt && { do: t.opt.do, co: t.opt.co });
}

/** The worker's answer when it made it itself (the learned counter moved), else undefined. */
const viaWorker = async (l: ReturnType<typeof link>, msg: Uint8Array) => {
  const before = l.learned.stats.answered;
  const wire = await l.front.handler(msg, 'udp');
  return l.learned.stats.answered > before ? wire! : undefined;
};

/** Teaches the worker: `n` random names under each of `under`, through the primary (spread over an NSEC chain's order too). */
async function teach(front: ReturnType<typeof link>['front'], under: string[], n: number): Promise<void> {
  for (const u of under) for (let i = 0; i < n; i++) await front.handler(q(`${Math.random().toString(36).slice(2, 8)}t${i}.${u}`), 'udp');
}

describe.each([
  { kind: 'NSEC3', z: 'chain.test.', rfc: 'RFC 5155 §7.2.2' },
  { kind: 'NSEC', z: 'nchain.test.', rfc: 'RFC 4035 §3.1.3.2' },
])('learned $kind denial in a worker (RFC 8198 §5.1 by the server itself, $rfc)', ({ kind, z }) => {
  it('after learning, new names that do not exist are answered by the worker with the records the primary sends', async () => {
    const { front, learned, counters } = link();
    await teach(front, [`${z}`, `c.${z}`, `b.c.${z}`, `h7.${z}`], 400);
    // NSEC3 hashes spread evenly; an NSEC chain's narrow spans (h3 .. h30) are met by few random names.
    expect(learned.stats.links).toBeGreaterThan(kind === 'NSEC' ? 8 : 50);
    const before = learned.stats.answered;
    const probes = [
      `fresh-one.${z}`, `ZZ-Upper.${z.toUpperCase()}`, `x.y.z.${z}`, // next closer covered under the apex
      `q.b.c.${z}`, `deep.q.c.${z}`, // closest encloser an empty non-terminal (RFC 5155 §7.2.1)
      `under.h7.${z}`, `under.alias.${z}`, // closest encloser a name with data (a CNAME does not cover below it)
    ];
    let made = 0;
    for (const name of probes) {
      for (const o of [{ id: 7, rd: true }, { id: 8, cd: true, do: false }, { id: 9, edns: false as const }, { id: 10, co: true }]) {
        const msg = q(name, RRType.AAAA, o);
        const mine = front.handler.cached(msg, 'udp');
        if (!mine) continue;
        made++;
        expect(mine[3] & 0xf).toBe(Rcode.NXDOMAIN);
        same(mine, (await direct(msg))!);
      }
    }
    // Nearly every probe is proven by what was learned (a hash nothing learned covers goes to the primary).
    expect(made).toBeGreaterThanOrEqual(probes.length * 4 - 4);
    expect(learned.stats.answered - before).toBe(made);
    const counted = [...counters.series()].filter((s: QuerySeries) => s.zone === `${z}` && s.rcode === 'NXDOMAIN' && s.type === 'AAAA').reduce((n, s) => n + s.value, 0);
    expect(counted).toBe(made);
  });

  it('never for what the records do not prove: names that exist, empty non-terminals, cuts, DNAME, existing wildcards, oversize answers', async () => {
    const { front, learned } = link();
    await teach(front, [`${z}`, `c.${z}`, `sub.${z}`, `dn.${z}`, `wild.${z}`, `ns1.${z}`], 300);
    const before = learned.stats.answered;
    for (const [name, type] of [...notProven(z), [`sub.${z}`, RRType.DS]] as const) {
      expect(front.handler.cached(q(name, type), 'udp'), `${name} ${type}`).toBeUndefined();
    }
    // An answer that would not fit the client's 512 octets goes to the primary (which truncates it, RFC 1035 §4.2.1).
    expect(front.handler.cached(q(`small-buffer.${z}`, RRType.A, { udpSize: 512 }), 'udp')).toBeUndefined();
    // Meta-types and NXNAME keep the primary's answers (RFC 9824 §3.5: NXNAME is FORMERR).
    expect(front.handler.cached(q(`fresh-two.${z}`, RRType.NXNAME), 'udp')).toBeUndefined();
    expect(front.handler.cached(q(`fresh-two.${z}`, RRType.ANY), 'udp')).toBeUndefined();
    expect(learned.stats.answered).toBe(before);
    // The control: the same worker does answer a fresh name of the zone.
    let any = false;
    for (let i = 0; i < 20 && !any; i++) any = front.handler.cached(q(`control${i}.${z}`), 'udp') !== undefined;
    expect(any).toBe(true);
  });

  it('nothing is learned from an Opt-Out chain (RFC 5155 §6) or a zone with a zone of ours below it', async () => {
    const { front, learned } = link();
    const parent = kind === 'NSEC' ? 'nparent.test.' : 'parent.test.';
    const none = kind === 'NSEC' ? [parent] : ['optout.test.', parent];
    await teach(front, none, 200);
    expect(learned.stats.links).toBe(0);
    for (const name of [...none.map((n) => `fresh.${n}`), `x.kid.${parent}`]) {
      expect(front.handler.cached(q(name), 'udp')).toBeUndefined();
    }
    // The child zone itself has none below it: its chain is learned.
    await teach(front, [`kid.${parent}`], 200);
    expect(learned.stats.links).toBeGreaterThan(0);
  });

  it('a new generation of the primary\'s zones drops what was learned; records past their time are not used', async () => {
    const { front, learned, bump } = link();
    await teach(front, [`${z}`], 300);
    const probe = () => {
      for (let i = 0; i < 20; i++) if (front.handler.cached(q(`gen${i}.${z}`), 'udp')) return true;
      return false;
    };
    expect(probe()).toBe(true);
    front.generation(bump());
    expect(learned.stats.links).toBe(0);
    expect(probe()).toBe(false);
    await teach(front, [`${z}`], 300);
    expect(probe()).toBe(true);
    const t = clock.t;
    clock.t = t + 40 * 86400; // past the signatures' refresh point the primary gave
    try {
      expect(probe()).toBe(false);
    } finally {
      clock.t = t;
    }
  });

  it('bounded: past `max` links everything learned is dropped and learning starts over', async () => {
    const handler = createHandler(() => manager.served(), logger, { clock, cache: new ResponseCache() });
    const learned = new LearnedDenial({ max: 10 });
    let peak = 0;
    for (let i = 0; i < 100; i++) {
      const wire = (await handler(q(`b${i}.${z}`), 'udp'))!;
      learned.learn(wire, Name.fromText(`${z}`).key, clock.t + 3600);
      peak = Math.max(peak, learned.stats.links);
    }
    expect(peak).toBeLessThanOrEqual(10);
  });
});

describe('learned NSEC denial: what orderKey and the chain cannot prove', () => {
  const z = 'nchain.test.';
  it('an empty non-terminal wildcard (RFC 4592 §2.2.2) and names orderKey cannot order go to the primary', async () => {
    const { front, learned } = link();
    await teach(front, [z, `went.${z}`, `c.${z}`], 300);
    const before = learned.stats.answered;
    // *.went owns no NSEC but exists (x.*.went): q.went matches it (NODATA), though an NSEC covers both names.
    const ent = q(`q.went.${z}`, RRType.A);
    expect((await direct(ent))![3] & 0xf).toBe(Rcode.NOERROR);
    expect(front.handler.cached(ent, 'udp')).toBeUndefined();
    // A 0 octet in a label (RFC 4034 §6.1 orders it below every other octet; orderKey ends labels with one).
    expect(front.handler.cached(q(`a\\000b.${z}`, RRType.A), 'udp')).toBeUndefined();
    expect(front.handler.cached(q(`\\000.c.${z}`, RRType.A), 'udp')).toBeUndefined();
    expect(learned.stats.answered).toBe(before);
    // The control: a fresh name beside them is answered.
    let any = false;
    for (let i = 0; i < 20 && !any; i++) any = front.handler.cached(q(`zz${i}.${z}`), 'udp') !== undefined;
    expect(any).toBe(true);
  });

});

describe('orderKey: RFC 4034 §6.1 canonical order as string order', () => {
  it('sorts the RFC 4034 §6.1 example names in the order the RFC lists them, as Name.compare does', () => {
    const listed = ['example.', 'a.example.', 'yljkjljk.a.example.', 'Z.a.example.', 'zABC.a.EXAMPLE.', 'z.example.', '\\001.z.example.', '*.z.example.', '\\200.z.example.'];
    const key = (t: string) => {
      const w = Buffer.from(Name.fromText(t).canonicalWire());
      const starts: number[] = [];
      for (let o = 0; ; o += w[o] + 1) {
        starts.push(o);
        if (w[o] === 0) break;
      }
      return orderKey(w, starts)!;
    };
    const shuffled = [...listed].reverse();
    expect([...shuffled].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))).toEqual(listed);
    expect([...shuffled].sort((a, b) => Name.fromText(a).compare(Name.fromText(b)))).toEqual(listed);
    // Shorter label first (a < a0 < ab), a name before the names below it, and case folded.
    expect(key('a.example.') < key('a0.example.') && key('a0.example.') < key('ab.example.')).toBe(true);
    expect(key('example.') < key('a.example.') && key('z.a.example.') < key('b.example.')).toBe(true);
    expect(key('ABC.example.')).toBe(key('abc.example.'));
    // A 0 octet in a label cannot be ordered by a 0 terminator: no key.
    const w = Buffer.from(Name.fromText('a\\000.example.').canonicalWire());
    expect(orderKey(w, [0, 3, 11])).toBeUndefined();
  });
});

describe('learned gaps of a compact zone: the worker signs RFC 9824 denials itself', () => {
  const z = 'compact.test.';
  it('after learning gaps, the worker answers fresh names in them: the records the primary sends, an NSEC signature that verifies', async () => {
    const l = link();
    const { front, learned, counters } = l;
    await teach(front, [z, `c.${z}`, `b.c.${z}`, `h7.${z}`], 300);
    expect(learned.stats.links).toBeGreaterThan(3); // gaps: the zone has few wide ones (h0 .. h59 sit close together)
    const before = learned.stats.answered;
    let made = 0;
    for (let i = 0; i < 40; i++) {
      for (const name of [`p${i}q.${z}`, `Zz${i}.${z.toUpperCase()}`, `q${i}.b.c.${z}`, `u${i}.h7.${z}`]) {
        for (const o of [{ id: 7, rd: true }, { id: 8, cd: true, do: false }, { id: 9, edns: false as const }, { id: 10, co: true }]) {
          const msg = q(name, RRType.AAAA, o);
          const mine = await viaWorker(l, msg);
          if (!mine) continue;
          made++;
          sameSigned(mine, (await direct(msg))!, z);
        }
      }
    }
    expect(made).toBeGreaterThan(100);
    expect(learned.stats.answered - before).toBe(made);
    // Counted under the rcode each answer has: NOERROR (NXNAME, RFC 9824 §3.1) for DO without CO, NXDOMAIN otherwise.
    const count = (rcode: string) => [...counters.series()].filter((s: QuerySeries) => s.zone === z && s.rcode === rcode && s.type === 'AAAA').reduce((n, s) => n + s.value, 0);
    expect(count('NOERROR') + count('NXDOMAIN')).toBe(made);
    expect(count('NOERROR')).toBeGreaterThan(0);
  });

  it('never for names that exist, empty non-terminals, cuts, DNAME, wildcards, labels sorting before `*`', async () => {
    const l = link();
    const { front, learned } = l;
    await teach(front, [z, `c.${z}`, `sub.${z}`, `dn.${z}`, `wild.${z}`, `ns1.${z}`, `b.c.${z}`], 300);
    const before = learned.stats.answered;
    for (const [name, type] of notProvenCompact(z)) {
      expect(await viaWorker(l, q(name, type)), `${name} ${type}`).toBeUndefined();
    }
    expect(learned.stats.answered).toBe(before);
    let any = false;
    for (let i = 0; i < 40 && !any; i++) any = (await viaWorker(l, q(`control${i}.${z}`))) !== undefined;
    expect(any).toBe(true);
  });

  it('the signatures a worker makes wait in its signing budget: past it, TC=1 with no records over UDP (budget.ts), TCP signed', async () => {
    const budget = new SigningBudget({ limit: 0, overflow: 'tc' });
    const { front, learned } = link(budget);
    try {
      await teach(front, [z], 300);
      expect(learned.stats.links).toBeGreaterThan(3);
      let tc = 0, signed = 0;
      for (let i = 0; i < 30; i++) {
        const before = learned.stats.answered;
        const udp = (await front.handler(q(`b${i}x.${z}`), 'udp'))!;
        if (budget.stats.truncated > tc) {
          tc = budget.stats.truncated;
          expect(udp[2] & 0x02).toBe(2); // TC
          expect((udp[6] << 8) | udp[7] | (udp[8] << 8) | udp[9]).toBe(0); // no records
        }
        const tcp = (await front.handler(q(`b${i}x.${z}`), 'tcp'))!;
        if (learned.stats.answered > before) signed++;
        expect(tcp[2] & 0x02).toBe(0);
      }
      expect(tc).toBeGreaterThan(0);
      expect(signed).toBeGreaterThan(0);
    } finally {
      budget.close();
    }
  });
});

describe.each([
  { kind: 'NSEC3', z: 'chain.test.' },
  { kind: 'NSEC', z: 'nchain.test.' },
  { kind: 'compact', z: 'compact.test.' },
])('a worker asks for the whole $kind denial data of a zone, once per generation (chainpush.ts)', ({ kind, z }) => {
  /** Until the primary has answered every ask (it may sign links first), at most 10 s. */
  const settle = async (l: ReturnType<typeof link>) => {
    for (let i = 0; i < 1000 && (l.asks.length === 0 || l.replies.length < l.asks.length); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  };
  const fresh = (i: number) => [`w${i}${Math.random().toString(36).slice(2, 7)}.${z}`, `q${i}.b.c.${z}`, `u${i}.h7.${z}`];

  it('after one answer of the zone the worker answers fresh names all over it, with the records the primary sends', async () => {
    const l = link(undefined, true);
    expect(await viaWorker(l, q(`m0first.${z}`))).toBeUndefined(); // the primary's
    await settle(l);
    expect(l.asks.map((a) => a.zone)).toEqual([Name.fromText(z).key]);
    const names = manager.served().zones.byKey(Name.fromText(z).key)!.nodes.size;
    // Every link of the chain (NSEC3: a name each, empty non-terminals included) or every gap that fits.
    expect(l.learned.stats.links).toBeGreaterThan(kind === 'compact' ? names / 2 : names - 10);
    let made = 0, asked = 0;
    for (let i = 0; i < 50; i++) {
      for (const name of fresh(i)) {
        for (const o of [{ id: 7, rd: true }, { id: 8, cd: true, do: false }, { id: 9, edns: false as const }, { id: 10, co: true }]) {
          const msg = q(name, RRType.AAAA, o);
          asked++;
          const mine = await viaWorker(l, msg);
          if (!mine) continue;
          made++;
          if (kind === 'compact') sameSigned(mine, (await direct(msg))!, z);
          else same(mine, (await direct(msg))!);
        }
      }
    }
    // Without the whole chain, names spread like these are the primary's until each span is met (the tests above).
    expect(made).toBeGreaterThan(asked * (kind === 'compact' ? 0.6 : 0.95));
    expect(l.asks).toHaveLength(1);
  });

  it('the whole chain proves no more than an answer does: names that exist, cuts, DNAME, wildcards go to the primary', async () => {
    const l = link(undefined, true);
    await viaWorker(l, q(`m0first.${z}`));
    await settle(l);
    expect(l.learned.stats.links).toBeGreaterThan(10);
    const before = l.learned.stats.answered;
    for (const [name, type] of kind === 'compact' ? notProvenCompact(z) : notProven(z)) {
      expect(await viaWorker(l, q(name, type)), `${name} ${type}`).toBeUndefined();
    }
    expect(l.learned.stats.answered).toBe(before);
  });

  it('past the time the data holds (the signatures\' refresh point), the next answer of the zone asks again', async () => {
    const l = link(undefined, true);
    await viaWorker(l, q(`m0first.${z}`));
    await settle(l);
    await viaWorker(l, q(`m0again.${z}`)); // answered by the worker, or by the primary: no second ask either way
    expect(l.asks).toHaveLength(1);
    const t = clock.t;
    clock.t = t + 40 * 86400;
    try {
      expect(await viaWorker(l, q(`m0later.${z}`))).toBeUndefined(); // the primary's: what was learned is past its time
      await settle(l);
      expect(l.asks).toHaveLength(2);
      let made = 0;
      for (let i = 0; i < 20; i++) if (await viaWorker(l, q(`m${i}later.${z}`))) made++; // in the gap after h9 (compact: a gap with no cut above)
      expect(made).toBeGreaterThan(10);
    } finally {
      clock.t = t;
    }
  });

  it('a reply made for an older generation is dropped; a new generation asks again', async () => {
    const l = link(undefined, true);
    await viaWorker(l, q(`m0first.${z}`));
    await settle(l);
    const reply = l.replies[0];
    expect(reply.gen).toBe(1);
    l.front.generation(l.bump());
    expect(l.learned.stats.links).toBe(0);
    l.front.receive(reply); // late: of generation 1
    expect(l.learned.stats.links).toBe(0);
    await viaWorker(l, q(`m0second.${z}`));
    await settle(l);
    expect(l.asks).toHaveLength(2);
    expect(l.learned.stats.links).toBeGreaterThan(10);
  });
});

describe('the primary sends whole denial data only for what it would let a worker learn (chainpush.ts)', () => {
  it('nothing for an Opt-Out chain, a zone with a zone of ours below it, or a zone it does not serve', async () => {
    const served = manager.served();
    for (const z of ['optout.test.', 'parent.test.', 'nparent.test.', 'nowhere.test.']) expect(await zoneDenial(served, Name.fromText(z).key), z).toBeUndefined();
    for (const z of ['chain.test.', 'nchain.test.', 'kid.parent.test.']) expect((await zoneDenial(served, Name.fromText(z).key))?.digest?.owners.length, z).toBeGreaterThan(0);
    expect((await zoneDenial(served, Name.fromText('compact.test.').key))?.gaps?.owners.length).toBeGreaterThan(10);
  });
});

describe('the primary pushes small zones\' denial data to every worker unasked, after a set is published (chainpush.ts pushZones)', () => {
  const probe = createHandler(() => manager.served(), logger, { clock, cache: new ResponseCache({ max: 100 }) });
  it('a worker answers the first fresh name of a zone itself; a zone is pushed again only when a worker asked for it', async () => {
    const l = link();
    l.front.generation(1); // told before the push, as cluster.ts does
    const pushes: string[] = [];
    const pushed = new Set<string>(), hot = new Set<string>();
    const push = () => pushZones(manager.served(), probe, (z) => !pushed.has(z) || hot.has(z), () => true, (p) => {
      pushed.add(p.zone);
      pushes.push(p.zone);
      l.front.receive({ tandem: 'chain', gen: 1, ...p });
    });
    await push();
    // Every chain or compact zone a worker may learn (not the Opt-Out one, not the parents of zones of ours).
    expect(pushes.sort(), pushes.join(' ')).toEqual(['chain.test.', 'compact.test.', 'kid.nparent.test.', 'kid.parent.test.', 'nchain.test.']);
    for (const z of ['chain.test.', 'nchain.test.', 'compact.test.']) {
      const msg = q(`never-asked-before.${z}`);
      const mine = await viaWorker(l, msg);
      expect(mine, z).toBeDefined();
      if (z === 'compact.test.') sameSigned(mine!, (await direct(msg))!, z);
      else same(mine!, (await direct(msg))!);
    }
    // The probe answers counted nowhere: the worker's counters hold only its own answers.
    expect([...l.counters.series()].reduce((n, s) => n + s.value, 0)).toBe(3);
    pushes.length = 0;
    hot.add(Name.fromText('nchain.test.').key);
    await push();
    expect(pushes).toEqual(['nchain.test.']);
  });
});

describe('a new generation drops what was learned of the zones it changed only (front.ts changedZones)', () => {
  it('names the zones of another version or other signing material, and a zone that came or went with the zones above it', () => {
    const prev = manager.served();
    const zones = prev.zones.zones();
    const swap = (key: string) => ({ ...prev, zones: new ZoneSet(zones.map((z) => (z.origin.key === key ? { ...z } : z))) });
    expect(changedZones(prev, prev)).toEqual([]);
    expect(changedZones(prev, swap('chain.test.'))).toEqual(['chain.test.']);
    const signing = new Map(prev.signing);
    signing.set('nchain.test.', { ...prev.signing.get('nchain.test.')! });
    expect(changedZones(prev, { ...prev, signing })).toEqual(['nchain.test.']);
    expect(changedZones(undefined, prev)).toBeUndefined();
    // A child zone that went (or came): itself and its parent, whose chain may be learned now (or no longer).
    const kid = 'kid.parent.test.';
    const without = { ...prev, zones: new ZoneSet(zones.filter((z) => z.origin.key !== kid)) };
    expect(changedZones(prev, without)?.sort()).toEqual([kid, 'parent.test.']);
    expect(changedZones(without, prev)?.sort()).toEqual([kid, 'parent.test.']);
    // A name that starts failing (a zone not loaded yet, a secondary expired) below a zone: that zone.
    const failing = new Map([...(prev.failing ?? []), ['late.chain.test.', Name.fromText('late.chain.test.')]]);
    expect(changedZones(prev, { ...prev, failing })).toEqual(['chain.test.']);
    expect(changedZones(prev, { ...prev, failing: new Map([...(prev.failing ?? []), ['late.test.', Name.fromText('late.test.')]]) })).toEqual([]);
  });

  it('a worker keeps an unchanged zone\'s chain across a generation, drops a changed one, and everything across a skipped one', async () => {
    const l = link(undefined, true);
    for (const z of ['chain.test.', 'nchain.test.']) {
      await viaWorker(l, q(`m0first.${z}`));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const held = l.learned.stats.links;
    const nchain = (await zoneDenial(manager.served(), 'nchain.test.'))!.digest!.owners.length;
    expect(held).toBeGreaterThan(nchain);
    l.front.generation(l.bump(), ['chain.test.']);
    expect(l.learned.stats.links).toBe(nchain); // chain.test. dropped, nchain.test. kept
    expect(await viaWorker(l, q(`kept-across.nchain.test.`))).toBeDefined();
    l.front.generation(l.bump(), []);
    expect(l.learned.stats.links).toBe(nchain);
    l.front.generation(l.bump() + 1, []); // generation n+2: what n+1 changed is unknown
    expect(l.learned.stats.links).toBe(0);
  });
});
