// A burst of UDP queries from one source address, for the RRL tests: `n` A queries (DO=1) sent at once to `to`,
// names from `name(i)`; counts full answers, TC=1 slips and silence. Done when no answer came for 1 s (dropped
// queries never get one), and in any case after 10 s.
import dgram from 'node:dgram';
import { encodeQuery } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { RRType } from '../../src/dns/types.js';

export async function udpBurst(to: { host: string; port: number }, from: string, n: number, name: (i: number) => string): Promise<{ full: number; tc: number; none: number }> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, from, resolve));
  const seen = new Map<number, boolean>();
  let last = Date.now();
  sock.on('message', (m) => {
    seen.set(m.readUInt16BE(0), (m[2] & 0x02) !== 0);
    last = Date.now();
  });
  for (let id = 1; id <= n; id++) sock.send(encodeQuery(Name.fromText(name(id)), RRType.A, { id, udpSize: 1232, do: true }), to.port, to.host);
  const end = Date.now() + 10_000;
  while (Date.now() - last < 1000 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  sock.close();
  const tc = [...seen.values()].filter(Boolean).length;
  return { full: seen.size - tc, tc, none: n - seen.size };
}
