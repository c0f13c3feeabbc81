// A torn key file is a clear error for that zone, never a silent new key (a new KSK would break the chain of
// trust at the parent): the zone is not served, the other zones are, and the key files are left as they were.
import { afterAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { defaults } from '../../src/config/server.js';
import { startServer } from '../../src/server/server.js';
import { dig } from '../helpers/dig.js';
import { EXAMPLE_ZONES } from '../helpers/zones.js';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe('torn key files', () => {
  it('a truncated .private keeps the zone out of service with an error naming the file; nothing is regenerated', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-badkeys-'));
    dirs.push(dir);
    const zones = join(dir, 'zones');
    const state = join(dir, 'state');
    await cp(EXAMPLE_ZONES, zones, { recursive: true });
    await cp('test/fixtures/multisigner/ms.test.yaml', join(zones, 'ms.test.yaml'));
    const lines: string[] = [];
    const logger = pino({ level: 'error' }, { write: (l: string) => void lines.push(l) });
    const config = { ...defaults, zones, state, listen: [{ host: '127.0.0.1', port: 0 }], api: { host: '127.0.0.1', port: 0 }, logLevel: 'error' as const, apiToken: 't' };
    let s = await startServer({ config, logger, env: {} });
    await s.stop();

    const keyDir = join(state, 'keys', 'example.com');
    const priv = (await readdir(keyDir)).find((f) => f.endsWith('.private'))!;
    const torn = (await readFile(join(keyDir, priv), 'utf8')).slice(0, 40);
    await writeFile(join(keyDir, priv), torn);
    const before = (await readdir(keyDir)).sort();

    s = await startServer({ config, logger, env: {} });
    try {
      const port = s.addresses[0].port;
      expect((await dig({ host: '127.0.0.1', port }, ['+norec', 'www.example.com', 'A'])).status).toBe('REFUSED');
      expect((await dig({ host: '127.0.0.1', port }, ['+norec', 'www.ms.test', 'A'])).answer).toHaveLength(1);
      expect(lines.join('\n')).toContain(priv);
      expect((await readdir(keyDir)).sort()).toEqual(before);
      expect(await readFile(join(keyDir, priv), 'utf8')).toBe(torn);
    } finally {
      await s.stop();
    }
  });
});
