// Replays the curl calls of the provider documents (seeds 000 and 002) with real curl against a running tandem,
// then checks the result with dig, as the document does (`dig <zone> dnskey @ns +noall +answer | grep 256`).
// The commands are read from the seed files themselves; only placeholders are filled in, the shell prompt `$ `
// is dropped and trailing blanks after a line-continuation backslash are trimmed (seed 000 step 1 has `\ `,
// which a shell would read as an escaped space ending the command).
import { execFile } from 'node:child_process';
import { createECDH } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool } from '../helpers/dig.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const SEEDS = '/work/shared/seeds';
const EMAIL = 'lab@example.com';
const KEY = 'seed-global-key-0123456789';
const ZONE = 'example.com';
const NS_DOMAIN = 'ns1.other-provider.test';

function seedText(prefix: string): string {
  const file = readdirSync(SEEDS).find((f) => f.startsWith(prefix));
  if (!file) throw new Error(`seed ${prefix}_* not found in ${SEEDS}`);
  return readFileSync(join(SEEDS, file), 'utf8');
}

/** The shell commands of every ```bash block that runs curl or dig. */
function commands(seed: string): string[] {
  const out: string[] = [];
  for (const m of seed.matchAll(/```bash\n([\s\S]*?)```/g)) {
    const text = m[1].split('\n').map((l) => l.replace(/^\$ /, '').replace(/\\[ \t]+$/, '\\')).join('\n').trim();
    if (/^(curl|dig)\b/.test(text)) out.push(text);
  }
  return out;
}

/** A real P-256 public key (x || y, RFC 6605 §4), base64: the other provider's ZSK. */
function otherProviderKey(): string {
  // ECDH's key generation, not generateKeyPairSync + export (a Node 20 deadlock: src/dnssec/keys.ts generateKey).
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return ecdh.getPublicKey().subarray(1).toString('base64'); // 0x04 || x || y
}

interface Run { code: number; stdout: string; json: any }

function sh(script: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', script], { timeout: 20_000 }, (err, stdout) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : 1) : 0;
      let json: any;
      // curl prints the response body; with the -data mistake it prints it once, then fails on the "second URL".
      const body = stdout.trim();
      try { json = body.startsWith('{') ? JSON.parse(body.slice(0, body.lastIndexOf('}') + 1)) : undefined; } catch { json = undefined; }
      resolve({ code, stdout, json });
    });
  });
}

function fill(cmd: string, t: TestServer, zoneId: string, pub: string): string {
  return cmd
    .replaceAll('https://api.cloudflare.com/client/v4', `${t.api}/client/v4`)
    .replaceAll('{zone_id}', zoneId)
    .replaceAll('<EMAIL>', EMAIL)
    .replaceAll('<API_KEY>', KEY)
    .replaceAll('<KEY>', KEY)
    .replaceAll('<ZONE_NAME>', ZONE)
    .replaceAll('<PUBLIC_KEY>', pub)
    .replaceAll('<NS_DOMAIN>', NS_DOMAIN)
    .replaceAll('@<CLOUDFLARE_NAMESERVER>', `@${t.host} -p ${t.port} +tries=1 +time=3`);
}

async function startLab(): Promise<{ t: TestServer; zoneId: string }> {
  const t = await startTestServer({ config: { apiAuth: { users: [{ email: EMAIL, key: KEY }] } } });
  const res = await fetch(`${t.api}/client/v4/zones?name=${ZONE}`, { headers: { 'x-auth-email': EMAIL, 'x-auth-key': KEY } });
  const zoneId = ((await res.json()) as any).result[0].id as string;
  return { t, zoneId };
}

beforeAll(() => {
  requireTool('curl', 'curl');
  requireTool('dig', 'bind9-dnsutils');
});

describe('seed 000: Cloudflare multi-signer setup, replayed with curl', () => {
  let t: TestServer;
  let zoneId: string;
  const pub = otherProviderKey();
  const cmds = commands(seedText('000'));
  const find = (re: RegExp) => {
    const c = cmds.find((x) => re.test(x));
    if (!c) throw new Error(`no command matching ${re} in seed 000`);
    return c;
  };
  const step1 = () => find(/dnssec' \\\n[\s\S]*"dnssec_multi_signer": true/);
  const step2 = () => find(/"type": "DNSKEY"/);
  const step3 = () => find(/"type": "NS"/);
  const step4 = () => find(/use_apex_ns/);
  const zsk = () => find(/dnssec\/zsk/);
  const digCmd = () => find(/^dig /);

  beforeAll(async () => { ({ t, zoneId } = await startLab()); });
  afterAll(async () => { await t?.stop(); });

  it('the seed has the six commands this test replays', () => {
    expect(cmds).toHaveLength(6);
  });

  it('step 1 as printed (`\\ ` ends the command before its headers) is refused without changing anything', async () => {
    const raw = seedText('000').split('\n');
    const first = raw.find((l) => l.startsWith('$ curl --request PATCH') && l.endsWith('\\ '))!;
    expect(first).toBeDefined();
    const details = async () => {
      const d = await fetch(`${t.api}/client/v4/zones/${zoneId}/dnssec`, { headers: { 'x-auth-email': EMAIL, 'x-auth-key': KEY } });
      return ((await d.json()) as any).result;
    };
    const before = await details();
    const r = await sh(fill(first.replace(/^\$ /, ''), t, zoneId, pub));
    expect(r.json).toMatchObject({ success: false, errors: [{ code: 9106 }] });
    expect(await details()).toEqual(before);
    expect(before.dnssec_multi_signer).toBe(false);
  });

  it('step 1: PATCH /dnssec {status: active, dnssec_multi_signer: true}', async () => {
    const r = await sh(fill(step1(), t, zoneId, pub));
    expect(r.code).toBe(0);
    expect(r.json.success).toBe(true);
    expect(['pending', 'active']).toContain(r.json.result.status);
    expect(r.json.result).toMatchObject({ dnssec_multi_signer: true, algorithm: '13', digest_type: '2', flags: 257 });
  });

  it("step 2: POST /dns_records with the other provider's ZSK as a DNSKEY record", async () => {
    const r = await sh(fill(step2(), t, zoneId, pub));
    expect(r.code).toBe(0);
    expect(r.json.success).toBe(true);
    expect(r.json.result).toMatchObject({ type: 'DNSKEY', name: ZONE, ttl: 3600, content: `256 3 13 ${pub}` });
    expect(r.json.result.data).toEqual({ flags: 256, protocol: 3, algorithm: 13, public_key: pub });
  });

  it('step 3 as printed (NS record sent to PATCH /dnssec) -> 400 pointing at POST dns_records; corrected, it works', async () => {
    const printed = await sh(fill(step3(), t, zoneId, pub));
    expect(printed.json.success).toBe(false);
    expect(printed.json.errors[0].message).toContain(`POST /zones/${zoneId}/dns_records`);
    const corrected = fill(step3(), t, zoneId, pub).replace('--request PATCH', '--request POST').replace(`/zones/${zoneId}/dnssec'`, `/zones/${zoneId}/dns_records'`);
    const r = await sh(corrected);
    expect(r.code).toBe(0);
    expect(r.json.result).toMatchObject({ type: 'NS', name: ZONE, content: NS_DOMAIN, ttl: 86400 });
  });

  it('step 4 as printed (`-data` = `-d ata`) -> 6007 with a hint, curl exits 3; with --data it sets use_apex_ns', async () => {
    const printed = await sh(fill(step4(), t, zoneId, pub));
    expect(printed.code).toBe(3);
    expect(printed.json).toMatchObject({ success: false, errors: [{ code: 6007 }] });
    expect(printed.json.errors[0].message).toContain('--data');
    const r = await sh(fill(step4(), t, zoneId, pub).replace(/^-data /m, '--data '));
    expect(r.code).toBe(0);
    expect(r.json.result).toMatchObject({ id: 'use_apex_ns', value: true, editable: true });
    const s = await fetch(`${t.api}/client/v4/zones/${zoneId}/dns_settings`, { headers: { 'x-auth-email': EMAIL, 'x-auth-key': KEY } });
    expect(((await s.json()) as any).result.multi_provider).toBe(true);
  });

  it('external provider step 1 (API): GET /dnssec/zsk lists our ZSK (active) and theirs (external)', async () => {
    const r = await sh(fill(zsk(), t, zoneId, pub));
    expect(r.code).toBe(0);
    const tags = r.json.result.map((k: any) => k.Tag).sort();
    expect(tags).toEqual(['active', 'external']);
    expect(r.json.result.find((k: any) => k.Tag === 'external').DNSKEY.PublicKey).toBe(pub);
    expect(r.stdout).not.toMatch(/privkey/);
  });

  it('external provider step 1 (dig): `dig <zone> dnskey ... | grep 256` shows both ZSKs', async () => {
    const r = await sh(fill(digCmd(), t, zoneId, pub));
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').filter((l) => /\bDNSKEY\s+256\b/.test(l));
    expect(lines).toHaveLength(2);
    const keys = lines.map((l) => l.replace(/^.*DNSKEY\s+256\s+3\s+13\s+/, '').replace(/\s+/g, ''));
    expect(keys).toContain(pub);
    const ours = await fetch(`${t.api}/client/v4/zones/${zoneId}/dnssec/zsk`, { headers: { 'x-auth-email': EMAIL, 'x-auth-key': KEY } });
    const ourKey = ((await ours.json()) as any).result.find((k: any) => k.Tag === 'active').DNSKEY.PublicKey;
    expect(keys).toContain(ourKey);
  });

  it("the apex NS RRset served by dig includes the other provider's nameserver (use_apex_ns on)", async () => {
    const r = await sh(`dig @${t.host} -p ${t.port} +tries=1 +time=3 ${ZONE} NS +noall +answer`);
    expect(r.stdout).toContain(`${NS_DOMAIN}.`);
  });
});

describe('seed 002: Cloudflare as secondary, DNSSEC options, replayed with curl', () => {
  let t: TestServer;
  let zoneId: string;
  const cmds = commands(seedText('002'));

  beforeAll(async () => { ({ t, zoneId } = await startLab()); });
  afterAll(async () => { await t?.stop(); });

  it('the seed has two curl commands', () => {
    expect(cmds).toHaveLength(2);
  });

  it('live signing: PATCH /dnssec {status: active}, then the DNSSEC details give the DS for the registrar', async () => {
    const r = await sh(fill(cmds.find((c) => /"status": "active"/.test(c))!, t, zoneId, ''));
    expect(r.code).toBe(0);
    expect(r.json.success).toBe(true);
    expect(['pending', 'active']).toContain(r.json.result.status);
    const d = await sh(`curl -sS '${t.api}/client/v4/zones/${zoneId}/dnssec' --header "X-Auth-Email: ${EMAIL}" --header "X-Auth-Key: ${KEY}"`);
    expect(d.json.result.ds).toMatch(new RegExp(`^${ZONE}\\. \\d+ IN DS ${d.json.result.key_tag} 13 2 ${d.json.result.digest}$`));
  });

  it('pre-signed: PATCH /dnssec {dnssec_presigned: true} is refused for a primary zone, in the envelope, changing nothing', async () => {
    const before = await sh(`curl -sS '${t.api}/client/v4/zones/${zoneId}/dnssec' --header "X-Auth-Email: ${EMAIL}" --header "X-Auth-Key: ${KEY}"`);
    const r = await sh(fill(cmds.find((c) => /dnssec_presigned/.test(c))!, t, zoneId, ''));
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ success: false, messages: [], result: null });
    expect(r.json.errors[0].code).toBe(1004);
    expect(r.json.errors[0].message).toMatch(/presigned/);
    const after = await sh(`curl -sS '${t.api}/client/v4/zones/${zoneId}/dnssec' --header "X-Auth-Email: ${EMAIL}" --header "X-Auth-Key: ${KEY}"`);
    expect(after.json.result).toEqual(before.json.result);
  });
});
