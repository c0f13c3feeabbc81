// Signing throughput: tandem's NodeSigner (one thread, then one worker_thread per core) beside
// `openssl speed ecdsap256` (and `-multi <cores>`) run in the same process tree, plus @noble/curves.
import { Worker } from 'node:worker_threads';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { run } from './proc.mjs';

/** A typical TBS: about the size of RRSIG RDATA minus signature + one canonical A RRset (RFC 4034 §3.1.8.1). */
export const TBS_BYTES = 100;

/** Parses `openssl speed ... ecdsap256`: the "256 bits ecdsa (nistp256) ... sign/s verify/s" row. */
export function parseOpensslSpeed(text) {
  const m = /256 bits ecdsa \(nistp256\)\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)\s+([\d.]+)/.exec(text);
  if (!m) throw new Error(`no ecdsa (nistp256) row in openssl speed output:\n${text.slice(-800)}`);
  return { signPerSec: Number(m[1]), verifyPerSec: Number(m[2]) };
}

export async function opensslSpeed(seconds, multi) {
  const args = ['speed', '-seconds', String(seconds)];
  if (multi && multi > 1) args.push('-multi', String(multi));
  args.push('ecdsap256');
  // openssl measures sign and verify for `seconds` each.
  const r = await run('openssl', args, { timeoutMs: (seconds * 2 + 60) * 1000 });
  const version = (await run('openssl', ['version'], { timeoutMs: 5000 })).stdout.trim();
  return { ...parseOpensslSpeed(r.stdout + r.stderr), version, command: `openssl ${args.join(' ')}` };
}

const WORKER = new URL('./sign-worker.mjs', import.meta.url);

/** Runs `threads` workers at once, each signing for `seconds`; returns the summed and per-worker rates. */
export async function signInWorkers({ repo, kind, threads, seconds }) {
  const signerUrl = pathToFileURL(join(repo, 'dist/dnssec/signer.js')).href;
  const keysUrl = pathToFileURL(join(repo, 'dist/dnssec/keys.js')).href;
  const tbs = randomBytes(TBS_BYTES);
  const workers = Array.from({ length: threads }, () => new Worker(WORKER, { workerData: { kind, signerUrl, keysUrl, tbs, seconds } }));
  // All workers set up their keys, then start together on a shared signal.
  const ready = workers.map((w) => new Promise((res, rej) => { w.once('message', res); w.once('error', rej); }));
  await Promise.all(ready);
  const done = workers.map((w) => new Promise((res, rej) => { w.once('message', res); w.once('error', rej); w.once('exit', (c) => c !== 0 && rej(new Error(`sign worker exited ${c}`))); }));
  for (const w of workers) w.postMessage('go');
  const results = await Promise.all(done);
  await Promise.all(workers.map((w) => w.terminate()));
  const perWorker = results.map((r) => r.count / r.seconds);
  return { signPerSec: perWorker.reduce((a, b) => a + b, 0), perWorker };
}
