// `tandem tsig-keygen NAME [--algorithm hmac-sha256]`: a new random TSIG key (RFC 8945), printed for tandem's config,
// BIND (named.conf, dig -k), Knot (knot.conf) and `dig -y` / `kdig -y` / `nsupdate -y`.
import { parseArgs } from 'node:util';
import { generateSecret, parseAlgorithm, TSIG_ALGORITHMS } from '../dns/tsig.js';
import { formatBindKey, formatDigKey, formatKnotKey, formatYamlKey, parseBindKeys } from '../config/tsig.js';

export async function runTsigKeygen(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { algorithm: { type: 'string', short: 'a', default: 'hmac-sha256' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) {
    process.stderr.write('usage: tandem tsig-keygen NAME [--algorithm ALGORITHM]\n');
    return 2;
  }
  const algorithm = parseAlgorithm(values.algorithm);
  if (!algorithm) {
    process.stderr.write(`tandem: unknown algorithm '${values.algorithm}' (one of ${TSIG_ALGORITHMS.join(', ')})\n`);
    return 2;
  }
  // The name goes through the config parser, so what is printed is what the config reads back.
  const name = positionals[0].replace(/\.$/, '') || '.';
  const [parsed] = parseBindKeys(`key "${name.replace(/["\\]/g, '\\$&')}" { algorithm ${algorithm}; secret "AA=="; };`, 'NAME');
  const key = { name: parsed.name, algorithm, secret: generateSecret(algorithm) };
  process.stdout.write(`# tandem: in the server config (--config FILE)
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
