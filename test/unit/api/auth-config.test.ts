import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkCloudflareAuth, checkNs1Auth, resolveApiAuth, secretHash, sha256Hex, ApiAuthConfigError } from '../../../src/api/auth.js';
import { ApiError } from '../../../src/api/envelope.js';

let dir: string;
const logger = pino({ level: 'silent' });
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'tandem-auth-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

describe('resolveApiAuth', () => {
  it('config secrets may be plain or `sha256:<hex>`; both are stored hashed', async () => {
    const { auth, generated } = await resolveApiAuth({
      configured: { tokens: ['plain', `sha256:${sha256Hex('hashed').toUpperCase()}`], users: [{ email: 'A@Example.com', key: 'k' }], ns1_keys: ['n'] },
      env: {}, stateDir: dir, logger,
    });
    expect(generated).toBeUndefined();
    expect(auth.tokens).toEqual([sha256Hex('plain'), sha256Hex('hashed')]);
    expect(auth.users).toEqual([{ email: 'a@example.com', keyHash: sha256Hex('k') }]);
    expect(auth.ns1Keys).toEqual([sha256Hex('n')]);
    expect(JSON.stringify(auth)).not.toContain('plain');
  });

  it('flag and environment sources add to the config', async () => {
    const { auth } = await resolveApiAuth({
      env: { TANDEM_API_TOKEN: 't-env', TANDEM_AUTH_EMAIL: 'x@y.z', TANDEM_AUTH_KEY: 'key', TANDEM_NS1_KEY: 'ns1' },
      flagToken: 't-flag', stateDir: dir, logger,
    });
    expect(auth.tokens).toEqual([sha256Hex('t-flag'), sha256Hex('t-env')]);
    expect(auth.users).toEqual([{ email: 'x@y.z', keyHash: sha256Hex('key') }]);
    expect(auth.ns1Keys).toEqual([sha256Hex('ns1')]);
  });

  it('TANDEM_AUTH_EMAIL without TANDEM_AUTH_KEY is a configuration error', async () => {
    await expect(resolveApiAuth({ env: { TANDEM_AUTH_EMAIL: 'x@y.z' }, stateDir: dir, logger })).rejects.toBeInstanceOf(ApiAuthConfigError);
  });

  it('a malformed api_auth section names the field', async () => {
    await expect(resolveApiAuth({ configured: { tokens: 'one' }, env: {}, stateDir: dir, logger })).rejects.toThrow(/api_auth\.tokens/);
    await expect(resolveApiAuth({ configured: { users: [{ email: 'a@b.c' }] }, env: {}, stateDir: dir, logger })).rejects.toThrow(/api_auth\.users\.0\.key/);
  });

  it('nothing configured: generates a token in <state>/api-token (0600) once and reuses it', async () => {
    const state = join(dir, 'state');
    const first = await resolveApiAuth({ env: {}, stateDir: state, logger });
    expect(first.generated?.tokenFile).toBe(join(state, 'api-token'));
    const token = (await readFile(join(state, 'api-token'), 'utf8')).trim();
    expect(token.length).toBeGreaterThanOrEqual(40);
    expect((await stat(join(state, 'api-token'))).mode & 0o777).toBe(0o600);
    expect(first.auth.tokens).toEqual([sha256Hex(token)]);
    const second = await resolveApiAuth({ env: {}, stateDir: state, logger });
    expect(second.auth.tokens).toEqual(first.auth.tokens);
  });

  it('secretHash keeps a given digest and hashes anything else', () => {
    expect(secretHash('sha256:' + 'A'.repeat(64))).toBe('a'.repeat(64));
    expect(secretHash('sha256:short')).toBe(sha256Hex('sha256:short'));
  });
});

describe('header checks', () => {
  const auth = { tokens: [sha256Hex('tok')], users: [{ email: 'a@b.c', keyHash: sha256Hex('key') }], ns1Keys: [sha256Hex('n')] };
  const code = (headers: Record<string, string>) => {
    try { checkCloudflareAuth(headers, auth); return 0; } catch (e) { return (e as ApiError).errors[0].code; }
  };

  it('a bearer header wins over email/key headers sent alongside', () => {
    expect(code({ authorization: 'Bearer tok', 'x-auth-email': 'wrong', 'x-auth-key': 'wrong' })).toBe(0);
    expect(code({ authorization: 'Bearer nope', 'x-auth-email': 'a@b.c', 'x-auth-key': 'key' })).toBe(10000);
  });

  it('an empty credential store accepts nothing', () => {
    const empty = { tokens: [], users: [], ns1Keys: [] };
    expect(() => checkCloudflareAuth({ authorization: 'Bearer ' }, empty)).toThrow(ApiError);
    expect(() => checkCloudflareAuth({ authorization: 'Bearer x' }, empty)).toThrow(ApiError);
    expect(checkNs1Auth({ 'x-nsone-key': '' }, empty)).toBe(false);
  });

  it('NS1 key check', () => {
    expect(checkNs1Auth({ 'x-nsone-key': 'n' }, auth)).toBe(true);
    expect(checkNs1Auth({ 'x-nsone-key': 'tok' }, auth)).toBe(true);
    expect(checkNs1Auth({ 'x-nsone-key': 'key' }, auth)).toBe(false);
    expect(checkNs1Auth({}, auth)).toBe(false);
  });
});
