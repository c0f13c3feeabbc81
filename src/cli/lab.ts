// `tandem lab up|status|down|add-provider|remove-provider|break`: a multi-signer zone on loopback to rehearse with
// (src/lab/lab.ts). Thin: parse the flags, call the lab, print.
import { labAddProvider, labBreak, labDown, LabError, labRemoveProvider, labStatus, labUp, type LabIo } from '../lab/lab.js';
import type { ProviderKind } from '../lab/lab-state.js';
import { defineCommand, UsageError, type Command } from './spec.js';

const ACTIONS = ['up', 'status', 'down', 'add-provider', 'remove-provider', 'break'] as const;
const WITH = ['knot', 'pdns', 'bind'] as const;
const DENIAL = ['compact', 'nsec', 'nsec3'] as const;

export const labCommand: Command<any> = defineCommand({
  name: 'lab', group: 'lab',
  summary: 'a multi-signer zone on loopback to rehearse with: N tandem providers (+ Knot), a signed parent, trust anchors, unbound',
  args: [{ name: 'ACTION', choices: ACTIONS }, { name: 'ARG', optional: true }],
  options: {
    dir: { type: 'string', value: 'DIR', default: '.tandem-lab', help: 'the folder holding everything of one lab (PIDs, keys, logs, anchors)' },
    providers: { type: 'string', value: 'N', default: '2', help: 'up: how many tandem providers (1-8)' },
    with: { type: 'string', value: 'knot|pdns|bind', help: 'up: one more provider, a real Knot, PowerDNS or BIND (when installed)' },
    denial: { type: 'string', value: 'compact|nsec|nsec3', default: 'compact', help: 'up: authenticated denial of the tandem providers (Knot: NSEC for compact)' },
    union: { type: 'boolean', help: 'up: exchange the KSKs too (every DNSKEY RRset holds every key)' },
    zone: { type: 'string', value: 'NAME', default: 'lab.test', help: 'up: the zone; its parent is the name without the first label' },
    ttl: { type: 'string', value: 'SECONDS', default: '10', help: 'up: TTL of every record (DNSKEY and DS included): what add/remove-provider wait for' },
    timeout: { type: 'string', value: 'SECONDS', default: '90', help: 'bound on each process start' },
    json: { type: 'boolean', help: 'status: as JSON {zone, anchor, ds, providers: [{name, address, port, kind, ...}], ...}' },
  },
  notes: [
    'lab up [--providers N] [--with knot|pdns|bind] [--denial compact|nsec|nsec3] [--union]   start it; prints ports and commands to try',
    'lab status [--json]                  providers, ports, keys, PIDs',
    'lab down                             stop every process of the lab by its PID, remove DIR',
    'lab add-provider [tandem|knot|pdns|bind]  a new provider: keys, then DS, then NS (waits the TTLs)',
    'lab remove-provider NAME             RFC 8901 §8 order: DS first, then DNSKEY after the TTLs, then stopped',
    'lab break zsk|ds                     negative control: the last provider drops the first one\'s ZSK, or the parent the last one\'s DS',
  ],
  async run(p, io) {
    const v = p.values as Record<string, string | boolean | undefined>;
    const action = p.args.ACTION as (typeof ACTIONS)[number];
    const arg = p.args.ARG;
    const dir = v.dir as string;
    const timeoutMs = Number(v.timeout) * 1000;
    if (!Number.isFinite(timeoutMs) || timeoutMs < 1000) throw new UsageError(labCommand, `--timeout must be a number of seconds, not '${v.timeout}'`);
    const lab: LabIo = { say: (t) => io.out(t) };
    const noArg = () => { if (arg !== undefined) throw new UsageError(labCommand, `lab ${action} takes no argument ('${arg}')`); };
    try {
      switch (action) {
        case 'up': {
          noArg();
          const n = Number(v.providers);
          if (!Number.isInteger(n) || n < 1 || n > 8) throw new UsageError(labCommand, `--providers must be 1 to 8, not '${v.providers}'`);
          const ttl = Number(v.ttl);
          if (!Number.isInteger(ttl) || ttl < 1 || ttl > 86400) throw new UsageError(labCommand, `--ttl must be 1 to 86400 seconds, not '${v.ttl}'`);
          if (v.with !== undefined && !(WITH as readonly string[]).includes(v.with as string)) throw new UsageError(labCommand, `--with must be ${WITH.join(', ')}, not '${v.with}'`);
          if (!(DENIAL as readonly string[]).includes(v.denial as string)) throw new UsageError(labCommand, `--denial must be ${DENIAL.join(', ')}, not '${v.denial}'`);
          await labUp({
            dir, providers: n, with: v.with as (typeof WITH)[number] | undefined, denial: v.denial as (typeof DENIAL)[number],
            union: v.union === true, zone: v.zone as string, ttl, timeoutMs,
          }, lab);
          return 0;
        }
        case 'status': {
          noArg();
          const st = await labStatus(dir);
          io.out(v.json ? `${JSON.stringify(st.json, null, 2)}\n` : st.text);
          const all = [...st.json.providers.map((x) => x.running), st.json.parent.running, ...(st.json.resolver ? [st.json.resolver.running] : [])];
          return all.every(Boolean) ? 0 : 1;
        }
        case 'down':
          noArg();
          await labDown(dir, lab);
          return 0;
        case 'add-provider': {
          const kind = (arg ?? 'tandem') as ProviderKind;
          if (!['tandem', ...WITH].includes(kind)) throw new UsageError(labCommand, `lab add-provider takes tandem, ${WITH.join(', ')}, not '${arg}'`);
          await labAddProvider(dir, kind, lab, timeoutMs);
          return 0;
        }
        case 'remove-provider':
          if (arg === undefined) throw new UsageError(labCommand, 'lab remove-provider needs the provider\'s NAME (tandem lab status lists them)');
          await labRemoveProvider(dir, arg, lab, timeoutMs);
          return 0;
        case 'break':
          if (arg !== 'zsk' && arg !== 'ds') throw new UsageError(labCommand, `lab break takes zsk or ds, not '${arg ?? ''}'`);
          await labBreak(dir, arg, lab);
          return 0;
      }
    } catch (err) {
      if (!(err instanceof LabError)) throw err;
      io.err(`tandem lab ${action}: ${err.message}\n`);
      return 1;
    }
  },
});
