// Copy-up race (issue 12): an image directory is copied into an empty volume at a container's start,
// while another container sharing that volume puts symlinks to a host file where the copy will write,
// as fast as it can. The copy must never write through them (nor anywhere outside the volume).
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suiteEngine } from './helpers/suite.js';
import { cliOf } from './helpers/cli.js';

const images = inject('images');
const engine = suiteEngine({ load: [images.busybox.archive] });
const { ok } = cliOf(() => engine);

const ATTEMPTS = 1000;

describe('copy-up race', () => {
  it(`copies the image's /etc into an empty volume without writing through another container's symlinks (${ATTEMPTS} copies)`, async () => {
    // A host file the swapper's symlinks name: the copy runs on the host, where a symlink's target is the host's.
    const probe = join(engine.dir, 'copyup-probe');
    writeFileSync(probe, 'untouched\n');
    await ok([
      'run',
      '-d',
      '--name',
      'swapper',
      '--network',
      'none',
      '-v',
      'cu:/v',
      'busybox',
      'sh',
      '-c',
      `while :; do ln -s ${probe} /v/passwd; ln -s ${probe} /v/group; rm -f /v/passwd /v/group; done`,
    ]);
    const data = join(engine.root, 'volumes', 'cu', '_data');
    // The copy-up runs at every start into an empty volume, before the user is looked up: a user that
    // does not exist ends each start right there, no process run, so the loop stays short.
    const res = await engine.http('POST', '/containers/create', {
      Image: 'busybox',
      Cmd: ['true'],
      User: 'no-such-user',
      HostConfig: { NetworkMode: 'none', Binds: ['cu:/etc'] },
    });
    expect(res.status, res.body.toString()).toBe(201);
    const id = res.json().Id;
    let copied = 0;
    const started = Date.now();
    try {
      for (let i = 0; i < ATTEMPTS; i++) {
        // Emptied from the host between starts (rm never follows the symlinks it removes).
        for (const name of readdirSync(data)) rmSync(join(data, name), { recursive: true, force: true });
        const start = await engine.http('POST', `/containers/${id}/start`);
        expect(start.json().message).toMatch(/no-such-user/);
        if (readdirSync(data).some((n) => n === 'passwd' || n === 'group')) copied++;
        expect(readFileSync(probe, 'utf8'), `attempt ${i}`).toBe('untouched\n');
      }
    } finally {
      console.log('copy-up race:', { copied }, `${Date.now() - started} ms`);
      await ok(['rm', '-f', 'swapper', id]);
      await ok(['volume', 'rm', 'cu']);
    }
    expect(copied).toBeGreaterThan(ATTEMPTS / 10); // copies were raced, not all skipped
  }, 300_000); // 1000 starts: about a minute on an idle machine, minutes on a loaded one
});
