// One definition per command: its flags (node:util parseArgs options, each with a placeholder and a line of
// help), its positional arguments and a one-line summary. The parser and every help text are made from it,
// so `tandem CMD --help` cannot drift from what CMD accepts.
import { parseArgs } from 'node:util';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  default?: string | boolean;
  /** The default as help shows it, when it is not parseArgs' `default` (decided later, e.g. by the config file). */
  defaultText?: string;
  /** The value's placeholder in help (string options), e.g. FILE. */
  value?: string;
  help: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

export interface ArgSpec {
  name: string;
  optional?: boolean;
  /** Takes every remaining argument (one at least unless optional). */
  rest?: boolean;
  /** The values allowed, shown in help as `a|b|c`. */
  choices?: readonly string[];
}

/** What a command's run receives: flags typed from its options, positionals by name. */
export interface Parsed<O extends OptionSpecs> {
  values: ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>['values'];
  positionals: string[];
  /** Positionals by ArgSpec name (a rest argument: the remaining ones joined by one space). */
  args: Record<string, string | undefined>;
}

export interface Io {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
}

export const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
};

export interface Command<O extends OptionSpecs = OptionSpecs> {
  name: string;
  /** One line, shown in `tandem --help` and on top of `tandem CMD --help`. */
  summary: string;
  /** Where `tandem --help` lists it. */
  group: 'server' | 'offline' | 'admin' | 'lab';
  args: ArgSpec[];
  options: O;
  /** Further lines for `tandem CMD --help` (forms of a subcommand, environment variables). */
  notes?: string[];
  /** Exit code: 0 done, 1 failed, 2 used wrongly. */
  run(p: Parsed<O>, io: Io): Promise<number>;
}

/** Keeps the options' literal type, so `run` sees each flag with its type. */
export function defineCommand<const O extends OptionSpecs>(c: Command<O>): Command<O> {
  return c;
}

/** A command line that does not fit the command: the message, then the command's usage (exit 2). */
export class UsageError extends Error {
  constructor(readonly command: Command<any>, message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The parse of `argv` for `cmd`, or 'help' when --help / -h was given. Throws UsageError. */
export function parseCommand<O extends OptionSpecs>(cmd: Command<O>, argv: string[]): Parsed<O> | 'help' {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean; default?: string | boolean }> = {};
  for (const [name, o] of Object.entries(cmd.options)) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}), ...(o.default !== undefined ? { default: o.default } : {}) };
  }
  options.help = { type: 'boolean', short: 'h' };
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(cmd, argsMessage(err as Error & { code?: string }));
  }
  if (parsed.values.help) return 'help';
  const { positionals } = parsed;
  const args: Record<string, string | undefined> = {};
  let i = 0;
  for (const a of cmd.args) {
    const value = a.rest ? (i < positionals.length ? positionals.slice(i).join(' ') : undefined) : positionals[i];
    if (value === undefined) {
      if (!a.optional) throw new UsageError(cmd, `missing ${a.name}`);
    } else if (a.choices && !a.choices.includes(value)) {
      throw new UsageError(cmd, `${a.name} must be ${a.choices.join(', ')}, not '${value}'`);
    }
    args[a.name] = value;
    i = a.rest ? positionals.length : i + 1;
  }
  if (i < positionals.length) throw new UsageError(cmd, `unexpected argument '${positionals[i]}'`);
  delete parsed.values.help;
  return { values: parsed.values as Parsed<O>['values'], positionals, args };
}

/** parseArgs' errors, shortened to what the user typed wrong. */
function argsMessage(err: Error & { code?: string }): string {
  const quoted = /'([^']+)'/.exec(err.message)?.[1];
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': return `unknown option '${quoted ?? err.message}'`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /argument missing/.test(err.message) ? `option '${optionName(err.message)}' needs a value` : `option '${optionName(err.message)}' takes no value`;
    default: return err.message;
  }
}

function optionName(message: string): string {
  return /(--[\w-]+)/.exec(message)?.[1] ?? /'(-\w)/.exec(message)?.[1] ?? '?';
}

/** `ZONE [TAG] enable|disable ...`: the arguments as the usage line shows them. */
function argsUsage(args: ArgSpec[]): string {
  return args.map((a) => {
    const name = a.choices ? a.choices.join('|') : a.name;
    const shown = a.rest ? `${name}...` : name;
    return a.optional ? `[${shown}]` : shown;
  }).join(' ');
}

function optionLabel(name: string, o: OptionSpec): string {
  const short = o.short ? `-${o.short}, ` : '    ';
  return `${short}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
}

/** `tandem NAME ARGS [options]`. */
export function usageLine(cmd: Command<any>): string {
  const args = argsUsage(cmd.args);
  return `tandem ${cmd.name}${args ? ` ${args}` : ''}${Object.keys(cmd.options).length ? ' [options]' : ''}`;
}

/** `tandem CMD --help`. */
export function commandHelp(cmd: Command<any>): string {
  const rows: [string, string][] = Object.entries(cmd.options as OptionSpecs).map(([name, o]) => {
    const shown = o.defaultText ?? (o.default !== undefined && o.default !== false ? String(o.default) : undefined);
    const extra = [shown !== undefined ? `default ${shown}` : '', o.multiple ? 'repeatable' : ''].filter(Boolean).join('; ');
    return [optionLabel(name, o), extra ? `${o.help} (${extra})` : o.help];
  });
  rows.push(['-h, --help', 'this help']);
  const width = Math.max(...rows.map((r) => r[0].length)) + 2;
  return [
    `Usage: ${usageLine(cmd)}`,
    '',
    cmd.summary,
    ...(cmd.notes?.length ? ['', ...cmd.notes] : []),
    '',
    'Options:',
    ...rows.map(([l, h]) => `  ${l.padEnd(width)}${h}`),
    '',
  ].join('\n');
}

/** `tandem --help`: every command with its summary, by group. */
export function overview(commands: readonly Command<any>[], title: string): string {
  const groups: [Command['group'], string][] = [
    ['server', 'Serve:'],
    ['offline', 'Offline (read the zones and state folders, no server needed):'],
    ['admin', 'Admin (talk to a running tandem over its API: --api URL, --token TOKEN):'],
    ['lab', 'Multi-signer (talk DNS to every provider of a zone, tandem or not):'],
  ];
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  const lines = [title, '', 'Usage: tandem COMMAND [arguments] [options]', '       tandem COMMAND --help    the command\'s arguments and options', '       tandem --version', ''];
  for (const [group, heading] of groups) {
    const cs = commands.filter((c) => c.group === group);
    if (cs.length === 0) continue;
    lines.push(heading);
    for (const c of cs) lines.push(`  ${c.name.padEnd(width)}${c.summary}`);
    lines.push('');
  }
  return lines.join('\n');
}

/** Parses and runs one command: help on --help (exit 0), the message and usage on a wrong command line (exit 2). */
export async function runCommand<O extends OptionSpecs>(cmd: Command<O>, argv: string[], io: Io = processIo): Promise<number> {
  let parsed: Parsed<O> | 'help';
  try {
    parsed = parseCommand(cmd, argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`tandem ${cmd.name}: ${err.message}\n\n${commandHelp(cmd)}`);
    return 2;
  }
  if (parsed === 'help') {
    io.out(commandHelp(cmd));
    return 0;
  }
  try {
    return await cmd.run(parsed, io);
  } catch (err) {
    // A command that finds its flags wrong only while running (values, combinations) says so like the parser.
    if (!(err instanceof UsageError)) throw err;
    io.err(`tandem ${cmd.name}: ${err.message}\n\n${commandHelp(cmd)}`);
    return 2;
  }
}
