// The zone-transfer service of the process that owns the zone manager: answers AXFR/IXFR (out.ts), NOTIFY and
// RFC 2136 UPDATE (update/handler.ts), keeps the IXFR journals (journal.ts) and the signed snapshots, sends
// NOTIFY when a zone gets a new version (the manager's onVersion), and re-versions zones transferred signed
// when their signature period turns. Cluster workers forward these messages here (server/cluster.ts).
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Query } from '../dns/query.js';
import type { Rr } from '../dns/rr.js';
import { Name } from '../dns/name.js';
import { Opcode, RRType, Rcode, typeName } from '../dns/types.js';
import { verifyRequest, type Keyring, type TsigKey, type TsigSigner } from '../dns/tsig.js';
import type { Clock } from '../dnssec/types.js';
import { transfersSigned, type TandemZoneManager, type ZoneVersion } from '../state/manager.js';
import type { RemoteServer } from '../config/transfer-settings.js';
import type { OutgoingView, SecondaryStatusView, TransferApi } from '../state/types.js';
import { admit, contentFor, sameKey } from './acl.js';
import { diffRecords, diffUnsigned, signedRecords, soaRecord, unsignedRecords } from './content.js';
import { Journal } from './journal.js';
import { clientIsCurrent, ixfrSerial, xfrError, xfrMessages, type XfrBody, type XfrRequest } from './out.js';
import { notifyReply, sendNotify, type NotifyTarget } from './notify.js';
import { SecondaryScheduler, type SecondaryDeps, type TransferObserver } from './secondary.js';
import { apexNsNames, resolveTargets } from './apex-notify.js';
import { answerUpdate } from '../update/handler.js';
import { forwardUpdate, forwarding, rcodeName, type ForwardOptions, type Forwarded } from '../update/forward.js';

export type Transport = 'udp' | 'tcp';
export interface Peer {
  address: string;
  port: number;
}
/** One answer, none, or a stream of messages (TCP only). */
export type Reply = Uint8Array | null | AsyncIterable<Uint8Array>;

/** Messages that go to the zone manager's process: AXFR/IXFR, NOTIFY, UPDATE. */
export type ControlHandler = (msg: Uint8Array, query: Query, transport: Transport, peer: Peer) => Promise<Reply>;

export function isControl(query: Query): boolean {
  return query.opcode === Opcode.NOTIFY || query.opcode === Opcode.UPDATE || query.type === RRType.AXFR || query.type === RRType.IXFR;
}

export interface TransferDeps {
  manager: TandemZoneManager;
  keyring: Keyring;
  stateDir: string;
  clock: Clock;
  logger: Logger;
  /** NOTIFY tuning (tests). */
  notify?: { tries?: number; timeoutMs?: number };
  /** Secondary-zone client tuning (tests). */
  secondary?: Pick<SecondaryDeps, 'client' | 'firstRetry'>;
  /** Told of every transfer in and out (metrics). */
  observer?: TransferObserver;
  /** UPDATE forwarding timeouts (tests; update/forward.ts has the defaults). */
  forward?: Omit<ForwardOptions, 'clock'>;
}

/** UPDATEs being forwarded at once, at most: beyond, SERVFAIL (a bound on sockets, e.g. when two secondaries forward to each other). */
const MAX_FORWARDING = 64;

interface ZoneState {
  /** Changes of the unsigned transfer content, on disk. */
  journal?: Journal;
  /** Changes of the signed transfer content, in memory (see journal.ts). */
  signedJournal?: Journal;
  /** The signed content of one serial, made once and reused by every transfer of that version. */
  signed?: { serial: number; records: Promise<Rr[]> };
  /** Work on this zone's versions, in order. */
  queue: Promise<unknown>;
  resignTimer?: NodeJS.Timeout;
  notifyAbort?: AbortController;
}

function zoneDir(origin: Name): string {
  return origin.key === '.' ? '.root' : origin.key.slice(0, -1);
}

export class TransferService implements TransferApi {
  private zones = new Map<string, ZoneState>();
  private stopped = false;
  private readonly log: Logger;
  private readonly updateLog: Logger;

  /** Secondary zones: refresh timers, transfers in. */
  readonly secondaries: SecondaryScheduler;

  constructor(private readonly deps: TransferDeps) {
    this.log = deps.logger.child({ component: 'transfer' });
    this.updateLog = deps.logger.child({ component: 'update' });
    this.secondaries = new SecondaryScheduler({ ...deps, ...deps.secondary });
    this.onNotify = (v, from) => this.secondaries.notify(v.origin, from);
    deps.manager.onVersion((next, prev) => this.onVersion(next, prev));
  }

  /** Takes the zones already served (the manager loaded them before this service existed) and starts the secondaries. */
  start(): void {
    for (const v of this.deps.manager.versions()) this.onVersion(v, undefined);
    this.secondaries.start().catch((err: unknown) => this.log.error({ err }, 'secondary zones did not start'));
  }

  /** After the zones folder was read again (SIGHUP): new secondary zones start, removed ones stop. */
  reloaded(): void {
    this.secondaries.sync().catch((err: unknown) => this.log.error({ err }, 'secondary zones did not follow the reload'));
  }

  stop(): void {
    this.stopped = true;
    this.secondaries.stop();
    for (const st of this.zones.values()) {
      clearTimeout(st.resignTimer);
      st.notifyAbort?.abort();
    }
  }

  /** Resolves once the work queued for every zone so far is done (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.zones.values()].map((s) => s.queue));
  }

  private state(origin: Name): ZoneState {
    let st = this.zones.get(origin.key);
    if (!st) {
      st = { queue: Promise.resolve() };
      this.zones.set(origin.key, st);
    }
    return st;
  }

  private key(name: string | undefined, where: string): TsigKey | undefined {
    if (name === undefined) return undefined;
    const k = this.deps.keyring.byName(name);
    if (!k) this.log.error({ key: name, where }, 'TSIG key not defined in the server config (tsig:)');
    return k;
  }

  // ---- versions: journals, signed snapshots, NOTIFY ------------------------------------------------

  private onVersion(next: ZoneVersion, prev: ZoneVersion | undefined): void {
    if (this.stopped || !next.available) return;
    const st = this.state(next.origin);
    const run = async () => {
      const cfg = next.config.transfer;
      const log = this.log.child({ zone: next.origin.toString() });
      if (cfg) {
        try {
          const includeKsk = cfg.includeKsk;
          st.journal ??= await Journal.open(join(this.deps.stateDir, 'journal', zoneDir(next.origin)), cfg.journal);
          if (prev && prev.serial !== next.serial && prev.config.transfer?.includeKsk === includeKsk) {
            const diff = diffUnsigned(prev, next, { includeKsk });
            await st.journal.append({ from: prev.serial, to: next.serial, ...diff });
            log.debug({ from: prev.serial, to: next.serial, deleted: diff.deleted.length, added: diff.added.length }, 'journal entry');
          } else if (st.journal.last !== next.serial) await st.journal.reset();
          if (transfersSigned(next.config)) await this.snapshot(st, next, prev, log);
        } catch (err) {
          // The journal then lacks this version (Journal.since answers only whole chains): a secondary asking
          // for IXFR across it gets AXFR. The secondaries are still told (RFC 1996 §3.5): the zone did change.
          log.error({ err, serial: next.serial }, 'IXFR journal not written for this version (secondaries get AXFR across it); NOTIFY goes out anyway');
        }
      }
      this.scheduleResign(st, next);
      this.notifyAll(st, next, log);
    };
    st.queue = st.queue.then(run, run).catch((err: unknown) => this.log.error({ err, zone: next.origin.toString() }, 'zone version bookkeeping failed'));
  }

  /** Makes the signed content of `next` and journals its difference from the previous snapshot. */
  private async snapshot(st: ZoneState, next: ZoneVersion, prev: ZoneVersion | undefined, log: Logger): Promise<void> {
    const before = st.signed;
    const records = this.signedOf(st, next);
    st.signedJournal ??= await Journal.open(undefined, next.config.transfer!.journal);
    if (before && prev && before.serial === prev.serial) {
      const diff = diffRecords(await before.records, await records);
      await st.signedJournal.append({ from: prev.serial, to: next.serial, ...diff });
      log.debug({ from: prev.serial, to: next.serial, deleted: diff.deleted.length, added: diff.added.length }, 'signed journal entry');
    } else await st.signedJournal.reset();
  }

  private signedOf(st: ZoneState, v: ZoneVersion): Promise<Rr[]> {
    if (st.signed?.serial !== v.serial) {
      const records = signedRecords(v);
      records.catch(() => undefined);
      st.signed = { serial: v.serial, records };
    }
    return st.signed.records;
  }

  /** A zone transferred signed gets a new version when its signatures' period turns (manager.resign). */
  private scheduleResign(st: ZoneState, v: ZoneVersion): void {
    clearTimeout(st.resignTimer);
    st.resignTimer = undefined;
    const signing = v.signing as { refreshAt?: () => number } | undefined;
    if (!transfersSigned(v.config) || typeof signing?.refreshAt !== 'function') return;
    const ms = Math.max(1000, (signing.refreshAt() - this.deps.clock.now()) * 1000);
    // setTimeout holds at most 2^31-1 ms (~24.8 days); periods are shorter (validity / 4 <= 91.5 days? then re-arm).
    st.resignTimer = setTimeout(() => {
      if (ms > 0x7fffffff) return this.scheduleResign(st, v);
      if (!this.deps.manager.version(v.origin)) return; // the zone was removed by a reload
      this.deps.manager.resign(v.id).catch((err: unknown) => this.log.error({ err, zone: v.origin.toString() }, 're-signing failed'));
    }, Math.min(ms, 0x7fffffff));
    st.resignTimer.unref();
  }

  /** NOTIFY every configured secondary (RFC 1996 §3.5); a newer version cancels the rounds still retrying. */
  private notifyAll(st: ZoneState, v: ZoneVersion, log: Logger): void {
    const cfg = v.config.transfer;
    if (!cfg || (cfg.notify.length === 0 && !cfg.notifyApexNs)) return;
    st.notifyAbort?.abort();
    const abort = new AbortController();
    st.notifyAbort = abort;
    const soa = soaRecord(v);
    const send = (target: NotifyTarget, label: string) => {
      void sendNotify(target, v.origin, soa, { clock: this.deps.clock, logger: log, signal: abort.signal, ...this.deps.notify }).then((r) => {
        if (r.ok) log.info({ target: label, serial: v.serial }, 'NOTIFY sent');
        else if (r.reason !== 'cancelled') log.warn({ target: label, serial: v.serial, reason: r.reason }, 'NOTIFY failed');
      });
    };
    const explicit = new Set<string>();
    for (const t of cfg.notify) {
      const target: NotifyTarget = { host: t.host, port: t.port, key: this.key(t.key, `${v.origin} transfer.notify`) };
      if (t.key && !target.key) continue;
      explicit.add(`${t.host}|${t.port}`);
      send(target, `${t.host}:${t.port}`);
    }
    if (cfg.notifyApexNs) {
      // RFC 1996 §3.6: the apex NS hosts but the SOA MNAME and ours; unsigned (no key is configured for them).
      void resolveTargets(v, apexNsNames(v)).then(({ targets, unresolved }) => {
        if (abort.signal.aborted) return;
        for (const name of unresolved) log.warn({ ns: name }, 'NOTIFY: no address for this apex NS host');
        for (const t of targets) if (!explicit.has(`${t.host}|${t.port}`)) send({ host: t.host, port: t.port }, `${t.name} ${t.host}`);
      });
    }
  }

  // ---- the admin API's view (TransferApi) ---------------------------------------------------------

  secondary(zone: Name): SecondaryStatusView | undefined {
    return this.secondaries.status(zone);
  }

  async refresh(zone: Name, opts: { axfr: boolean }): Promise<SecondaryStatusView | undefined> {
    await this.secondaries.refreshNow(zone, opts);
    return this.secondaries.status(zone);
  }

  outgoing(zone: Name): OutgoingView | undefined {
    const v = this.deps.manager.version(zone);
    const cfg = v?.config.transfer;
    if (!v || !cfg) return undefined;
    return {
      zone: v.origin.toString(),
      serial: v.serial,
      allow: cfg.allow.map((a) => ({ ...(a.address ? { address: a.address.text } : {}), ...(a.key ? { key: a.key } : {}), content: a.content ?? cfg.content })),
      notify: cfg.notify.map((n) => `${n.host.includes(':') ? `[${n.host}]` : n.host}:${n.port}`),
      content: cfg.content,
      journal: { kept: this.zones.get(v.origin.key)?.journal?.size ?? 0, max: cfg.journal },
    };
  }

  // ---- requests ---------------------------------------------------------------------------------

  control: ControlHandler = async (msg, query, transport, peer) => {
    // RFC 2136 §6: an UPDATE for a secondary zone that forwards goes to its primary before any TSIG check of ours:
    // the client's key is the primary's to check (a key tandem does not know is no reason to refuse).
    if (query.opcode === Opcode.UPDATE) {
      const v = this.deps.manager.version(query.name);
      const sec = v?.config.secondary;
      if (sec && forwarding(sec, peer.address).ok) return this.forwardUpdate(msg, query, transport, peer, v!.origin, sec.primaries);
    }
    const now = this.deps.clock.now();
    const t = verifyRequest(msg, this.deps.keyring, now);
    const base: XfrRequest = { query };
    if (t.kind === 'formerr') return xfrError(base, Rcode.FORMERR);
    if (t.kind === 'error') {
      this.log.info({ peer: peer.address, qname: query.name.toString(), tsigError: t.error, key: t.key?.name.toString() }, 'TSIG check failed');
      return xfrError(this.signedBy(query, t.signer), Rcode.NOTAUTH);
    }
    const key = t.kind === 'ok' ? t.key : undefined;
    const req: XfrRequest = t.kind === 'ok' ? this.signedBy(query, t.signer) : base;
    if (query.opcode === Opcode.NOTIFY) return this.notifyIn(req, peer, key);
    // RFC 2136 UPDATE (update/handler.ts): one change through the zone manager, answered once it is written.
    if (query.opcode === Opcode.UPDATE) return xfrError(req, await answerUpdate(msg, key, peer, { manager: this.deps.manager, logger: this.updateLog }));
    if (query.opcode !== Opcode.QUERY) return xfrError(req, Rcode.NOTIMP);
    return this.transferOut(msg, req, transport, peer, key);
  };

  private forwarding = 0;

  /**
   * Relays an UPDATE to the zone's primaries (update/forward.ts) and their answer back, both unchanged (RFC 8945
   * §5.3: neither stripped nor re-signed). No primary answering is SERVFAIL, signed when the client's key is ours.
   */
  private async forwardUpdate(msg: Uint8Array, query: Query, transport: Transport, peer: Peer, zone: Name, primaries: RemoteServer[]): Promise<Reply> {
    const who = { peer: `${peer.address}#${peer.port}`, zone: zone.toString(), transport };
    const log = this.updateLog;
    let r: Forwarded;
    if (this.forwarding >= MAX_FORWARDING) r = { ok: false, tried: [{ primary: '-', reason: `${MAX_FORWARDING} UPDATEs already being forwarded` }] };
    else {
      this.forwarding++;
      try {
        r = await forwardUpdate(msg, primaries, { clock: this.deps.clock, ...this.deps.forward });
      } finally {
        this.forwarding--;
      }
    }
    if (r.ok) {
      // A UDP client gets the answer as the primary made it, even past its size (RFC 1035 §4.2.1's 512 or its
      // EDNS size): TC would make it send the UPDATE again, which the primary has already applied.
      const limit = Math.max(512, query.edns?.udpSize ?? 512);
      const big = transport === 'udp' && r.answer.length > limit ? { size: r.answer.length, limit } : {};
      log.info({ ...who, primary: r.primary, rcode: rcodeName(r.rcode), ...big }, 'UPDATE forwarded to the primary, answer relayed');
      this.deps.observer?.updateForwarded(zone, rcodeName(r.rcode).toLowerCase());
      return r.answer;
    }
    log.warn({ ...who, tried: r.tried.map((t) => `${t.primary}: ${t.reason}`) }, `UPDATE not forwarded: no primary answered (tried ${r.tried.map((t) => t.primary).join(', ')}), SERVFAIL`);
    this.deps.observer?.updateForwarded(zone, 'unreachable');
    const t = verifyRequest(msg, this.deps.keyring, this.deps.clock.now());
    return xfrError(t.kind === 'ok' ? this.signedBy(query, t.signer) : { query }, Rcode.SERVFAIL);
  }

  /** A request whose answers are signed with the request's key (RFC 8945 §4.3.2). */
  private signedBy(query: Query, signer: TsigSigner): XfrRequest {
    return { query, sign: { sign: (m) => signer.sign(m, this.deps.clock.now()), overhead: signer.overhead } };
  }

  private async transferOut(msg: Uint8Array, req: XfrRequest, transport: Transport, peer: Peer, key: TsigKey | undefined): Promise<Reply> {
    const { query } = req;
    const kind = query.type === RRType.AXFR ? 'AXFR' : 'IXFR';
    const v = this.deps.manager.version(query.name);
    const who = { peer: `${peer.address}#${peer.port}`, zone: query.name.toString(), key: key?.name.toString(), transport };
    const count = this.deps.observer ? (result: Parameters<TransferObserver['transferOut']>[2]) => this.deps.observer!.transferOut(v?.origin, kind, result) : () => undefined;
    // RFC 5936 §2.2.1: not authoritative for the zone -> NOTAUTH.
    if (!v) { count('notauth'); return xfrError(req, Rcode.NOTAUTH); }
    // A secondary zone we cannot serve (not transferred yet, expired) is not transferred onwards either.
    if (!v.available) { count('servfail'); return xfrError(req, Rcode.SERVFAIL); }
    const cfg = v.config.transfer;
    const entry = admit(cfg, peer.address, key);
    if (!cfg || !entry) {
      this.log.info({ ...who, kind }, `${kind} refused: not allowed by zone.transfer.allow`);
      count('refused');
      return xfrError(req, Rcode.REFUSED);
    }
    // RFC 5936 §4.2: AXFR is a TCP exchange.
    if (kind === 'AXFR' && transport === 'udp') { count('notimp'); return xfrError(req, Rcode.NOTIMP); }
    let content = contentFor(cfg, entry);
    if (content === 'signed' && !v.signing) {
      this.log.warn({ ...who }, 'signed transfer asked for an unsigned zone; sending it unsigned');
      content = 'unsigned';
    }
    const st = this.state(v.origin);
    const soa = soaRecord(v);
    const full = async (): Promise<XfrBody> => ({
      kind: 'full',
      records: content === 'signed' ? await this.signedOf(st, v) : unsignedRecords(v, { includeKsk: cfg.includeKsk }),
    });
    let body: XfrBody;
    if (kind === 'AXFR') body = await full();
    else {
      const client = ixfrSerial(msg, v.origin);
      if (client === undefined) { count('formerr'); return xfrError(req, Rcode.FORMERR); }
      if (clientIsCurrent(client, v.serial) || transport === 'udp') body = { kind: 'soa-only' };
      else {
        // Wait for the journal entry of the newest version if it is still being written.
        await st.queue;
        const journal = content === 'signed' ? st.signedJournal : st.journal;
        const changes = await journal?.since(client, v.serial);
        body = changes ? { kind: 'incremental', changes } : await full();
      }
    }
    this.log.info({ ...who, kind, serial: v.serial, content, mode: body.kind }, `${kind} out`);
    count(body.kind);
    const messages = xfrMessages(req, soa, body);
    if (transport === 'udp') return messages.next().value ?? null;
    return (async function* () { yield* messages; })();
  }

  /** NOTIFY in (RFC 1996 §3.10): only from a zone's primaries; acting on it is the secondary's job. */
  private async notifyIn(req: XfrRequest, peer: Peer, key: TsigKey | undefined): Promise<Reply> {
    const { query } = req;
    const sign = (m: Uint8Array) => (req.sign ? req.sign.sign(m) : m);
    if (query.type === RRType.CDS || query.type === RRType.CSYNC) return sign(this.generalizedNotifyIn(query, peer));
    const v = this.deps.manager.version(query.name);
    if (!v) return sign(notifyReply(query.id, query.name, Rcode.NOTAUTH));
    const sec = v.config.secondary;
    const from = sec?.primaries.find((p) => p.host === peer.address || `::ffff:${p.host}` === peer.address);
    if (!sec || !from || (from.key !== undefined && !sameKey(key, from.key))) {
      this.log.info({ peer: `${peer.address}#${peer.port}`, zone: query.name.toString(), key: key?.name.toString() }, 'NOTIFY refused: not from a primary of this secondary zone');
      return sign(notifyReply(query.id, query.name, Rcode.REFUSED));
    }
    this.log.info({ peer: `${peer.address}#${peer.port}`, zone: query.name.toString() }, 'NOTIFY from a primary: refreshing');
    this.onNotify(v, from);
    return sign(notifyReply(query.id, query.name, Rcode.NOERROR));
  }

  /** A primary told us the zone changed (RFC 1996 §3.11): the secondary scheduler refreshes it. */
  private onNotify: (v: ZoneVersion, from: RemoteServer) => void;

  /**
   * A child's generalized NOTIFY (RFC 9859 §4): QTYPE CDS or CSYNC for a delegation in a zone we serve, sent to
   * the target our DSYNC records name. tandem is no registry and runs no CDS/CSYNC scanner: the notification is
   * logged and kept (`generalizedNotifies`, the admin API's GET .../tandem/notifications), and answered NOERROR
   * so the child stops retrying; one for a name that is not a delegation of ours is REFUSED, one for no zone of
   * ours NOTAUTH. A NOTIFY is a hint that asks for a scan, never data to act on (§4.3), so it needs no TSIG.
   */
  private generalizedNotifyIn(query: Query, peer: Peer): Uint8Array {
    const type = typeName(query.type);
    const who = { peer: `${peer.address}#${peer.port}`, child: query.name.toString(), type };
    const zone = query.name.isRoot() ? undefined : this.deps.manager.served().zones.closestEnclosing(query.name.parent());
    if (!zone) {
      this.log.info(who, `NOTIFY(${type}) refused: no zone of ours holds the child's delegation`);
      return notifyReply(query.id, query.name, Rcode.NOTAUTH, query.type);
    }
    if (!zone.nodes.get(query.name.key)?.rrsets.get(RRType.NS)) {
      this.log.info({ ...who, zone: zone.origin.toString() }, `NOTIFY(${type}) refused: the name is not a delegation in the zone`);
      return notifyReply(query.id, query.name, Rcode.REFUSED, query.type);
    }
    this.received.push({ at: new Date(this.deps.clock.now() * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'), zone: zone.origin.toString(), child: query.name.toString(), type, from: who.peer });
    if (this.received.length > 200) this.received.splice(0, this.received.length - 200);
    this.log.info({ ...who, zone: zone.origin.toString() }, `NOTIFY(${type}) from a child: logged (tandem does not scan children's ${type === 'CDS' ? 'CDS/CDNSKEY' : 'CSYNC'} itself)`);
    return notifyReply(query.id, query.name, Rcode.NOERROR, query.type);
  }

  private readonly received: GeneralizedNotify[] = [];

  /** The generalized NOTIFYs received for delegations in `zone` (or every zone), oldest first. */
  generalizedNotifies(zone?: Name): GeneralizedNotify[] {
    return this.received.filter((n) => !zone || n.zone === zone.toString());
  }
}

/** One generalized NOTIFY received (RFC 9859 §4). */
export interface GeneralizedNotify {
  at: string;
  /** Our zone holding the delegation. */
  zone: string;
  child: string;
  /** CDS or CSYNC. */
  type: string;
  from: string;
}
