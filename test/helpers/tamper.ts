// A UDP proxy that corrupts DNSSEC signatures on the way back: the negative control that proves a validator
// in a test really checks what tandem signs. Options: leave the apex key RRsets alone (so only the data answers
// are bad), or clear the AA bit instead (a provider that does not answer as an authority).
import dgram from 'node:dgram';
import packet from 'dns-packet';

export interface Tamper {
  port: number;
  close(): Promise<void>;
}

export interface TamperOptions {
  /** Which answers get their RRSIGs corrupted: all (default), all but DNSKEY/CDS/CDNSKEY questions, or none. */
  signatures?: 'all' | 'data' | 'none';
  /** Clear the AA bit of every answer (RFC 1035 §4.1.1). */
  clearAa?: boolean;
}

const KEY_QUESTIONS = new Set(['DNSKEY', 'CDS', 'CDNSKEY']);

export function startTamperProxy(upstream: { host: string; port: number }, opts: TamperOptions = {}): Promise<Tamper> {
  const which = opts.signatures ?? 'all';
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
        const keyQuestion = KEY_QUESTIONS.has(p.questions?.[0]?.type ?? '');
        const records = which === 'none' || (which === 'data' && keyQuestion) ? [] : [...(p.answers ?? []), ...(p.authorities ?? [])];
        for (const rr of records) {
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
      if (opts.clearAa && out.length >= 12) {
        out = Buffer.from(out);
        out[2] &= ~0x04;
      }
      front.send(out, client.port, client.address);
    });
    back.send(msg, upstream.port, upstream.host);
  });
  return new Promise((resolve) => {
    front.bind(0, '127.0.0.1', () => resolve({ port: front.address().port, close: () => new Promise((r) => front.close(() => r())) }));
  });
}
