// RFC 2136 UPDATE messages as data (update/message.ts), the prerequisites against a zone (update/prereq.ts) and
// the zone.update policy (update/policy.ts): each RCODE the RFC names for them.
import { describe, expect, it } from 'vitest';
import { Name } from '../../../src/dns/name.js';
import { RRClass, RRType, Rcode } from '../../../src/dns/types.js';
import { parseRdata } from '../../../src/dns/rdata.js';
import { encodeMessage } from '../../../src/dns/writer.js';
import { readMessage } from '../../../src/dns/reader.js';
import type { Rr } from '../../../src/dns/rr.js';
import { parseUpdate, updateZone, type Prerequisite } from '../../../src/update/message.js';
import { checkPrerequisites } from '../../../src/update/prereq.js';
import { denied } from '../../../src/update/policy.js';
import { buildLoadedZone, parseZoneFile } from '../../../src/config/zonefile.js';
import { ruleAllows, type UpdateGrant } from '../../../src/config/update-settings.js';

const zone = Name.fromText('u.test.');
const n = (s: string) => Name.fromText(s, zone);
const rr = (name: string, type: keyof typeof RRType, klass: number, ttl: number, text?: string): Rr =>
  ({ name: n(name), type: RRType[type], class: klass, ttl, rdata: text === undefined ? new Uint8Array(0) : parseRdata(RRType[type], text, zone) });

function message(opts: { zone?: { name: Name; type: number; class: number }; prereq?: Rr[]; update?: Rr[] }) {
  const wire = encodeMessage({ id: 1, qr: false, opcode: 5, question: opts.zone ?? { name: zone, type: RRType.SOA, class: RRClass.IN }, answer: opts.prereq, authority: opts.update });
  const r = readMessage(wire);
  if (!r.ok) throw new Error(r.error.reason);
  return r.message;
}
/** As the handler reads it: a message the reader refuses (RDATA that does not fit its type) is FORMERR too. */
const parse = (opts: Parameters<typeof message>[0]): ReturnType<typeof parseUpdate> => {
  let m: ReturnType<typeof message>;
  try {
    m = message(opts);
  } catch (err) {
    return { ok: false, rcode: Rcode.FORMERR, reason: (err as Error).message } as ReturnType<typeof parseUpdate>;
  }
  return parseUpdate(m, zone);
};
const rcodeOf = (r: ReturnType<typeof parse>) => (r.ok ? Rcode.NOERROR : r.rcode);

describe('RFC 2136 §3.1.1: the zone section', () => {
  it('one SOA record of class IN names the zone; no zone record is FORMERR', () => {
    expect(updateZone(message({}))).toEqual({ ok: true, zone });
    const none = readMessage(Uint8Array.of(0, 1, 0x28, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    expect(none.ok && updateZone(none.message)).toMatchObject({ ok: false, rcode: Rcode.FORMERR });
  });
  it('a type other than SOA is FORMERR; another class is not served (NOTAUTH)', () => {
    expect(updateZone(message({ zone: { name: zone, type: RRType.A, class: RRClass.IN } }))).toMatchObject({ ok: false, rcode: Rcode.FORMERR });
    expect(updateZone(message({ zone: { name: zone, type: RRType.SOA, class: RRClass.CH } }))).toMatchObject({ ok: false, rcode: Rcode.NOTAUTH });
  });
});

describe('RFC 2136 §3.2: the form of prerequisites', () => {
  it('a TTL other than 0 is FORMERR', () => {
    expect(rcodeOf(parse({ prereq: [rr('www', 'A', RRClass.ANY, 60)] }))).toBe(Rcode.FORMERR);
  });
  it('a name outside the zone is NOTZONE', () => {
    expect(rcodeOf(parse({ prereq: [{ ...rr('www', 'A', RRClass.ANY, 0), name: Name.fromText('www.other.test.') }] }))).toBe(Rcode.NOTZONE);
  });
  it('class ANY or NONE with RDATA is FORMERR; another class is FORMERR', () => {
    expect(rcodeOf(parse({ prereq: [rr('www', 'A', RRClass.NONE, 0, '192.0.2.1')] }))).toBe(Rcode.FORMERR);
    expect(rcodeOf(parse({ prereq: [rr('www', 'A', RRClass.CH, 0)] }))).toBe(Rcode.FORMERR);
  });
  it('value prerequisites of one name and type form one RRset', () => {
    const r = parse({ prereq: [rr('www', 'A', RRClass.IN, 0, '192.0.2.1'), rr('www', 'A', RRClass.IN, 0, '192.0.2.2'), rr('@', 'NS', RRClass.ANY, 0)] });
    expect(r.ok && r.update.prerequisites.map((p) => `${p.kind} ${p.kind === 'value' ? p.rdatas.length : ''}`)).toEqual(['value 2', 'in-use ']);
  });
});

describe('RFC 2136 §3.4.1: prescan of the update section', () => {
  it('the class says add, delete an RRset, delete a name, or delete one RR', () => {
    const r = parse({ update: [rr('a', 'A', RRClass.IN, 300, '192.0.2.1'), rr('b', 'A', RRClass.ANY, 0), { ...rr('c', 'A', RRClass.ANY, 0), type: RRType.ANY }, rr('d', 'A', RRClass.NONE, 0, '192.0.2.1')] });
    expect(r.ok && r.update.ops.map((o) => o.op)).toEqual(['add', 'delete-rrset', 'delete-name', 'delete-rr']);
  });
  it('NOTZONE for a name outside the zone', () => {
    expect(rcodeOf(parse({ update: [{ ...rr('a', 'A', RRClass.IN, 300, '192.0.2.1'), name: Name.fromText('a.other.test.') }] }))).toBe(Rcode.NOTZONE);
  });
  it('FORMERR: an add of type ANY, a delete of class ANY with a TTL, a delete of class NONE of type ANY, an unknown class', () => {
    expect(rcodeOf(parse({ update: [{ ...rr('a', 'A', RRClass.IN, 300), type: RRType.ANY }] }))).toBe(Rcode.FORMERR);
    expect(rcodeOf(parse({ update: [rr('a', 'A', RRClass.ANY, 300)] }))).toBe(Rcode.FORMERR);
    expect(rcodeOf(parse({ update: [{ ...rr('a', 'A', RRClass.NONE, 0), type: RRType.ANY }] }))).toBe(Rcode.FORMERR);
    expect(rcodeOf(parse({ update: [rr('a', 'A', RRClass.HS, 0)] }))).toBe(Rcode.FORMERR);
    expect(rcodeOf(parse({ update: [{ ...rr('a', 'A', RRClass.IN, 300), type: RRType.AXFR }] }))).toBe(Rcode.FORMERR);
  });
});

describe('RFC 2136 §3.2: prerequisites against the zone', () => {
  const served = buildLoadedZone(parseZoneFile('u.test.yaml', `zone:
  soa: { mname: ns1.u.test., rname: h.u.test., serial: 1 }
  nameservers: [ns1.u.test.]
records:
  ns1: { type: A, value: 192.0.2.53 }
  www: { type: A, values: [192.0.2.1, 192.0.2.2] }
  a.b: { type: TXT, value: x }
`));
  const check = (...p: Prerequisite[]) => checkPrerequisites(served, p)?.rcode ?? Rcode.NOERROR;
  const A = RRType.A, ANY = RRType.ANY;
  it('name is in use (ANY ANY), else NXDOMAIN; an empty non-terminal is not in use', () => {
    expect(check({ kind: 'in-use', name: n('www'), type: ANY })).toBe(Rcode.NOERROR);
    expect(check({ kind: 'in-use', name: n('nope'), type: ANY })).toBe(Rcode.NXDOMAIN);
    expect(check({ kind: 'in-use', name: n('b'), type: ANY })).toBe(Rcode.NXDOMAIN);
  });
  it('RRset exists (ANY type), else NXRRSET', () => {
    expect(check({ kind: 'in-use', name: n('www'), type: A })).toBe(Rcode.NOERROR);
    expect(check({ kind: 'in-use', name: n('www'), type: RRType.AAAA })).toBe(Rcode.NXRRSET);
  });
  it('name is not in use (NONE ANY), else YXDOMAIN', () => {
    expect(check({ kind: 'not-in-use', name: n('nope'), type: ANY })).toBe(Rcode.NOERROR);
    expect(check({ kind: 'not-in-use', name: n('www'), type: ANY })).toBe(Rcode.YXDOMAIN);
  });
  it('RRset does not exist (NONE type), else YXRRSET', () => {
    expect(check({ kind: 'not-in-use', name: n('www'), type: RRType.MX })).toBe(Rcode.NOERROR);
    expect(check({ kind: 'not-in-use', name: n('www'), type: A })).toBe(Rcode.YXRRSET);
  });
  it('RRset exists with exactly these values, else NXRRSET; the served apex NS counts', () => {
    const v = (...ips: string[]): Prerequisite => ({ kind: 'value', name: n('www'), type: A, rdatas: ips.map((ip) => parseRdata(A, ip, zone)) });
    expect(check(v('192.0.2.2', '192.0.2.1'))).toBe(Rcode.NOERROR);
    expect(check(v('192.0.2.1'))).toBe(Rcode.NXRRSET);
    expect(check(v('192.0.2.1', '192.0.2.2', '192.0.2.3'))).toBe(Rcode.NXRRSET);
    expect(check({ kind: 'value', name: zone, type: RRType.NS, rdatas: [parseRdata(RRType.NS, 'NS1.U.TEST.', zone)] })).toBe(Rcode.NOERROR);
  });
  it('the first failure wins in order; value sets are compared after the others (§3.2.5)', () => {
    const r = checkPrerequisites(served, [
      { kind: 'value', name: n('www'), type: A, rdatas: [] },
      { kind: 'not-in-use', name: n('www'), type: ANY },
    ]);
    expect(r?.rcode).toBe(Rcode.YXDOMAIN);
  });
});

describe('RFC 2136 §3.3: the zone.update policy', () => {
  const grants: UpdateGrant[] = [
    { key: 'sync-key', allow: [{ name: 'u.test.', match: 'exact', types: [RRType.DNSKEY, RRType.NS] }] },
    { key: 'hosts', allow: [{ name: 'dyn.u.test.', match: 'below', types: 'ANY' }, { name: 'lab.u.test.', match: 'subdomain', types: [RRType.A] }] },
  ];
  const key = (s: string) => Name.fromText(`${s}.`);
  const add = (name: string, type: number) => ({ op: 'add' as const, rr: { name: n(name), type, class: RRClass.IN, ttl: 0, rdata: new Uint8Array(0) } });
  it('a key may change only what its rules cover; another key nothing', () => {
    expect(denied(grants, key('sync-key'), [add('@', RRType.DNSKEY), add('@', RRType.NS)])).toBeUndefined();
    expect(denied(grants, key('SYNC-KEY'), [add('@', RRType.DNSKEY)])).toBeUndefined();
    expect(denied(grants, key('sync-key'), [add('@', RRType.DNSKEY), add('www', RRType.A)])).toMatch(/may not change www.u.test. A/);
    expect(denied(grants, key('other'), [add('@', RRType.DNSKEY)])).toMatch(/no zone.update grant/);
  });
  it('*.NAME covers names strictly below NAME; subdomain covers NAME and below; deleting a name needs ANY', () => {
    expect(denied(grants, key('hosts'), [add('h1.dyn', RRType.AAAA), { op: 'delete-name', name: n('x.y.dyn') }])).toBeUndefined();
    expect(denied(grants, key('hosts'), [add('dyn', RRType.A)])).toMatch(/may not change/);
    expect(ruleAllows(grants[1].allow[1], n('lab'), RRType.A)).toBe(true);
    expect(ruleAllows(grants[1].allow[1], n('a.lab'), RRType.A)).toBe(true);
    expect(denied(grants, key('hosts'), [{ op: 'delete-name', name: n('a.lab') }])).toMatch(/needs types: \[ANY\]/);
  });
});
