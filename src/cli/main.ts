#!/usr/bin/env node
// tandem's command line: thin — find the command, parse its flags (spec.ts), run it, print.
import { readFileSync } from 'node:fs';
import { COMMANDS, findCommand } from './commands.js';
import { commandHelp, overview, runCommand } from './spec.js';

const TITLE = 'tandem — authoritative DNS server and co-signing DNSSEC provider';

/** The version in package.json (two folders up from src/cli and from dist/cli alike). */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  switch (name) {
    case '--version': case '-V':
      process.stdout.write(`tandem ${version()}\n`);
      return 0;
    case undefined: case 'help': case '--help': case '-h': {
      const about = name === 'help' && rest[0] !== undefined ? findCommand(rest[0]) : undefined;
      if (name === 'help' && rest[0] !== undefined && !about) return unknown(rest[0]);
      process.stdout.write(about ? commandHelp(about) : overview(COMMANDS, TITLE));
      return 0;
    }
  }
  const cmd = findCommand(name);
  if (!cmd) return unknown(name);
  return runCommand(cmd, rest);
}

function unknown(name: string): number {
  process.stderr.write(`tandem: unknown command '${name}'\n\n${overview(COMMANDS, TITLE)}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => { if (code !== 0) process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`tandem: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
