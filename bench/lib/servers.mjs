// The servers under test (tandem, Knot with NSEC or NSEC3, PowerDNS), each behind one interface:
//   prepare(dir, zone)  -> offline work before start (PowerDNS: SQL import + secure-zone + rectify)
//   start(dir, port)    -> { handle, readyMs }  (ready = a signed SOA answer arrives)
// All run on 127.0.0.1 with the same generated zone (bench.test.), ECDSA P-256 (algorithm 13).
import { mkdirSync, openSync, closeSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { run, runOk, startDaemon, waitFor, freePort } from './proc.mjs';
import { ORIGIN } from './zonegen.mjs';

const ZONE = ORIGIN.replace(/\.$/, '');

/** True when `dig` gets an answer with an RRSIG over the SOA (the zone is loaded and signed). */
export async function signedSoa(port) {
  const r = await run('dig', ['@127.0.0.1', '-p', String(port), '+dnssec', '+norec', '+time=1', '+tries=1', ORIGIN, 'SOA'], { timeoutMs: 5000 }).catch(() => undefined);
  return !!r && /status: NOERROR/.test(r.stdout) && /\sRRSIG\s+SOA\s/.test(r.stdout);
}

async function startAndWait(name, cmd, args, { dir, port, timeoutMs, env, cwd }) {
  const log = join(dir, `${name}.log`);
  const fd = openSync(log, 'a');
  const t0 = performance.now();
  const handle = startDaemon(name, cmd, args, { logFd: fd, env, cwd });
  closeSync(fd);
  handle.log = log;
  try {
    await waitFor(`${name} on port ${port}`, () => signedSoa(port), {
      timeoutMs,
      intervalMs: 100,
      abortIf: () => (handle.alive ? undefined : `exited (${JSON.stringify(handle.exitInfo)}); log ${log}:\n${tail(log)}`),
    });
  } catch (err) {
    await handle.stop();
    throw err;
  }
  return { handle, readyMs: performance.now() - t0 };
}

export function tail(path, lines = 15) {
  try { return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n'); } catch { return '(no log)'; }
}

// ---------------------------------------------------------------------------------------------- tandem

const DENIAL_LABELS = {
  compact: 'compact denial (RFC 9824)',
  nsec: 'NSEC white lies (RFC 4470), signed per answer',
  nsec3: 'NSEC3 narrow (RFC 5155), signed per answer',
  'nsec3-chain': 'NSEC3 chain signed at load (RFC 5155, RFC 9276)',
  'nsec-chain': 'NSEC chain signed at load (RFC 4034)',
};

/**
 * tandem: `node dist/cli/main.js serve`, live signing, its default denial (compact, RFC 9824) unless `denial`
 * names another (the zone file given to prepare() must say the same: zonegen writeTandemYaml).
 */
export function tandem({ repo, workers, denial, args: extra = [] }) {
  const main = join(repo, 'dist/cli/main.js');
  let workersFlag;
  return {
    id: 'tandem',
    label: denial ? `tandem ${denial}` : 'tandem',
    signing: `live, ${DENIAL_LABELS[denial ?? 'compact']}`,
    async available() {
      if (!existsSync(main)) return `missing ${main} (npm run build failed?)`;
      // `serve --help` lists serve's flags (newer CLIs); older ones printed every flag in `--help`.
      let help = await run(process.execPath, [main, 'serve', '--help'], { timeoutMs: 15_000 }).catch((e) => ({ code: 1, stdout: '', stderr: e.message }));
      if (help.code !== 0) help = await run(process.execPath, [main, '--help'], { timeoutMs: 15_000 }).catch((e) => ({ code: 1, stdout: '', stderr: e.message }));
      if (help.code !== 0 || !/serve/.test(help.stdout)) return `dist/cli/main.js --help failed: ${(help.stderr || help.stdout).trim().slice(0, 300)}`;
      workersFlag = /--workers/.test(help.stdout);
      return undefined;
    },
    get workers() { return workersFlag ? workers : 1; },
    async prepare(dir, zone) {
      mkdirSync(join(dir, 'zones'), { recursive: true });
      mkdirSync(join(dir, 'state'), { recursive: true });
      writeFileSync(join(dir, 'zones', `${ZONE}.yaml`), readFileSync(zone.yaml));
      return { prepareMs: 0 };
    },
    /**
     * Starts `serve` with its admin API on a free loopback port and a random token (returned as handle.api
     * { url, token }), so it never meets another server's default 8053. nodeArgs go before the script
     * (e.g. --cpu-prof; cluster workers inherit them).
     */
    async start(dir, port, { timeoutMs = 300_000, workers: w, nodeArgs = [] } = {}) {
      const n = w ?? workers;
      const api = { url: `http://127.0.0.1:${await freePort()}`, token: randomBytes(16).toString('hex') };
      const args = [...nodeArgs, main, 'serve', '--zones', join(dir, 'zones'), '--state', join(dir, 'state'), '--listen', `127.0.0.1:${port}`, '--log-level', 'warn',
        '--api', api.url.slice('http://'.length), '--api-token', api.token];
      if (workersFlag) args.push('--workers', String(n));
      args.push(...extra);
      const started = await startAndWait('tandem', process.execPath, args, { dir, port, timeoutMs, cwd: repo });
      started.handle.api = api;
      return started;
    },
  };
}

// ------------------------------------------------------------------------------------------------ Knot

/** NSEC3 with RFC 9276's parameters, as tandem's nsec3-chain uses: SHA-1, no extra iterations, no salt, no opt-out. */
const KNOT_NSEC3 = ['    nsec3: on', '    nsec3-iterations: 0', '    nsec3-salt-length: 0', '    nsec3-opt-out: off'];

/**
 * Knot 3.2: automatic signing at load (pre-signed), KSK + ZSK P-256, NSEC (lab notes' config). With nsec3 the
 * same set-up signs with NSEC3 (RFC 5155, RFC 9276 parameters; Knot 3.2's salt length defaults to 8, so it is
 * set): the like-for-like reference for tandem's nsec3-chain, measured for (b) only.
 */
export function knot({ nsec3 = false } = {}) {
  return {
    id: nsec3 ? 'knot-nsec3' : 'knot',
    label: nsec3 ? 'Knot 3.2 (NSEC3)' : 'Knot 3.2',
    signing: nsec3 ? 'pre-signed at load, NSEC3 (SHA-1, 0 extra iterations, no salt, no opt-out: RFC 9276)' : 'pre-signed at load, NSEC',
    ...(nsec3 ? { workloads: ['nx-do'], scale: false } : {}),
    async available() {
      const r = await run('knotd', ['-V'], { timeoutMs: 5000 }).catch(() => undefined);
      return r && r.code === 0 ? undefined : 'knotd not found';
    },
    async prepare(dir, zone) {
      for (const d of ['run', 'db', 'keys', 'zones']) mkdirSync(join(dir, d), { recursive: true });
      writeFileSync(join(dir, 'zones', `${ZONE}.zone`), readFileSync(zone.master));
      return { prepareMs: 0 };
    },
    async start(dir, port, { timeoutMs = 300_000 } = {}) {
      const conf = join(dir, 'knot.conf');
      writeFileSync(conf, [
        'server:',
        `    rundir: "${join(dir, 'run')}"`,
        `    listen: [ 127.0.0.1@${port} ]`,
        'database:',
        `    storage: "${join(dir, 'db')}"`,
        'keystore:',
        '  - id: k',
        '    backend: pem',
        `    config: "${join(dir, 'keys')}"`,
        'policy:',
        '  - id: p',
        '    keystore: k',
        '    algorithm: ecdsap256sha256',
        '    single-type-signing: off',
        '    ksk-lifetime: 0',
        '    zsk-lifetime: 0',
        ...(nsec3 ? KNOT_NSEC3 : ['    nsec3: off']),
        '    rrsig-lifetime: 14d',
        '    rrsig-refresh: 7d',
        'template:',
        '  - id: default',
        `    storage: "${join(dir, 'zones')}"`,
        '    file: "%s.zone"',
        '    zonefile-sync: -1',
        '    zonefile-load: whole',
        '    journal-content: none',
        'zone:',
        `  - domain: ${ORIGIN}`,
        '    dnssec-signing: on',
        '    dnssec-policy: p',
        'log:',
        '  - target: stderr',
        '    any: warning',
        '',
      ].join('\n'));
      await runOk('knotc', ['-c', conf, 'conf-check'], { timeoutMs: 20_000 });
      return startAndWait('knotd', 'knotd', ['-c', conf], { dir, port, timeoutMs });
    },
  };
}

// -------------------------------------------------------------------------------------------- PowerDNS

const PDNS_SCHEMA = '/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql';

/** PowerDNS 4.7, gsqlite3 backend, live signing; KSK + ZSK P-256; NSEC (not NSEC3) to match tandem. */
export function powerdns() {
  const conf = (dir, port) => [
    'launch=gsqlite3',
    `gsqlite3-database=${join(dir, 'pdns.sqlite3')}`,
    'gsqlite3-dnssec=yes',
    'local-address=127.0.0.1',
    `local-port=${port}`,
    `socket-dir=${dir}`,
    'guardian=no',
    'daemon=no',
    'disable-syslog=yes',
    'loglevel=3',
    'default-ksk-algorithm=ecdsa256',
    'default-zsk-algorithm=ecdsa256',
    'webserver=no',
    'api=no',
    '',
  ].join('\n');
  return {
    id: 'pdns',
    label: 'PowerDNS 4.7',
    signing: 'live, NSEC (signatures cached)',
    async available() {
      if (!existsSync(PDNS_SCHEMA)) return `missing ${PDNS_SCHEMA} (pdns-backend-sqlite3)`;
      const r = await run('pdns_server', ['--version'], { timeoutMs: 5000 }).catch(() => undefined);
      return r ? undefined : 'pdns_server not found';
    },
    async prepare(dir, zone) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'pdns.conf'), conf(dir, 53)); // port is rewritten at start
      const t0 = performance.now();
      const db = join(dir, 'pdns.sqlite3');
      await runOk('sqlite3', [db], { input: readFileSync(PDNS_SCHEMA, 'utf8'), timeoutMs: 30_000 });
      const sql = await runOk('zone2sql', ['--gsqlite', '--transactions', `--zone=${resolve(zone.master)}`, `--zone-name=${ZONE}`], { timeoutMs: 600_000 });
      await runOk('sqlite3', [db], { input: sql.stdout, timeoutMs: 600_000 });
      const importMs = performance.now() - t0;
      // secure-zone creates the keys (default-*-algorithm), rectify-zone fills ordername/auth for NSEC.
      await runOk('pdnsutil', [`--config-dir=${dir}`, 'secure-zone', ZONE], { timeoutMs: 600_000 });
      await runOk('pdnsutil', [`--config-dir=${dir}`, 'rectify-zone', ZONE], { timeoutMs: 900_000 });
      return { prepareMs: performance.now() - t0, importMs };
    },
    async start(dir, port, { timeoutMs = 120_000 } = {}) {
      writeFileSync(join(dir, 'pdns.conf'), conf(dir, port));
      return startAndWait('pdns_server', 'pdns_server', [`--config-dir=${dir}`], { dir, port, timeoutMs });
    },
  };
}
