// The checker's stub client: one question to one authoritative server, as any external checker asks it
// (RD clear, DO set, CO set when the server understands it), over UDP with a TCP retry when the answer is
// truncated (RFC 1035 §4.2.1, RFC 7766 §5). Every wait is bounded; nothing throws on a bad answer.
import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import { formatEndpoint, type Endpoint } from '../config/server.js';
import type { Name } from '../dns/name.js';
import { encodeQuery } from '../dns/writer.js';
import { readMessage, type Message } from '../dns/reader.js';

export interface AskOptions {
  /** DNSSEC OK (RFC 3225); default true. */
  dnssec?: boolean;
  /** Compact Answers OK (RFC 9824 §5.1). */
  co?: boolean;
  /** Recursion desired: only for a resolver (`--parent` may name one). */
  rd?: boolean;
  /** Per attempt, ms (default 3000). */
  timeoutMs?: number;
  /** UDP attempts before giving up (default 2). */
  tries?: number;
}

export type Asked =
  | { ok: true; message: Message; transport: 'udp' | 'tcp' }
  | { ok: false; reason: string };

/** Asks `server` one question; the answer is checked to be a response to it (ID, QR, question). */
export async function ask(server: Endpoint, name: Name, type: number, opts: AskOptions = {}): Promise<Asked> {
  const timeoutMs = opts.timeoutMs ?? 3000;
  const id = randomInt(0, 0x10000);
  const wire = encodeQuery(name, type, { id, rd: opts.rd === true, do: opts.dnssec !== false, co: opts.co === true });
  let answer: Uint8Array | undefined;
  let why = `no answer within ${timeoutMs} ms`;
  for (let i = 0; i < (opts.tries ?? 2) && !answer; i++) {
    const r = await udp(server, wire, id, timeoutMs);
    if (typeof r === 'string') why = r;
    else answer = r;
  }
  if (!answer) return { ok: false, reason: `${formatEndpoint(server)}: ${why}` };
  let transport: 'udp' | 'tcp' = 'udp';
  if (answer[2] & 0x02) {
    const t = await tcp(server, wire, timeoutMs);
    if (typeof t === 'string') return { ok: false, reason: `${formatEndpoint(server)}: truncated over UDP and over TCP ${t}` };
    answer = t;
    transport = 'tcp';
  }
  const r = readMessage(answer);
  if (!r.ok) return { ok: false, reason: `${formatEndpoint(server)}: malformed answer (${r.error.reason})` };
  const m = r.message;
  const q = m.question[0];
  if (m.id !== id || !m.qr || !q || !q.name.equals(name) || q.type !== type) {
    return { ok: false, reason: `${formatEndpoint(server)}: the answer does not match the question (ID, QR or question)` };
  }
  return { ok: true, message: m, transport };
}

function udp(server: Endpoint, msg: Uint8Array, id: number, ms: number): Promise<Uint8Array | string> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket(net.isIPv6(server.host) ? 'udp6' : 'udp4');
    let done = false;
    const finish = (v: Uint8Array | string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      resolve(v);
    };
    const timer = setTimeout(() => finish(`no answer within ${ms} ms`), ms);
    sock.on('error', (err) => finish(err.message));
    sock.on('message', (m) => {
      if (m.length >= 12 && ((m[0] << 8) | m[1]) === id) finish(new Uint8Array(m));
    });
    // Connected: a closed port (ICMP unreachable) fails at once instead of after the timeout.
    sock.connect(server.port, server.host, () => sock.send(msg));
  });
}

function tcp(server: Endpoint, msg: Uint8Array, ms: number): Promise<Uint8Array | string> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: server.host, port: server.port });
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (v: Uint8Array | string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => finish(`no answer within ${ms} ms`), ms);
    sock.on('connect', () => {
      const framed = Buffer.allocUnsafe(2 + msg.length);
      framed.writeUInt16BE(msg.length, 0);
      framed.set(msg, 2);
      sock.write(framed);
    });
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) finish(new Uint8Array(buf.subarray(2, 2 + buf.readUInt16BE(0))));
    });
    sock.on('error', (err) => finish(err.message));
    sock.on('close', () => finish('the connection closed before an answer'));
  });
}
