// The server config's operations keys: `api: off` (flag or file) turns the admin API off, `metrics:` names a
// listener for /health, /ready and /metrics, `metrics-auth` puts /metrics on the API behind its credentials.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, defaults, resolveConfig } from '../../../src/config/server.js';

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'tandem-config-')); });
afterAll(() => rm(dir, { recursive: true, force: true }));
const file = async (text: string) => {
  const f = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(f, text);
  return f;
};

describe('api, metrics, metrics-auth', () => {
  it('defaults: the API on 127.0.0.1:8053, no metrics listener, /metrics without credentials', async () => {
    const c = await resolveConfig({});
    expect(c.api).toEqual(defaults.api);
    expect(c.metrics).toBeUndefined();
    expect(c.metricsAuth).toBe(false);
  });

  it('--api off, and api: off or api: false in the file, turn the admin API off', async () => {
    expect((await resolveConfig({ api: 'off' })).api).toBe(false);
    expect((await resolveConfig({}, await file('api: off\n'))).api).toBe(false);
    expect((await resolveConfig({}, await file('api: false\n'))).api).toBe(false);
    // A flag wins over the file.
    expect((await resolveConfig({ api: '127.0.0.1:9000' }, await file('api: off\n'))).api).toEqual({ host: '127.0.0.1', port: 9000 });
  });

  it('metrics: HOST:PORT and metrics-auth: true', async () => {
    const c = await resolveConfig({ metrics: '[::1]:9153' }, await file('metrics-auth: true\n'));
    expect(c.metrics).toEqual({ host: '::1', port: 9153 });
    expect(c.metricsAuth).toBe(true);
    await expect(resolveConfig({ metrics: 'nowhere' })).rejects.toThrow(ConfigError);
    await expect(resolveConfig({}, await file('metrics-auth: sometimes\n'))).rejects.toThrow(/metrics-auth.*true or false/);
  });
});

describe('signing-queue, signing-overflow (server/budget.ts)', () => {
  it('defaults: 1000 fresh signatures may wait, the overflow is answered TC=1', async () => {
    const c = await resolveConfig({});
    expect(c.signingQueue).toBe(1000);
    expect(c.signingOverflow).toBe('tc');
  });

  it('a number (0 included), off, and drop; anything else is an error naming the key', async () => {
    expect((await resolveConfig({}, await file('signing-queue: 0\nsigning-overflow: drop\n')))).toMatchObject({ signingQueue: 0, signingOverflow: 'drop' });
    expect((await resolveConfig({}, await file('signing-queue: off\n'))).signingQueue).toBe(false);
    expect((await resolveConfig({ 'signing-queue': '250' })).signingQueue).toBe(250);
    await expect(resolveConfig({}, await file('signing-queue: -1\n'))).rejects.toThrow(/signing-queue.*integer/);
    await expect(resolveConfig({}, await file('signing-overflow: servfail\n'))).rejects.toThrow(/signing-overflow.*tc or drop/);
  });
});
