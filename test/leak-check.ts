// Every test file: the berth bridges it leaves behind are named on stderr (a file's engines must take
// their networks with them; one file leaves a default network's bridge and has not been found yet).
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, expect } from 'vitest';

const bridges = () =>
  new Set(
    execFileSync('ip', ['-o', 'link', 'show', 'type', 'bridge'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.split(': ')[1] ?? '')
      .filter((name) => name.startsWith('berth')),
  );

let before = new Set<string>();
beforeAll(() => {
  before = bridges();
});
afterAll(() => {
  const left = [...bridges()].filter((b) => !before.has(b));
  if (left.length) process.stderr.write(`berth leak check: ${expect.getState().testPath ?? 'a test file'} left bridge(s) ${left.join(' ')}\n`);
});
