// `name` filters of networks, volumes and containers as dockerd 20.10 matches them (filters.Args.Match):
// the value equal to the name, or as a regular expression matching anywhere in it; a value that is no
// valid expression matches nothing. Containers' names match with and without their leading `/`.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { GOLDEN } from './helpers/golden.js';
import { suiteEngine } from './helpers/suite.js';

const engine = suiteEngine({ load: [join(GOLDEN, 'dockerd-busybox.tar')] });

// [filter values, expected for the <kind>f-alpha / <kind>f-beta pair], seen on dockerd 20.10.
const CASES: [string[], string[]][] = [
  [['alpha'], ['alpha']],
  [['^Xf-a'], ['alpha']],
  [['^alpha'], []],
  [['Xf-.*a$'], ['alpha', 'beta']],
  [['['], []],
  [['XF-ALPHA'], []],
  [
    ['lph', 'bet'],
    ['alpha', 'beta'],
  ],
];

const lines = (s: string) => s.split('\n').filter(Boolean).sort();

describe('name filters', () => {
  it('match networks, volumes and containers as dockerd does', async () => {
    for (const n of ['alpha', 'beta']) {
      expect((await engine.docker(['network', 'create', `nf-${n}`])).code).toBe(0);
      expect((await engine.docker(['volume', 'create', `vf-${n}`])).code).toBe(0);
      expect((await engine.docker(['create', '--name', `cf-${n}`, 'busybox'])).code).toBe(0);
    }
    try {
      for (const [values, want] of CASES) {
        const args = (x: string) => values.flatMap((v) => ['--filter', `name=${v.replace(/X/g, x)}`]);
        const nets = await engine.docker(['network', 'ls', '--format', '{{.Name}}', ...args('n')]);
        expect([values, nets.stderr, lines(nets.stdout)]).toEqual([values, '', want.map((w) => `nf-${w}`)]);
        const vols = await engine.docker(['volume', 'ls', '--format', '{{.Name}}', ...args('v')]);
        expect([values, vols.stderr, lines(vols.stdout)]).toEqual([values, '', want.map((w) => `vf-${w}`)]);
        const ctrs = await engine.docker(['ps', '-a', '--format', '{{.Names}}', ...args('c')]);
        expect([values, ctrs.stderr, lines(ctrs.stdout)]).toEqual([values, '', want.map((w) => `cf-${w}`)]);
      }
      expect(lines((await engine.docker(['ps', '-a', '--format', '{{.Names}}', '--filter', 'name=^/cf-a'])).stdout)).toEqual(['cf-alpha']);
    } finally {
      for (const n of ['alpha', 'beta']) {
        await engine.docker(['rm', '-f', `cf-${n}`]);
        await engine.docker(['volume', 'rm', `vf-${n}`]);
        await engine.docker(['network', 'rm', `nf-${n}`]);
      }
    }
  }, 90_000);
});
