// The parent DS check tells the operator when it cannot decide (issue 13): a resolver that answers with an
// error is a warning naming the zone, the resolver and the reason (before, a debug line: the zone stayed
// pending without a word). The resolver here is a UDP socket that answers as told.
import { afterEach, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import packet from 'dns-packet';
import { pino, type Logger } from 'pino';
import { checkParents } from '../../../src/state/parentds.js';
import type { TandemZoneManager } from '../../../src/state/manager.js';
import { Name } from '../../../src/dns/name.js';

let sock: dgram.Socket | undefined;
afterEach(() => sock?.close());

/** A resolver on a free port answering every query with `rcode` and, for NOERROR, one DS RR of `digest`. */
async function resolver(rcode: 'NOERROR' | 'SERVFAIL', digest?: Buffer): Promise<{ host: string; port: number }> {
  sock = dgram.createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    const q = packet.decode(msg);
    const answers = digest ? [{ type: 'DS', name: 'p.test', ttl: 60, class: 'IN', data: { keyTag: 1, algorithm: 13, digestType: 2, digest } }] : [];
    // dns-packet takes the RCODE from the low bits of the flags.
    const flags = packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | (rcode === 'SERVFAIL' ? 2 : 0);
    const wire = packet.encode({ id: q.id, type: 'response', flags, questions: q.questions, answers } as packet.Packet);
    sock!.send(wire, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock!.bind(0, '127.0.0.1', r));
  return { host: '127.0.0.1', port: sock.address().port };
}

function fakeManager(changes: boolean[]): TandemZoneManager {
  const ours = Uint8Array.from([0, 1, 13, 2, ...Buffer.alloc(32, 0xaa)]);
  return {
    awaitingParent: () => [{ id: 'z', name: Name.fromText('p.test.'), want: true }],
    ourDs: () => [ours],
    setParentDs: async (_id: string, present: boolean) => { changes.push(present); },
  } as unknown as TandemZoneManager;
}

function logger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { log: pino({ level: 'info' }, { write: (s: string) => { lines.push(JSON.parse(s)); } }), lines };
}

describe('parent DS check', () => {
  it('a resolver error (SERVFAIL) is a warning with zone, resolver and reason; the zone stays pending', async () => {
    const at = await resolver('SERVFAIL');
    const changes: boolean[] = [];
    const { log, lines } = logger();
    expect(await checkParents(fakeManager(changes), at, log)).toBe(0);
    expect(changes).toEqual([]);
    expect(lines).toEqual([expect.objectContaining({
      level: 40, zone: 'p.test.', resolver: `127.0.0.1:${at.port}`, reason: 'the resolver answered SERVFAIL',
      msg: expect.stringMatching(/^parent DS check failed: the zone stays pending/),
    })]);
  });

  it('DS records at the parent, none of ours: an info line saying so (a DS uploaded for another key is worth seeing)', async () => {
    const at = await resolver('NOERROR', Buffer.alloc(32, 0xbb));
    const { log, lines } = logger();
    expect(await checkParents(fakeManager([]), at, log)).toBe(0);
    expect(lines).toEqual([expect.objectContaining({ level: 30, zone: 'p.test.', parentDs: 1, msg: expect.stringContaining('none for our KSK') })]);
  });

  it('our DS at the parent (RFC 4509 SHA-256 digest): DNSSEC active, at info', async () => {
    const at = await resolver('NOERROR', Buffer.alloc(32, 0xaa));
    const changes: boolean[] = [];
    const { log, lines } = logger();
    expect(await checkParents(fakeManager(changes), at, log)).toBe(1);
    expect(changes).toEqual([true]);
    expect(lines).toEqual([expect.objectContaining({ level: 30, zone: 'p.test.', ds: true })]);
  });
});
