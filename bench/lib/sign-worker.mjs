// One signing loop in a worker_thread: tandem's NodeSigner (the Signer contract: async sign(tbs)) or
// @noble/curves p256 (RFC 6979, what tandem's NobleSigner uses) for reference.
import { parentPort, workerData } from 'node:worker_threads';

const { kind, signerUrl, keysUrl, tbs, seconds } = workerData;
const data = new Uint8Array(tbs);

let signOnce;
if (kind === 'tandem') {
  const { NodeSigner } = await import(signerUrl);
  const { generateKey } = await import(keysUrl);
  const signer = new NodeSigner(generateKey(256));
  signOnce = () => signer.sign(data);
} else {
  const { p256 } = await import('@noble/curves/nist.js');
  const secret = p256.utils.randomSecretKey();
  signOnce = () => p256.sign(data, secret, { prehash: true, lowS: true });
}
// Warm up the JIT and the key's precomputation before the clock starts.
for (let i = 0; i < 200; i++) await signOnce();
parentPort.postMessage({ ready: true });
await new Promise((r) => parentPort.once('message', r));

let count = 0;
const t0 = performance.now();
const end = t0 + seconds * 1000;
let now = t0;
while (now < end) {
  for (let i = 0; i < 64; i++) await signOnce();
  count += 64;
  now = performance.now();
}
parentPort.postMessage({ count, seconds: (now - t0) / 1000 });
