// `tandem rollover start|status ZONE [--zsk|--ksk]`: a thin client of the admin API's tandem/rollover routes
// (api/rollover.ts); the server runs the rollover itself (rollover/).
import { adminCommand, CliError, resolveZone, ZONE } from './admin.js';

interface View {
  zone: string; kind: string; step: string; waiting_for: string; earliest_next: string | null; todo: string[];
  old_key_tag: number; new_key_tag: number; providers: string[];
  seen: { provider: string; hasNew?: boolean; error?: string }[]; last_check: string | null; started_on: string | null;
}

function describe(v: View): string {
  const lines = [
    `${v.zone} ${v.kind.toUpperCase()} rollover ${v.old_key_tag} -> ${v.new_key_tag}: step ${v.step} (started ${v.started_on})`,
    `  waiting for: ${v.waiting_for}`,
    `  next step:   ${v.earliest_next ? `not before ${v.earliest_next}` : v.step === 'done' ? '-' : 'when that happens (polled)'}`,
  ];
  if (v.kind === 'zsk' && v.step === 'publish') lines.push(`  providers:   ${v.providers.length ? v.providers.join(', ') : "the zone's apex NS hosts"}`);
  for (const s of v.seen) lines.push(`  seen ${s.provider}: ${s.error ? `error: ${s.error}` : s.hasNew ? 'has the new key' : 'lacks the new key'}${v.last_check ? ` (${v.last_check})` : ''}`);
  for (const t of v.todo) lines.push(`  to do: ${t}`);
  return lines.join('\n') + '\n';
}

export const rolloverCommand = adminCommand({
  name: 'rollover', summary: 'roll a zone\'s ZSK (pre-publish) or KSK (double-DS) with the other providers, or say where it is',
  args: [{ name: 'ACTION', choices: ['start', 'status'] }, ZONE],
  options: {
    zsk: { type: 'boolean', help: 'start: roll the zone-signing key (the default)' },
    ksk: { type: 'boolean', help: 'start: roll the key-signing key (the parent must publish the new DS)' },
    provider: { type: 'string', multiple: true, value: 'HOST[:PORT]', help: "start, ZSK: a server of another provider whose DNSKEY RRset is polled (repeatable; default: the zone's apex NS hosts)" },
  },
  notes: [
    'rollover start ZONE [--zsk] [--provider HOST:PORT ...]   new ZSK published; it signs once every provider publishes it',
    'rollover start ZONE --ksk      new KSK and its CDS/CDNSKEY published; it signs once the parent has its DS',
    'rollover status ZONE           the step, what it waits for, the earliest time of the next step',
  ],
  async run(c, p, io) {
    const zone = await resolveZone(c, p.args.ZONE);
    const path = `/zones/${zone.id}/tandem/rollover`;
    if (p.args.ACTION === 'status') {
      if (p.values.zsk || p.values.ksk || p.values.provider) throw new CliError('--zsk, --ksk and --provider go with start', 2);
      const v = (await c.call('GET', path)).result as View | null;
      io.out(v ? describe(v) : `${zone.name}: no key rollover yet\n`);
      return;
    }
    if (p.values.zsk && p.values.ksk) throw new CliError('either --zsk or --ksk', 2);
    const kind = p.values.ksk ? 'ksk' : 'zsk';
    if (kind === 'ksk' && p.values.provider) throw new CliError('--provider is for ZSK rollovers (a KSK rollover waits for the parent)', 2);
    const v = (await c.call('POST', path, { kind, providers: p.values.provider ?? [] })).result as View;
    io.out(describe(v));
  },
});
