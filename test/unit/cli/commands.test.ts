// The command table (src/cli/commands.ts) is the one definition of every command: the parser and the help
// are made from it, and README's command list is checked against it here, so none of them can drift.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { COMMANDS } from '../../../src/cli/commands.js';
import { API_OPTIONS } from '../../../src/cli/admin.js';
import { commandHelp, defineCommand, overview, parseCommand, runCommand, UsageError, type Io } from '../../../src/cli/spec.js';

function capture(): Io & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', env: {}, out: (t: string) => { io.stdout += t; }, err: (t: string) => { io.stderr += t; } };
  return io;
}

const sample = defineCommand({
  name: 'sample', group: 'offline', summary: 'a command for the tests',
  args: [{ name: 'ACTION', choices: ['on', 'off'] }, { name: 'ZONE' }, { name: 'REST', rest: true, optional: true }],
  options: {
    count: { type: 'string', value: 'N', default: '3', help: 'how many' },
    flag: { type: 'boolean', short: 'f', help: 'a switch' },
    many: { type: 'string', multiple: true, value: 'X', help: 'a list' },
  },
  run: async (p, io) => {
    io.out(JSON.stringify({ values: p.values, args: p.args }));
    return 0;
  },
});

describe('parsing from the definition', () => {
  it('flags typed as declared, defaults applied, positionals by name (a rest argument joined)', () => {
    const p = parseCommand(sample, ['on', 'example.com', '-f', '--many', 'a', '--many', 'b', 'x', 'y']);
    expect(p).toEqual({
      values: { count: '3', flag: true, many: ['a', 'b'] },
      positionals: ['on', 'example.com', 'x', 'y'],
      args: { ACTION: 'on', ZONE: 'example.com', REST: 'x y' },
    });
  });

  it.each([
    [['on', 'z', '--bogus'], "unknown option '--bogus'"],
    [['on', 'z', '--count'], "option '--count' needs a value"],
    [['on', 'z', '--flag=yes'], "option '--flag' takes no value"],
    [['on'], 'missing ZONE'],
    [['maybe', 'z'], "ACTION must be on, off, not 'maybe'"],
  ])('%j is a usage error: %s', (argv, message) => {
    expect(() => parseCommand(sample, argv)).toThrow(new UsageError(sample, message));
  });

  it('too many arguments are an error when the last is not a rest argument', () => {
    const two = defineCommand({ ...sample, args: [{ name: 'ZONE' }], run: sample.run as never });
    expect(() => parseCommand(two, ['a', 'b'])).toThrow("unexpected argument 'b'");
  });

  it('--help and -h are help, whatever else is on the line', () => {
    expect(parseCommand(sample, ['--help'])).toBe('help');
    expect(parseCommand(sample, ['on', '-h'])).toBe('help');
  });

  it('runCommand: a usage error prints the message and the command\'s help on stderr, exit 2; --help on stdout, exit 0', async () => {
    const io = capture();
    expect(await runCommand(sample, ['on', 'z', '--bogus'], io)).toBe(2);
    expect(io.stderr).toBe(`tandem sample: unknown option '--bogus'\n\n${commandHelp(sample)}`);
    expect(io.stdout).toBe('');
    const help = capture();
    expect(await runCommand(sample, ['--help'], help)).toBe(0);
    expect(help.stdout).toBe(commandHelp(sample));
  });
});

describe('help made from the definition', () => {
  it('a command\'s help: usage line with its arguments, summary, every flag with placeholder, default and help', () => {
    expect(commandHelp(sample)).toBe([
      'Usage: tandem sample on|off ZONE [REST...] [options]',
      '',
      'a command for the tests',
      '',
      'Options:',
      '      --count N  how many (default 3)',
      '  -f, --flag     a switch',
      '      --many X   a list (repeatable)',
      '  -h, --help     this help',
      '',
    ].join('\n'));
  });

  for (const cmd of COMMANDS) {
    it(`tandem ${cmd.name} --help: exit 0, every flag and argument of its definition`, async () => {
      const io = capture();
      expect(await runCommand(cmd, ['--help'], io)).toBe(0);
      expect(io.stdout.split('\n')[0]).toMatch(new RegExp(`^Usage: tandem ${cmd.name}\\b`));
      expect(io.stdout).toContain(cmd.summary);
      for (const name of Object.keys(cmd.options)) expect(io.stdout).toMatch(new RegExp(`--${name}\\b`));
      for (const a of cmd.args) expect(io.stdout.split('\n')[0]).toContain(a.choices ? a.choices.join('|') : a.name);
    });
  }

  it('tandem --help lists every command with its summary', () => {
    const text = overview(COMMANDS, 'tandem');
    for (const cmd of COMMANDS) expect(text).toMatch(new RegExp(`^  ${cmd.name} +${cmd.summary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  });

  it('command names are unique', () => {
    expect(new Set(COMMANDS.map((c) => c.name)).size).toBe(COMMANDS.length);
  });
});

describe("README's command list", () => {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('## Command line'), readme.indexOf('\n## ', readme.indexOf('## Command line') + 3));
  const block = section.slice(section.indexOf('```\n') + 4, section.indexOf('\n```', section.indexOf('```\n') + 4));

  for (const cmd of COMMANDS) {
    it(`shows tandem ${cmd.name} with each of its own flags`, () => {
      const lines = block.split('\n').filter((l) => l.startsWith(`tandem ${cmd.name} `) || l === `tandem ${cmd.name}`);
      expect(lines.length, `no line for tandem ${cmd.name}`).toBeGreaterThan(0);
      // `serve` wraps onto an indented line.
      const text = cmd.name === 'serve' ? block.slice(block.indexOf('tandem serve'), block.indexOf('\n\n')) : lines.join('\n');
      const shared = new Set(cmd.group === 'admin' ? Object.keys(API_OPTIONS) : []);
      for (const name of Object.keys(cmd.options)) {
        if (shared.has(name)) expect(block, `--${name}`).toContain(`--${name}`);
        else if (!(cmd.name === 'ds' && name in API_OPTIONS && name !== 'api')) expect(text, `tandem ${cmd.name} --${name}`).toMatch(new RegExp(`--${name}\\b`));
      }
    });
  }
});
