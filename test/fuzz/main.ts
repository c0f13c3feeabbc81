// `npm run fuzz -- [--seconds N] [--target NAME[,NAME]] [--seed S] [--path P [--show]] [--list]`: the long fuzz run.
// The seconds are shared by the targets by weight (default 60 in all); each runs in its own worker thread
// (harness.ts). --seed and --path replay a failure fast-check reported; --show prints that case's input without
// running it (for a case that hangs). Exits 1 when any target failed.
import { parseArgs } from 'node:util';
import { fuzz, fuzzSeed } from './harness.js';
import { targets } from './targets.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    target: { type: 'string' },
    seed: { type: 'string' },
    path: { type: 'string' },
    show: { type: 'boolean', default: false },
    list: { type: 'boolean', default: false },
  },
});

if (values.list) {
  for (const t of targets) console.log(`${t.name.padEnd(12)} ${t.about}`);
  process.exit(0);
}
const wanted = values.target?.split(',') ?? targets.map((t) => t.name);
const chosen = targets.filter((t) => wanted.includes(t.name));
const unknown = wanted.filter((w) => !targets.some((t) => t.name === w));
if (unknown.length > 0 || chosen.length === 0) {
  console.error(`unknown target ${unknown.join(', ')}; targets: ${targets.map((t) => t.name).join(', ')}`);
  process.exit(2);
}
const seed = values.seed !== undefined ? Number(values.seed) : fuzzSeed();
const total = Number(values.seconds) * 1000;
const weights = chosen.reduce((n, t) => n + t.weight, 0);
let failed = 0;
console.log(`fuzzing ${chosen.map((t) => t.name).join(', ')} for ${total / 1000} s, seed ${seed}`);
for (const t of chosen) {
  const ms = Math.round((total * t.weight) / weights);
  const r = await fuzz(t.name, { seed, ms, path: values.path, show: values.show });
  if (r.shown !== undefined) console.log(`${t.name} seed ${seed} path ${values.path}: ${r.shown}`);
  else if (r.failure) {
    failed++;
    console.log(`FAIL ${t.name} (${r.runs} cases, seed ${seed})\n${r.failure}\n`);
  } else console.log(`ok   ${t.name}: ${r.runs} cases in ${ms / 1000} s`);
}
process.exit(failed > 0 ? 1 : 0);
