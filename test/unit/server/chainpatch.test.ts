// A change to a zone whose chain the workers hold sends them what changed in it, not the whole chain again, and
// they keep the rest (issue 16, "changes under load": server/chainpush.ts patchableZones / chainPatchPush, learned.ts
// `drop` with `hold` and `patch`). Differential, as learned.test.ts: after each patch the worker holds exactly as
// many links as the new chain has, and every answer it makes carries the records the full request path sends for
// the new version (the new SOA, the links around an added or removed name). Between the generation and its patch
// the zone is answered by the primary only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { encodeQuery } from '../../../src/dns/message.js';
import { Name } from '../../../src/dns/name.js';
import { parseRdata } from '../../../src/dns/rdata.js';
import { readMessage } from '../../../src/dns/reader.js';
import { Rcode, RRType } from '../../../src/dns/types.js';
import { SignatureCache } from '../../../src/dnssec/cache.js';
import { TandemZoneManager } from '../../../src/state/manager.js';
import type { Served } from '../../../src/state/manager.js';
import { createHandler, type Handler } from '../../../src/server/handle.js';
import { answerChainAsk, answerFront, changedZones, createFront, type FrontAnswer, type FrontChainAsk, type FrontMore } from '../../../src/server/front.js';
import { chainPatchPush, compactCuts, compactPatchPush, patchableZones, zoneDenial } from '../../../src/server/chainpush.js';
import { LearnedDenial } from '../../../src/server/learned.js';
import { ResponseCache } from '../../../src/server/respcache.js';

const logger = pino({ level: 'silent' });
const clock = { t: 1_800_000_000, now() { return this.t; } };

function zone(origin: string, denial: string): string {
  const lines = [
    'zone:',
    `  soa: { mname: ns1.${origin}, rname: hostmaster.${origin}, serial: 1, minimum: 300 }`,
    `  nameservers: [ns1.${origin}]`,
    `  dnssec: { enabled: true, denial: ${denial} }`,
    'records:',
    '  ns1: { type: A, value: 127.0.0.1 }',
    '  a.b.c: { type: TXT, value: deep }',
  ];
  for (let i = 0; i < 200; i++) lines.push(`  h${i}: { type: A, value: 192.0.2.${i % 250} }`);
  return lines.join('\n') + '\n';
}

let zonesDir: string, stateDir: string, manager: TandemZoneManager;
beforeAll(async () => {
  zonesDir = await mkdtemp(join(tmpdir(), 'tandem-chainpatch-'));
  stateDir = await mkdtemp(join(tmpdir(), 'tandem-chainpatch-state-'));
  await writeFile(join(zonesDir, 'chain.test.yaml'), zone('chain.test.', 'nsec3-chain'));
  await writeFile(join(zonesDir, 'nchain.test.yaml'), zone('nchain.test.', 'nsec-chain'));
  await writeFile(join(zonesDir, 'compact.test.yaml'), zone('compact.test.', 'compact'));
  ({ manager } = await TandemZoneManager.open({ zonesDir, stateDir, clock, logger, cache: new SignatureCache() }));
}, 60_000);
afterAll(async () => {
  await rm(zonesDir, { recursive: true, force: true });
  await rm(stateDir, { recursive: true, force: true });
});

const q = (name: string, type: number = RRType.A) => Buffer.from(encodeQuery(Name.fromText(name), type, { udpSize: 1232, do: true }));
const direct = (msg: Uint8Array) => createHandler(() => manager.served(), logger, { clock, cache: false })(msg, 'udp');
const probe = createHandler(() => manager.served(), logger, { clock, cache: new ResponseCache({ max: 100 }) });

/** A worker linked to a primary with the full request path, asking for a zone's whole chain after its first answer (as cluster.ts). */
function link() {
  const handler: Handler = createHandler(() => manager.served(), logger, { clock, cache: new ResponseCache() });
  const learned = new LearnedDenial();
  let gen = 1, pending = 0;
  const askZone = (m: FrontChainAsk) => {
    pending++;
    setImmediate(() => answerChainAsk(m, manager.served(), () => gen, logger, (x) => setImmediate(() => {
      pending--;
      front.receive(x);
    })));
  };
  const front = createFront((m) => {
    setImmediate(() => answerFront(m, handler, () => gen, undefined, logger, (x: FrontMore | FrontAnswer) => setImmediate(() => front.receive(x))));
  }, logger, { clock, learned, askZone });
  const settle = async () => {
    for (let i = 0; i < 1000 && pending > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  };
  return { front, learned, settle, gen: () => gen, bump: () => ++gen };
}

/** The worker's own answer to `msg`, or undefined when it went to the primary. */
async function viaWorker(l: ReturnType<typeof link>, msg: Uint8Array): Promise<Uint8Array | undefined> {
  const before = l.learned.stats.answered;
  const wire = await l.front.handler(msg, 'udp');
  return l.learned.stats.answered > before ? wire! : undefined;
}

/** Authority records of an answer, comparable (SOA RDATA lower-cased: its names may follow the question's case). */
function authority(wire: Uint8Array): string[] {
  const r = readMessage(wire);
  if (!r.ok) throw new Error('unreadable answer');
  const lower = (b: Uint8Array, t: number) => (t === RRType.SOA ? Buffer.from(b).map((c) => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c)) : Buffer.from(b));
  return [`rcode ${r.message.rcode}`, ...r.message.authority.map((x) => `${x.name.key} ${x.ttl} ${x.type} ${lower(x.rdata, x.type).toString('hex')}`).sort()];
}

/** Applies `change` as one new served set and returns the sets before and after, what changed, and what may be patched. */
async function step(change: () => Promise<unknown>): Promise<{ prev: Served; next: Served; changed: string[] | undefined; patched: string[] }> {
  const prev = manager.served();
  await change();
  const next = manager.served();
  const changed = changedZones(prev, next);
  return { prev, next, changed, patched: patchableZones(prev, next, changed, () => true) };
}

const rec = (name: string, type: number, value: string, origin: string) => ({ name: Name.fromText(name), type, ttl: 300, rdata: parseRdata(type, value, Name.fromText(origin)) });

describe.each([
  { kind: 'NSEC3', z: 'chain.test.' },
  { kind: 'NSEC', z: 'nchain.test.' },
])('a worker holding a $kind chain takes a change as a patch (chainpush.ts chainPatchPush)', ({ z }) => {
  const key = Name.fromText(z).key;
  const links = async () => (await zoneDenial(manager.served(), key))!.digest!.owners.length;
  const fresh = (tag: string) => Array.from({ length: 60 }, (_, i) => `${tag}${i}${Math.random().toString(36).slice(2, 6)}.${z}`);

  /** Every fresh name the worker answers gets the full path's records for the version served now; most are answered. */
  async function answersMatch(l: ReturnType<typeof link>, names: string[]): Promise<void> {
    let made = 0;
    for (const name of names) {
      const msg = q(name, RRType.AAAA);
      const mine = await viaWorker(l, msg);
      if (!mine) continue;
      made++;
      expect(authority(mine), name).toEqual(authority((await direct(msg))!));
    }
    expect(made).toBeGreaterThan(names.length * 0.9);
  }

  it('an added name and a removed one: the worker holds the new chain\'s links, answers with the new SOA, and never denies the added name', async () => {
    const l = link();
    await l.front.handler(q(`m0first.${z}`), 'udp');
    await l.settle();
    expect(l.learned.stats.links).toBe(await links());
    const id = manager.zoneByName(Name.fromText(z))!.id;

    // RFC 4035 §2.3 / RFC 5155 §7.1: a new name gets a link, and its predecessor's link changes (next owner / hash).
    const add = await step(() => manager.createRecord(id, rec(`added.${z}`, RRType.A, '192.0.2.1', z)));
    expect(add.patched).toEqual([key]);
    l.front.generation(l.bump(), add.changed, add.patched);
    expect(l.learned.isHeld(key)).toBe(true);
    // Held: until the patch comes, the zone's fresh names are the primary's (the held links are of the old version).
    expect(await viaWorker(l, q(`between.${z}`))).toBeUndefined();
    const p = await chainPatchPush(add.next, key, probe);
    expect(p.patch?.gone).toEqual([]);
    expect(p.digest!.owners.length).toBeGreaterThanOrEqual(2); // the new name's link and its predecessor's
    expect(p.digest!.owners.length).toBeLessThan(10);
    l.front.receive({ tandem: 'chain', zone: key, gen: l.gen(), ...p });
    expect(l.learned.isHeld(key)).toBe(false);
    expect(l.learned.stats.links).toBe(await links());
    expect(await viaWorker(l, q(`added.${z}`, RRType.AAAA))).toBeUndefined(); // it exists now: NODATA is the primary's
    expect(readMessage((await direct(q(`added.${z}`)))!).ok).toBe(true);
    await answersMatch(l, fresh('a'));

    // A name removed: its link goes, its predecessor's changes.
    const h7 = manager.records(id).find((r) => r.name.equals(Name.fromText(`h7.${z}`)))!;
    const del = await step(() => manager.deleteRecord(id, h7.id));
    expect(del.patched).toEqual([key]);
    l.front.generation(l.bump(), del.changed, del.patched);
    const p2 = await chainPatchPush(del.next, key, probe);
    expect(p2.patch?.gone).toHaveLength(1);
    l.front.receive({ tandem: 'chain', zone: key, gen: l.gen(), ...p2 });
    expect(l.learned.stats.links).toBe(await links());
    const gone = q(`h7.${z}`, RRType.A);
    const mine = await viaWorker(l, gone);
    expect(mine).toBeDefined();
    expect(authority(mine!)[0]).toBe(`rcode ${Rcode.NXDOMAIN}`);
    expect(authority(mine!)).toEqual(authority((await direct(gone))!));
    await answersMatch(l, fresh('b'));
  });

  it('a patch that does not come before the next generation, or that the primary could not make, drops the zone', async () => {
    const l = link();
    await l.front.handler(q(`m0first.${z}`), 'udp');
    await l.settle();
    const id = manager.zoneByName(Name.fromText(z))!.id;
    const one = await step(() => manager.createRecord(id, rec(`late1.${z}`, RRType.TXT, '"x"', z)));
    l.front.generation(l.bump(), one.changed, one.patched);
    expect(l.learned.isHeld(key)).toBe(true);
    const late = await chainPatchPush(one.next, key, probe);
    const two = await step(() => manager.createRecord(id, rec(`late2.${z}`, RRType.TXT, '"x"', z)));
    l.front.generation(l.bump(), two.changed, two.patched);
    // Held again for generation n+2 would need n+1's patch first: what is held is dropped.
    expect(l.learned.stats.links).toBe(0);
    l.front.receive({ tandem: 'chain', zone: key, gen: l.gen() - 1, ...late }); // late: of generation n+1
    expect(l.learned.stats.links).toBe(0);

    await l.front.handler(q(`m1again.${z}`), 'udp'); // learns, asks for the whole chain again
    await l.settle();
    expect(l.learned.stats.links).toBe(await links());
    const three = await step(() => manager.createRecord(id, rec(`late3.${z}`, RRType.TXT, '"x"', z)));
    l.front.generation(l.bump(), three.changed, three.patched);
    l.front.receive({ tandem: 'chain', zone: key, gen: l.gen() }); // the primary could not make it
    expect(l.learned.isHeld(key)).toBe(false);
    expect(l.learned.stats.links).toBe(0);
  });
});

describe('a worker holding a compact zone\'s gaps keeps those away from a change (chainpush.ts compactCuts, compactPatchPush)', () => {
  const z = 'compact.test.', key = Name.fromText(z).key;
  /** The authority records but the RRSIGs' signatures (a worker signs its own NSEC: RFC 9824 §3.1), comparable. */
  const unsigned = (wire: Uint8Array) => authority(wire).map((r) => (r.split(' ')[2] === String(RRType.RRSIG) ? r.slice(0, r.length - 128) : r));

  it('the gaps around an added name go at the generation; the rest answer again once the new SOA came, never the added name', async () => {
    const l = link();
    await l.front.handler(q(`m0first.${z}`), 'udp');
    await l.settle();
    const held = l.learned.stats.links;
    expect(held).toBeGreaterThan(100);
    const id = manager.zoneByName(Name.fromText(z))!.id;
    const prev = manager.served();
    await manager.createRecord(id, rec(`h55x.${z}`, RRType.A, '192.0.2.1', z)); // between h55 and h56 in canonical order
    const next = manager.served();
    const changed = changedZones(prev, next);
    const cuts = compactCuts(prev, next, changed, () => true);
    expect(Object.keys(cuts)).toEqual([key]);
    expect(patchableZones(prev, next, changed, () => true)).toEqual([]); // chains only
    l.front.generation(l.bump(), changed, [key], cuts);
    expect(l.learned.isHeld(key)).toBe(true);
    expect(l.learned.stats.links).toBe(held - 1); // the gap h55 .. h56 only
    expect(await viaWorker(l, q(`elsewhere.${z}`))).toBeUndefined(); // held until the new SOA comes
    const p = await compactPatchPush(next, key, probe);
    expect(p.patch).toEqual({ gone: [] }); // no link: the new SOA only
    expect(p.digest).toBeUndefined();
    l.front.receive({ tandem: 'chain', zone: key, gen: l.gen(), ...p });
    expect(l.learned.isHeld(key)).toBe(false);
    expect(await viaWorker(l, q(`h55x.${z}`, RRType.AAAA))).toBeUndefined(); // exists now: NODATA is the primary's
    let made = 0;
    for (let i = 0; i < 40; i++) {
      const msg = q(`g${i}${Math.random().toString(36).slice(2, 6)}.${z}`, RRType.AAAA);
      const mine = await viaWorker(l, msg);
      if (!mine) continue;
      made++;
      expect(unsigned(mine)).toEqual(unsigned((await direct(msg))!)); // the new SOA (serial) and the same NSEC
    }
    expect(made).toBeGreaterThan(30);
  });

  it('a wildcard changes which gaps fit: the zone is dropped, not patched; a deep name cuts the gaps of the names it made', async () => {
    const id = manager.zoneByName(Name.fromText(z))!.id;
    const w = await step(() => manager.createRecord(id, rec(`*.h3.${z}`, RRType.TXT, '"w"', z)));
    expect(compactCuts(w.prev, w.next, w.changed, () => true)).toEqual({});
    const kid = await step(() => manager.createRecord(id, rec(`a.b.h4.${z}`, RRType.TXT, '"deep"', z)));
    // a.b.h4, the empty non-terminal b.h4 it made, and h4, whose node changed (zone/patch.ts patchZone's changed names).
    expect(compactCuts(kid.prev, kid.next, kid.changed, () => true)[key]).toHaveLength(3);
  });
});

describe('what the primary patches (chainpush.ts patchableZones)', () => {
  it('a chain patched from the one before, of a zone a worker may hold; not a compact zone, not a zone no worker wants', async () => {
    const id = manager.zoneByName(Name.fromText('compact.test.'))!.id;
    const c = await step(() => manager.createRecord(id, rec('new.compact.test.', RRType.A, '192.0.2.2', 'compact.test.')));
    expect(c.changed).toEqual(['compact.test.']);
    expect(c.patched).toEqual([]);
    const cid = manager.zoneByName(Name.fromText('chain.test.'))!.id;
    const prev = manager.served();
    await manager.createRecord(cid, rec('unwanted.chain.test.', RRType.A, '192.0.2.3', 'chain.test.'));
    const next = manager.served();
    expect(patchableZones(prev, next, changedZones(prev, next), () => false)).toEqual([]);
    expect(patchableZones(prev, next, changedZones(prev, next), () => true)).toEqual(['chain.test.']);
    // Two versions apart: the chain was patched from one the workers never saw.
    await manager.createRecord(cid, rec('skipped.chain.test.', RRType.A, '192.0.2.4', 'chain.test.'));
    expect(patchableZones(prev, manager.served(), ['chain.test.'], () => true)).toEqual([]);
  });
});
