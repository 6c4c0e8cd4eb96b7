// The console's dashboard, containers list and container page in Debian's Chromium, against a real
// engine: the list follows the docker CLI live, the page's verbs reach the engine, logs follow, the
// terminal runs commands, and screenshots of each page go to test/artifacts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, screenshot } from '../helpers/browser.js';
import { startConsoleEngine, type ConsoleEngine } from '../helpers/console.js';

const images = inject('images');
let con: ConsoleEngine;
let browser: Browser;
let page: Page;

async function ok(args: string[]): Promise<string> {
  const res = await con.engine.docker(args);
  expect(res.code, `docker ${args.join(' ')}: ${res.stderr}`).toBe(0);
  return res.stdout.trim();
}

/** Goes to a hash route without reloading the page (as a click on a link does). */
async function route(hash: string) {
  await page.evaluate((h) => (location.hash = h), hash);
}

/** A mark that a reload would lose: the page must still be the one loaded first. */
const notReloaded = () => page.evaluate(() => (window as unknown as { berthTestMark?: number }).berthTestMark === 1);

beforeAll(async () => {
  con = await startConsoleEngine();
  expect((await con.engine.docker(['load', '-i', images.busybox.archive])).code).toBe(0);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(con.url); // the token for the cookie, then the console
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  await page.evaluate(() => ((window as unknown as { berthTestMark?: number }).berthTestMark = 1));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await con?.engine.destroy();
});

describe('dashboard', () => {
  it('counts containers by state, images and volumes, with disk use and the engine version and uptime', async () => {
    await ok(['run', '-d', '--name', 'dash-up', 'busybox', 'sleep', '600']);
    await ok(['create', '--name', 'dash-created', 'busybox', 'true']);
    await ok(['volume', 'create', 'dash-vol']);
    await route('#/');
    // Kept current from the events: the counts come without a reload.
    await page.locator('dd[data-state="running"]', { hasText: /^1$/ }).waitFor({ timeout: 10_000 });
    await page.locator('dd[data-state="created"]', { hasText: /^1$/ }).waitFor({ timeout: 10_000 });
    const card = (name: string) => page.getByRole('region', { name });
    expect(await card('Images').locator('.big').textContent()).toBe('1');
    await card('Volumes').locator('.big', { hasText: /^1$/ }).waitFor({ timeout: 10_000 });
    expect(await card('Containers').locator('.big').textContent()).toBe('2');
    const version = await ok(['version', '-f', '{{.Server.Version}}']);
    expect(await card('Engine').textContent()).toContain(`berth ${version}`);
    // The engine's uptime: it started seconds or minutes ago (this file's engine).
    expect(await card('Engine').textContent()).toMatch(/Engine uptime\s*(\d+s|\d+m \d+s)\b/);
    expect(await card('Disk usage').textContent()).toMatch(/Images\s*[\d.]+ [kMG]?B/);
    await screenshot(page, 'console-dashboard');
    await ok(['rm', '-f', 'dash-up', 'dash-created']);
    await ok(['volume', 'rm', 'dash-vol']);
  });
});

describe('containers', () => {
  it('shows a container started through the docker CLI within a second, without a reload', async () => {
    await route('#/containers');
    await page.getByRole('status').filter({ hasText: 'live' }).waitFor(); // the events stream is open
    await ok(['run', '-d', '--name', 'live', '--stop-timeout', '2', '-p', '18080:80', 'busybox', 'sleep', '600']);
    const returned = Date.now();
    const row = page.locator('tr', { has: page.getByRole('link', { name: 'live', exact: true }) });
    await row.locator('.state', { hasText: /^running$/ }).waitFor({ timeout: 5_000 });
    const elapsed = Date.now() - returned;
    // The bound, measured from the CLI's return (the row is waited for up to 5 s so a miss says by
    // how much). Seen: 130-250 ms, and 131 ms with three busy loops on this 2-CPU machine.
    expect(elapsed, 'from the CLI returning to the row showing the container running').toBeLessThanOrEqual(1_000);
    expect(await notReloaded()).toBe(true);
    expect(await row.textContent()).toContain('0.0.0.0:18080->80/tcp');
    await screenshot(page, 'console-containers');
    await page.setViewportSize({ width: 400, height: 800 }); // a phone's width: the actions stay reachable
    expect(await page.getByRole('button', { name: 'Stop live', exact: true }).isVisible()).toBe(true);
    await screenshot(page, 'console-containers-narrow');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('stops a container from the page, and docker inspect agrees', async () => {
    const row = page.locator('tr', { has: page.getByRole('link', { name: 'live', exact: true }) });
    await page.getByRole('button', { name: 'Stop live', exact: true }).click();
    await row.locator('.state', { hasText: /^exited$/ }).waitFor({ timeout: 20_000 });
    expect(await ok(['inspect', '-f', '{{.State.Running}}', 'live'])).toBe('false');
    await page.getByRole('button', { name: 'Start live', exact: true }).click();
    await row.locator('.state', { hasText: /^running$/ }).waitFor({ timeout: 20_000 });
    expect(await ok(['inspect', '-f', '{{.State.Running}}', 'live'])).toBe('true');
    await page.getByRole('button', { name: 'Pause live', exact: true }).click();
    await row.locator('.state', { hasText: /^paused$/ }).waitFor({ timeout: 20_000 });
    expect(await ok(['inspect', '-f', '{{.State.Status}}', 'live'])).toBe('paused');
    await page.getByRole('button', { name: 'Unpause live', exact: true }).click();
    await row.locator('.state', { hasText: /^running$/ }).waitFor({ timeout: 20_000 });
  });

  it("is reachable by keyboard: Tab from the top reaches a row's Stop, and Enter stops the container", async () => {
    const row = page.locator('tr', { has: page.getByRole('link', { name: 'live', exact: true }) });
    await page.locator('a.brand').focus();
    const focusedName = () => page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent?.trim() ?? '');
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = (await focusedName()) === 'Stop live';
    }
    expect(reached, 'Tab never reached the Stop button of the row').toBe(true);
    await page.keyboard.press('Enter');
    await row.locator('.state', { hasText: /^exited$/ }).waitFor({ timeout: 20_000 });
    expect(await ok(['inspect', '-f', '{{.State.Running}}', 'live'])).toBe('false');
    await ok(['start', 'live']);
    await row.locator('.state', { hasText: /^running$/ }).waitFor({ timeout: 20_000 });
  });

  it('creates and starts a container from the form, with its env, ports and volumes', async () => {
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    const form = page.getByRole('form', { name: 'Create a container' });
    await form.getByLabel('Image').fill('busybox');
    await form.getByLabel('Name').fill('formed');
    await form.getByLabel('Command').fill(`sh -c 'trap "exit 0" TERM; echo "$GREETING"; sleep 600 & wait'`);
    await form.getByLabel('Ports').fill('127.0.0.1:18081:81\n82/udp');
    await form.getByLabel('Environment').fill('GREETING=hello from the form\nB=2');
    await form.getByLabel('Volumes').fill('formvol:/data');
    await form.getByRole('button', { name: 'Create and start' }).click();
    const row = page.locator('tr', { has: page.getByRole('link', { name: 'formed', exact: true }) });
    await row
      .locator('.state', { hasText: /^running$/ })
      .waitFor({ timeout: 20_000 })
      .catch(async (err: Error) => {
        // What the page said (the engine's error, if the start failed) belongs in the failure.
        throw new Error(`${err.message}\npage alerts: ${(await page.getByRole('alert').allTextContents()).join(' | ')}`);
      });
    const inspect = JSON.parse(await ok(['inspect', 'formed']))[0];
    expect(inspect.Config.Env).toEqual(expect.arrayContaining(['GREETING=hello from the form', 'B=2']));
    expect(inspect.HostConfig.PortBindings).toEqual({ '81/tcp': [{ HostIp: '127.0.0.1', HostPort: '18081' }], '82/udp': [{ HostIp: '', HostPort: '' }] });
    expect(inspect.Mounts).toEqual([expect.objectContaining({ Type: 'volume', Name: 'formvol', Destination: '/data' })]);
    expect(await ok(['logs', 'formed'])).toBe('hello from the form');
    // The engine's refusal is shown where the user acted.
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await form.getByLabel('Image').fill('busybox');
    await form.getByLabel('Name').fill('formed');
    await form.getByRole('button', { name: 'Create and start' }).click();
    expect(await form.getByRole('alert').textContent()).toMatch(/already in use/);
    await form.getByRole('button', { name: 'Cancel' }).click();
    // Remove is offered once the container is stopped.
    expect(await page.getByRole('button', { name: 'Remove formed', exact: true }).count()).toBe(0);
    await page.getByRole('button', { name: 'Stop formed', exact: true }).click();
    await page.getByRole('button', { name: 'Remove formed', exact: true }).click();
    await row.waitFor({ state: 'detached', timeout: 20_000 });
    expect((await con.engine.docker(['inspect', 'formed'])).code).not.toBe(0);
    await ok(['volume', 'rm', 'formvol']);
  });
});

describe('a container page', () => {
  it('shows the inspect as sections and raw JSON', async () => {
    await page.getByRole('link', { name: 'live', exact: true }).click();
    await page.getByRole('heading', { name: 'live' }).waitFor();
    const id = await ok(['inspect', '-f', '{{.Id}}', 'live']);
    expect(await page.getByRole('region', { name: 'State' }).textContent()).toContain('running');
    expect(await page.getByRole('region', { name: 'Config' }).textContent()).toContain('sleep 600');
    expect(await page.getByRole('region', { name: 'Network' }).textContent()).toContain('80/tcp → 0.0.0.0:18080');
    await page.getByText('Raw JSON').click();
    expect(JSON.parse((await page.locator('details.raw pre').textContent())!).Id).toBe(id);
    await screenshot(page, 'console-container');
  });

  it('follows the logs as the container prints them, with search', async () => {
    await ok(['run', '-d', '--name', 'ticker', 'busybox', 'sh', '-c', 'i=0; while true; do i=$((i+1)); echo line-$i; sleep 0.2; done']);
    await route('#/containers/ticker');
    await page.getByRole('tab', { name: 'Logs' }).click();
    const logs = page.locator('pre[aria-label="Logs"]');
    await logs
      .getByText(/^line-\d+$/)
      .first()
      .waitFor();
    const last = async () => Math.max(...(await logs.locator('div').allTextContents()).map((l) => Number(/^line-(\d+)$/.exec(l)?.[1] ?? 0)));
    const seen = await last();
    // Lines printed after the view opened arrive in it.
    await logs.getByText(`line-${seen + 5}`, { exact: true }).waitFor({ timeout: 15_000 });
    expect(await notReloaded()).toBe(true);
    await page.getByLabel('Search logs').fill('line-1');
    await page
      .getByRole('status')
      .filter({ hasText: /following, \d+ of \d+ lines/ })
      .waitFor();
    const shown = await logs.locator('div').allTextContents();
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.filter((l) => !l.includes('line-1'))).toEqual([]);
    expect(await logs.locator('mark').first().textContent()).toBe('line-1');
    await page.getByLabel('Search logs').fill('');
    await screenshot(page, 'console-container-logs');
  });

  it("reads a TTY container's logs, which come unframed", async () => {
    await ok(['run', '-dt', '--name', 'ttybox', 'busybox', 'sh', '-c', 'echo tty-line; sleep 600']);
    await route('#/containers/ttybox');
    await page.getByRole('tab', { name: 'Logs' }).click();
    // A frame header read as text would come before the line (and a line split across reads joined).
    await page.locator('pre[aria-label="Logs"] div', { hasText: /^tty-line$/ }).waitFor({ timeout: 10_000 });
    await ok(['rm', '-f', 'ttybox']);
  });

  it('opens a terminal that runs `echo hi` and follows the window size', async () => {
    await ok(['run', '-d', '--name', 'shell', 'busybox', 'sleep', '600']);
    await route('#/containers/shell');
    await page.getByRole('tab', { name: 'Terminal' }).click();
    await page.getByRole('status').filter({ hasText: 'connected' }).waitFor({ timeout: 15_000 });
    const rows = page.locator('.xterm-rows > div');
    await page.locator('.terminal-box').click();
    await page.keyboard.type('echo hi');
    await page.keyboard.press('Enter');
    await rows.filter({ hasText: /^\s*hi\s*$/ }).waitFor({ timeout: 10_000 });
    // The size the shell sees is the terminal's, and follows it.
    const size = async (marker: string) => {
      await page.keyboard.type(`echo ${marker} $(stty size)`);
      await page.keyboard.press('Enter');
      const line = rows.filter({ hasText: new RegExp(`^\\s*${marker} \\d+ \\d+\\s*$`) });
      await line.waitFor({ timeout: 10_000 });
      return (await line.textContent())!.trim().split(/\s+/).slice(1).map(Number);
    };
    const before = await size('wide');
    await page.setViewportSize({ width: 800, height: 700 });
    await expect.poll(async () => (await size(`narrow${Date.now() % 1000}`))[1], { timeout: 15_000 }).toBeLessThan(before[1]!);
    await page.setViewportSize({ width: 1280, height: 900 });
    await screenshot(page, 'console-container-terminal');
  });

  it('charts the stats stream and lists the processes', async () => {
    await page.getByRole('tab', { name: 'Stats' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /CPU [\d.]+ %, memory/ })
      .waitFor({ timeout: 15_000 });
    expect(await page.locator('.charts canvas').count()).toBeGreaterThanOrEqual(3);
    await screenshot(page, 'console-container-stats');
    await page.getByRole('tab', { name: 'Processes' }).click();
    await page.getByRole('cell', { name: 'sleep 600' }).waitFor({ timeout: 10_000 });
  });
});
