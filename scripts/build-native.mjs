// Builds native/udpio.node (batched UDP I/O, native/udpio.c) with the C compiler and the headers of the Node that
// runs this script. Part of `npm run build` and `npm test`. Without a compiler or the headers it says why and
// exits 0: tandem then answers over UDP with Node's dgram (src/server/udpio.ts), as `--udp-io dgram` does.
//   node scripts/build-native.mjs [--strict]     (--strict: a failed build exits 1)
import { execFileSync } from 'node:child_process';
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'native', 'udpio.c');
const out = join(root, 'native', 'udpio.node');
const strict = process.argv.includes('--strict');

function skip(why) {
  process.stderr.write(`build-native: native/udpio.node not built (${why}); UDP goes through Node's dgram\n`);
  process.exit(strict ? 1 : 0);
}

if (process.platform !== 'linux') skip(`recvmmsg/sendmmsg are Linux calls; this is ${process.platform}`);
// Node's own headers: <prefix>/include/node beside <prefix>/bin/node (the official builds and Debian's).
const headers = [join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node'].find((d) => existsSync(join(d, 'node_api.h')) && existsSync(join(d, 'uv.h')));
if (!headers) skip(`no node_api.h and uv.h under ${join(dirname(process.execPath), '..', 'include', 'node')}`);
const cc = process.env.CC || 'cc';
if (existsSync(out) && statSync(out).mtimeMs >= statSync(src).mtimeMs && statSync(out).mtimeMs >= statSync(process.execPath).mtimeMs) process.exit(0);
const tmp = `${out}.${process.pid}.tmp`;
try {
  execFileSync(cc, ['-O2', '-shared', '-fPIC', '-Wall', '-Wextra', '-Werror', '-std=gnu11', `-I${headers}`, '-o', tmp, src], { stdio: ['ignore', 'inherit', 'inherit'] });
  renameSync(tmp, out);
} catch (err) {
  rmSync(tmp, { force: true });
  skip(`${cc} failed: ${err.message.split('\n')[0]}`);
}
