// Several processes serving one zones folder (issue 6), with node:cluster. The primary owns the zone
// manager, the admin API and the parent DS checks and opens no DNS listener; each worker loads the zones
// itself (read-only use of its own TandemZoneManager, keys already on disk because the primary loaded
// first) and answers DNS. Workers share the listeners through the primary: one UDP socket whose datagrams
// the kernel spreads over the workers, TCP connections handed out round-robin.
//
// Consistency: an admin change is written by the primary, then every worker is told to re-read that zone
// file and must acknowledge before the API answers (ManagerOptions.afterChange), so after a 200 every
// worker serves the change. SIGHUP re-reads the folder in the primary, then in every worker.
//
// Start-up: the workers are forked first and bind the listeners (an address in use fails at once), holding
// no zone. The primary then loads the zones one by one, smallest first (creating keys and deciding serials
// before any worker reads the state folder), and hands each zone to every worker as it parsed it ('load');
// a zone is "in service" once every worker has acknowledged it. Until then a worker answers the zone's
// name SERVFAIL (the primary named the files beforehand: 'expect'), never with another zone's data, and
// a zone is missing from a worker only for the time that worker takes to build it. A worker started later
// (a replacement) loads every zone itself before it binds, so it never answers with zones missing.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { ZoneDelta } from '../state/delta.js';
import { formatEndpoint, type Endpoint } from '../config/server.js';
import { startParentChecks } from '../state/parentds.js';
import type { TandemZoneManager } from '../state/manager.js';
import type { PackedZone } from '../config/packed.js';
import { checkFolders, createManager, laterSyncApi, laterTransferApi, logLoadEnd, startAdminApi, startDns, startKeySync, startRollovers, startTransfers, type HttpListeners, type RunningRollovers, type ServerDeps } from './server.js';
import { logLoaded } from '../state/loading.js';
import { parseQuery } from '../dns/query.js';
import type { ControlHandler, Peer, Reply, Transport } from './handle.js';
import type { TransferService } from '../transfer/service.js';
import { systemClock } from '../dnssec/types.js';
import { Metrics } from '../metrics/registry.js';
import { answerPrimary, workerMetrics } from '../metrics/cluster.js';

/** Primary -> worker. */
export type ToWorker =
  /** `packed`: the zone as the primary parsed it after an admin change (large files), so the worker need not. */
  | { tandem: 'reload'; seq: number; file: string; packed?: PackedZone; delta?: ZoneDelta }
  /** Start-up: the zone files the primary will load, in order (SERVFAIL for their zones until each comes). */
  | { tandem: 'expect'; seq: number; files: string[] }
  /** Start-up: one zone of the first load, as the primary parsed it (large files) or to read from `file`. */
  | { tandem: 'load'; seq: number; file: string; packed?: PackedZone }
  /** Start-up: the first load has ended; an expected zone that did not come failed. */
  | { tandem: 'loaded'; seq: number }
  | { tandem: 'reload-all'; seq: number }
  | { tandem: 'stop' }
  /** Answers to a forwarded control message: messages in order, then the end (`failed`: nothing more). */
  | { tandem: 'control-msg'; id: number; wire: Uint8Array }
  | { tandem: 'control-end'; id: number; failed?: string };

/** Worker -> primary. */
export type ToPrimary =
  | { tandem: 'ready'; addresses: Endpoint[] }
  | { tandem: 'ack'; seq: number; error?: string }
  | { tandem: 'failed'; error: string }
  /** AXFR/IXFR/NOTIFY, for the primary's transfer service (it has the manager, journals, secondaries). */
  | { tandem: 'control'; id: number; msg: Uint8Array; transport: Transport; peer: Peer };

export interface RunningCluster {
  /** DNS addresses the workers listen on. */
  addresses: Endpoint[];
  /** Undefined with `api: off`. */
  api?: Endpoint;
  metrics?: Endpoint;
  manager: TandemZoneManager;
  /** The first load: resolves once every worker serves every zone that loaded (with the files that failed). */
  loaded: Promise<Error[]>;
  /** Workers running now. */
  workers(): number;
  /** Re-reads the zones folder in the primary, then in every worker. */
  reload(): Promise<Error[]>;
  /** Stops the workers (each finishes in-flight TCP answers), then the API. */
  stop(): Promise<void>;
}

/**
 * How long the primary waits for one worker's acknowledgement before giving up on it: a reload after an admin
 * change carries the parsed zone (or is a small file); a SIGHUP reload has every worker read every file, which
 * for a zone of a million records takes about a minute.
 */
type Acked = Extract<ToWorker, { seq: number }>;
const ACK_TIMEOUT_MS: Record<Acked['tandem'], number> = {
  reload: 15_000, expect: 15_000, loaded: 15_000, load: 600_000, 'reload-all': 600_000,
};
/** Environment variable telling a worker how it starts: 'follow' (bind, then take zones from the primary) or 'load'. */
const START_ENV = 'TANDEM_WORKER_START';
/** How long a worker gets to stop before it is killed. */
const STOP_TIMEOUT_MS = 10_000;

const isMessage = (m: unknown): m is ToPrimary => typeof m === 'object' && m !== null && 'tandem' in m;

export async function startPrimary(deps: ServerDeps): Promise<RunningCluster> {
  // The primary's own figures (zones, transfers, admin changes) plus each worker's, summed at each scrape.
  const metrics = deps.metrics ?? new Metrics({ clock: deps.clock ?? systemClock });
  deps = { ...deps, metrics };
  metrics.addWorkers(workerMetrics(deps.logger));
  const { config, logger } = deps;
  const count = config.workers;
  let seq = 0;
  let stopping = false;

  /** Sends `make(seq)` to every connected worker and waits for each one's ack (or its exit). */
  const broadcast = async (make: (seq: number) => Acked): Promise<void> => {
    const live = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && w.isConnected());
    await Promise.all(live.map((w) => new Promise<void>((resolve) => {
      const msg = make(++seq);
      const done = () => {
        clearTimeout(timer);
        w.off('message', onMessage);
        w.off('exit', done);
        resolve();
      };
      const onMessage = (m: unknown) => {
        if (!isMessage(m) || m.tandem !== 'ack' || m.seq !== msg.seq) return;
        if (m.error) logger.error({ worker: w.id, message: msg.tandem, err: m.error }, 'worker reload failed');
        done();
      };
      const timer = setTimeout(() => {
        logger.error({ worker: w.id, message: msg.tandem }, 'worker did not acknowledge in time');
        done();
      }, ACK_TIMEOUT_MS[msg.tandem]);
      w.on('message', onMessage);
      w.once('exit', done);
      w.send(msg);
    })));
  };

  await checkFolders(config);
  // Messages carry typed arrays (a packed zone), so the IPC channel uses structured clone, not JSON.
  cluster.setupPrimary({ serialization: 'advanced' });

  const manager = await createManager(deps, {
    presign: false, // the primary answers no queries
    afterChange: (file, packed, delta) => broadcast((s) => ({ tandem: 'reload', seq: s, file, packed, delta })),
  });
  let transfers: TransferService | undefined;
  cluster.on('message', (w, m: unknown) => {
    if (isMessage(m) && m.tandem === 'control') serveControl(w, m, transfers, logger);
  });

  let addresses: Endpoint[] = [];
  const fork = (start: 'follow' | 'load'): Promise<Worker> => new Promise((resolve, reject) => {
    const w = cluster.fork({ [START_ENV]: start });
    const onMessage = (m: unknown) => {
      if (!isMessage(m)) return;
      if (m.tandem === 'ready') {
        addresses = m.addresses;
        cleanup();
        resolve(w);
      } else if (m.tandem === 'failed') {
        cleanup();
        reject(new Error(m.error));
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`worker ${w.id} exited during start-up (code ${code})`));
    };
    const cleanup = () => {
      w.off('message', onMessage);
      w.off('exit', onExit);
    };
    w.on('message', onMessage);
    w.once('exit', onExit);
  });

  const stopWorkers = async () => {
    const live = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);
    await Promise.all(live.map((w) => new Promise<void>((resolve) => {
      if (w.isDead()) return resolve();
      const timer = setTimeout(() => w.kill('SIGKILL'), STOP_TIMEOUT_MS);
      w.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      if (w.isConnected()) w.send({ tandem: 'stop' } satisfies ToWorker);
      else w.kill('SIGTERM');
    })));
  };

  try {
    // Each worker binds before any zone is loaded: an address in use ends the start here.
    const started = await Promise.allSettled(Array.from({ length: count }, () => fork('follow')));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (err) {
    stopping = true;
    await stopWorkers();
    throw err;
  }
  // A worker that dies is replaced (after a pause, so a crash loop does not spin); it loads every zone
  // before it binds.
  cluster.on('exit', (w, code, signal) => {
    if (stopping) return;
    logger.error({ worker: w.id, code, signal }, 'worker exited; starting a new one');
    setTimeout(() => {
      if (!stopping) fork('load').then((n) => logger.info({ worker: n.id, replaces: w.id }, 'new worker serving every zone'), (err: unknown) => logger.error({ err }, 'worker restart failed'));
    }, 1000).unref();
  });

  let api: HttpListeners;
  const running = () => Object.values(cluster.workers ?? {}).filter((w) => w && !w.isDead()).length;
  const missing = () => (running() < count ? [{ reason: `${running()} of ${count} workers running` }] : []);
  try {
    api = await startAdminApi(deps, manager, laterTransferApi(() => transfers), missing, laterSyncApi(() => keySync?.sync), () => rollovers?.service);
  } catch (err) {
    stopping = true;
    await stopWorkers();
    throw err;
  }
  const where = { listen: addresses.map(formatEndpoint), api: api.api ? formatEndpoint(api.api) : 'off', metrics: api.metrics && formatEndpoint(api.metrics), workers: count };
  logger.info(where, 'listening (udp+tcp); loading zones');

  let checks: { stop(): void } | undefined;
  let keySync: ReturnType<typeof startKeySync> | undefined;
  let rollovers: RunningRollovers | undefined;
  const began = performance.now();
  const loaded = manager.loadZones({
    order: (files) => broadcast((s) => ({ tandem: 'expect', seq: s, files })),
    inService: async (z, file, packed) => {
      await broadcast((s) => ({ tandem: 'load', seq: s, file, packed }));
      logLoaded(logger, z);
    },
  }).then(async (errors) => {
    await broadcast((s) => ({ tandem: 'loaded', seq: s }));
    if (stopping) return errors;
    transfers = startTransfers(deps, manager);
    keySync = startKeySync(deps, manager, transfers);
    checks = startParentChecks({ manager, logger, resolver: config.parentResolver, intervalSeconds: config.parentCheckInterval });
    rollovers = await startRollovers(deps, manager);
    logLoadEnd(logger, manager, errors, { ...where, ms: Math.round(performance.now() - began) });
    return errors;
  });
  loaded.catch(() => undefined); // the caller decides (tandem serve exits)

  return {
    addresses,
    api: api.api,
    metrics: api.metrics,
    manager,
    loaded,
    workers: running,
    async reload() {
      const errs = await manager.reload();
      for (const err of errs) logger.error({ err: err.message }, 'zone reload failed; last good version stays in service');
      transfers?.reloaded();
      await broadcast((s) => ({ tandem: 'reload-all', seq: s }));
      logger.info({ zones: manager.served().zones.zones().map((z) => z.origin.toString()) }, 'zones reloaded');
      return errs;
    },
    async stop() {
      stopping = true;
      checks?.stop();
      const syncing = keySync?.stop();
      rollovers?.stop();
      transfers?.stop();
      await stopWorkers();
      await Promise.all([api.close(), syncing]);
      logger.info('stopped');
    },
  };
}

/**
 * The worker side: bind the listeners, tell the primary, then take the zones it sends ('follow', at start-up)
 * or load every zone first and then bind ('load', a replacement worker), and follow its messages until told
 * to stop (exit 0). Signals are the primary's business: SIGINT (a terminal's Ctrl-C reaches the whole group)
 * and SIGHUP are ignored here; SIGTERM stops this worker gracefully. A worker whose primary is gone exits.
 */
export async function startWorker(deps: ServerDeps): Promise<void> {
  // Queries, cache and signing figures; the primary asks for them at each scrape.
  const metrics = deps.metrics ?? new Metrics({ clock: deps.clock ?? systemClock });
  deps = { ...deps, metrics };
  answerPrimary(metrics);
  const { logger } = deps;
  const send = (m: ToPrimary) => process.send?.(m);
  process.on('SIGINT', () => undefined);
  process.on('SIGHUP', () => undefined);

  let manager: TandemZoneManager;
  let dns: Awaited<ReturnType<typeof startDns>>;
  const forwarder = controlForwarder(send);
  try {
    manager = await createManager(deps, { presign: true, role: 'replica' });
    if (process.env[START_ENV] !== 'follow') {
      for (const e of await manager.loadZones()) logger.debug({ err: e.message }, 'zone not loaded in worker');
    }
    dns = await startDns(deps, () => manager.served(), forwarder.control);
  } catch (err) {
    send({ tandem: 'failed', error: (err as Error).message });
    process.exit(1);
  }

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await dns.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('disconnect', () => void stop());
  process.on('message', (m: ToWorker) => {
    if (typeof m !== 'object' || m === null || !('tandem' in m)) return;
    if (m.tandem === 'stop') {
      void stop();
      return;
    }
    if (m.tandem === 'control-msg' || m.tandem === 'control-end') {
      forwarder.receive(m);
      return;
    }
    if (m.tandem === 'reload' && m.delta) logger.debug({ file: m.file }, 'zone change applied as the primary applied it (delta)');
    else if ((m.tandem === 'reload' || m.tandem === 'load') && m.packed) logger.debug({ file: m.file }, 'zone taken as the primary parsed it');
    let work: Promise<void>;
    switch (m.tandem) {
      case 'expect': manager.expect(m.files); work = Promise.resolve(); break;
      case 'loaded': manager.expectNone(); work = Promise.resolve(); break;
      case 'load': case 'reload':
        // A delta change (state/delta.ts): applied to this copy as the primary applied it, no file read.
        work = m.tandem === 'reload' && m.delta ? manager.applyDelta(m.file, m.delta) : m.packed ? manager.reloadPacked(m.packed) : manager.reloadFile(m.file);
        break;
      case 'reload-all': work = manager.reload().then((errs) => { for (const e of errs) logger.debug({ err: e.message }, 'zone reload failed in worker'); }); break;
    }
    work.then(
      () => send({ tandem: 'ack', seq: m.seq }),
      (err: unknown) => send({ tandem: 'ack', seq: m.seq, error: (err as Error).message }),
    );
  });
  send({ tandem: 'ready', addresses: dns.addresses });
}

/** Primary side of a forwarded control message: parse it again, answer through the transfer service. */
function serveControl(w: Worker, m: Extract<ToPrimary, { tandem: 'control' }>, transfers: TransferService | undefined, logger: Logger): void {
  const reply = (x: ToWorker) => { if (w.isConnected()) w.send(x); };
  // Before the zones are loaded the transfer service does not run: no answer (the peer retries).
  if (!transfers) return reply({ tandem: 'control-end', id: m.id });
  const parsed = parseQuery(m.msg);
  if (!parsed.ok) return reply({ tandem: 'control-end', id: m.id, failed: 'unparsable' });
  transfers.control(m.msg, parsed.query, m.transport, m.peer).then(async (r) => {
    if (r === null) {
      // nothing to send
    } else if (r instanceof Uint8Array) reply({ tandem: 'control-msg', id: m.id, wire: r });
    else for await (const wire of r) reply({ tandem: 'control-msg', id: m.id, wire });
    reply({ tandem: 'control-end', id: m.id });
  }).catch((err: unknown) => {
    logger.error({ err }, 'control message failed');
    reply({ tandem: 'control-end', id: m.id, failed: (err as Error).message });
  });
}

/**
 * Worker side: a ControlHandler that forwards to the primary and turns its answers back into a Reply
 * (the first message for UDP, a stream for TCP).
 */
function controlForwarder(send: (m: ToPrimary) => void): { control: ControlHandler; receive(m: Extract<ToWorker, { tandem: 'control-msg' | 'control-end' }>): void } {
  let next = 0;
  const open = new Map<number, { items: Uint8Array[]; done: boolean; failed?: string; wake?: () => void }>();
  const control: ControlHandler = async (msg, _query, transport, peer): Promise<Reply> => {
    const id = ++next;
    const st: { items: Uint8Array[]; done: boolean; failed?: string; wake?: () => void } = { items: [], done: false };
    open.set(id, st);
    send({ tandem: 'control', id, msg, transport, peer });
    const wait = () => new Promise<void>((r) => { st.wake = r; });
    async function* stream(): AsyncGenerator<Uint8Array> {
      try {
        for (;;) {
          while (st.items.length) yield st.items.shift()!;
          if (st.done) return;
          await wait();
        }
      } finally {
        open.delete(id);
      }
    }
    if (transport === 'tcp') return stream();
    const it = stream();
    const first = await it.next();
    await it.return(undefined);
    return first.done ? null : first.value;
  };
  return {
    control,
    receive(m) {
      const st = open.get(m.id);
      if (!st) return;
      if (m.tandem === 'control-msg') st.items.push(m.wire);
      else { st.done = true; st.failed = m.failed; }
      st.wake?.();
      st.wake = undefined;
    },
  };
}
