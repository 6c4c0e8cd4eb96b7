// cockpit-podman (Debian's, unchanged) against berth: cockpit-ws with a local session (test/helpers/
// cockpit.ts) whose /run/podman/podman.sock is berth's socket, driven in Debian's Chromium. It lists
// what podman --remote and the docker CLI made (containers, the pod and its member, images), follows
// the events stream, stops, starts and restarts a container, stops and starts the pod, shows a container's logs, and opens a
// terminal: an exec session, and an attach to a TTY container.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import { TestEngine } from '../helpers/engine.js';
import { launchBrowser, screenshot } from '../helpers/browser.js';
import { startCockpit, type Cockpit } from '../helpers/cockpit.js';
import { podmanClient, type PodmanClient } from '../helpers/podman.js';

const images = inject('images');
/** Long enough for a loaded 2-core machine; every wait ends as soon as its condition holds. */
const WAIT = 30_000;
/** Runs until SIGTERM (sh runs the trap once its sleep ends): a stop takes a second, not ten. */
const UNTIL_TERM = 'trap "exit 0" TERM; while true; do sleep 1; done';

let engine: TestEngine;
let podman: PodmanClient;
let cockpit: Cockpit;
let browser: Browser;
let page: Page;
/** What the page said on its console: shown when a test fails. */
const pageLog: string[] = [];

/**
 * A container's actions and their menu, found by their markup: after cockpit-podman's "Create container"
 * dialog closes, the page's root stays aria-hidden (PatternFly's modal), which hides it from role queries.
 */
const ACTIONS = 'button[aria-label="Actions"]';
const menuItem = (name: string): Locator => page.locator('.pf-c-dropdown__menu-item', { hasText: new RegExp(`^${name}$`) });

/** The rows of a container (its row and its expandable details) in the containers card. */
const containerRow = (name: string): Locator =>
  page.locator('#containers-containers tbody', { has: page.locator('.container-name', { hasText: new RegExp(`^${name}$`) }) });

/** Waits for `locator`, with the page's console in the failure. */
async function shows(locator: Locator, what: string): Promise<void> {
  await locator.waitFor({ timeout: WAIT }).catch(async (err: Error) => {
    await screenshot(page, 'cockpit-podman-failed');
    throw new Error(`${what}: ${err.message}\ncockpit-podman's console:\n${pageLog.join('\n')}\ncockpit-ws: ${cockpit.log()}`);
  });
}

/** podman ps's State column (4.3.1 words it as its Status: "Up 2 seconds ago", "Exited (0) …"). */
async function stateOf(name: string): Promise<string> {
  return (await podman.ok(['ps', '-a', '--filter', `name=^${name}$`, '--format', '{{.State}}'])).trim();
}

/** Opens a container's details on `tab` and returns the tab's panel. */
async function openTab(name: string, tab: 'Details' | 'Logs' | 'Console'): Promise<Locator> {
  const row = containerRow(name);
  const toggle = row.getByRole('button', { name: 'Details' });
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
  await row.getByRole('tab', { name: tab }).click();
  return row.getByRole('tabpanel');
}

/** The text of a terminal (xterm.js's accessibility tree: cockpit-podman opens it in screen-reader mode). */
const terminalText = (panel: Locator) =>
  panel
    .locator('.xterm-accessibility-tree')
    .innerText({ timeout: 1000 })
    .catch(() => '');

/** Waits until the terminal in `panel` shows text that `test` accepts; fails with what it showed. */
async function terminalShows(panel: Locator, what: string, test: (text: string) => boolean): Promise<void> {
  const deadline = Date.now() + WAIT;
  let text = '';
  while (!test((text = await terminalText(panel)))) {
    if (Date.now() > deadline) {
      await screenshot(page, 'cockpit-podman-failed');
      throw new Error(`${what}: the terminal shows ${JSON.stringify(text)}\ncockpit-podman's console:\n${pageLog.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Types `echo hi` into the terminal of `name`'s Console tab and waits for the line `hi`. */
async function echoHi(name: string): Promise<void> {
  const panel = await openTab(name, 'Console');
  // The shell's prompt: the terminal is connected.
  await terminalShows(panel, `${name}'s prompt`, (text) => text.includes('#'));
  await panel.locator('.xterm').click();
  await page.keyboard.type('echo hi\n');
  await terminalShows(panel, `${name}'s echo hi`, (text) => /^\s*hi\s*$/m.test(text));
}

describe('cockpit-podman against berth', () => {
  beforeAll(async () => {
    engine = await TestEngine.start();
    const loaded = await engine.docker(['load', '-i', images.busybox.archive]);
    expect(loaded.code, loaded.stderr).toBe(0);
    podman = await podmanClient(engine.socket, engine.dir);
    await podman.ok(['run', '-d', '--name', 'cockpit-web', 'busybox', 'sh', '-c', `echo "hello from berth $((6*7))"; ${UNTIL_TERM}`]);
    await podman.ok(['run', '-dit', '--name', 'cockpit-tty', 'busybox', 'sh']);
    await podman.ok(['pod', 'create', '--name', 'cockpit-pod']);
    await podman.ok(['run', '-d', '--pod', 'cockpit-pod', '--name', 'cockpit-member', 'busybox', 'sh', '-c', UNTIL_TERM]);
    const made = await engine.docker(['run', '-d', '--name', 'docker-made', 'busybox', 'sleep', '100000']);
    expect(made.code, made.stderr).toBe(0);
    cockpit = await startCockpit(engine.socket);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('console', (m) => pageLog.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => pageLog.push(`pageerror: ${e.message}`));
    // A local session serves one browser session: the page is loaded once, the tests share it.
    await page.goto(cockpit.url);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await cockpit?.stop();
    await engine?.destroy();
  });

  it("lists berth's containers (podman's and docker's), the pod with its member, and the images", async () => {
    for (const name of ['cockpit-web', 'cockpit-tty', 'docker-made']) {
      await shows(containerRow(name).locator('.ct-badge-container-running'), `${name} listed as running`);
    }
    const pod = page.locator('#table-cockpit-pod');
    await shows(pod.locator('.ct-badge-pod-running'), 'the pod, running');
    await shows(pod.locator('.container-name', { hasText: /^cockpit-member$/ }), "the pod's member");
    // A container made while the page is open comes in through the events stream.
    await podman.ok(['run', '-d', '--name', 'cockpit-late', 'busybox', 'sleep', '100000']);
    await shows(containerRow('cockpit-late').locator('.ct-badge-container-running'), 'a container made after the page loaded');
    await page.getByRole('button', { name: 'Show images' }).click();
    const imagesCard = page.locator('#containers-images');
    await shows(imagesCard.getByText('docker.io/library/busybox:latest', { exact: true }).first(), 'the busybox image');
    await shows(imagesCard.getByText('localhost/podman-pause:4.3.1-0', { exact: true }).first(), "the pod's infra image");
    await screenshot(page, 'cockpit-podman-list');
  });

  it('stops a container from the page (podman ps agrees), then starts it again', async () => {
    const row = containerRow('cockpit-web');
    await row.locator(ACTIONS).click();
    await menuItem('Stop').click();
    await shows(row.locator('.ct-badge-container-exited'), 'the container, exited');
    expect(await stateOf('cockpit-web')).toMatch(/^Exited /);
    await screenshot(page, 'cockpit-podman-stopped');
    await row.locator(ACTIONS).click();
    await menuItem('Start').click();
    await shows(row.locator('.ct-badge-container-running'), 'the container, running again');
    expect(await stateOf('cockpit-web')).toMatch(/^Up /);
  });

  it('restarts a container from the page (podman sees a new start)', async () => {
    const startedAt = () => podman.ok(['inspect', '--format', '{{.State.StartedAt}}', 'cockpit-web']);
    const before = await startedAt();
    const row = containerRow('cockpit-web');
    await row.locator(ACTIONS).click();
    await menuItem('Restart').click();
    await expect.poll(startedAt, { timeout: WAIT }).not.toBe(before);
    // cockpit-podman shows "restarting" from the restart event until the next one: once a later
    // event has reached the page, the container must show as running.
    await podman.ok(['run', '-d', '--name', 'cockpit-marker', 'busybox', 'true']);
    await shows(containerRow('cockpit-marker'), 'a container made after the restart');
    await shows(row.locator('.ct-badge-container-running'), 'the container, running after its restart');
    expect(await stateOf('cockpit-web')).toMatch(/^Up /);
  });

  it('shows the lines a container printed in its logs', async () => {
    const panel = await openTab('cockpit-web', 'Logs');
    // Printed at each of its three starts.
    await terminalShows(panel, 'the logs', (text) => text.match(/hello from berth 42/g)?.length === 3);
    await screenshot(page, 'cockpit-podman-logs');
  });

  it('opens a terminal in a running container (an exec session) that runs echo hi', async () => {
    await echoHi('cockpit-web');
    // The terminal's size: cockpit-podman resizes the session as soon as it has sent the start.
    const panel = containerRow('cockpit-web').getByRole('tabpanel');
    await page.keyboard.type('stty size\n');
    await terminalShows(panel, 'stty size', (text) => /^24 \d+\s*$/m.test(text));
    await screenshot(page, 'cockpit-podman-console');
  });

  it("opens a TTY container's own terminal (an attach) that runs echo hi", async () => {
    await echoHi('cockpit-tty');
    await screenshot(page, 'cockpit-podman-attach');
  });

  it('creates and runs a container from an image (its dialog), then deletes it', async () => {
    const show = page.getByRole('button', { name: 'Show images' });
    if (await show.isVisible()) await show.click();
    const image = page.locator('#containers-images tbody', { hasText: 'docker.io/library/busybox:latest' });
    await image.getByRole('button', { name: 'Create container' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.locator('#run-image-dialog-name').fill('cockpit-made');
    await dialog.locator('#run-image-dialog-command').fill('echo made in cockpit');
    await dialog.getByRole('button', { name: 'Create and run' }).click();
    await shows(containerRow('cockpit-made').locator('.ct-badge-container-exited'), 'the container made in the dialog, run and exited');
    expect((await podman.ok(['logs', 'cockpit-made'])).trim()).toBe('made in cockpit');
    await screenshot(page, 'cockpit-podman-created');
    await containerRow('cockpit-made').locator(ACTIONS).click();
    await menuItem('Delete').click();
    await page.locator('.btn-ctr-delete').click();
    await containerRow('cockpit-made').waitFor({ state: 'detached', timeout: WAIT });
    expect((await podman.podman(['container', 'exists', 'cockpit-made'])).code).toBe(1);
  });

  it('stops the pod from the page (podman pod ps agrees), then starts it again', async () => {
    const pod = page.locator('#table-cockpit-pod');
    const podState = async () => (await podman.ok(['pod', 'ps', '--filter', 'name=^cockpit-pod$', '--format', '{{.Status}}'])).trim();
    await pod.locator('#pod-cockpit-pod-system-action-toggle').click();
    await menuItem('Stop').click();
    await shows(pod.locator('.ct-badge-pod-exited'), 'the pod, exited');
    expect(await podState()).toBe('Exited');
    await pod.locator('#pod-cockpit-pod-system-action-toggle').click();
    await menuItem('Start').click();
    await shows(pod.locator('.ct-badge-pod-running'), 'the pod, running again');
    expect(await podState()).toBe('Running');
    expect(await stateOf('cockpit-member')).toMatch(/^Up /);
  });
});
