// NOTIFY (RFC 1996) out: tell secondaries that a zone changed, over UDP with retries (§3.6), signed with
// TSIG when the target has a key. The answer's only use is to stop retrying (§3.7: it carries nothing
// to act on); a refusal is logged and not retried. The same message with QTYPE CDS or CSYNC is the generalized
// NOTIFY of RFC 9859 §4 (to a parent's DSYNC target: transfer/parent-notify.ts).
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import { randomInt } from 'node:crypto';
import type { Name } from '../dns/name.js';
import type { Rr } from '../dns/rr.js';
import { Opcode, RRClass, RRType, Rcode } from '../dns/types.js';
import { encodeMessage } from '../dns/writer.js';
import { signRequest, type TsigKey } from '../dns/tsig.js';
import type { Clock } from '../dnssec/types.js';

export interface NotifyTarget {
  host: string;
  port: number;
  key?: TsigKey;
}

export interface NotifyOptions {
  clock: Clock;
  logger: Logger;
  /** Tries before giving up (RFC 1996 §3.6 suggests about 5). */
  tries?: number;
  /** Wait for an answer before the first retry, ms; doubles each try. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** QTYPE: SOA (RFC 1996), or CDS / CSYNC for a generalized NOTIFY to the parent (RFC 9859 §4.2). */
  qtype?: number;
}

export type NotifyResult = { ok: true; rcode: number } | { ok: false; reason: string; rcode?: number };

/**
 * The NOTIFY message (RFC 1996 §3.7): QNAME = zone, QTYPE SOA, AA set, the new SOA in the answer as a hint. A
 * generalized NOTIFY (RFC 9859 §4.2) has QTYPE CDS or CSYNC and no answer: the parent looks for itself.
 */
export function notifyMessage(id: number, zone: Name, soa: Rr | undefined, qtype: number = RRType.SOA): Uint8Array {
  return encodeMessage({ id, qr: false, opcode: Opcode.NOTIFY, aa: true, question: { name: zone, type: qtype, class: RRClass.IN }, answer: soa ? [soa] : [] });
}

/** Sends one NOTIFY and waits (bounded) for its answer; resolves, never rejects. */
export async function sendNotify(target: NotifyTarget, zone: Name, soa: Rr | undefined, opts: NotifyOptions): Promise<NotifyResult> {
  const tries = opts.tries ?? 5;
  let timeout = opts.timeoutMs ?? 2000;
  const socket = dgram.createSocket(isIPv6(target.host) ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, isIPv6(target.host) ? '::' : '0.0.0.0', () => { socket.off('error', reject); resolve(); });
    });
    for (let attempt = 1; attempt <= tries; attempt++) {
      if (opts.signal?.aborted) return { ok: false, reason: 'cancelled' };
      const id = randomInt(0, 0x10000);
      let msg = notifyMessage(id, zone, soa, opts.qtype);
      let verifier: ReturnType<typeof signRequest>['verifier'] | undefined;
      if (target.key) ({ wire: msg, verifier } = signRequest(msg, target.key, opts.clock.now()));
      const answer = await exchange(socket, msg, id, target, timeout, opts.signal);
      timeout *= 2;
      if (!answer) continue;
      const rcode = answer[3] & 0xf;
      if (verifier) {
        const v = verifier.verify(answer, opts.clock.now());
        if (!v.ok) return { ok: false, reason: `answer failed TSIG verification: ${v.reason}`, rcode };
      }
      if (rcode !== Rcode.NOERROR) return { ok: false, reason: `answered ${rcodeName(rcode)}`, rcode };
      return { ok: true, rcode };
    }
    return { ok: false, reason: `no answer after ${tries} tries` };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  } finally {
    socket.close();
  }
}

function rcodeName(rcode: number): string {
  return Object.entries(Rcode).find(([, v]) => v === rcode)?.[0] ?? String(rcode);
}

/** One datagram out, the first answer with our ID and opcode back (others ignored), or undefined after `ms`. */
function exchange(socket: dgram.Socket, msg: Uint8Array, id: number, to: NotifyTarget, ms: number, signal?: AbortSignal): Promise<Uint8Array | undefined> {
  return new Promise((resolve) => {
    const done = (v: Uint8Array | undefined) => {
      clearTimeout(timer);
      socket.off('message', onMessage);
      signal?.removeEventListener('abort', onAbort);
      resolve(v);
    };
    const onMessage = (m: Buffer, rinfo: dgram.RemoteInfo) => {
      if (m.length < 12 || rinfo.port !== to.port) return;
      if (((m[0] << 8) | m[1]) !== id || (m[2] & 0x80) === 0 || ((m[2] >> 3) & 0xf) !== Opcode.NOTIFY) return;
      done(new Uint8Array(m));
    };
    const onAbort = () => done(undefined);
    const timer = setTimeout(() => done(undefined), ms);
    socket.on('message', onMessage);
    signal?.addEventListener('abort', onAbort);
    socket.send(msg, to.port, to.host);
  });
}

/**
 * Answer to a NOTIFY we accept (RFC 1996 §4.7): same ID and question, QR and AA set, NOERROR. Built by
 * the receiver from the query it parsed.
 */
export function notifyReply(id: number, zone: Name, rcode: number = Rcode.NOERROR, qtype: number = RRType.SOA): Uint8Array {
  return encodeMessage({ id, qr: true, opcode: Opcode.NOTIFY, aa: rcode === Rcode.NOERROR, rcode, question: { name: zone, type: qtype, class: RRClass.IN } });
}
