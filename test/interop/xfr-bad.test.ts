// A transfer that goes wrong changes nothing (issue 11): a scripted primary answers tandem's SOA query with a
// newer serial and then sends an AXFR that is cut midway, whose data does not build as a zone (CNAME beside
// other data), or that does not end with the SOA it began with. Each time the previous version keeps serving,
// dig says so, and the secondary status names the reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import net from 'node:net';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig } from '../helpers/dig.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { freePort, waitFor } from '../helpers/procs.js';
import { Name } from '../../src/dns/name.js';
import { parseRdata } from '../../src/dns/rdata.js';
import { readMessage } from '../../src/dns/reader.js';
import type { Rr } from '../../src/dns/rr.js';
import { RRType } from '../../src/dns/types.js';
import { encodeMessage, encodeStream } from '../../src/dns/writer.js';

const origin = Name.fromText('bad.test.');
const rr = (owner: string, type: number, text: string): Rr => ({ name: Name.fromText(owner, origin), type, class: 1, ttl: 300, rdata: parseRdata(type, text, origin) });
const soa = (serial: number) => rr('@', RRType.SOA, `ns1 hostmaster ${serial} 2 1 3600 60`);
const base = (serial: number): Rr[] => [soa(serial), rr('@', RRType.NS, 'ns1'), rr('ns1', RRType.A, '192.0.2.1'), rr('www', RRType.A, '192.0.2.10')];

type Mode = 'good' | 'cut' | 'bad-data' | 'wrong-end';

/** A primary over UDP (SOA) and TCP (AXFR) that does what `mode` says. */
async function scriptedPrimary(port: number) {
  const state = { serial: 1, mode: 'good' as Mode, axfrs: 0 };
  const udp = dgram.createSocket('udp4');
  udp.on('message', (m, r) => {
    const q = readMessage(new Uint8Array(m));
    if (!q.ok) return;
    udp.send(encodeMessage({ id: q.message.id, qr: true, opcode: 0, aa: true, question: q.message.question[0], answer: [soa(state.serial)] }), r.port, r.address);
  });
  await new Promise<void>((res) => udp.bind(port, '127.0.0.1', () => res()));
  const tcp = net.createServer((sock) => {
    sock.on('data', (d) => {
      const q = readMessage(new Uint8Array(d.subarray(2)));
      if (!q.ok) return sock.destroy();
      state.axfrs++;
      let records = [...base(state.serial), ...Array.from({ length: 3000 }, (_, i) => rr(`h${i}`, RRType.TXT, `"filler ${i} ${'x'.repeat(40)}"`))];
      if (state.mode === 'bad-data') records.push(rr('www', RRType.CNAME, 'ns1'));
      records.push(soa(state.mode === 'wrong-end' ? state.serial + 7 : state.serial));
      const head = { id: q.message.id, opcode: 0, aa: true, rd: false, cd: false, rcode: 0, question: q.message.question[0] };
      const msgs = [...encodeStream(head, records, 16_000)];
      const send = state.mode === 'cut' ? msgs.slice(0, Math.floor(msgs.length / 2)) : msgs;
      for (const w of send) {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(w.length);
        sock.write(Buffer.concat([len, w]));
      }
      if (state.mode === 'cut') sock.end();
    });
    sock.on('error', () => undefined);
  });
  await new Promise<void>((res) => tcp.listen(port, '127.0.0.1', () => res()));
  return { state, close: () => { udp.close(); tcp.close(); } };
}

describe('bad transfers leave the last good version serving', () => {
  let s: TestServer;
  let primary: Awaited<ReturnType<typeof scriptedPrimary>>;
  beforeAll(async () => {
    const port = await freePort();
    primary = await scriptedPrimary(port);
    const dir = await mkdtemp(join(tmpdir(), 'tandem-bad-'));
    await writeFile(join(dir, 'bad.test.yaml'), `zone:\n  secondary:\n    primaries: ["127.0.0.1:${port}"]\n`);
    s = await startTestServer({ zones: dir });
    await waitFor(() => s.server.manager.version(origin)?.serial === 1 || undefined, 15_000, { what: 'first transfer' });
  }, 30_000);
  afterAll(async () => {
    await s?.stop();
    primary?.close();
  });

  it.each([
    ['cut', /closed the connection|before its closing SOA/],
    ['bad-data', /CNAME/],
    ['wrong-end', /SOA inside the transfer|closing/],
  ] as const)('%s: serial 1 keeps serving; the status names the reason', async (mode, reason) => {
    primary.state.mode = mode;
    primary.state.serial++;
    const tries = primary.state.axfrs;
    await s.server.transfers.secondaries.refreshNow(origin);
    expect(primary.state.axfrs).toBeGreaterThan(tries);
    expect(s.server.manager.version(origin)!.serial).toBe(1);
    const r = await dig({ host: s.host, port: s.port }, ['+norec', 'www.bad.test', 'A']);
    expect(r.status).toBe('NOERROR');
    expect(r.answer.map((a) => a.type)).toEqual(['A']);
    const st = s.server.transfers.secondaries.status(origin)!;
    expect(st.state).toBe('serving');
    expect(st.lastError?.reason).toMatch(reason);
  });

  it('a good transfer afterwards is taken', async () => {
    primary.state.mode = 'good';
    primary.state.serial = 10;
    await s.server.transfers.secondaries.refreshNow(origin);
    expect(s.server.manager.version(origin)!.serial).toBe(10);
    expect((await dig({ host: s.host, port: s.port }, ['+norec', 'h2999.bad.test', 'TXT'])).status).toBe('NOERROR');
    expect(s.server.transfers.secondaries.status(origin)!.lastError).toBeUndefined();
  });
});
