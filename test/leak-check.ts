// Every test file: the berth bridges and the users it leaves behind are named on stderr (a file's
// engines must take their networks with them; a rootless test's user goes with its processes, its
// subordinate ids and its runtime dir).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect } from 'vitest';

const bridges = () =>
  new Set(
    execFileSync('ip', ['-o', 'link', 'show', 'type', 'bridge'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.split(': ')[1] ?? '')
      .filter((name) => name.startsWith('berth')),
  );

const users = () =>
  new Set(
    readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .map((l) => l.split(':')[0] ?? ''),
  );

let before = { bridges: new Set<string>(), users: new Set<string>() };
beforeAll(() => {
  before = { bridges: bridges(), users: users() };
});
afterAll(() => {
  const file = expect.getState().testPath ?? 'a test file';
  const left = [...bridges()].filter((b) => !before.bridges.has(b));
  if (left.length) process.stderr.write(`berth leak check: ${file} left bridge(s) ${left.join(' ')}\n`);
  const leftUsers = [...users()].filter((u) => !before.users.has(u));
  if (leftUsers.length) process.stderr.write(`berth leak check: ${file} left user(s) ${leftUsers.join(' ')}\n`);
});
