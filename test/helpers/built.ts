// tandem as a user installs it: src/ compiled (tsconfig.build.json) into a temporary package folder with
// package.json and node_modules beside dist/, so `node <dir>/dist/cli/main.js` runs exactly what `npm start`
// and the `tandem` binary run (no tsx), and finds package.json where an installed package has it.
import { chmod, copyFile, mkdtemp, rm, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runChecked } from './procs.js';

export interface BuiltTandem {
  /** The package folder (readable by every user, for tests that run tandem as another user). */
  dir: string;
  /** dist/cli/main.js: run it with `process.execPath`. */
  main: string;
  remove(): Promise<void>;
}

/** Compiles tandem once (about 15 s on a loaded 2-core machine); call it in a beforeAll with a long timeout. */
export async function buildTandem(): Promise<BuiltTandem> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-built-'));
  try {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    await runChecked(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', join(dir, 'dist')], { timeoutMs: 240_000 });
    await copyFile('package.json', join(dir, 'package.json'));
    await symlink(resolve('node_modules'), join(dir, 'node_modules'), 'dir');
    await chmod(dir, 0o755);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return { dir, main: join(dir, 'dist', 'cli', 'main.js'), remove: () => rm(dir, { recursive: true, force: true }) };
}
