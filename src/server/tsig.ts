// TSIG on the request path (RFC 8945 §5.2, §5.3): checks a signed request and makes the answer to a failure, for
// queries (handle.ts) and for transfers and NOTIFY. The wire format and the MACs are dns/tsig.ts.
import type { Logger } from 'pino';
import { encodeResponse } from '../dns/writer.js';
import { readMessage, type Message } from '../dns/reader.js';
import { Rcode } from '../dns/types.js';
import { verifyRequest, tsigErrorName, type Keyring, type TsigKey, type TsigSigner } from '../dns/tsig.js';
import { EDNS_UDP_SIZE, sizeLimit, type Transport } from './limits.js';

export type TsigCheck =
  /** No TSIG: the request is unsigned. `message`: header, question, OPT (records skipped, see readMessage). */
  | { kind: 'none'; message: Message }
  /** Verified: answer as usual, then `signer.sign(wire, now)` each message (encode with `signer.overhead` reserved). */
  | { kind: 'ok'; key: TsigKey; signer: TsigSigner; message: Message }
  /**
   * Send `response` as it is and stop (null: send nothing, the request was a response or no DNS message):
   * FORMERR for a misplaced, doubled or unreadable TSIG (RFC 8945 §5.1, §5.2.2.1), NOTAUTH with the TSIG error
   * otherwise (§5.2): BADKEY and BADSIG unsigned, BADTIME signed with our time (§5.3.2).
   */
  | { kind: 'reject'; response: Uint8Array | null; rcode: number; error?: number; key?: TsigKey; reason: string };

export interface TsigCheckOptions {
  /** Sets the size limit of the error answer (default tcp). */
  transport?: Transport;
  /** The request as readMessage read it, when the caller has it already. */
  message?: Message;
  /** A rejected request is logged here at info (key, TSIG error, reason). */
  logger?: Logger;
}

/** Checks the TSIG of a request (query, AXFR/IXFR, NOTIFY, UPDATE) at `now` (epoch seconds). */
export function tsigCheck(msg: Uint8Array, keyring: Keyring, now: number, opts: TsigCheckOptions = {}): TsigCheck {
  const transport = opts.transport ?? 'tcp';
  let message = opts.message;
  if (!message) {
    const r = readMessage(msg, { skipRecords: true });
    if (!r.ok) return reject(opts.logger, { kind: 'reject', response: headerOnlyFormerr(msg), rcode: Rcode.FORMERR, reason: r.error.reason });
    message = r.message;
  }
  const v = verifyRequest(msg, keyring, now, message);
  switch (v.kind) {
    case 'none':
      return { kind: 'none', message };
    case 'ok':
      return { kind: 'ok', key: v.key, signer: v.signer, message };
    case 'formerr':
      return reject(opts.logger, { kind: 'reject', response: errorResponse(message, Rcode.FORMERR, transport), rcode: Rcode.FORMERR, reason: v.reason });
    case 'error':
      return reject(opts.logger, {
        kind: 'reject', response: errorResponse(message, Rcode.NOTAUTH, transport, v.signer, now), rcode: Rcode.NOTAUTH, error: v.error,
        ...(v.key ? { key: v.key } : {}), reason: v.reason,
      });
  }
}

function reject(logger: Logger | undefined, r: Extract<TsigCheck, { kind: 'reject' }>): TsigCheck {
  logger?.info({ rcode: r.rcode, tsigError: r.error === undefined ? undefined : tsigErrorName(r.error), key: r.key?.name.toString(), reason: r.reason }, 'TSIG check failed');
  return r;
}

/**
 * The error answer to a request: its ID, opcode, RD, CD and question, no records, an OPT when it had one, and the
 * TSIG `signer` makes (RFC 8945 §5.3.2). Nothing for a message that is itself a response (no reply loops).
 */
function errorResponse(req: Message, rcode: number, transport: Transport, signer?: TsigSigner, now = 0): Uint8Array | null {
  if (req.qr) return null;
  const wire = encodeResponse({
    id: req.id, opcode: req.opcode, aa: false, rd: req.rd, cd: req.cd, rcode,
    question: req.question.length === 1 ? req.question[0] : undefined,
    answer: [], authority: [], additional: [],
    edns: req.opt ? { udpSize: EDNS_UDP_SIZE, do: req.opt.do, co: false, options: [] } : undefined,
  }, sizeLimit(transport, req.opt?.udpSize), signer?.overhead ?? 0);
  return signer ? signer.sign(wire, now) : wire;
}

/** FORMERR for a request that cannot be read: its header only (RFC 1035 §4.1.1); nothing for a response or runt. */
function headerOnlyFormerr(msg: Uint8Array): Uint8Array | null {
  if (msg.length < 12 || (msg[2] & 0x80) !== 0) return null;
  return encodeResponse({
    id: (msg[0] << 8) | msg[1], opcode: (msg[2] >> 3) & 0xf, aa: false, rd: (msg[2] & 1) !== 0, cd: (msg[3] & 0x10) !== 0,
    rcode: Rcode.FORMERR, answer: [], authority: [], additional: [],
  }, 512);
}
