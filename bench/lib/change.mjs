// One admin-API record change on a running tandem (the large-zone figure of the scale part, and the window of
// the change profile): POST /zones/{id}/dns_records adding one A record, timed to the API's answer and to the
// first signed DNS answer for the new name, with the resident set of tandem's process tree sampled throughout.
import { run, treeRssBytes, sleep } from './proc.mjs';
import { ORIGIN } from './zonegen.mjs';

const ZONE = ORIGIN.replace(/\.$/, '');

async function api({ url, token }, method, path, body, timeoutMs) {
  const res = await fetch(`${url}/client/v4${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const json = await res.json().catch(() => ({}));
  return { status: res.status, json };
}

async function signedA(port, name, address) {
  const r = await run('dig', ['@127.0.0.1', '-p', String(port), '+dnssec', '+norec', '+time=1', '+tries=1', name, 'A'], { timeoutMs: 5000 }).catch(() => undefined);
  return !!r && r.stdout.includes(address) && /\sRRSIG\s+A\s/.test(r.stdout);
}

/**
 * Adds `bench-change-<n>.bench.test. A 10.255.255.1` through the admin API of `handle` (started by
 * servers.mjs tandem(), so handle.api is set) and measures it. Resolves
 * { postMs, visibleMs, status, rssBeforeBytes, rssPeakBytes, rssAfterBytes, settleMs, error? } (times from
 * sending the POST; rssAfter is sampled `settleMs` after the name answers). Never throws.
 */
export async function adminChange({ handle, port, timeoutMs = 300_000, settleMs = 2000, onWindow }) {
  const out = { settleMs };
  const name = `bench-change-${Date.now().toString(36)}.${ZONE}`;
  const address = '10.255.255.1';
  let peak = 0;
  const sampler = setInterval(() => { peak = Math.max(peak, treeRssBytes(handle.pid)); }, 100);
  try {
    const zones = await api(handle.api, 'GET', `/zones?name=${ZONE}`, undefined, 30_000);
    const id = zones.json?.result?.[0]?.id;
    if (!id) throw new Error(`GET /zones?name=${ZONE}: ${zones.status} ${JSON.stringify(zones.json).slice(0, 200)}`);
    out.rssBeforeBytes = treeRssBytes(handle.pid);
    peak = out.rssBeforeBytes;
    const t0 = performance.now();
    onWindow?.('start');
    const post = await api(handle.api, 'POST', `/zones/${id}/dns_records`, { type: 'A', name, content: address, ttl: 300 }, timeoutMs);
    out.postMs = performance.now() - t0;
    out.status = post.status;
    if (post.status !== 200 || !post.json?.success) throw new Error(`POST dns_records: ${post.status} ${JSON.stringify(post.json?.errors ?? post.json).slice(0, 300)}`);
    while (!(await signedA(port, name, address))) {
      if (performance.now() - t0 > timeoutMs) throw new Error(`${name} not answered ${timeoutMs} ms after the POST`);
      if (!handle.alive) throw new Error(`tandem exited after the POST: ${JSON.stringify(handle.exitInfo)}`);
      await sleep(50);
    }
    out.visibleMs = performance.now() - t0;
    onWindow?.('end');
    await sleep(settleMs);
    out.rssAfterBytes = treeRssBytes(handle.pid);
  } catch (err) {
    out.error = err.message;
    onWindow?.('end');
  } finally {
    clearInterval(sampler);
    out.rssPeakBytes = Math.max(peak, out.rssAfterBytes ?? 0);
  }
  return out;
}
