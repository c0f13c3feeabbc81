// The UDP listener's address lookup (server/udp.ts literalLookup) and the listener answering over IPv4 and IPv6.
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { listenUdp, literalLookup } from '../../../src/server/udp.js';
import type { Handler } from '../../../src/server/handle.js';

describe('literalLookup', () => {
  it('returns an IP literal of its family at once (no tick later, as dns.lookup would)', () => {
    for (const [family, address] of [[4, '127.0.0.1'], [6, '::1'], [6, 'fe80::1%lo']] as const) {
      let got: unknown[] | undefined;
      literalLookup(family)(address, family, (...args) => { got = args; });
      expect(got).toEqual([null, address, family]); // called before the lookup returned
    }
  });

  it('looks a host name (or a literal of the other family) up with dns.lookup', async () => {
    const viaDns = (family: 4 | 6, name: string) => new Promise<unknown[]>((resolve) => {
      let sync = true;
      literalLookup(family)(name, family, (...args) => resolve([sync, ...args]));
      sync = false;
    });
    expect(await viaDns(4, 'localhost')).toEqual([false, null, '127.0.0.1', 4]);
    const [sync] = await viaDns(6, '127.0.0.1');
    expect(sync).toBe(false);
  });
});

describe('listenUdp', () => {
  // A handler that echoes the query with QR set; cached() answers nothing, so every datagram takes the handler's path.
  const echo = Object.assign(async (msg: Uint8Array) => { const out = Buffer.from(msg); out[2] |= 0x80; return out; }, { cached: () => undefined }) as unknown as Handler;
  for (const host of ['127.0.0.1', '::1']) {
    it(`answers each datagram to the address it came from (${host})`, async () => {
      const l = await listenUdp({ host, port: 0 }, echo, pino({ level: 'silent' }));
      const c = createSocket(host.includes(':') ? 'udp6' : 'udp4');
      try {
        const got = new Promise<Buffer>((resolve) => c.once('message', resolve));
        c.send(Buffer.from([0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]), l.address.port, host);
        const reply = await got;
        expect([...reply.subarray(0, 3)]).toEqual([0xab, 0xcd, 0x81]);
      } finally {
        c.close();
        await l.close();
      }
    });
  }
});
