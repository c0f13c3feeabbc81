// Several processes serving one zones folder (issue 6), with node:cluster, holding each zone once (issue 16).
// The primary owns the zone manager, the admin API, zone transfers and the parent DS checks, and holds the
// only copy of every zone; it opens no DNS listener. The workers share the listeners through the primary
// (one UDP socket whose datagrams the kernel spreads over the workers, TCP connections handed out
// round-robin) and hold no zone: each answers the questions it has seen from its own response cache, in
// the same tick, and sends every other message to the primary over IPC (server/front.ts), which answers
// with the full request path and says whether the worker may cache the answer. So `--workers N` costs N
// small processes, not N copies of a large zone, and a repeated question (what a busy server mostly sees)
// is answered by N processes in parallel; first questions, signing and denial are the primary's work.
//
// Consistency: the primary numbers its served sets (generations) and tells every worker each new one as it
// is published (ManagerOptions.onPublish). After an admin change it waits for every worker to acknowledge
// the new generation before the API answers (ManagerOptions.afterChange), so after a 200 no worker serves
// an older answer from its cache; SIGHUP does the same after the primary re-read the folder.
//
// Start-up: the workers are forked first and bind the listeners (an address in use fails at once). The
// primary then loads the zones as a single process does; until a zone is in service its names are answered
// SERVFAIL (never cached). A worker started later (a replacement) binds at once: it has nothing to load.
import cluster, { type Worker } from 'node:cluster';
import { formatEndpoint, type Endpoint } from '../config/server.js';
import { startParentChecks } from '../state/parentds.js';
import type { Served, TandemZoneManager } from '../state/manager.js';
import { checkFolders, createManager, laterControl, laterSyncApi, laterTransferApi, listenDns, logLoadEnd, queryHandler, startAdminApi, startKeySync, startRollovers, startTransfers, type DnsListeners, type HttpListeners, type RunningRollovers, type ServerDeps } from './server.js';
import { logLoaded } from '../state/loading.js';
import type { TransferService } from '../transfer/service.js';
import { systemClock } from '../dnssec/types.js';
import { Metrics } from '../metrics/registry.js';
import { answerPrimary, workerMetrics } from '../metrics/cluster.js';
import { chainPatchPush, compactCuts, compactPatchPush, patchableZones, pushZones } from './chainpush.js';
import { createHandler } from './handle.js';
import { answerChainAsk, answerFront, changedZones, createFront, type FrontAnswer, type FrontChain, type FrontChainAsk, type FrontMore, type FrontQuery } from './front.js';
import { ResponseCache } from './respcache.js';
import { LearnedDenial } from './learned.js';
import { SigningBudget } from './budget.js';

/** Primary -> worker. */
export type ToWorker =
  /** The primary serves generation `gen` of its zones now: cached answers of older ones are dropped (acknowledged). */
  | { tandem: 'generation'; seq: number; gen: number; changed?: string[]; patched?: string[]; cuts?: Record<string, string[]> }
  | { tandem: 'stop' }
  | FrontMore
  | FrontAnswer
  | FrontChain;

/** Worker -> primary. */
export type ToPrimary =
  | { tandem: 'ready'; addresses: Endpoint[]; udpIo?: DnsListeners['udpIo'] }
  | { tandem: 'ack'; seq: number; error?: string }
  | { tandem: 'failed'; error: string }
  /** A message the worker's cache could not answer, for the primary's request path. */
  | FrontQuery
  | FrontChainAsk;

export interface RunningCluster {
  /** DNS addresses the workers listen on. */
  addresses: Endpoint[];
  /** Undefined with `api: off`. */
  api?: Endpoint;
  metrics?: Endpoint;
  manager: TandemZoneManager;
  /** The first load: resolves once every zone is served or failed (with the files that failed). */
  loaded: Promise<Error[]>;
  /** Workers running now. */
  workers(): number;
  /** Re-reads the zones folder in the primary; every worker then drops its cached answers. */
  reload(): Promise<Error[]>;
  /** Stops the workers (each finishes in-flight TCP answers), then the API. */
  stop(): Promise<void>;
}

/** How long the primary waits for one worker's acknowledgement of a new generation before giving up on it. */
const ACK_TIMEOUT_MS = 15_000;
/** How long a worker gets to stop before it is killed. */
const STOP_TIMEOUT_MS = 10_000;

/**
 * Sends to a worker whose channel may be closing (it exits, or took a signal meant for the whole group): a failed
 * send (EPIPE) is the worker's exit, seen by its 'exit' handler, not an 'error' event that would end the primary.
 */
function sendTo(w: Worker, m: ToWorker): void {
  if (w.isConnected()) w.send(m, () => undefined);
}

const isMessage = (m: unknown): m is ToPrimary => typeof m === 'object' && m !== null && 'tandem' in m;
const live = (): Worker[] => Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && w.isConnected());

export async function startPrimary(deps: ServerDeps): Promise<RunningCluster> {
  // The primary's own figures (zones, transfers, admin changes, the answers it made) plus each worker's
  // (the answers from their caches), summed at each scrape.
  const metrics = deps.metrics ?? new Metrics({ clock: deps.clock ?? systemClock });
  deps = { ...deps, metrics };
  metrics.addWorkers(workerMetrics(deps.logger));
  const { config, logger } = deps;
  const count = config.workers;
  let seq = 0;
  let stopping = false;

  // Generations: a number per served set, bumped when manager.served() is a new object (read lazily, so
  // an answer carries the number of the set it was made from).
  let manager: TandemZoneManager | undefined;
  let gen = 0;
  let genSet: Served | undefined;
  // The zones the latest generation changed (front.ts changedZones; undefined: all), told with its number, and of
  // those the ones whose chain changes the workers get (chainpush.ts patchableZones; `pushNow` sends them).
  let changed: string[] | undefined;
  let patched: string[] = [], cuts: Record<string, string[]> = {};
  // Zones whose denial data went to the workers unasked once, and zones a worker asked for (pushed after each change
  // of theirs, or patched).
  const pushed = new Set<string>(), hot = new Set<string>();
  const generation = (): number => {
    const set = manager?.served();
    if (set !== genSet) {
      changed = set && changedZones(genSet, set);
      const wanted = (z: string) => pushed.has(z) || hot.has(z);
      cuts = set ? compactCuts(genSet, set, changed, wanted) : {};
      patched = set ? [...patchableZones(genSet, set, changed, wanted), ...Object.keys(cuts)] : [];
      genSet = set;
      gen++;
    }
    return gen;
  };
  /** Tells every worker the generation served now, without waiting (a worker's acknowledgement is ignored). */
  const tell = (): void => {
    const g = generation();
    for (const w of live()) sendTo(w, { tandem: 'generation', seq: ++seq, gen: g, changed, patched, cuts });
  };
  /** Tells every worker the generation served now; resolves once each has acknowledged (or exited). */
  const announce = async (): Promise<void> => {
    const g = generation();
    const t0 = performance.now();
    const workers = live();
    await Promise.all(workers.map((w) => new Promise<void>((resolve) => {
      const msg = { tandem: 'generation', seq: ++seq, gen: g, changed, patched, cuts } satisfies ToWorker;
      const done = () => {
        clearTimeout(timer);
        w.off('message', onMessage);
        w.off('exit', done);
        resolve();
      };
      const onMessage = (m: unknown) => {
        if (!isMessage(m) || m.tandem !== 'ack' || m.seq !== msg.seq) return;
        if (m.error) logger.error({ worker: w.id, err: m.error }, 'worker failed to take a new generation');
        done();
      };
      const timer = setTimeout(() => {
        logger.error({ worker: w.id }, 'worker did not acknowledge a new generation in time');
        done();
      }, ACK_TIMEOUT_MS);
      w.on('message', onMessage);
      w.once('exit', done);
      sendTo(w, msg);
    })));
    logger.debug({ generation: g, workers: workers.length, ms: +(performance.now() - t0).toFixed(2) }, 'workers took a new generation');
  };

  // Set once the primary's request path exists (below): pushes each published set's denial data to the workers.
  let pushNow: (() => void) | undefined;
  await checkFolders(config);
  // Messages carry typed arrays (DNS messages), so the IPC channel uses structured clone, not JSON.
  cluster.setupPrimary({ serialization: 'advanced' });

  manager = await createManager(deps, {
    presign: true, // the primary makes every answer that is not in a worker's cache
    afterChange: () => announce(),
    // Every new served set (a transfer, a rollover, a zone coming in at start-up) reaches the workers at once;
    // an admin change also waits for their acknowledgements (afterChange).
    onPublish: () => {
      queueMicrotask(tell);
      // The whole denial data of small zones, to every worker unasked (chainpush.ts), after the generation.
      setImmediate(() => pushNow?.());
    },
  });
  const mgr = manager;
  let transfers: TransferService | undefined;
  // The per-query debug line is the worker's (it names the worker; one line per query): the primary's request path logs no queries.
  const quiet = deps.logger.levelVal < 30 ? deps.logger.child({}, { level: 'info' }) : deps.logger;
  const { handler, close: closeHandler } = queryHandler({ ...deps, logger: quiet }, () => mgr.served(), laterControl(() => transfers));
  // (A cache of its own: the handler says what a worker may keep only to a caller with one.)
  const probe = createHandler(() => mgr.served(), quiet, { clock: deps.clock, cache: new ResponseCache({ max: 100 }) });
  pushNow = () => {
    const set = mgr.served(), g = generation();
    const current = () => !stopping && mgr.served() === set;
    // A zone the workers hold unchanged keeps what they learned of it (front.ts changedZones): not sent again; a
    // patched one gets what changed.
    const now = changed && new Set(changed), patch = new Set(patched);
    const wants = (z: string) => !patch.has(z) && (!pushed.has(z) || (hot.has(z) && (!now || now.has(z))));
    for (const zone of patch) {
      const send = (p: Awaited<ReturnType<typeof chainPatchPush>>) => { if (current()) for (const w of live()) sendTo(w, { tandem: 'chain', zone, gen: g, ...p }); };
      (cuts[zone] ? compactPatchPush(set, zone, probe) : chainPatchPush(set, zone, probe)).then(send, (err: unknown) => {
        logger.error({ err, zone }, 'denial data for the workers failed');
        send({}); // no data: the workers drop what they hold of the zone and ask again
      });
    }
    pushZones(set, probe, wants, current, (p) => {
      pushed.add(p.zone);
      for (const w of live()) sendTo(w, { tandem: 'chain', gen: g, ...p });
    }).catch((err: unknown) => logger.error({ err }, 'denial data for the workers failed'));
  };
  cluster.on('message', (w, m: unknown) => {
    if (!isMessage(m)) return;
    if (m.tandem === 'query') answerFront(m, handler, generation, metrics.queries, logger, (x) => sendTo(w, x));
    else if (m.tandem === 'chain-ask') {
      if (hot.size < 10_000) hot.add(m.zone);
      answerChainAsk(m, mgr.served(), generation, logger, (x) => sendTo(w, x));
    }
  });

  let addresses: Endpoint[] = [];
  let udpIo: DnsListeners['udpIo'] | undefined;
  const fork = (): Promise<Worker> => new Promise((resolve, reject) => {
    const w = cluster.fork();
    const onMessage = (m: unknown) => {
      if (!isMessage(m)) return;
      if (m.tandem === 'ready') {
        addresses = m.addresses;
        udpIo = udpIo === undefined || udpIo === m.udpIo ? m.udpIo : 'mixed';
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
    const all = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);
    await Promise.all(all.map((w) => new Promise<void>((resolve) => {
      if (w.isDead()) return resolve();
      const timer = setTimeout(() => w.kill('SIGKILL'), STOP_TIMEOUT_MS);
      w.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      if (w.isConnected()) sendTo(w, { tandem: 'stop' });
      else w.kill('SIGTERM');
    })));
  };

  try {
    // Each worker binds before any zone is loaded: an address in use ends the start here.
    const started = await Promise.allSettled(Array.from({ length: count }, () => fork()));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (err) {
    stopping = true;
    await stopWorkers();
    throw err;
  }
  // A worker that dies is replaced (after a pause, so a crash loop does not spin); it holds no zone, so it
  // serves as soon as it has bound (its first answers come from the primary).
  cluster.on('exit', (w, code, signal) => {
    if (stopping) return;
    logger.error({ worker: w.id, code, signal }, 'worker exited; starting a new one');
    setTimeout(() => {
      if (!stopping) fork().then((n) => logger.info({ worker: n.id, replaces: w.id }, 'new worker serving every zone'), (err: unknown) => logger.error({ err }, 'worker restart failed'));
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
  const where = { listen: addresses.map(formatEndpoint), api: api.api ? formatEndpoint(api.api) : 'off', metrics: api.metrics && formatEndpoint(api.metrics), workers: count, udpIo };
  logger.info(where, 'listening (udp+tcp); loading zones');

  let checks: { stop(): void } | undefined;
  let keySync: ReturnType<typeof startKeySync> | undefined;
  let rollovers: RunningRollovers | undefined;
  const began = performance.now();
  const loaded = manager.loadZones({ inService: (z) => logLoaded(logger, z) }).then(async (errors) => {
    if (stopping) return errors;
    transfers = startTransfers(deps, mgr);
    keySync = startKeySync(deps, mgr, transfers);
    checks = startParentChecks({ manager: mgr, logger, resolver: config.parentResolver, intervalSeconds: config.parentCheckInterval });
    rollovers = await startRollovers(deps, mgr);
    logLoadEnd(logger, mgr, errors, { ...where, ms: Math.round(performance.now() - began) });
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
      const errs = await mgr.reload();
      for (const err of errs) logger.error({ err: err.message }, 'zone reload failed; last good version stays in service');
      transfers?.reloaded();
      await announce();
      logger.info({ zones: mgr.served().zones.zones().map((z) => z.origin.toString()) }, 'zones reloaded');
      return errs;
    },
    async stop() {
      stopping = true;
      checks?.stop();
      const syncing = keySync?.stop();
      rollovers?.stop();
      transfers?.stop();
      await stopWorkers();
      closeHandler();
      await Promise.all([api.close(), syncing]);
      logger.info('stopped');
    },
  };
}

/**
 * The worker side: bind the listeners and tell the primary, then answer from the cache or through the
 * primary (server/front.ts) until told to stop (exit 0). Signals are the primary's business: SIGINT (a
 * terminal's Ctrl-C reaches the whole group) and SIGHUP are ignored here; SIGTERM stops this worker
 * gracefully. A worker whose primary is gone exits.
 */
export async function startWorker(deps: ServerDeps): Promise<void> {
  // Cache and query figures for the answers from this worker's cache; the primary asks for them at each scrape.
  const metrics = deps.metrics ?? new Metrics({ clock: deps.clock ?? systemClock });
  deps = { ...deps, metrics };
  answerPrimary(metrics);
  const { logger } = deps;
  const send = (m: ToPrimary) => process.send?.(m);
  process.on('SIGINT', () => undefined);
  process.on('SIGHUP', () => undefined);

  const cache = new ResponseCache();
  metrics.watchCache(cache);
  const learned = new LearnedDenial();
  metrics.watchLearned(learned);
  // The compact denials this worker signs itself (learned.ts) wait in a budget of their own, as the primary's do.
  const config = deps.config;
  const budget = config.signingQueue === false ? undefined
    : new SigningBudget({ limit: config.signingQueue, overflow: config.signingOverflow, logger: logger.child({ component: 'signing-budget' }) });
  if (budget) metrics.watchBudget(budget);
  const front = createFront(send, logger.child({ component: 'query' }), { clock: deps.clock ?? systemClock, cache, learned, queries: metrics.queries, budget, askZone: send });
  let dns: Awaited<ReturnType<typeof listenDns>>;
  try {
    dns = await listenDns(deps, front.handler, (resp) => front.wildcardParent(resp));
  } catch (err) {
    send({ tandem: 'failed', error: (err as Error).message });
    process.exit(1);
  }

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await dns.close();
    budget?.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('disconnect', () => void stop());
  process.on('message', (m: ToWorker) => {
    if (typeof m !== 'object' || m === null || !('tandem' in m)) return;
    switch (m.tandem) {
      case 'stop': void stop(); break;
      case 'answer': case 'answer-more': case 'chain': front.receive(m); break;
      case 'generation':
        front.generation(m.gen, m.changed, m.patched, m.cuts);
        send({ tandem: 'ack', seq: m.seq });
        break;
    }
  });
  send({ tandem: 'ready', addresses: dns.addresses, udpIo: dns.udpIo });
}
