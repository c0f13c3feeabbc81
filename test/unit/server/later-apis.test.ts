// The admin API's views of services that start once the zones are loaded (server.ts): before that, a request
// is answered 503 with a message saying so (the client may retry), not a 500 as for a fault.
import { describe, expect, it } from 'vitest';
import { laterSyncApi } from '../../../src/server/server.js';
import { ApiError } from '../../../src/api/envelope.js';
import type { SyncApi } from '../../../src/update/sync/types.js';
import { Name } from '../../../src/dns/name.js';

const z = Name.fromText('example.com.');

describe('key sync API before the zones are loaded', () => {
  it('status, run and remove answer 503 until the service exists, then reach it', async () => {
    let service: SyncApi | undefined;
    const api = laterSyncApi(() => service);
    for (const call of [() => api.status(z), () => api.run(z), () => api.remove(z, 'peer', {} as never)]) {
      const err = await call().then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).status).toBe(503);
      expect((err as Error).message).toMatch(/once the zones are loaded/);
    }
    expect(api.notifications(z)).toEqual([]);
    service = { status: async () => 'ok' as never, run: async () => 'ran' as never, remove: async () => 'gone' as never, notifications: () => [] };
    expect(await api.status(z)).toBe('ok');
  });
});
