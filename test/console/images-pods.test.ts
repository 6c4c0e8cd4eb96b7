// The console's images, pods, volumes, networks and events pages in Debian's Chromium, against a real
// engine: a pull from a local registry (Debian's docker-registry) with its layer bars, build from an
// uploaded Dockerfile, run, remove; pods made by podman --remote and by the page, their members, verbs,
// kube out and in; volumes and networks the docker CLI then sees; the live events list. Every wait is
// for a condition (the machine may be busy), never a sleep.
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { tarOf } from '../helpers/archive.js';
import { launchBrowser, screenshot } from '../helpers/browser.js';
import { cliOf } from '../helpers/cli.js';
import { startConsoleEngine, type ConsoleEngine } from '../helpers/console.js';
import { podmanClient, type PodmanClient } from '../helpers/podman.js';
import { TestRegistry } from '../helpers/registry.js';

const images = inject('images');
let ce: ConsoleEngine;
let registry: TestRegistry;
let browser: Browser;
let page: Page;
let podman: PodmanClient;
/** The image the tests pull, as the registry names it. */
let busybox: string;

/** Generous bounds: conditions, not timings, are what the tests check. */
const WAIT = 30_000;
const POLL = { timeout: WAIT, interval: 200 };

beforeAll(async () => {
  registry = await TestRegistry.start();
  await registry.pushArchive(images.busybox.archive, 'console/busybox:latest');
  busybox = `${registry.host}/console/busybox:latest`;
  ce = await startConsoleEngine();
  podman = await podmanClient(ce.engine.socket, ce.engine.dir);
  browser = await launchBrowser();
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1200, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  await page.goto(ce.url);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await ce?.engine.destroy();
  await registry?.stop();
});

const { docker, ok } = cliOf(() => ce.engine);

/** Shows a route afresh (a goto to the URL the page is at would not reload it). */
async function open(hash: string): Promise<void> {
  const target = `${ce.origin}/${hash}`;
  if (page.url() === target) await page.reload();
  else await page.goto(target);
}

describe('images page', () => {
  it('pulls from a registry with a bar per layer, ending with the image listed', async () => {
    await open('#/images');
    await page.getByLabel('Image', { exact: true }).fill(busybox);
    await page.getByRole('button', { name: 'Pull', exact: true }).click();
    const progress = page.getByRole('region', { name: 'Pull progress' });
    await progress.getByText(`Status: Downloaded newer image for ${busybox}`).waitFor();
    await page.locator('section[aria-label="Pull progress"][data-done="yes"]').waitFor();
    // Each layer has its bar, full, and its final state; byte counts arrived on the way.
    const layers = progress.locator('[data-layer]');
    expect(await layers.count()).toBeGreaterThan(0);
    for (const layer of await layers.all()) {
      expect(await layer.locator('.layer-status').textContent()).toBe('Pull complete');
      const bar = layer.getByRole('progressbar');
      expect(await bar.evaluate((el) => el instanceof HTMLProgressElement && el.value === el.max)).toBe(true);
    }
    expect(Number(await progress.getAttribute('data-updates'))).toBeGreaterThan(0);
    await page.getByRole('table', { name: 'Images' }).getByRole('link', { name: busybox }).waitFor();
    expect((await ok(['images', '--format', '{{.Repository}}:{{.Tag}}'])).split('\n')).toContain(busybox);
    await screenshot(page, 'console-images');
  });

  it("shows the engine's error when a pull fails", async () => {
    const missing = `${registry.host}/console/nothing:1`;
    const cli = await docker(['pull', missing]);
    expect(cli.code).not.toBe(0);
    await page.getByLabel('Image', { exact: true }).fill(missing);
    await page.getByRole('button', { name: 'Pull', exact: true }).click();
    const alert = page.getByRole('region', { name: 'Pull progress' }).getByRole('alert');
    await alert.waitFor();
    expect(cli.stderr).toContain((await alert.textContent())!.trim());
  });

  it('builds from an uploaded Dockerfile (wrapped into a tar by the page)', async () => {
    await open('#/images');
    await page.getByLabel('Build context').setInputFiles({
      name: 'Dockerfile',
      mimeType: 'text/plain',
      buffer: Buffer.from(`FROM ${busybox}\nRUN echo from the console > /built\nCMD ["cat", "/built"]\n`),
    });
    await page.getByLabel('Tag', { exact: true }).fill('console-built:1');
    await page.getByRole('button', { name: 'Build', exact: true }).click();
    await page.getByRole('region', { name: 'Build output' }).getByText('Successfully tagged console-built:1').waitFor();
    expect(await ok(['run', '--rm', 'console-built:1'])).toBe('from the console\n');
    await page.getByRole('table', { name: 'Images' }).getByRole('link', { name: 'console-built:1' }).waitFor();
  });

  it("shows a failed build's error as the engine says it", async () => {
    await page.getByLabel('Build context').setInputFiles({ name: 'Dockerfile', mimeType: 'text/plain', buffer: Buffer.from(`FROM ${busybox}\nRUN exit 3\n`) });
    await page.getByLabel('Tag', { exact: true }).fill('console-broken:1');
    await page.getByRole('button', { name: 'Build', exact: true }).click();
    const alert = page.getByRole('region', { name: 'Build output' }).getByRole('alert');
    await alert.waitFor();
    expect((await alert.textContent())!.trim()).toBe("The command '/bin/sh -c exit 3' returned a non-zero code: 3");
    expect((await docker(['image', 'inspect', 'console-broken:1'])).code).not.toBe(0);
  });

  it("removes an image; a conflict is said in the engine's words and can be forced", async () => {
    await ok(['create', '--name', 'holder', 'console-built:1']);
    const id = (await ok(['image', 'inspect', '-f', '{{.Id}}', 'console-built:1'])).trim();
    const refused = await docker(['rmi', id]);
    expect(refused.code).not.toBe(0);
    await page.getByRole('button', { name: 'Remove console-built:1' }).click();
    const alert = page.getByRole('alert').filter({ has: page.getByRole('button', { name: 'Remove anyway (force)' }) });
    await alert.waitFor();
    expect(refused.stderr).toContain((await alert.locator('p').textContent())!.trim());
    expect((await docker(['image', 'inspect', 'console-built:1'])).code).toBe(0);
    await alert.getByRole('button', { name: 'Remove anyway (force)' }).click();
    await expect.poll(async () => (await docker(['image', 'inspect', 'console-built:1'])).code, POLL).not.toBe(0);
    await page.getByRole('table', { name: 'Images' }).getByRole('link', { name: 'console-built:1' }).waitFor({ state: 'detached' });
    await ok(['rm', 'holder']);
  });

  it('builds from an uploaded .tar.gz context as it is', async () => {
    const context = gzipSync(
      await tarOf([
        { name: 'Dockerfile', content: `FROM ${busybox}\nCOPY greeting /greeting\nCMD ["cat", "/greeting"]\n` },
        { name: 'greeting', content: 'hello from a context\n' },
      ]),
    );
    await page.getByLabel('Build context').setInputFiles({ name: 'context.tar.gz', mimeType: 'application/gzip', buffer: context });
    await page.getByLabel('Tag', { exact: true }).fill('console-ctx:1');
    await page.getByRole('button', { name: 'Build', exact: true }).click();
    await page.getByRole('region', { name: 'Build output' }).getByText('Successfully tagged console-ctx:1').waitFor();
    expect(await ok(['run', '--rm', 'console-ctx:1'])).toBe('hello from a context\n');
    await ok(['rmi', 'console-ctx:1']);
  });

  it('reads in a narrow window: nothing wider than the screen', async () => {
    await page.setViewportSize({ width: 400, height: 800 });
    try {
      for (const hash of ['#/images', '#/pods', '#/volumes', '#/networks', '#/events']) {
        await open(hash);
        await page.locator('main h1').waitFor();
        await page.locator('main table, main p').first().waitFor();
        expect(await page.evaluate(() => document.documentElement.scrollWidth), hash).toBeLessThanOrEqual(400);
      }
      await open('#/images');
      await page.getByRole('table', { name: 'Images' }).waitFor();
      await screenshot(page, 'console-images-narrow');
    } finally {
      await page.setViewportSize({ width: 1200, height: 900 });
    }
  });

  it("shows an image's history and runs a container from it", async () => {
    await open('#/images');
    await page.getByRole('table', { name: 'Images' }).getByRole('link', { name: busybox }).click();
    await page.getByRole('heading', { name: `Image ${busybox}` }).waitFor();
    await page.getByRole('table', { name: 'History' }).locator('tbody tr').first().waitFor();
    expect(await page.getByRole('definition').filter({ hasText: images.busybox.id }).count()).toBe(1);
    await screenshot(page, 'console-image');
    await page.getByLabel('Container name (optional)').fill('from-console');
    await page.getByLabel('Keep it open with a terminal').check();
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.waitForURL(/#\/containers\/[0-9a-f]{64}$/);
    const id = decodeURIComponent(new URL(page.url()).hash.split('/').at(-1)!);
    expect((await ok(['inspect', '-f', '{{.Id}} {{.State.Running}} {{.Config.Image}}', 'from-console'])).trim()).toBe(`${id} true ${busybox}`);
    await ok(['rm', '-f', 'from-console']);
  });
  it('removes a tag from its image page, the image staying under its other name', async () => {
    await ok(['tag', busybox, 'console-extra:1']);
    await open(`#/images/${encodeURIComponent('console-extra:1')}`);
    await page.getByRole('heading', { name: 'Image console-extra:1' }).waitFor();
    await page.getByRole('button', { name: 'Remove image' }).click();
    await page.waitForURL(/#\/images$/);
    expect((await docker(['image', 'inspect', 'console-extra:1'])).code).not.toBe(0);
    expect((await ok(['image', 'inspect', '-f', '{{.Id}}', busybox])).trim()).toBe(images.busybox.id);
  });

  it("says the engine's error for an image that is not there", async () => {
    await open('#/images/nonexistent');
    const cli = await docker(['image', 'inspect', 'nonexistent']);
    await page.getByRole('alert').waitFor();
    expect(cli.stderr).toContain((await page.getByRole('alert').textContent())!.trim());
  });
});

describe('pods pages', () => {
  it('lists a pod podman made, with its members, and its page links to them', async () => {
    await podman.ok(['pod', 'create', '--name', 'console-pod']);
    // A member that ends on SIGTERM: stopping the pod need not wait out the kill timeout.
    await podman.ok(['run', '-d', '--pod', 'console-pod', '--name', 'console-member', busybox, 'sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1; done']);
    const member = (await podman.ok(['inspect', '-f', '{{.Id}}', 'console-member'])).trim();
    await open('#/pods');
    const row = page.locator('tr[data-pod="console-pod"]');
    await row.getByRole('link', { name: 'console-member' }).waitFor();
    await row.getByText('(infra)').waitFor();
    await screenshot(page, 'console-pods');
    await row.getByRole('link', { name: 'console-pod' }).click();
    await page.getByRole('heading', { name: /^Pod console-pod/ }).waitFor();
    const members = page.getByRole('table', { name: 'Members' });
    const link = members.getByRole('link', { name: 'console-member' });
    await link.waitFor();
    expect(await link.getAttribute('href')).toBe(`#/containers/${member}`);
    expect(await members.locator('tbody tr').count()).toBe(2); // the member and the infra container
    await screenshot(page, 'console-pod');
  });

  it('stops, starts, pauses and unpauses the pod from its page, as podman then sees it', async () => {
    const state = async () => (await podman.ok(['pod', 'inspect', '-f', '{{.State}}', 'console-pod'])).trim();
    await page.getByRole('group', { name: 'Pod actions' }).getByRole('button', { name: 'Stop', exact: true }).click();
    await expect.poll(state, POLL).toBe('Exited');
    await page.getByRole('heading', { name: /^Pod console-pod Exited/ }).waitFor();
    await page.getByRole('group', { name: 'Pod actions' }).getByRole('button', { name: 'Start', exact: true }).click();
    await expect.poll(state, POLL).toBe('Running');
    await page.getByRole('heading', { name: /^Pod console-pod Running/ }).waitFor();
    await page.getByRole('group', { name: 'Pod actions' }).getByRole('button', { name: 'Pause', exact: true }).click();
    await expect.poll(state, POLL).toBe('Paused');
    await page.getByRole('group', { name: 'Pod actions' }).getByRole('button', { name: 'Unpause', exact: true }).click();
    await expect.poll(state, POLL).toBe('Running');
  });

  it('generates kube YAML as a download named for the pod', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('group', { name: 'Pod actions' }).getByRole('button', { name: 'Generate kube' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('console-pod.yaml');
    const yaml = await readFile((await download.path())!, 'utf8');
    expect(yaml).toContain('kind: Pod');
    expect(yaml).toMatch(/name: console-pod\b/);
    expect(yaml).toContain(`image: ${busybox}`);
  });

  it('creates a pod from the page and removes it', async () => {
    await open('#/pods');
    await page.getByLabel('Pod name').fill('page-pod');
    await page.getByLabel(/^Published ports/).fill('127.0.0.1:28391:80, 28392:53/udp');
    await page.getByRole('button', { name: 'Create pod' }).click();
    await page.locator('tr[data-pod="page-pod"]').waitFor();
    const names = async () => (await podman.ok(['pod', 'ps', '--format', '{{.Name}}'])).split('\n');
    expect(await names()).toContain('page-pod');
    expect(JSON.parse(await podman.ok(['pod', 'inspect', '-f', '{{json .InfraConfig.PortBindings}}', 'page-pod']))).toEqual({
      '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '28391' }],
      '53/udp': [{ HostIp: '', HostPort: '28392' }],
    });
    await page.getByRole('group', { name: 'Pod page-pod' }).getByRole('button', { name: 'Remove' }).click();
    await page.locator('tr[data-pod="page-pod"]').waitFor({ state: 'detached' });
    expect(await names()).not.toContain('page-pod');
  });

  it('plays kube from an uploaded YAML file', async () => {
    const yaml = [
      'apiVersion: v1',
      'kind: Pod',
      'metadata:',
      '  name: kube-played',
      'spec:',
      '  containers:',
      '  - name: sleeper',
      `    image: ${busybox}`,
      '    command: ["sleep", "600"]',
      '',
    ].join('\n');
    await page.getByLabel('Kubernetes YAML').setInputFiles({ name: 'played.yaml', mimeType: 'application/yaml', buffer: Buffer.from(yaml) });
    await page.getByRole('button', { name: 'Play', exact: true }).click();
    const result = page.getByRole('region', { name: 'Play kube result' });
    await result.getByRole('link').first().waitFor();
    const id = (await podman.ok(['pod', 'inspect', '-f', '{{.Id}}', 'kube-played'])).trim();
    expect(await result.getByRole('link').first().getAttribute('href')).toBe(`#/pods/${id}`);
    await page.locator('tr[data-pod="kube-played"]').getByRole('link', { name: 'kube-played-sleeper' }).waitFor();
  });
});

describe('volumes and networks pages', () => {
  it('creates a volume the docker CLI sees, inspects and removes it', async () => {
    await open('#/volumes');
    await page.getByLabel('Volume name').fill('console-vol');
    await page.getByLabel('Labels (key=value, comma-separated)').fill('made=console, team=a');
    await page.getByRole('button', { name: 'Create volume' }).click();
    const row = page.locator('tr[data-volume="console-vol"]');
    await row.waitFor();
    expect((await ok(['volume', 'ls', '--format', '{{.Name}}'])).split('\n')).toContain('console-vol');
    expect((await ok(['volume', 'inspect', '-f', '{{json .Labels}}', 'console-vol'])).trim()).toBe('{"made":"console","team":"a"}');
    await row.getByText('console-vol', { exact: true }).click();
    const mountpoint = (await ok(['volume', 'inspect', '-f', '{{.Mountpoint}}', 'console-vol'])).trim();
    await row.getByText(mountpoint, { exact: false }).waitFor();
    await row.getByRole('button', { name: 'Remove volume console-vol' }).click();
    await row.waitFor({ state: 'detached' });
    expect((await ok(['volume', 'ls', '--format', '{{.Name}}'])).split('\n')).not.toContain('console-vol');
  });

  it('prunes anonymous volumes', async () => {
    await ok(['create', '--name', 'anon-maker', '-v', '/data', busybox]);
    const anon = (await ok(['inspect', '-f', '{{(index .Mounts 0).Name}}', 'anon-maker'])).trim();
    await ok(['rm', 'anon-maker']);
    await open('#/volumes');
    await page.locator(`tr[data-volume="${anon}"]`).waitFor();
    await page.getByRole('button', { name: 'Prune anonymous volumes' }).click();
    await page.getByRole('status').getByText(`Pruned 1 volume(s): ${anon}`, { exact: false }).waitFor();
    expect((await ok(['volume', 'ls', '--format', '{{.Name}}'])).split('\n')).not.toContain(anon);
  });

  it('creates an internal network with a subnet, then removes it', async () => {
    await open('#/networks');
    await page.getByLabel('Network name').fill('console-net');
    await page.getByLabel('Subnet (optional)').fill('10.231.77.0/24');
    await page.getByLabel('Internal (no outside access)').check();
    await page.getByRole('button', { name: 'Create network' }).click();
    const row = page.locator('tr[data-network="console-net"]');
    await row.waitFor();
    expect((await ok(['network', 'inspect', '-f', '{{.Internal}} {{(index .IPAM.Config 0).Subnet}}', 'console-net'])).trim()).toBe('true 10.231.77.0/24');
    await row.getByRole('button', { name: 'Remove network console-net' }).click();
    await row.waitFor({ state: 'detached' });
    expect((await docker(['network', 'inspect', 'console-net'])).code).not.toBe(0);
  });
});

describe('events page', () => {
  it('lists events live, newest first; pause holds them back; the type filter narrows', async () => {
    await open('#/events');
    await page.getByRole('status').getByText(/^Live/).waitFor();
    const table = page.getByRole('table', { name: 'Events' });
    await ok(['volume', 'create', 'ev-one']);
    await table.locator('tr', { hasText: 'ev-one' }).filter({ hasText: 'create' }).waitFor();
    await page.getByRole('button', { name: 'Pause' }).click();
    await ok(['volume', 'create', 'ev-two']);
    const resume = page.getByRole('button', { name: /^Resume \(\d+ new\)$/ });
    await resume.waitFor();
    expect(await table.locator('tr', { hasText: 'ev-two' }).count()).toBe(0);
    await resume.click();
    await table.locator('tr', { hasText: 'ev-two' }).waitFor();
    // Newest first: ev-two's row comes before ev-one's.
    const rows = await table.locator('tbody tr').allTextContents();
    expect(rows.findIndex((r) => r.includes('ev-two'))).toBeLessThan(rows.findIndex((r) => r.includes('ev-one')));
    await page.getByLabel('Type').selectOption('volume');
    const types = await table.locator('tbody tr td:nth-child(2)').allTextContents();
    expect(types.length).toBeGreaterThan(1);
    expect(new Set(types)).toEqual(new Set(['volume']));
    await ok(['volume', 'rm', 'ev-one', 'ev-two']);
  });
});
