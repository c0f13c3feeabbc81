// TSIG (RFC 8945): HMAC transaction signatures on DNS messages, in both directions.
//  - server side: verifyRequest checks a request (key, then MAC, then time: §5.2) and hands back a TsigSigner
//    that signs the answer, or every message of a multi-message TCP answer (§5.3.1);
//  - client side: signRequest signs a request and hands back a TsigVerifier for the answer(s) (§5.3.1, §5.4).
// What the MAC covers (§4.3): [2-octet length + request/previous MAC] + the message as it was before the TSIG
// was added (ARCOUNT one less, ID = Original ID) + the TSIG variables (§4.3.3: key name and algorithm in
// canonical form, class ANY, TTL 0, time, fudge, error, other data), or only the timers (time, fudge) from the
// second message of a stream on.
//
// Local policy on truncated MACs (§5.2.2.1): a MAC shorter than the hash but at least max(10 octets, half the
// hash) is accepted and compared on its length, as the RFC's "Otherwise" case describes; shorter ones are
// FORMERR. BADTRUNC (§5.2.4) is therefore never sent. We always sign with the whole MAC.
// Not done: remembering the last Time Signed per key to refuse older ones (§5.2.3, a SHOULD): it would refuse
// the parallel requests a secondary sends with one key.
import { createHmac, randomBytes, timingSafeEqual, type Hmac } from 'node:crypto';
import { Name, NameError } from './name.js';
import { RRClass, RRType } from './types.js';
import { readMessage, type Message, type TsigRecord } from './reader.js';

export type TsigAlgorithm = 'hmac-sha256' | 'hmac-sha512' | 'hmac-sha384' | 'hmac-sha224' | 'hmac-sha1' | 'hmac-md5';

export interface TsigKey {
  name: Name;
  algorithm: TsigAlgorithm;
  secret: Uint8Array;
}

/** TSIG error codes (RFC 8945 §3, IANA "TSIG/TKEY RCODEs"). */
export const TsigError = { BADSIG: 16, BADKEY: 17, BADTIME: 18, BADTRUNC: 22 } as const;

/** Seconds of clock difference allowed (RFC 8945 §10 recommends 300). */
export const DEFAULT_FUDGE = 300;

interface AlgorithmInfo {
  hash: string;
  /** Octets of the hash output: the full MAC, and the key size generateSecret makes. */
  size: number;
  /** The algorithm's name in TSIG RRs (RFC 8945 §6, RFC 4635 §2). */
  name: Name;
}

const ALGORITHMS: Record<TsigAlgorithm, AlgorithmInfo> = {
  'hmac-sha256': { hash: 'sha256', size: 32, name: Name.fromText('hmac-sha256.') },
  'hmac-sha512': { hash: 'sha512', size: 64, name: Name.fromText('hmac-sha512.') },
  'hmac-sha384': { hash: 'sha384', size: 48, name: Name.fromText('hmac-sha384.') },
  'hmac-sha224': { hash: 'sha224', size: 28, name: Name.fromText('hmac-sha224.') },
  'hmac-sha1': { hash: 'sha1', size: 20, name: Name.fromText('hmac-sha1.') },
  'hmac-md5': { hash: 'md5', size: 16, name: Name.fromText('hmac-md5.sig-alg.reg.int.') },
};

export const TSIG_ALGORITHMS = Object.keys(ALGORITHMS) as TsigAlgorithm[];

const byWireName = new Map<string, TsigAlgorithm>(TSIG_ALGORITHMS.map((a) => [ALGORITHMS[a].name.key, a]));

/** The algorithm named by a TSIG RR's algorithm name (compared as a DNS name). */
export function algorithmFromName(name: Name): TsigAlgorithm | undefined {
  return byWireName.get(name.key);
}

/**
 * The algorithm for a name as people write it: `hmac-sha256`, `HMAC-SHA256`, `hmac-sha256.`, and for MD5 also
 * its RR name `hmac-md5.sig-alg.reg.int`.
 */
export function parseAlgorithm(text: string): TsigAlgorithm | undefined {
  const t = text.trim().toLowerCase().replace(/\.$/, '');
  if ((TSIG_ALGORITHMS as string[]).includes(t)) return t as TsigAlgorithm;
  try {
    return algorithmFromName(Name.fromText(t + '.'));
  } catch (e) {
    if (e instanceof NameError) return undefined;
    throw e;
  }
}

export function algorithmName(algorithm: TsigAlgorithm): Name {
  return ALGORITHMS[algorithm].name;
}

/** Octets of the algorithm's full MAC (its hash output). */
export function macLength(algorithm: TsigAlgorithm): number {
  return ALGORITHMS[algorithm].size;
}

/** RFC 8945 §5.2.2.1: the shortest MAC accepted, the larger of 10 octets and half the hash. */
function minMacLength(algorithm: TsigAlgorithm): number {
  return Math.max(10, Math.ceil(ALGORITHMS[algorithm].size / 2));
}

/** A new random secret as long as the algorithm's hash output (RFC 8945 §6: keys at least that long). */
export function generateSecret(algorithm: TsigAlgorithm): Uint8Array {
  return new Uint8Array(randomBytes(ALGORITHMS[algorithm].size));
}

export class Keyring {
  private readonly keys = new Map<string, TsigKey>();

  constructor(keys: TsigKey[]) {
    for (const k of keys) {
      if (this.keys.has(k.name.key)) throw new Error(`duplicate TSIG key name ${k.name}`);
      this.keys.set(k.name.key, k);
    }
  }

  get size(): number {
    return this.keys.size;
  }

  find(name: Name): TsigKey | undefined {
    return this.keys.get(name.key);
  }

  /** The key named `text` (presentation form, final dot optional). */
  byName(text: string): TsigKey | undefined {
    if (text === '') return undefined;
    try {
      return this.find(Name.fromText(text.endsWith('.') ? text : text + '.'));
    } catch (e) {
      if (e instanceof NameError) return undefined;
      throw e;
    }
  }

  list(): TsigKey[] {
    return [...this.keys.values()];
  }
}

// ---- wire pieces --------------------------------------------------------------------------------------------

function u48(v: number): Uint8Array {
  const b = new Uint8Array(6);
  const high = Math.floor(v / 2 ** 32);
  const low = v - high * 2 ** 32;
  b[0] = (high >>> 8) & 0xff; b[1] = high & 0xff;
  b[2] = low >>> 24; b[3] = (low >>> 16) & 0xff; b[4] = (low >>> 8) & 0xff; b[5] = low & 0xff;
  return b;
}

/** The TSIG variables (RFC 8945 §4.3.3) as the MAC of a request or a stream's first message sees them. */
function variables(keyName: Name, algorithm: Name, timeSigned: number, fudge: number, error: number, other: Uint8Array): Uint8Array {
  const k = keyName.canonicalWire();
  const a = algorithm.canonicalWire();
  const out = new Uint8Array(k.length + 2 + 4 + a.length + 6 + 2 + 2 + 2 + other.length);
  let o = 0;
  out.set(k, o); o += k.length;
  out[o++] = RRClass.ANY >> 8; out[o++] = RRClass.ANY & 0xff;
  o += 4; // TTL 0
  out.set(a, o); o += a.length;
  out.set(u48(timeSigned), o); o += 6;
  out[o++] = fudge >> 8; out[o++] = fudge & 0xff;
  out[o++] = error >> 8; out[o++] = error & 0xff;
  out[o++] = other.length >> 8; out[o++] = other.length & 0xff;
  out.set(other, o);
  return out;
}

/** The TSIG timers (RFC 8945 §4.3.3): what the MAC of the 2nd..nth message of a stream covers instead. */
function timers(timeSigned: number, fudge: number): Uint8Array {
  const out = new Uint8Array(8);
  out.set(u48(timeSigned), 0);
  out[6] = fudge >> 8;
  out[7] = fudge & 0xff;
  return out;
}

function lengthPrefixed(mac: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + mac.length);
  out[0] = mac.length >> 8;
  out[1] = mac.length & 0xff;
  out.set(mac, 2);
  return out;
}

/** Octets of a TSIG RR with this owner, algorithm, MAC and other data. */
function rrLength(keyName: Name, algorithm: Name, macLen: number, otherLen: number): number {
  return keyName.wireLength + 10 + algorithm.wireLength + 6 + 2 + 2 + macLen + 2 + 2 + 2 + otherLen;
}

/** `msg` with the TSIG RR appended and ARCOUNT one more (RFC 8945 §4.2: the last record, class ANY, TTL 0). */
function appendTsig(msg: Uint8Array, f: Omit<TsigRecord, 'offset'>): Uint8Array {
  const size = rrLength(f.name, f.algorithm, f.mac.length, f.other.length);
  const out = new Uint8Array(msg.length + size);
  out.set(msg, 0);
  const ar = ((msg[10] << 8) | msg[11]) + 1;
  out[10] = ar >> 8;
  out[11] = ar & 0xff;
  let o = msg.length;
  f.name.writeInto(out, o, false);
  o += f.name.wireLength;
  const put16 = (v: number) => { out[o++] = (v >> 8) & 0xff; out[o++] = v & 0xff; };
  put16(RRType.TSIG);
  put16(RRClass.ANY);
  o += 4; // TTL 0
  put16(size - f.name.wireLength - 10);
  f.algorithm.writeInto(out, o, true);
  o += f.algorithm.wireLength;
  out.set(u48(f.timeSigned), o); o += 6;
  put16(f.fudge);
  put16(f.mac.length);
  out.set(f.mac, o); o += f.mac.length;
  put16(f.originalId);
  put16(f.error);
  put16(f.other.length);
  out.set(f.other, o);
  return out;
}

/** Feeds a received message as its MAC saw it: the bytes before the TSIG, ID = Original ID, ARCOUNT one less. */
function feedReceived(h: Hmac, msg: Uint8Array, tsig: TsigRecord): void {
  const header = msg.slice(0, 12);
  header[0] = tsig.originalId >> 8;
  header[1] = tsig.originalId & 0xff;
  const ar = ((header[10] << 8) | header[11]) - 1;
  header[10] = ar >> 8;
  header[11] = ar & 0xff;
  h.update(header);
  h.update(msg.subarray(12, tsig.offset));
}

function hmac(key: TsigKey): Hmac {
  return createHmac(ALGORITHMS[key.algorithm].hash, key.secret);
}

/** Compares a received (possibly truncated) MAC with ours, in constant time. */
function macMatches(ours: Uint8Array, theirs: Uint8Array): boolean {
  return theirs.length <= ours.length && timingSafeEqual(ours.subarray(0, theirs.length), theirs);
}

const errorNames: Record<number, string> = { 16: 'BADSIG', 17: 'BADKEY', 18: 'BADTIME', 22: 'BADTRUNC' };
export function tsigErrorName(error: number): string {
  return errorNames[error] ?? `TSIG error ${error}`;
}

// ---- server side --------------------------------------------------------------------------------------------

/** Signs the answer(s) to one verified request. */
export interface TsigSigner {
  /**
   * `response` (encoded, without TSIG) with the TSIG RR appended and ARCOUNT one more. The first call covers the
   * request MAC (RFC 8945 §4.3.2); each later call is the next message of a TCP stream and covers the previous
   * MAC, the messages passed to `unsigned` since, this message and the timers (§5.3.1).
   */
  sign(response: Uint8Array, now: number): Uint8Array;
  /** A message of the stream sent without TSIG (at most 99 in a row, §5.3.1; never the first or the last). */
  unsigned(response: Uint8Array): void;
  /** Octets the TSIG RR adds: encode the message with a limit this much smaller. */
  readonly overhead: number;
}

export type TsigRequestResult =
  | { kind: 'none' }
  /** The TSIG is not the last record, there are two, or it cannot be read (RFC 8945 §5.1, §5.2.2.1): FORMERR. */
  | { kind: 'formerr'; reason: string }
  | { kind: 'ok'; key: TsigKey; signer: TsigSigner }
  /**
   * Answer NOTAUTH with this TSIG error; `signer.sign()` makes the TSIG RFC 8945 §5.3.2 asks for: unsigned (MAC
   * size 0) for BADKEY and BADSIG, signed with the server's time as other data for BADTIME.
   */
  | { kind: 'error'; error: number; key?: TsigKey; signer: TsigSigner; reason: string };

class ResponseSigner implements TsigSigner {
  private prev: Uint8Array;
  private first = true;
  private running: Hmac | undefined;

  constructor(
    private readonly key: TsigKey | undefined,
    private readonly keyName: Name,
    private readonly algorithm: Name,
    requestMac: Uint8Array,
    private readonly error: number,
    private readonly requestTime: number,
  ) {
    this.prev = requestMac;
  }

  /** BADKEY and BADSIG answers carry an empty MAC: we cannot (BADKEY) or must not (BADSIG) sign (§5.3.2). */
  private get signs(): boolean {
    return this.key !== undefined && this.error !== TsigError.BADKEY && this.error !== TsigError.BADSIG;
  }

  get overhead(): number {
    const macLen = this.signs ? ALGORITHMS[this.key!.algorithm].size : 0;
    return rrLength(this.keyName, this.algorithm, macLen, this.error === TsigError.BADTIME ? 6 : 0);
  }

  sign(response: Uint8Array, now: number): Uint8Array {
    const originalId = (response[0] << 8) | response[1];
    const other = this.error === TsigError.BADTIME ? u48(now) : new Uint8Array(0);
    // An error answer carries the request's Time Signed, so a client whose clock is off can still check it (our
    // time is in Other Data for BADTIME, §5.2.3), as Knot does.
    const timeSigned = this.error === 0 ? now : this.requestTime;
    const fields = { name: this.keyName, algorithm: this.algorithm, timeSigned, fudge: DEFAULT_FUDGE, originalId, error: this.error, other };
    if (!this.signs) return appendTsig(response, { ...fields, mac: new Uint8Array(0) });
    const h = this.running ?? this.start();
    this.running = undefined;
    h.update(response);
    h.update(this.first ? variables(this.keyName, this.algorithm, timeSigned, DEFAULT_FUDGE, this.error, other) : timers(timeSigned, DEFAULT_FUDGE));
    const mac = new Uint8Array(h.digest());
    this.prev = mac;
    this.first = false;
    return appendTsig(response, { ...fields, mac });
  }

  unsigned(response: Uint8Array): void {
    if (this.first) throw new Error('TSIG: the first message of an answer must be signed (RFC 8945 §5.3.1)');
    if (!this.signs) return;
    (this.running ??= this.start()).update(response);
  }

  private start(): Hmac {
    const h = hmac(this.key!);
    h.update(lengthPrefixed(this.prev));
    return h;
  }
}

/**
 * Verifies the TSIG of a request (RFC 8945 §5.2): key (BADKEY), MAC (FORMERR when too short, BADSIG), then time
 * (BADTIME), in that order. `parsed` is the message if the caller has read it already (readMessage).
 */
export function verifyRequest(msg: Uint8Array, keyring: Keyring, now: number, parsed?: Message): TsigRequestResult {
  let message = parsed;
  if (!message) {
    const r = readMessage(msg, { skipRecords: true });
    if (!r.ok) return { kind: 'formerr', reason: r.error.reason };
    message = r.message;
  }
  const t = message.tsig;
  if (!t) return { kind: 'none' };
  const key = keyring.find(t.name);
  const algorithm = algorithmFromName(t.algorithm);
  // §5.2.1: an unknown key, or a known key used with another algorithm, is BADKEY.
  if (!key || algorithm !== key.algorithm) {
    const reason = !key ? `unknown TSIG key ${t.name}` : `TSIG key ${t.name} is ${key.algorithm}, the request used ${t.algorithm}`;
    return { kind: 'error', error: TsigError.BADKEY, signer: new ResponseSigner(undefined, t.name, t.algorithm, t.mac, TsigError.BADKEY, t.timeSigned), reason };
  }
  // §5.2.2.1: longer than the hash, or shorter than max(10, hash/2), is FORMERR.
  if (t.mac.length > macLength(key.algorithm) || t.mac.length < minMacLength(key.algorithm)) {
    return { kind: 'formerr', reason: `TSIG MAC of ${t.mac.length} octets for ${key.algorithm} (RFC 8945 §5.2.2.1)` };
  }
  const h = hmac(key);
  feedReceived(h, msg, t);
  h.update(variables(t.name, t.algorithm, t.timeSigned, t.fudge, t.error, t.other));
  if (!macMatches(new Uint8Array(h.digest()), t.mac)) {
    return { kind: 'error', error: TsigError.BADSIG, key, signer: new ResponseSigner(key, t.name, t.algorithm, t.mac, TsigError.BADSIG, t.timeSigned), reason: `TSIG MAC does not verify with key ${key.name}` };
  }
  if (Math.abs(now - t.timeSigned) > t.fudge) {
    return {
      kind: 'error', error: TsigError.BADTIME, key, signer: new ResponseSigner(key, t.name, t.algorithm, t.mac, TsigError.BADTIME, t.timeSigned),
      reason: `TSIG time ${t.timeSigned} is ${now - t.timeSigned} s from ours, fudge ${t.fudge}`,
    };
  }
  return { kind: 'ok', key, signer: new ResponseSigner(key, t.name, t.algorithm, t.mac, 0, t.timeSigned) };
}

// ---- client side --------------------------------------------------------------------------------------------

export type TsigVerifyResult = { ok: true; signed: boolean } | { ok: false; reason: string; error?: number };

/** Checks the answer(s) to a request made by signRequest, one message at a time. */
export interface TsigVerifier {
  /**
   * Call for every message of the answer, in order. Up to 99 messages without TSIG in a row are accepted after a
   * signed one (RFC 8945 §5.3.1); the first must be signed. After a failure every call fails.
   */
  verify(response: Uint8Array, now: number): TsigVerifyResult;
  /** The answer has ended: its last message must have been signed (§5.3.1). */
  finish(): { ok: true } | { ok: false; reason: string };
}

/** RFC 8945 §5.3.1: "up to 99 intermediary messages" may come without TSIG. */
const MAX_UNSIGNED_RUN = 99;

class StreamVerifier implements TsigVerifier {
  private prev: Uint8Array;
  private first = true;
  private running: Hmac | undefined;
  private unsignedRun = 0;
  private failed: string | undefined;

  constructor(private readonly key: TsigKey, requestMac: Uint8Array) {
    this.prev = requestMac;
  }

  private fail(reason: string, error?: number): TsigVerifyResult {
    this.failed ??= reason;
    return error === undefined ? { ok: false, reason } : { ok: false, reason, error };
  }

  verify(response: Uint8Array, now: number): TsigVerifyResult {
    if (this.failed) return { ok: false, reason: `an earlier message failed: ${this.failed}` };
    const r = readMessage(response, { skipRecords: true });
    if (!r.ok) return this.fail(`malformed response: ${r.error.reason}`);
    const t = r.message.tsig;
    if (!t) {
      if (this.first) return this.fail(`response (rcode ${r.message.rcode}) to a signed request carries no TSIG (RFC 8945 §5.3.1)`);
      if (++this.unsignedRun > MAX_UNSIGNED_RUN) return this.fail(`more than ${MAX_UNSIGNED_RUN} messages in a row without TSIG (RFC 8945 §5.3.1)`);
      (this.running ??= this.start()).update(response);
      return { ok: true, signed: false };
    }
    if (!t.name.equals(this.key.name)) return this.fail(`response signed with key ${t.name}, not ${this.key.name}`);
    if (algorithmFromName(t.algorithm) !== this.key.algorithm) return this.fail(`response signed with ${t.algorithm}, not ${this.key.algorithm}`);
    // §5.3.2: BADKEY and BADSIG come back unsigned.
    if (t.error === TsigError.BADKEY || t.error === TsigError.BADSIG) return this.fail(`server answered ${tsigErrorName(t.error)}`, t.error);
    if (t.mac.length > macLength(this.key.algorithm) || t.mac.length < minMacLength(this.key.algorithm)) {
      return this.fail(`TSIG MAC of ${t.mac.length} octets for ${this.key.algorithm} (RFC 8945 §5.2.2.1)`);
    }
    const h = this.running ?? this.start();
    this.running = undefined;
    feedReceived(h, response, t);
    h.update(this.first ? variables(t.name, t.algorithm, t.timeSigned, t.fudge, t.error, t.other) : timers(t.timeSigned, t.fudge));
    if (!macMatches(new Uint8Array(h.digest()), t.mac)) return this.fail('TSIG MAC of the response does not verify', TsigError.BADSIG);
    if (t.error === TsigError.BADTIME) {
      const theirs = t.other.length === 6 ? t.other.reduce((v, b) => v * 256 + b, 0) : t.timeSigned;
      return this.fail(`server answered BADTIME: its clock says ${theirs}, ours ${now}`, t.error);
    }
    if (t.error !== 0) return this.fail(`server answered ${tsigErrorName(t.error)}`, t.error);
    if (Math.abs(now - t.timeSigned) > t.fudge) {
      return this.fail(`response signed at ${t.timeSigned}, ${now - t.timeSigned} s from our clock (fudge ${t.fudge})`, TsigError.BADTIME);
    }
    this.prev = t.mac;
    this.first = false;
    this.unsignedRun = 0;
    return { ok: true, signed: true };
  }

  finish(): { ok: true } | { ok: false; reason: string } {
    if (this.failed) return { ok: false, reason: this.failed };
    if (this.first) return { ok: false, reason: 'no signed response' };
    if (this.unsignedRun > 0) return { ok: false, reason: 'the last message of the answer carries no TSIG (RFC 8945 §5.3.1)' };
    return { ok: true };
  }

  private start(): Hmac {
    const h = hmac(this.key);
    h.update(lengthPrefixed(this.prev));
    return h;
  }
}

/** Signs a request (RFC 8945 §4.3.1): `msg` encoded without TSIG; the TSIG RR is appended (ARCOUNT + 1). */
export function signRequest(msg: Uint8Array, key: TsigKey, now: number, opts: { fudge?: number } = {}): { wire: Uint8Array; verifier: TsigVerifier } {
  const fudge = opts.fudge ?? DEFAULT_FUDGE;
  const algorithm = ALGORITHMS[key.algorithm].name;
  const h = hmac(key);
  h.update(msg);
  h.update(variables(key.name, algorithm, now, fudge, 0, new Uint8Array(0)));
  const mac = new Uint8Array(h.digest());
  const wire = appendTsig(msg, { name: key.name, algorithm, timeSigned: now, fudge, mac, originalId: (msg[0] << 8) | msg[1], error: 0, other: new Uint8Array(0) });
  return { wire, verifier: new StreamVerifier(key, mac) };
}
