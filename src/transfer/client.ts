// The secondary's side of zone transfers: the SOA query that decides whether to transfer (RFC 1034 §4.3.5),
// and AXFR (RFC 5936) / IXFR (RFC 1995) over TCP, every message checked (ID, opcode, RCODE, TSIG per RFC 8945
// §5.3.1) and the record sequence checked as the RFCs frame it. Every wait is bounded; a transfer that is
// cut, refused or malformed throws XfrError and yields nothing.
import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import type { Name } from '../dns/name.js';
import type { Rr } from '../dns/rr.js';
import { Opcode, RRClass, RRType, Rcode } from '../dns/types.js';
import { encodeMessage } from '../dns/writer.js';
import { readMessage, type Message } from '../dns/reader.js';
import { checkRdata } from '../dns/rdata.js';
import { signRequest, type TsigKey, type TsigVerifier } from '../dns/tsig.js';
import type { Clock } from '../dnssec/types.js';
import { soaSerial } from '../state/version.js';
import { serialNewer } from './serial.js';
import type { Change } from './journal.js';

export class XfrError extends Error {
  constructor(message: string, readonly rcode?: number) {
    super(message);
  }
}

export interface Primary {
  host: string;
  port: number;
  key?: TsigKey;
}

export interface ClientOptions {
  clock: Clock;
  /** Longest wait for the next bytes, ms (default 10 s). */
  idleMs?: number;
  /** Longest whole transfer, ms (default 10 min). */
  totalMs?: number;
  /** Most records accepted in one transfer (default 20 million): a bound on memory. */
  maxRecords?: number;
}

export type Fetched =
  /** The primary is not newer than what we hold (an IXFR answered with its SOA alone, RFC 1995 §2). */
  | { kind: 'current'; soa: Rr }
  /** The whole zone (AXFR, or IXFR answered AXFR-style, RFC 1995 §4), SOA first. */
  | { kind: 'full'; soa: Rr; records: Rr[] }
  /** Changes from our serial to the primary's, oldest first. */
  | { kind: 'incremental'; soa: Rr; changes: Change[] };

const rcodeName = (rc: number) => Object.entries(Rcode).find(([, v]) => v === rc)?.[0] ?? `RCODE ${rc}`;
const where = (p: Primary) => `${p.host.includes(':') ? `[${p.host}]` : p.host}:${p.port}`;

function query(id: number, zone: Name, type: number, authority: Rr[] = []): Uint8Array {
  return encodeMessage({ id, qr: false, opcode: Opcode.QUERY, question: { name: zone, type, class: RRClass.IN }, authority });
}

/** Checks one answer message: ours (ID, QR, opcode), signed as asked, NOERROR; returns it read. */
function check(wire: Uint8Array, id: number, p: Primary, verifier: TsigVerifier | undefined, clock: Clock): Message {
  const r = readMessage(wire);
  if (!r.ok) throw new XfrError(`malformed answer from ${where(p)}: ${r.error.reason}`);
  const m = r.message;
  if (m.id !== id || !m.qr || m.opcode !== Opcode.QUERY) throw new XfrError(`answer from ${where(p)} does not match the query (ID, QR or opcode)`);
  if (verifier) {
    const v = verifier.verify(wire, clock.now());
    if (!v.ok) throw new XfrError(`answer from ${where(p)} failed TSIG verification: ${v.reason}`, m.rcode);
  } else if (m.tsig) throw new XfrError(`answer from ${where(p)} carries a TSIG we did not ask for`);
  if (m.rcode !== Rcode.NOERROR) throw new XfrError(`${where(p)} answered ${rcodeName(m.rcode)}`, m.rcode);
  return m;
}

/** The primary's SOA for `zone`: UDP, then TCP when truncated (RFC 1035 §4.2.1). */
export async function querySoa(p: Primary, zone: Name, opts: ClientOptions): Promise<Rr> {
  const id = randomInt(0, 0x10000);
  let wire = query(id, zone, RRType.SOA);
  let verifier: TsigVerifier | undefined;
  if (p.key) ({ wire, verifier } = signRequest(wire, p.key, opts.clock.now()));
  let answer = await udpExchange(p, wire, id, opts.idleMs ?? 5000);
  if (!answer) throw new XfrError(`no answer from ${where(p)} to the SOA query`);
  if (answer[2] & 0x02) {
    // Truncated: ask again over TCP, with a fresh signature.
    ({ wire, verifier } = p.key ? signRequest(query(id, zone, RRType.SOA), p.key, opts.clock.now()) : { wire: query(id, zone, RRType.SOA), verifier: undefined });
    const msgs = await tcpExchange(p, wire, opts, (_m, count) => count >= 1);
    answer = msgs[0];
  }
  const m = check(answer, id, p, verifier, opts.clock);
  const soa = m.answer.find((r) => r.type === RRType.SOA && r.name.equals(zone));
  if (!soa) throw new XfrError(`${where(p)} has no SOA for ${zone} (AA=${m.aa})`);
  if (!m.aa) throw new XfrError(`${where(p)} is not authoritative for ${zone} (AA clear)`);
  return soa;
}

/**
 * Transfers `zone` from `p`: IXFR from `have` (our SOA) when given, else AXFR. The answer's records are
 * checked as RFC 5936 §2.2 and RFC 1995 §4 frame them; anything else is an XfrError.
 */
export async function fetchZone(p: Primary, zone: Name, have: Rr | undefined, opts: ClientOptions): Promise<Fetched> {
  const id = randomInt(0, 0x10000);
  const type = have ? RRType.IXFR : RRType.AXFR;
  let wire = query(id, zone, type, have ? [have] : []);
  let verifier: TsigVerifier | undefined;
  if (p.key) ({ wire, verifier } = signRequest(wire, p.key, opts.clock.now()));
  const parser = new XfrParser(zone, have, opts.maxRecords ?? 20_000_000);
  await tcpExchange(p, wire, opts, (msg) => {
    const m = check(msg, id, p, verifier, opts.clock);
    for (const rr of m.answer) parser.add(rr);
    if (m.authority.length || m.additional.length) {
      // RFC 5936 §2.2.1: NSCOUNT is 0; extra additional records (other than OPT/TSIG) are not part of the zone.
      if (m.authority.length) throw new XfrError(`${where(p)} sent records in the authority section of a transfer`);
    }
    return parser.done();
  });
  if (verifier) {
    const f = verifier.finish();
    if (!f.ok) throw new XfrError(`transfer from ${where(p)} failed TSIG verification: ${f.reason}`);
  }
  return parser.result(where(p));
}

/**
 * Follows the records of a transfer answer and knows when it is complete. Pure (no sockets): exported for the
 * fuzz tests, which feed it record sequences.
 */
export class XfrParser {
  private soa: Rr | undefined;
  private serial = 0;
  private count = 0;
  private state: 'start' | 'second' | 'full' | 'del' | 'add' | 'end' = 'start';
  private records: Rr[] = [];
  private changes: Change[] = [];
  private current: Change | undefined;

  constructor(private readonly zone: Name, private readonly have: Rr | undefined, private readonly max: number) {}

  add(rr: Rr): void {
    if (this.state === 'end') throw new XfrError('records after the closing SOA');
    if (++this.count > this.max) throw new XfrError(`transfer larger than ${this.max} records`);
    if (rr.class !== RRClass.IN) throw new XfrError(`record of class ${rr.class} in the transfer`);
    if (!rr.name.isSubdomainOf(this.zone)) throw new XfrError(`record ${rr.name} is not in ${this.zone}`);
    const isSoa = rr.type === RRType.SOA;
    if (isSoa && !rr.name.equals(this.zone)) throw new XfrError(`SOA at ${rr.name}, below the apex`);
    // The reader checks RDATA already; the serial walk below must never see a malformed SOA all the same.
    if (isSoa) try { checkRdata(RRType.SOA, rr.rdata); } catch (e) { throw new XfrError(`malformed SOA: ${(e as Error).message}`); }
    switch (this.state) {
      case 'start':
        if (!isSoa) throw new XfrError('the transfer does not start with the zone SOA (RFC 5936 §2.2)');
        this.soa = rr;
        this.serial = soaSerial(rr.rdata);
        this.records.push(rr);
        this.state = 'second';
        return;
      case 'second':
        // RFC 1995 §4: SOA,SOA = incremental (the second is our old version), SOA,other = AXFR-style.
        if (isSoa && this.have) {
          if (soaSerial(rr.rdata) === this.serial) { this.state = 'end'; return; } // an empty zone cannot be; SOA,SOA(same) = end
          this.current = { from: soaSerial(rr.rdata), to: 0, deleted: [], added: [] };
          this.state = 'del';
          return;
        }
        if (isSoa) { this.state = 'end'; return; } // AXFR of a zone holding only its SOA
        this.records.push(rr);
        this.state = 'full';
        return;
      case 'full':
        if (isSoa) {
          if (soaSerial(rr.rdata) !== this.serial) throw new XfrError('an SOA inside the transfer that is not the closing one (RFC 5936 §2.2)');
          this.state = 'end';
          return;
        }
        this.records.push(rr);
        return;
      case 'del':
        if (isSoa) {
          this.current!.to = soaSerial(rr.rdata);
          this.state = 'add';
          return;
        }
        this.current!.deleted.push(rr);
        return;
      case 'add':
        if (isSoa) {
          this.changes.push(this.current!);
          const s = soaSerial(rr.rdata);
          if (s === this.serial && this.current!.to === this.serial) { this.state = 'end'; return; }
          this.current = { from: s, to: 0, deleted: [], added: [] };
          this.state = 'del';
          return;
        }
        this.current!.added.push(rr);
    }
  }

  /** True once the closing SOA came (or, for an IXFR answered with one SOA, after the first message). */
  done(): boolean {
    if (this.state === 'second' && this.have) return true; // a lone SOA in the first message (RFC 1995 §2)
    return this.state === 'end';
  }

  result(from: string): Fetched {
    const soa = this.soa;
    if (!soa) throw new XfrError(`${from} sent no records`);
    if (this.state === 'second') {
      if (!this.have || serialNewer(this.serial, soaSerial(this.have.rdata))) {
        throw new XfrError(`${from} answered with its SOA alone although serial ${this.serial} is newer (UDP-style answer over TCP)`);
      }
      return { kind: 'current', soa };
    }
    if (this.state !== 'end') throw new XfrError(`transfer from ${from} ended before its closing SOA (cut midway)`);
    if (this.changes.length) {
      if (this.changes[0].from !== soaSerial(this.have!.rdata)) throw new XfrError(`IXFR from ${from} starts at serial ${this.changes[0].from}, not at ours`);
      for (let i = 1; i < this.changes.length; i++) {
        if (this.changes[i].from !== this.changes[i - 1].to) throw new XfrError(`IXFR from ${from} has a gap between serials ${this.changes[i - 1].to} and ${this.changes[i].from}`);
      }
      return { kind: 'incremental', soa, changes: this.changes };
    }
    return { kind: 'full', soa, records: this.records };
  }
}

function udpExchange(p: Primary, msg: Uint8Array, id: number, ms: number): Promise<Uint8Array | undefined> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket(net.isIPv6(p.host) ? 'udp6' : 'udp4');
    const done = (v: Uint8Array | undefined) => {
      clearTimeout(timer);
      sock.close();
      resolve(v);
    };
    const timer = setTimeout(() => done(undefined), ms);
    sock.on('error', () => done(undefined));
    sock.on('message', (m) => {
      if (m.length >= 12 && ((m[0] << 8) | m[1]) === id) done(new Uint8Array(m));
    });
    // Connected, so a closed port (ICMP port unreachable) fails at once instead of after the timeout.
    sock.connect(p.port, p.host, () => sock.send(msg));
  });
}

/**
 * One TCP exchange: sends `msg`, hands each answer message to `onMessage` (which throws to abort, or returns
 * true when the answer is complete) and resolves with the messages; bounded by idle and total timeouts.
 */
export function tcpExchange(p: Primary, msg: Uint8Array, opts: ClientOptions, onMessage: (m: Uint8Array, count: number) => boolean): Promise<Uint8Array[]> {
  const idleMs = opts.idleMs ?? 10_000;
  const totalMs = opts.totalMs ?? 600_000;
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: p.host, port: p.port });
    const out: Uint8Array[] = [];
    let buf: Buffer = Buffer.alloc(0);
    let finished = false;
    const finish = (err?: Error) => {
      if (finished) return;
      finished = true;
      clearTimeout(total);
      sock.destroy();
      if (err) reject(err);
      else resolve(out);
    };
    const total = setTimeout(() => finish(new XfrError(`transfer from ${where(p)} took longer than ${totalMs} ms`)), totalMs);
    sock.setTimeout(idleMs, () => finish(new XfrError(`${where(p)} sent nothing for ${idleMs} ms`)));
    sock.on('connect', () => {
      const framed = Buffer.allocUnsafe(2 + msg.length);
      framed.writeUInt16BE(msg.length, 0);
      framed.set(msg, 2);
      sock.write(framed);
    });
    sock.on('data', (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      while (!finished && buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        const m = new Uint8Array(buf.subarray(2, 2 + len));
        buf = buf.subarray(2 + len);
        out.push(m);
        try {
          if (onMessage(m, out.length)) return finish();
        } catch (err) {
          return finish(err as Error);
        }
      }
    });
    sock.on('error', (err) => finish(new XfrError(`${where(p)}: ${err.message}`)));
    sock.on('close', () => finish(new XfrError(`${where(p)} closed the connection before the transfer was complete`)));
  });
}

/**
 * The records we hold (SOA excluded), for IXFR changes to be applied to one after another (the stored copy's journal
 * applies many in one pass: state/secondary-store.ts).
 */
export class HeldRecords {
  private readonly m = new Map<string, Rr>();

  constructor(records: readonly Rr[]) {
    for (const r of records) if (r.type !== RRType.SOA) this.m.set(key(r), r);
  }

  /**
   * Applies IXFR changes (SOA excluded): every deleted record must exist (else the history does not match ours: the
   * caller falls back to AXFR); added records replace equal ones. All or nothing: a throw leaves the records as they were.
   */
  apply(changes: readonly Change[]): void {
    const undo: [string, Rr | undefined][] = [];
    const set = (k: string, r: Rr | undefined) => {
      undo.push([k, this.m.get(k)]);
      if (r) this.m.set(k, r);
      else this.m.delete(k);
    };
    for (const c of changes) {
      for (const r of c.deleted) {
        if (r.type === RRType.SOA) continue;
        const k = key(r);
        if (!this.m.has(k)) {
          for (let i = undo.length - 1; i >= 0; i--) {
            const [uk, was] = undo[i];
            if (was) this.m.set(uk, was);
            else this.m.delete(uk);
          }
          throw new XfrError(`IXFR deletes ${r.name} type ${r.type}, which we do not hold`);
        }
        set(k, undefined);
      }
      for (const r of c.added) if (r.type !== RRType.SOA) set(key(r), r);
    }
  }

  /** The records, `soa` first. */
  records(soa: Rr): Rr[] {
    return [soa, ...this.m.values()];
  }
}

const key = (r: Rr) => `${r.name.key}|${r.type}|${r.class}|${Buffer.from(r.rdata).toString('hex')}`;

/** IXFR changes applied to the records we hold (HeldRecords.apply), with `soa` as the new version's. */
export function applyChanges(records: readonly Rr[], changes: Change[], soa: Rr): Rr[] {
  const held = new HeldRecords(records);
  held.apply(changes);
  return held.records(soa);
}
