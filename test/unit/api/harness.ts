// Starts the admin API on 127.0.0.1:0 over a FakeManager, with one credential of each kind.
import { pino } from 'pino';
import { sha256Hex, type ApiAuthConfig } from '../../../src/api/auth.js';
import { startApi, type RunningApi } from '../../../src/api/server.js';
import { RRType } from '../../../src/dns/types.js';
import { FakeManager } from '../../helpers/fake-manager.js';

export const TOKEN = 'test-token-0123456789';
export const EMAIL = 'admin@example.com';
export const KEY = 'global-key-abcdef';
export const NS1_KEY = 'ns1-key-xyz';

export const CF = { authorization: `Bearer ${TOKEN}` };
export const LEGACY = { 'x-auth-email': EMAIL, 'x-auth-key': KEY };
export const NS1 = { 'x-nsone-key': NS1_KEY };

export interface Harness {
  api: RunningApi;
  manager: FakeManager;
  base: string;
  zoneId: string;
  call(method: string, path: string, opts?: { body?: unknown; raw?: string | Buffer; headers?: Record<string, string> }): Promise<{ status: number; json: any; headers: Headers }>;
  close(): Promise<void>;
}

export async function startHarness(maxBody?: number): Promise<Harness> {
  const manager = new FakeManager([
    {
      name: 'example.com',
      records: [
        { name: 'www', type: RRType.A, ttl: 300, rdata: Uint8Array.of(192, 0, 2, 1) },
        { name: 'www', type: RRType.A, ttl: 300, rdata: Uint8Array.of(192, 0, 2, 2) },
        { name: 'mail', type: RRType.A, ttl: 600, rdata: Uint8Array.of(192, 0, 2, 25) },
      ],
    },
    { name: 'example.net' },
  ]);
  const auth: ApiAuthConfig = { tokens: [sha256Hex(TOKEN)], users: [{ email: EMAIL, keyHash: sha256Hex(KEY) }], ns1Keys: [sha256Hex(NS1_KEY)] };
  const api = await startApi({ manager, auth, at: { host: '127.0.0.1', port: 0 }, logger: pino({ level: 'silent' }), maxBody });
  const base = `http://127.0.0.1:${api.address.port}`;
  const zoneId = manager.zones()[0].id;
  return {
    api, manager, base, zoneId,
    async call(method, path, opts = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? CF) };
      let body: string | Buffer | undefined;
      if (opts.raw !== undefined) body = opts.raw;
      else if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
        headers['content-type'] = 'application/json';
      }
      const res = await fetch(base + path, { method, headers, body: body as BodyInit | undefined });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : undefined, headers: res.headers };
    },
    close: () => api.close(),
  };
}
