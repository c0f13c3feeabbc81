// `tandem serve --workers 2 --api off --metrics HOST:PORT` as a user runs it: no admin API, the primary serves
// /health, /ready and /metrics on the metrics listener, and /metrics holds the sum of both workers' counts
// (TCP connections go to the workers round-robin, so each answers some; the debug lines say which).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig } from '../helpers/dig.js';
import { serve, type ServeProcess } from '../helpers/cli.js';
import { scrape } from '../helpers/prom.js';
import { EXAMPLE_ZONES } from '../helpers/zones.js';

let dir: string;
let p: ServeProcess;
let base: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-monitoring-workers-'));
  await cp(EXAMPLE_ZONES, join(dir, 'zones'), { recursive: true });
  p = await serve(['--zones', join(dir, 'zones'), '--state', join(dir, 'state'), '--workers', '2', '--api', 'off', '--metrics', '127.0.0.1:0', '--log-level', 'debug'], {}, 60_000);
  base = `http://${/"metrics":"([^"]+)"/.exec(p.logs())![1]}`;
}, 75_000);
afterAll(async () => {
  if (p?.child.exitCode === null) p.child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

/** Worker ids that logged a query for `qname` (lines of several processes share one pipe: match, do not parse). */
const answeredBy = (qname: string) =>
  new Set(p.logs().split('\n')
    .filter((l) => l.includes('"msg":"query"') && l.includes(`"qname":"${qname}"`))
    .map((l) => /"worker":(\d+)/.exec(l)?.[1])
    .filter((w): w is string => w !== undefined));

describe('tandem serve --workers 2 --api off --metrics 127.0.0.1:0', () => {
  it('logs the API off and the metrics address; /health and /ready answer there', async () => {
    expect(p.logs()).toMatch(/"api":"off"/);
    expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: 'ok' });
    const r = await fetch(`${base}/ready`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ ready: true, zones: 1 });
  });

  it('/metrics sums both workers: 10 TCP and 10 UDP queries count 20, and both workers answered some', async () => {
    const at = { host: '127.0.0.1', port: p.port };
    for (let i = 0; i < 10; i++) expect((await dig(at, ['+tcp', 'www.example.com', 'TXT'])).status).toBe('NOERROR');
    for (let i = 0; i < 10; i++) expect((await dig(at, ['www.example.com', 'TXT'])).status).toBe('NOERROR');
    expect(answeredBy('www.example.com.').size).toBe(2);
    // The per-query debug line names the client.
    expect(p.logs()).toMatch(/"client":"127\.0\.0\.1#\d+","qname":"www\.example\.com\."/);
    const m = await scrape(`${base}/metrics`);
    expect(m.value('tandem_queries_total', { zone: 'example.com.', type: 'TXT' })).toBe(20);
    expect(m.value('tandem_queries_total', { zone: 'example.com.', type: 'TXT', transport: 'tcp' })).toBe(10);
    // Zone figures come from the primary alone: the serial is not summed.
    expect(m.value('tandem_zone_serial', { zone: 'example.com.' })).toBe(2026112401);
    // The primary alone holds the zone and presigned it at load (the workers hold no zone, issue 16).
    const presigned = m.value('tandem_signatures_total', { path: 'presign' });
    expect(presigned).toBeGreaterThan(0);
    // The workers read and answer UDP in batches (udp-io auto, the addon built by npm test): the 10 UDP queries
    // were read by recvmmsg and answered by sendmmsg, in both workers.
    expect(p.logs()).toMatch(/"udpIo":"batched"/);
    expect(m.value('tandem_udp_batched_datagrams_total', { direction: 'received' })).toBeGreaterThanOrEqual(10);
    expect(m.value('tandem_udp_batched_datagrams_total', { direction: 'sent' })).toBeGreaterThanOrEqual(10);
    expect(m.value('tandem_udp_batches_total')).toBeGreaterThan(0);
  });

  it('SIGTERM stops the primary and the workers (exit 0)', async () => {
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });
});
