// The worker thread a fuzz target runs in (harness.ts starts it): TypeScript through tsx, then run.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { runTarget } = await import('./run.ts');
parentPort.postMessage(await runTarget(workerData));
