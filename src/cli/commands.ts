// Every `tandem` command, in the order `tandem --help` lists them. Each is one definition (spec.ts): the parser,
// `tandem CMD --help`, `tandem --help` and the README check (test/unit/cli/commands.test.ts) read this table.
import { ADMIN_COMMANDS } from './admin.js';
import { checkCommand } from './check.js';
import { convertCommand } from './convert.js';
import { KEY_COMMANDS } from './keys.js';
import { labCommand } from './lab.js';
import { PARENT_COMMANDS } from './parent.js';
import { rolloverCommand } from './rollover.js';
import { serveCommand } from './serve.js';
import { SYNC_COMMANDS } from './sync.js';
import type { Command } from './spec.js';
import { tsigKeygenCommand } from './tsig.js';

export const COMMANDS: readonly Command<any>[] = [serveCommand, ...KEY_COMMANDS, tsigKeygenCommand, convertCommand, ...ADMIN_COMMANDS, ...PARENT_COMMANDS, ...SYNC_COMMANDS, rolloverCommand, checkCommand, labCommand];

export function findCommand(name: string): Command<any> | undefined {
  return COMMANDS.find((c) => c.name === name);
}
