// `tandem tsig-keygen NAME [--algorithm hmac-sha256]`: a new random TSIG key (RFC 8945), printed for tandem's config,
// BIND (named.conf, dig -k), Knot (knot.conf) and `dig -y` / `kdig -y` / `nsupdate -y`.
import { generateSecret, parseAlgorithm, TSIG_ALGORITHMS } from '../dns/tsig.js';
import { formatBindKey, formatDigKey, formatKnotKey, formatYamlKey, parseBindKeys } from '../config/tsig.js';
import { defineCommand, type Io } from './spec.js';

export const tsigKeygenCommand = defineCommand({
  name: 'tsig-keygen', group: 'offline', summary: 'a new TSIG key (RFC 8945), printed for tandem, BIND, Knot and dig -y',
  args: [{ name: 'NAME' }],
  options: { algorithm: { type: 'string', short: 'a', value: 'ALGORITHM', default: 'hmac-sha256', help: `one of ${TSIG_ALGORITHMS.join(', ')}` } },
  async run(p, io) {
    const algorithm = parseAlgorithm(p.values.algorithm);
    if (!algorithm) {
      io.err(`tandem tsig-keygen: unknown algorithm '${p.values.algorithm}' (one of ${TSIG_ALGORITHMS.join(', ')})\n`);
      return 2;
    }
    return keygen(p.args.NAME!, algorithm, io);
  },
});

function keygen(nameArg: string, algorithm: NonNullable<ReturnType<typeof parseAlgorithm>>, io: Io): number {
  // The name goes through the config parser, so what is printed is what the config reads back.
  const name = nameArg.replace(/\.$/, '') || '.';
  const [parsed] = parseBindKeys(`key "${name.replace(/["\\]/g, '\\$&')}" { algorithm ${algorithm}; secret "AA=="; };`, 'NAME');
  const key = { name: parsed.name, algorithm, secret: generateSecret(algorithm) };
  io.out(`# tandem: in the server config (--config FILE)
tsig:
${formatYamlKey(key)}

# BIND: named.conf, or a file for dig -k / nsupdate -k, or a tandem { file: PATH } item
${formatBindKey(key)}

# Knot: knot.conf
${formatKnotKey(key)}

# dig -y / kdig -y / nsupdate -y
${formatDigKey(key)}
`);
  return 0;
}
