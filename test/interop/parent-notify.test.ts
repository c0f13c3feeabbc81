// Generalized NOTIFY to the parent (RFC 9859; transfer/dsync.ts, transfer/parent-notify.ts). The parent is a tandem
// serving `test.` with DSYNC records; it answers the child's DSYNC questions as the parent resolver would. The
// NOTIFYs go either to the parent tandem itself (it logs and keeps them) or to a UDP listener of the test that
// answers as the test tells it, so retries and giving up can be seen.
import dgram from 'node:dgram';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHECK_ZONE } from '../helpers/check-zone.js';
import { waitFor } from '../helpers/procs.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startParent, syncZoneDir, type Parent } from '../helpers/sync.js';
import { Name } from '../../src/dns/name.js';
import { readMessage } from '../../src/dns/reader.js';
import { Opcode, RRType, Rcode, typeName } from '../../src/dns/types.js';
import { systemClock } from '../../src/dnssec/types.js';
import { findDsync } from '../../src/transfer/dsync.js';
import { notifyReply } from '../../src/transfer/notify.js';
import { ParentNotifier } from '../../src/transfer/parent-notify.js';

const child = Name.fromText(CHECK_ZONE);

/** A DSYNC target: records each NOTIFY (QTYPE, QNAME) and answers from the `answerFrom`-th on (never: Infinity). */
async function listener(answerFrom: number) {
  const got: { type: string; name: string; opcode: number }[] = [];
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    const r = readMessage(msg);
    if (!r.ok) return;
    const q = r.message.question[0];
    got.push({ type: typeName(q.type), name: q.name.toString(), opcode: r.message.opcode });
    if (got.length >= answerFrom) socket.send(notifyReply(r.message.id, q.name, Rcode.NOERROR, q.type), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: (socket.address()).port, got, close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
}

function notifier(parent: Parent, o: { tries: number; retryDelaysMs: number[] }) {
  return new ParentNotifier({
    onVersion: () => undefined, resolver: { host: parent.host, port: parent.port }, clock: systemClock, logger: pino({ level: 'silent' }),
    notify: { tries: o.tries, timeoutMs: 100 }, retryDelaysMs: o.retryDelaysMs, lookupTimeoutMs: 2000,
  });
}

describe('RFC 9859 §4: NOTIFY(CDS) to the DSYNC target, retried', () => {
  let l: Awaited<ReturnType<typeof listener>>;
  let parent: Parent;
  let n: ParentNotifier | undefined;
  afterEach(async () => {
    n?.stop();
    await Promise.all([l?.close(), parent?.stop()]);
  });

  it('a target that answers only the third NOTIFY gets it three times, and the outcome is sent (RFC 1996 §3.6 retries)', async () => {
    l = await listener(3);
    parent = await startParent({ targetPort: l.port });
    n = notifier(parent, { tries: 5, retryDelaysMs: [] });
    n.start(child, RRType.CDS);
    const e = await waitFor(() => n!.recent(child).find((x) => x.result !== 'failed'), 10_000, { what: 'an outcome' });
    expect(e).toMatchObject({ type: 'CDS', result: 'sent', target: `127.0.0.1:${l.port}`, round: 1 });
    expect(l.got).toEqual(Array(3).fill({ type: 'CDS', name: 'ms.test.', opcode: Opcode.NOTIFY }));
  });

  it('a target that never answers: each round fails, one more round after each retry delay, then it gives up', async () => {
    l = await listener(Infinity);
    parent = await startParent({ targetPort: l.port });
    n = notifier(parent, { tries: 1, retryDelaysMs: [50, 50] });
    n.start(child, RRType.CSYNC);
    await waitFor(() => n!.recent(child).filter((x) => x.result === 'failed').length === 3 || undefined, 10_000, { what: 'three failed rounds' });
    await new Promise((r) => setTimeout(r, 300));
    expect(n.recent(child).map((x) => [x.type, x.result, x.round])).toEqual([['CSYNC', 'failed', 1], ['CSYNC', 'failed', 2], ['CSYNC', 'failed', 3]]);
    expect(l.got.map((x) => x.type)).toEqual(['CSYNC', 'CSYNC', 'CSYNC']);
  });

  it('RFC 9859 §4.1: a parent without a DSYNC record for the type is not notified, and not asked again', async () => {
    l = await listener(1);
    parent = await startParent({ dsync: { default: [`CSYNC 1 ${l.port} notify.test.`] } });
    n = notifier(parent, { tries: 1, retryDelaysMs: [50] });
    n.start(child, RRType.CDS);
    const e = await waitFor(() => n!.recent(child)[0], 10_000, { what: 'an outcome' });
    expect(e).toMatchObject({ type: 'CDS', result: 'no-dsync', round: 1 });
    expect(e.reason).toMatch(/no DSYNC CDS NOTIFY record \(asked ms\._dsync\.test\., _dsync\.test\.\)/);
    await new Promise((r) => setTimeout(r, 200));
    expect(n.recent(child)).toHaveLength(1);
    expect(l.got).toEqual([]);
  });
});

describe('RFC 9859 §3: where the DSYNC records are found', () => {
  let parent: Parent;
  afterAll(async () => parent?.stop());
  beforeAll(async () => {
    parent = await startParent({ dsync: { default: ['CDS 1 5301 notify.test.', 'CDS 0 5302 notify.test.'], child: ['CDS 1 5303 notify.test.', 'CSYNC 2 5304 notify.test.'] } });
  });

  it('§3.2: the child-specific record <label>._dsync.<parent> wins over the parent\'s default', async () => {
    const r = await findDsync({ host: parent.host, port: parent.port }, child, RRType.CDS);
    expect(r.ok && r.owner.toString()).toBe('ms._dsync.test.');
    expect(r).toMatchObject({ ok: true, targets: [{ host: '127.0.0.1', port: 5303 }] });
  });

  it('§3: only scheme 1 (NOTIFY) counts; without one at the child name, the default _dsync.<parent> is used', async () => {
    // ms._dsync.test. has CSYNC only with scheme 2: the default is asked, where scheme 0 is left out.
    const r = await findDsync({ host: parent.host, port: parent.port }, child, RRType.CSYNC);
    expect(r).toMatchObject({ ok: false, reason: 'no DSYNC CSYNC NOTIFY record (asked ms._dsync.test., _dsync.test.)' });
    const other = await findDsync({ host: parent.host, port: parent.port }, Name.fromText('other.test.'), RRType.CDS);
    expect(other.ok && other.owner.toString()).toBe('_dsync.test.');
    expect(other).toMatchObject({ ok: true, targets: [{ host: '127.0.0.1', port: 5301 }] });
  });
});

describe('RFC 9859 §3: a parent zone higher up than the child\'s parent name', () => {
  let parent: Parent;
  afterAll(async () => parent?.stop());

  it('the negative answer\'s SOA names the parent zone: <child minus parent>._dsync.<parent zone>, then its default', async () => {
    parent = await startParent({ dsync: { default: ['CDS 1 5301 notify.test.'] } });
    const deep = Name.fromText('x.y.test.');
    const r = await findDsync({ host: parent.host, port: parent.port }, deep, RRType.CSYNC);
    expect(r).toMatchObject({ ok: false, reason: 'no DSYNC CSYNC NOTIFY record (asked x._dsync.y.test., x.y._dsync.test., _dsync.test.)' });
    const cds = await findDsync({ host: parent.host, port: parent.port }, deep, RRType.CDS);
    expect(cds.ok && cds.owner.toString()).toBe('_dsync.test.');
  });
});

describe('RFC 9859 §4: a child tandem notifies the parent tandem when its CSYNC or NS change', () => {
  let parent: Parent;
  let t: TestServer;
  let id: string;
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${t.api}/client/v4${path}`, { method, headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const j = await r.json() as { success: boolean; errors: unknown; result: any };
    expect(j.success, JSON.stringify(j.errors)).toBe(true);
    return j.result;
  };
  beforeAll(async () => {
    parent = await startParent();
    t = await startTestServer({ zones: await syncZoneDir({ sync: [] }), config: { parentResolver: { host: parent.host, port: parent.port }, parentNotify: true } });
    id = t.server.manager.zoneByName(child)!.id;
  }, 60_000);
  afterAll(async () => {
    await Promise.all([t?.stop(), parent?.stop()]);
  });

  it('publishing a CSYNC sends NOTIFY(CSYNC); the parent answers NOERROR and keeps it (GET .../tandem/notifications)', async () => {
    expect(parent.notifies()).toEqual([]);
    await api('POST', `/zones/${id}/dns_records`, { type: 'CSYNC', name: 'ms.test', content: `${t.server.manager.version(child)!.serial} 3 A NS AAAA` });
    const got = await waitFor(() => parent.notifies().find((x) => x.type === 'CSYNC'), 10_000, { what: 'NOTIFY(CSYNC) at the parent' });
    expect(got.child).toBe('ms.test.');
    const r = await fetch(`${parent.t.api}/client/v4/zones/${parent.zoneId}/tandem/notifications`, { headers: { authorization: `Bearer ${parent.t.token}` } });
    expect(((await r.json()) as { result: { type: string }[] }).result.map((x) => x.type)).toContain('CSYNC');
  });

  it('an apex NS change while the CSYNC is published sends NOTIFY(CSYNC) again; a change elsewhere sends none', async () => {
    const before = parent.notifies().length;
    await api('POST', `/zones/${id}/dns_records`, { type: 'A', name: 'other.ms.test', content: '192.0.2.9' });
    await new Promise((r) => setTimeout(r, 500));
    expect(parent.notifies()).toHaveLength(before);
    await api('POST', `/zones/${id}/dns_records`, { type: 'NS', name: 'ms.test', content: 'ns2.other.ms.test' });
    await waitFor(() => parent.notifies().length > before || undefined, 10_000, { what: 'a second NOTIFY(CSYNC)' });
    expect(parent.notifies().slice(before).map((x) => x.type)).toEqual(['CSYNC']);
    const s = (await api('GET', `/zones/${id}/tandem/sync`)) as { parentNotify: { type: string; result: string }[] };
    expect(s.parentNotify.filter((e) => e.type === 'CSYNC' && e.result === 'sent')).toHaveLength(2);
  });
});
