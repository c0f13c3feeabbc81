// Metrics across --workers N (server/cluster.ts): the primary asks every connected worker for its figures
// over the cluster's IPC channel and sums them with its own (registry.ts). Messages carry their own key,
// `tandemMetrics`, so the cluster's `tandem` messages are untouched (prom-client's own cluster listeners,
// which use its global registry, are not used).
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { Metrics, MetricsJson } from './registry.js';

type Request = { tandemMetrics: 'get'; id: number };
type Reply = { tandemMetrics: 'values'; id: number; metrics?: MetricsJson; error?: string };

/** How long the primary waits for a worker's figures; a worker that does not answer is left out of that scrape. */
const WORKER_TIMEOUT_MS = 2000;

/** Worker side: answer the primary's requests with this process's figures. */
export function answerPrimary(metrics: Metrics): void {
  process.on('message', (m: unknown) => {
    if (typeof m !== 'object' || m === null || (m as Request).tandemMetrics !== 'get') return;
    const id = (m as Request).id;
    metrics.json().then(
      (values) => process.send?.({ tandemMetrics: 'values', id, metrics: values } satisfies Reply),
      (err: unknown) => process.send?.({ tandemMetrics: 'values', id, error: (err as Error).message } satisfies Reply),
    );
  });
}

/** Primary side: every connected worker's figures (those that answer within the timeout). */
export function workerMetrics(logger: Logger): () => Promise<MetricsJson[]> {
  let next = 0;
  return async () => {
    const live = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && w.isConnected());
    const got = await Promise.all(live.map((w) => new Promise<MetricsJson | undefined>((resolve) => {
      const id = ++next;
      const done = (v: MetricsJson | undefined) => {
        clearTimeout(timer);
        w.off('message', onMessage);
        w.off('exit', onExit);
        resolve(v);
      };
      const onMessage = (m: unknown) => {
        if (typeof m !== 'object' || m === null || (m as Reply).tandemMetrics !== 'values' || (m as Reply).id !== id) return;
        if ((m as Reply).error) logger.error({ worker: w.id, err: (m as Reply).error }, 'worker metrics failed');
        done((m as Reply).metrics);
      };
      const onExit = () => done(undefined);
      const timer = setTimeout(() => {
        logger.warn({ worker: w.id }, 'worker did not send its metrics in time; left out of this scrape');
        done(undefined);
      }, WORKER_TIMEOUT_MS);
      w.on('message', onMessage);
      w.once('exit', onExit);
      w.send({ tandemMetrics: 'get', id } satisfies Request);
    })));
    return got.filter((v): v is MetricsJson => v !== undefined);
  };
}
