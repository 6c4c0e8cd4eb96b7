// Where the golden archives (written by real engines; ../shared/golden beside the project) are:
// $BERTH_GOLDEN, else beside this checkout, else beside the checkout it was cloned from (a fresh clone
// elsewhere, e.g. /tmp, still finds them).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const checkout = resolve(fileURLToPath(new URL('../..', import.meta.url)));

function fromOrigin(): string | undefined {
  try {
    const origin = execFileSync('git', ['-C', checkout, 'config', '--get', 'remote.origin.url'], { encoding: 'utf8' }).trim();
    return origin.startsWith('/') ? join(dirname(resolve(origin)), 'shared', 'golden') : undefined; // '/work/main/.' too
  } catch {
    return undefined;
  }
}

export const GOLDEN =
  process.env.BERTH_GOLDEN ??
  [join(dirname(checkout), 'shared', 'golden'), fromOrigin()].find((d): d is string => !!d && existsSync(d)) ??
  join(dirname(checkout), 'shared', 'golden');
