// globalSetup of the `package` test project (vitest.config.ts): the examples import tandem by its package name,
// which resolves (package.json `exports`, self-reference) to the built dist/. Build it first, then type-check
// the examples against dist's .d.ts files as a user's project would. Bounded: tsc gets 3 minutes each.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');
const tsc = join(root, 'node_modules/typescript/bin/tsc');

async function step(what: string, args: string[]): Promise<void> {
  try {
    await run(process.execPath, [tsc, ...args], { cwd: root, timeout: 180_000, maxBuffer: 16 << 20 });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${what} failed:\n${err.stdout || err.stderr || err.message}`);
  }
}

export async function setup(): Promise<void> {
  await step('npm run build (tsc -p tsconfig.build.json)', ['-p', 'tsconfig.build.json']);
  await step('type-checking examples/ against the built package', ['-p', 'examples/tsconfig.json']);
}
