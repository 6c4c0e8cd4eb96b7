// podman --remote run/start of a container whose process cannot start, beside Podman's own service: podman's
// service fails the attach (`preparing container <id> for attach: …`) and the client exits 127 or 126 by
// its words; a plain start fails with runc's words alone. Short-lived containers keep their output.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TestEngine } from '../helpers/engine.js';
import { PodmanService, sameAsOracle, sideBySide, type PodmanClient } from '../helpers/podman.js';

let engine: TestEngine;
let berth: PodmanClient;
let oracle: PodmanService;
const images = inject('images');

beforeAll(async () => {
  ({ engine, berth, oracle } = await sideBySide({ subnet: '10.231.26.0/24', busybox: images.busybox.archive, dockerName: true }));
});
afterAll(async () => {
  await Promise.all([engine?.destroy(), oracle?.stop()]);
});

const ids = (s: string) => s.replace(/[0-9a-f]{64}/g, '<id>');
/** The same command against both (container IDs aside): stdout, stderr and exit code. */
const same = (args: string[]) => sameAsOracle({ berth, oracle }, args, ids);
const both = (args: string[]) => Promise.all([berth.ok(args), oracle.client.ok(args)]);

describe('podman --remote run of a process that cannot start', () => {
  it('run --rm: the attach fails as podman words it, exit 127, nothing left', async () => {
    const r = await same(['run', '--rm', 'busybox', 'nosuchbinary']);
    expect(r.code).toBe(127);
    expect(ids(r.stderr)).toMatch(/^Error: preparing container <id> for attach: runc: .*"nosuchbinary": executable file not found in \$PATH/);
    await same(['run', '--rm', 'busybox', '/nonexistent']);
    await same(['ps', '-aq']);
  });

  it('run without --rm: the same error, the container left created', async () => {
    await same(['run', '--name', 'rebad', 'busybox', 'nosuchbinary']);
    await same(['ps', '-a', '--format', '{{.Names}} {{.Status}}']);
    // start -a attaches too; a plain start fails with runc's words alone.
    await same(['start', '-a', 'rebad']);
    await same(['start', 'rebad']);
    await both(['rm', 'rebad']);
  });

  it('a command that is not executable: exit 126 by podman words', async () => {
    const r = await same(['run', '--rm', 'busybox', '/etc/passwd']);
    expect(r.code).toBe(126);
  });

  it('short-lived containers still print their output', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await same(['run', '--rm', 'busybox', 'echo', 'hi']);
      expect(r.stdout).toBe('hi\n');
    }
    await same(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    await same(['ps', '-aq']);
  });
});
