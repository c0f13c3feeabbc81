// /metrics as Prometheus reads it: the text goes through the reference Python client's parser
// (test/fixtures/promparse.py, Debian's python3-prometheus-client), so a format error fails the test.
import { runChecked } from './procs.js';
import { SYSTEM_PYTHON } from './validate.js';

export interface PromFamily {
  name: string;
  type: string;
  help: string;
  samples: { name: string; labels: Record<string, string>; value: number }[];
}

export class Scrape {
  constructor(readonly families: PromFamily[]) {}

  family(name: string): PromFamily | undefined {
    return this.families.find((f) => f.name === name);
  }

  /** The sum of the samples named `sample` whose labels include `labels` (0 when none). */
  value(sample: string, labels: Record<string, string> = {}): number {
    let sum = 0;
    for (const f of this.families) {
      for (const s of f.samples) {
        if (s.name === sample && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
      }
    }
    return sum;
  }

  /** The samples named `sample`. */
  samples(sample: string): { labels: Record<string, string>; value: number }[] {
    return this.families.flatMap((f) => f.samples.filter((s) => s.name === sample));
  }
}

export async function parseProm(text: string): Promise<Scrape> {
  return new Scrape(JSON.parse(await runChecked(SYSTEM_PYTHON, ['test/fixtures/promparse.py'], { input: text, timeoutMs: 20_000 })) as PromFamily[]);
}

/** GET `url` (a /metrics endpoint), check the content type and parse it. */
export async function scrape(url: string, headers: Record<string, string> = {}): Promise<Scrape> {
  const r = await fetch(url, { headers });
  if (r.status !== 200) throw new Error(`${url}: HTTP ${r.status}: ${await r.text()}`);
  const type = r.headers.get('content-type') ?? '';
  if (!type.startsWith('text/plain; version=0.0.4')) throw new Error(`${url}: content-type ${type}`);
  return parseProm(await r.text());
}
