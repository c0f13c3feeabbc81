// An independent validator: dnspython (Debian's python3-dnspython) checks every RRSIG and the denial
// proofs of signed answers in every denial mode (test/fixtures/validate.py).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Name } from '../../../src/dns/name.js';
import { base32hex, nsec3Hash } from '../../../src/dnssec/denial/nsec3.js';
import type { Sections } from '../../../src/zone/sections.js';
import type { DenialMode } from '../../../src/zone/types.js';
import { ask, NOW, rrsets, signedZone, T } from './denial-fixture.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../../fixtures/validate.py', import.meta.url));

type Proof = 'nsec-match' | 'nsec-cover' | 'nsec3-match' | 'nsec3-cover';
interface Case { qname: string; type: number; expect: Partial<Record<DenialMode, [string, Proof][]>> }

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const fq = (t: string) => (t.endsWith('.') ? t : `${t}.example.com.`);

// The chain modes prove what the per-answer modes prove, from the zone's own chain: the NSEC3 proofs are the
// same; an NSEC chain has no NSEC at an empty non-terminal, whose proof is the NSEC covering it (RFC 4035 §5.4).
const CASES: Case[] = [
  { qname: 'www', type: T.A, expect: {} },
  { qname: 'nope', type: T.A, expect: {
    compact: [['nope', 'nsec-match']],
    nsec: [['nope', 'nsec-cover'], ['*', 'nsec-cover']],
    nsec3: [['example.com.', 'nsec3-match'], ['nope', 'nsec3-cover'], ['*', 'nsec3-cover']],
    'nsec-chain': [['nope', 'nsec-cover'], ['*', 'nsec-cover']],
    'nsec3-chain': [['example.com.', 'nsec3-match'], ['nope', 'nsec3-cover'], ['*', 'nsec3-cover']],
  } },
  { qname: 'x.y.www', type: T.A, expect: {
    nsec: [['x.y.www', 'nsec-cover'], ['*.www', 'nsec-cover']],
    nsec3: [['www', 'nsec3-match'], ['y.www', 'nsec3-cover'], ['*.www', 'nsec3-cover']],
    'nsec-chain': [['x.y.www', 'nsec-cover'], ['*.www', 'nsec-cover']],
    'nsec3-chain': [['www', 'nsec3-match'], ['y.www', 'nsec3-cover'], ['*.www', 'nsec3-cover']],
  } },
  { qname: 'www', type: T.MX, expect: {
    compact: [['www', 'nsec-match']], nsec: [['www', 'nsec-match']], nsec3: [['www', 'nsec3-match']],
    'nsec-chain': [['www', 'nsec-match']], 'nsec3-chain': [['www', 'nsec3-match']],
  } },
  { qname: 'b.c', type: T.A, expect: {
    compact: [['b.c', 'nsec-match']], nsec: [['b.c', 'nsec-match']], nsec3: [['b.c', 'nsec3-match']],
    'nsec-chain': [['b.c', 'nsec-cover']], 'nsec3-chain': [['b.c', 'nsec3-match']],
  } },
  { qname: 'example.com.', type: T.TXT, expect: { nsec3: [['example.com.', 'nsec3-match']], 'nsec3-chain': [['example.com.', 'nsec3-match']], 'nsec-chain': [['example.com.', 'nsec-match']] } },
  { qname: 'x.wild', type: T.A, expect: {
    nsec: [['x.wild', 'nsec-cover']], nsec3: [['x.wild', 'nsec3-cover']],
    'nsec-chain': [['x.wild', 'nsec-cover']], 'nsec3-chain': [['x.wild', 'nsec3-cover']],
  } },
  { qname: 'x.wild', type: T.MX, expect: {
    compact: [['x.wild', 'nsec-match']],
    nsec: [['x.wild', 'nsec-cover'], ['*.wild', 'nsec-match']],
    nsec3: [['wild', 'nsec3-match'], ['x.wild', 'nsec3-cover'], ['*.wild', 'nsec3-match']],
    'nsec-chain': [['x.wild', 'nsec-cover'], ['*.wild', 'nsec-match']],
    'nsec3-chain': [['wild', 'nsec3-match'], ['x.wild', 'nsec3-cover'], ['*.wild', 'nsec3-match']],
  } },
  { qname: 'host.sub', type: T.A, expect: {
    compact: [['sub', 'nsec-match']], nsec: [['sub', 'nsec-match']], nsec3: [['sub', 'nsec3-match']],
    'nsec-chain': [['sub', 'nsec-match']], 'nsec3-chain': [['sub', 'nsec3-match']],
  } },
  { qname: 'sub', type: T.DS, expect: {
    nsec: [['sub', 'nsec-match']], nsec3: [['sub', 'nsec3-match']], 'nsec-chain': [['sub', 'nsec-match']], 'nsec3-chain': [['sub', 'nsec3-match']],
  } },
  { qname: 'dangling', type: T.A, expect: {
    nsec: [['nowhere', 'nsec-cover']], nsec3: [['nowhere', 'nsec3-cover']], 'nsec-chain': [['nowhere', 'nsec-cover']], 'nsec3-chain': [['nowhere', 'nsec3-cover']],
  } },
  { qname: 'a.dn', type: T.A, expect: {} },
  { qname: 'example.com.', type: T.DNSKEY, expect: {} },
  { qname: 'mail', type: T.MX, expect: {} },
];

/** Every RRset of the response with the RRSIGs that follow it (the synthesized DNAME CNAME has none). */
function payload(sec: Sections) {
  const out: { name: string; type: number; ttl: number; rdatas: string[]; rrsigs: string[] }[] = [];
  for (const section of [sec.answer, sec.authority, sec.additional]) {
    const sets = rrsets(section);
    for (const { set, covered } of sets) {
      if (covered !== undefined) continue;
      const sigs = sets.find((x) => x.covered === set.type && x.set.name.equals(set.name));
      out.push({ name: hex(set.name.wire()), type: set.type, ttl: set.ttl, rdatas: set.rdatas.map(hex), rrsigs: sigs ? sigs.set.rdatas.map(hex) : [] });
    }
  }
  return out;
}

describe('independent validation with dnspython', () => {
  for (const mode of ['compact', 'nsec', 'nsec3', 'nsec3-chain', 'nsec-chain'] as DenialMode[]) {
    it(`RFC 4035 §5.3, RFC 5155 §8: dnspython validates every RRSIG and finds every ${mode} proof`, async () => {
      const s = signedZone(mode, { node: true });
      const responses = [];
      let expected = 0;
      for (const c of CASES) {
        const sec = await ask(s, c.qname, c.type);
        const exp = (c.expect[mode] ?? []).map(([name, proof]) => ({ name: fq(name), proof }));
        expected += exp.length + payload(sec).reduce((n, x) => n + x.rrsigs.length, 0);
        responses.push({ qname: fq(c.qname), rrsets: payload(sec), expect: exp });
      }
      const input = JSON.stringify({ zone: 'example.com.', now: NOW, dnskeys: s.dnskeys.map(hex), responses });
      const run = spawnSync(PYTHON, [SCRIPT], { input, encoding: 'utf8' });
      expect(run.error, `${PYTHON} with python3-dnspython is required`).toBeUndefined();
      expect(run.stderr).toBe('');
      const out = JSON.parse(run.stdout) as { checked: number; errors: string[] };
      expect(out.errors).toEqual([]);
      expect(out.checked).toBe(expected);
      expect(run.status).toBe(0);
    });
  }

  it('the checker is not vacuous: a flipped signature bit and a proof for an existing name are reported', async () => {
    for (const mode of ['nsec', 'nsec3'] as DenialMode[]) {
      const s = signedZone(mode);
      const rr = payload(await ask(s, 'nope', T.A));
      const sig = rr[0].rrsigs[0];
      rr[0].rrsigs[0] = sig.slice(0, -2) + (sig.slice(-2) === '00' ? '01' : '00');
      const proof: Proof = mode === 'nsec' ? 'nsec-cover' : 'nsec3-cover';
      const input = JSON.stringify({ zone: 'example.com.', now: NOW, dnskeys: s.dnskeys.map(hex), responses: [{ qname: 'nope.example.com.', rrsets: rr, expect: [{ name: 'www.example.com.', proof }] }] });
      const run = spawnSync(PYTHON, [SCRIPT], { input, encoding: 'utf8' });
      expect(run.status).toBe(1);
      const errors = (JSON.parse(run.stdout) as { errors: string[] }).errors;
      expect(errors).toHaveLength(2);
      expect(errors[0]).toMatch(/does not validate/);
      expect(errors[1]).toMatch(/no nsec3?-cover proof for www.example.com./);
    }
  });

  it('RFC 5155 §5: the NSEC3 owner hashes agree with dnspython\'s nsec3_hash', () => {
    const names = ['example.com.', 'www.example.com.', 'b.c.example.com.', '*.wild.example.com.', 'nope.example.com.'];
    const py = `import dns.dnssec, dns.name, sys\nfor n in sys.argv[1:]: print(dns.dnssec.nsec3_hash(dns.name.from_text(n), None, 0, 1))`;
    const run = spawnSync(PYTHON, ['-c', py, ...names], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const theirs = run.stdout.trim().split('\n');
    expect(names.map((n) => base32hex(nsec3Hash(Name.fromText(n))))).toEqual(theirs);
  });
});
