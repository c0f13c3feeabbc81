// UPDATE forwarding (RFC 2136 §6): a secondary that takes an UPDATE for its zone may pass it on to its primary,
// as BIND's allow-update-forwarding and Knot do. The message goes as received (bytes unchanged) over TCP to the
// first primary of `zone.secondary.primaries` that answers, and the primary's answer comes back as it was sent:
// neither is re-signed, so the client's TSIG is checked by the primary (RFC 8945 §5.3: a forwarder does not strip
// or add a TSIG) and the client checks the primary's. The caller (transfer/service.ts `control`) decides before
// any TSIG check of its own (`forwarding`), so a client key tandem does not know still reaches the primary.
import type { RemoteServer, SecondaryConfig } from '../config/transfer-settings.js';
import { Opcode, Rcode } from '../dns/types.js';
import type { Clock } from '../dnssec/types.js';
import { inPrefix } from '../transfer/acl.js';
import { tcpExchange } from '../transfer/client.js';

/** Whether an UPDATE for a secondary zone from `address` is forwarded, and if not, why (REFUSED, RFC 2136 §3.3). */
export function forwarding(sec: SecondaryConfig, address: string): { ok: true } | { ok: false; reason: string } {
  const f = sec.forwardUpdates;
  if (!f) return { ok: false, reason: 'a secondary zone changes by transfer from its primary; send UPDATE there (forwarding is off: zone.secondary.forward_updates)' };
  if (f.allow.length && !f.allow.some((p) => inPrefix(p, address))) {
    return { ok: false, reason: 'the client is not in zone.secondary.forward_updates.allow' };
  }
  return { ok: true };
}

export interface ForwardOptions {
  clock: Clock;
  /** Longest wait on one primary, connection and answer, ms (default 3 s). */
  timeoutMs?: number;
  /**
   * Longest wait over all primaries, ms (default 8 s: under the 10 s a cluster worker waits for a UDP answer,
   * and about what nsupdate waits before it sends again). Each primary gets its share when there are many.
   */
  totalMs?: number;
}

export type Forwarded =
  /** The answer of `primary`, to send to the client as it is (its ID is the client's). */
  | { ok: true; answer: Uint8Array; primary: string; rcode: number }
  /** No primary answered: every one tried, with the reason. */
  | { ok: false; tried: { primary: string; reason: string }[] };

export const where = (p: { host: string; port: number }) => `${p.host.includes(':') ? `[${p.host}]` : p.host}:${p.port}`;

/**
 * Sends `msg` (the client's UPDATE, unchanged) to each primary in order until one answers with a matching
 * message: the same ID, QR set, opcode UPDATE. A primary that cannot be reached, times out, closes without
 * an answer or answers something else is passed over (the log names it); every wait is bounded.
 */
export async function forwardUpdate(msg: Uint8Array, primaries: readonly RemoteServer[], opts: ForwardOptions): Promise<Forwarded> {
  const id = (msg[0] << 8) | msg[1];
  const total = opts.totalMs ?? 8000;
  const per = Math.max(250, Math.min(opts.timeoutMs ?? 3000, Math.floor(total / Math.max(1, primaries.length))));
  const tried: { primary: string; reason: string }[] = [];
  for (const p of primaries) {
    const primary = where(p);
    let answer: Uint8Array;
    try {
      [answer] = await tcpExchange({ host: p.host, port: p.port }, msg, { clock: opts.clock, idleMs: per, totalMs: per }, () => true);
    } catch (err) {
      tried.push({ primary, reason: (err as Error).message });
      continue;
    }
    const bad = mismatch(answer, id);
    if (bad) {
      tried.push({ primary, reason: bad });
      continue;
    }
    return { ok: true, answer, primary, rcode: answer[3] & 0x0f };
  }
  return { ok: false, tried };
}

/** Why `answer` is not the answer to UPDATE `id`, or undefined when it is (header only: the rest is the client's to read). */
export function mismatch(answer: Uint8Array, id: number): string | undefined {
  if (answer.length < 12) return `answer of ${answer.length} octets, shorter than a DNS header`;
  if (((answer[0] << 8) | answer[1]) !== id) return 'answer with another message ID';
  if (!(answer[2] & 0x80) || ((answer[2] >> 3) & 0x0f) !== Opcode.UPDATE) return 'answer is not an UPDATE response (QR or opcode)';
  return undefined;
}

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(Rcode).map(([k, v]) => [v, k]));
export const rcodeName = (rcode: number) => NAMES[rcode] ?? String(rcode);
