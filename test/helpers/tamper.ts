// A UDP proxy that corrupts DNSSEC signatures on the way back: the negative control that proves a validator
// in a test really checks what tandem signs.
import dgram from 'node:dgram';
import packet from 'dns-packet';

export interface Tamper {
  port: number;
  close(): Promise<void>;
}

export function startTamperProxy(upstream: { host: string; port: number }): Promise<Tamper> {
  const front = dgram.createSocket('udp4');
  front.on('message', (msg, client) => {
    const back = dgram.createSocket('udp4');
    const timer = setTimeout(() => back.close(), 3000);
    back.on('message', (resp) => {
      clearTimeout(timer);
      back.close();
      let out: Buffer = resp;
      try {
        const p = packet.decode(resp);
        let flipped = false;
        for (const rr of [...(p.answers ?? []), ...(p.authorities ?? [])]) {
          if (rr.type === 'RRSIG') {
            const sig = (rr as unknown as { data: { signature: Buffer } }).data.signature;
            sig[sig.length - 1] ^= 0x01;
            flipped = true;
          }
        }
        if (flipped) out = packet.encode(p);
      } catch {
        // not decodable: pass through
      }
      front.send(out, client.port, client.address);
    });
    back.send(msg, upstream.port, upstream.host);
  });
  return new Promise((resolve) => {
    front.bind(0, '127.0.0.1', () => resolve({ port: front.address().port, close: () => new Promise((r) => front.close(() => r())) }));
  });
}
