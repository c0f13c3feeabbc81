// An IXFR received by a secondary zone applied as a delta (issue 16: a change costs the change, for IXFR as for the
// API; state/ixfr-delta.ts, manager.applyIxfr) and journaled beside the stored copy (secondary-store.ts). Differential:
// the version the delta serves is the one a whole build of the same records serves (every RRset, the NSEC3 chain),
// the copy read back (as after a restart) is the IXFR applied to the copy, and the cases the delta does not cover
// (NS, the apex, DNSSEC keys of a multi-signer zone, a deletion of a record not held, another starting serial) are
// left to the whole way with nothing changed. The journal: a torn tail is cut off before the next entry; a long
// journal is folded into the copy.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Name } from '../../../src/dns/name.js';
import { parseRdata } from '../../../src/dns/rdata.js';
import { RRType } from '../../../src/dns/types.js';
import type { Rr } from '../../../src/dns/rr.js';
import { SignatureCache } from '../../../src/dnssec/cache.js';
import { TandemZoneManager } from '../../../src/state/manager.js';
import { appendCopyChange, JOURNAL_FOLD_ENTRIES, readCopy, writeCopy } from '../../../src/state/secondary-store.js';
import { applyChanges } from '../../../src/transfer/client.js';
import type { Change } from '../../../src/transfer/journal.js';
import type { Zone } from '../../../src/zone/types.js';

const origin = Name.fromText('sec.test.');
const clock = { now: () => 1_800_000_000 };
const rr = (owner: string, type: number, text: string, ttl = 300): Rr => ({ name: Name.fromText(owner, origin), type, class: 1, ttl, rdata: parseRdata(type, text, origin) });
const soa = (serial: number) => rr('@', RRType.SOA, `ns1 hostmaster ${serial} 3600 600 1209600 60`, 3600);

/** The primary's zone at serial 1: an SOA, NS, glue, 200 names, a delegation with glue. */
function zoneV1(): Rr[] {
  const out = [soa(1), rr('@', RRType.NS, 'ns1'), rr('ns1', RRType.A, '127.0.0.1'), rr('sub', RRType.NS, 'ns.sub'), rr('ns.sub', RRType.A, '127.0.0.9')];
  for (let i = 0; i < 200; i++) out.push(rr(`h${i}`, RRType.A, `127.0.${i >> 8}.${i & 255}`));
  return out;
}

let dir: string;
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'tandem-ixfr-delta-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

/** A manager serving sec.test. as a secondary (live-signed, `denial`), in folder `sub`, with the primary's `records` transferred. */
async function secondary(sub: string, records: Rr[] | undefined, dnssec = 'live', denial = 'nsec3-chain'): Promise<{ m: TandemZoneManager; stateDir: string; logs: string[] }> {
  const zonesDir = join(dir, sub, 'zones'), stateDir = join(dir, sub, 'state');
  await mkdir(zonesDir, { recursive: true });
  await writeFile(join(zonesDir, 'sec.test.yaml'), `zone:\n  secondary:\n    primaries: ["127.0.0.1:5399"]\n    dnssec: ${dnssec}\n  dnssec: { denial: ${denial} }\n`);
  const logs: string[] = [];
  const { manager: m, errors } = await TandemZoneManager.open({ zonesDir, stateDir, clock, cache: new SignatureCache(), logger: pino({ level: 'debug' }, { write: (l: string) => { logs.push(l); } }) });
  expect(errors).toEqual([]);
  if (records) await m.applyTransfer(origin, records);
  return { m, stateDir, logs };
}

const served = (m: TandemZoneManager): Zone => m.served().zones.byKey(origin.key)!;

/** Keys of the two managers differ (each made its own): their RRsets are not compared. */
const OWN_KEYS = new Set<number>([RRType.DNSKEY, RRType.CDS, RRType.CDNSKEY]);

/** Every RRset of the zone as text (but its own keys): what answers are made from. */
function content(z: Zone): string[] {
  const rrsets: string[] = [];
  for (const node of z.nodes.values()) {
    for (const set of node.rrsets.values()) {
      if (!OWN_KEYS.has(set.type)) rrsets.push(`${set.name.key} ${set.type} ${set.ttl} ${set.rdatas.map((r) => Buffer.from(r).toString('hex')).sort().join(',')}`);
    }
  }
  return rrsets.sort();
}

function chainOf(m: TandemZoneManager): string[] {
  const chain = m.served().signing.get(origin.key)?.chain;
  return (chain?.links() ?? []).map((l) => `${l.name.key} ${Buffer.from(l.rdatas[0]).toString('hex')}`);
}

const change = (from: number, to: number, deleted: Rr[], added: Rr[]): Change => ({ from, to, deleted: [soa(from), ...deleted], added: [soa(to), ...added] });

describe('an IXFR applied to a secondary zone as a delta (manager.applyIxfr)', () => {
  it('serves what a whole build of the same records serves; the copy keeps the IXFR as a journal entry, read back after a restart', async () => {
    const v1 = zoneV1();
    const { m, stateDir, logs } = await secondary('a', v1);
    const copyBefore = await readFile(join(stateDir, 'secondary', 'sec.test.xfr'));
    // Two versions in one IXFR (RFC 1995 §4): a name added and one removed, an RRset changed, then a TXT added.
    const changes = [
      change(1, 2, [rr('h5', RRType.A, '127.0.0.5'), rr('h7', RRType.A, '127.0.0.7')], [rr('new', RRType.A, '127.0.9.1'), rr('h7', RRType.A, '127.0.9.7')]),
      change(2, 3, [], [rr('x.y.deep', RRType.TXT, '"ent above"'), rr('ns.sub', RRType.A, '127.0.0.10')]),
    ];
    // DNSSEC records of a signed primary's IXFR are not served here (live): they go by, also at the apex.
    changes[1].added.push(rr('@', RRType.RRSIG, 'SOA 13 2 3600 20300101000000 20200101000000 12345 sec.test. AAAA'));
    const v = await m.applyIxfr(origin, soa(3), changes);
    expect(v?.serial).toBe(3);
    expect(logs.join('')).not.toMatch(/the whole zone is built again/);
    // The whole way, from the same records: the same RRsets and the same NSEC3 chain.
    const all = applyChanges(v1, changes, soa(3));
    const whole = await secondary('b', all);
    expect(content(served(m))).toEqual(content(served(whole.m)));
    expect(chainOf(m)).toEqual(chainOf(whole.m));
    expect(chainOf(m).length).toBeGreaterThan(200);
    // The copy itself is as it was; the journal holds the IXFR, and reading the copy applies it.
    expect(await readFile(join(stateDir, 'secondary', 'sec.test.xfr'))).toEqual(copyBefore);
    expect((await stat(join(stateDir, 'secondary', 'sec.test.xfr.journal'))).size).toBeGreaterThan(0);
    const key = (r: Rr) => `${r.name.key} ${r.type} ${Buffer.from(r.rdata).toString('hex')}`;
    const back = (await readCopy(stateDir, origin))!;
    expect(back.map(key).sort()).toEqual(all.map(key).sort());
    // A restart serves serial 3 from the copy and its journal.
    const again = await TandemZoneManager.open({ zonesDir: join(dir, 'a', 'zones'), stateDir, clock, cache: new SignatureCache(), logger: pino({ level: 'silent' }) });
    expect(again.manager.zoneByName(origin)?.serial).toBe(3);
    expect(content(served(again.manager))).toEqual(content(served(whole.m)));
  });

  it('leaves to the whole way, changing nothing: NS, the apex, a record not held, another starting serial, a pre-signed zone, a multi-signer key', async () => {
    const { m } = await secondary('c', zoneV1());
    const before = content(served(m));
    const cases: [string, Change[]][] = [
      ['a delegation', [change(1, 2, [], [rr('kid', RRType.NS, 'ns.kid')])]],
      ['a delegation removed', [change(1, 2, [rr('sub', RRType.NS, 'ns.sub')], [])]],
      ['the apex', [change(1, 2, [], [rr('@', RRType.TXT, '"v=spf1 -all"')])]],
      ['a DNAME', [change(1, 2, [], [rr('dn', RRType.DNAME, 'example.org.')])]],
      ['a record not held', [change(1, 2, [rr('h5', RRType.A, '127.0.0.99')], [])]],
      ['another starting serial', [change(7, 8, [], [rr('new', RRType.A, '127.0.9.1')])]],
    ];
    for (const [what, changes] of cases) {
      expect(await m.applyIxfr(origin, soa(changes.at(-1)!.to), changes), what).toBeUndefined();
      expect(m.zoneByName(origin)?.serial, what).toBe(1);
    }
    expect(content(served(m))).toEqual(before);
    const pre = await secondary('d', [...zoneV1(), rr('@', RRType.DNSKEY, '257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==')], 'presigned');
    expect(await pre.m.applyIxfr(origin, soa(2), [change(1, 2, [], [rr('new', RRType.A, '127.0.9.1')])])).toBeUndefined();
    const ms = await secondary('e', zoneV1(), 'multi-signer');
    expect(await ms.m.applyIxfr(origin, soa(2), [change(1, 2, [], [rr('@', RRType.DNSKEY, '256 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==')])])).toBeUndefined();
    // A stored copy of a version never served (written, then the refresh state's write failed): no base for a journal
    // entry (after a restart the copy and the entry would not make the version served).
    const stale = await secondary('u', zoneV1());
    await writeCopy(stale.stateDir, origin, [soa(5), ...zoneV1().slice(1)]);
    expect(await stale.m.applyIxfr(origin, soa(2), [change(1, 2, [], [rr('new', RRType.A, '127.0.9.1')])])).toBeUndefined();
    await expect(stat(join(stale.stateDir, 'secondary', 'sec.test.xfr.journal'))).rejects.toThrow(/ENOENT/);
    // A secondary zone that was never transferred serves nothing to patch.
    const none = await secondary('f', undefined);
    expect(await none.m.applyIxfr(origin, soa(2), [change(1, 2, [], [])])).toBeUndefined();
  });

  it('a journal entry cut short (a crash, a full disk) is cut off before the next one, which reads back', async () => {
    const v1 = zoneV1();
    const { m, stateDir } = await secondary('g', v1);
    const c1 = [change(1, 2, [], [rr('one', RRType.A, '127.0.1.1')])];
    await m.applyIxfr(origin, soa(2), c1);
    const journal = join(stateDir, 'secondary', 'sec.test.xfr.journal');
    const whole = (await stat(journal)).size;
    await appendFile(journal, Buffer.from([0, 0, 1, 0, 9, 9, 9])); // an entry's length and a few of its bytes
    const key = (r: Rr) => `${r.name.key} ${r.type} ${Buffer.from(r.rdata).toString('hex')}`;
    expect((await readCopy(stateDir, origin))!.map(key).sort()).toEqual(applyChanges(v1, c1, soa(2)).map(key).sort());
    const c2 = [change(2, 3, [], [rr('two', RRType.A, '127.0.1.2')])];
    const size = await appendCopyChange(stateDir, origin, { from: 2, soa: soa(3), changes: c2 });
    expect(size?.entries).toBe(2);
    expect(size?.bytes).toBeGreaterThan(whole);
    const v3 = applyChanges(applyChanges(v1, c1, soa(2)), c2, soa(3));
    expect((await readCopy(stateDir, origin))!.map(key).sort()).toEqual(v3.map(key).sort());
    // An entry that does not apply (its second version deletes a record not held) is undone whole: version 3 stays.
    await appendCopyChange(stateDir, origin, { from: 3, soa: soa(5), changes: [change(3, 4, [], [rr('x', RRType.A, '127.0.1.3')]), change(4, 5, [rr('h1', RRType.A, '127.0.0.99')], [])] });
    expect((await readCopy(stateDir, origin))!.map(key).sort()).toEqual(v3.map(key).sort());
  });

  it(`a journal of ${JOURNAL_FOLD_ENTRIES} IXFRs is folded into the copy (written whole once, the journal gone)`, async () => {
    const { m, stateDir } = await secondary('h', zoneV1());
    const journal = join(stateDir, 'secondary', 'sec.test.xfr.journal');
    for (let s = 1; s < JOURNAL_FOLD_ENTRIES; s++) {
      expect(await m.applyIxfr(origin, soa(s + 1), [change(s, s + 1, [], [rr(`n${s}`, RRType.A, '127.0.2.1')])])).toBeDefined();
    }
    expect((await stat(journal)).size).toBeGreaterThan(0);
    await m.applyIxfr(origin, soa(JOURNAL_FOLD_ENTRIES + 1), [change(JOURNAL_FOLD_ENTRIES, JOURNAL_FOLD_ENTRIES + 1, [], [rr('last', RRType.A, '127.0.2.2')])]);
    await expect(stat(journal)).rejects.toThrow(/ENOENT/);
    const back = (await readCopy(stateDir, origin))!;
    expect(back.filter((r) => r.type === RRType.A && /^(n\d+|last)\./.test(r.name.toString()))).toHaveLength(JOURNAL_FOLD_ENTRIES);
    expect(back.find((r) => r.type === RRType.SOA)!.rdata).toEqual(soa(JOURNAL_FOLD_ENTRIES + 1).rdata);
  }, 60_000);
});
