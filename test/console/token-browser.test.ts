// The console's token flow in Debian's Chromium: the printed URL opens the console and leaves an
// HttpOnly cookie; without it the browser gets 401; a page of another origin on the same host (same
// site, so the SameSite cookie goes along) can neither change state nor open a websocket.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { launchBrowser, screenshot } from '../helpers/browser.js';
import { startConsoleEngine, type ConsoleEngine } from '../helpers/console.js';

const images = inject('images');
let c: ConsoleEngine;
let browser: Browser;

beforeAll(async () => {
  c = await startConsoleEngine();
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await c?.engine.destroy();
});

describe('the token in the browser', () => {
  it('opens the console from the printed URL, trading the token for an HttpOnly cookie', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const response = await page.goto(c.url);
    expect(response?.status()).toBe(200);
    // The token left the address bar.
    expect(page.url()).toBe(`${c.origin}/`);
    await page.getByRole('link', { name: 'berth', exact: true }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'containers' }).waitFor();
    await nav.getByRole('link', { name: 'images' }).waitFor();
    const cookies = await context.cookies();
    expect(cookies.map(({ name, value, httpOnly, sameSite, path }) => ({ name, value, httpOnly, sameSite, path }))).toEqual([
      { name: 'berth_console', value: c.token, httpOnly: true, sameSite: 'Strict', path: '/' },
    ]);
    // The page's scripts cannot read it, and its API calls carry it.
    expect(await page.evaluate(() => document.cookie)).toBe('');
    expect(await page.evaluate(() => fetch('/api/_ping').then((r) => r.text()))).toBe('OK');
    await screenshot(page, 'console-token-landing');
    await context.close();
  });

  it('shows 401 at / without the token, and with a wrong one', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const bare = await page.goto(`${c.origin}/`);
    expect(bare?.status()).toBe(401);
    await page.getByText('This console needs its token').waitFor();
    await screenshot(page, 'console-token-401');
    const wrong = await page.goto(`${c.origin}/?token=${'0'.repeat(64)}`);
    expect(wrong?.status()).toBe(401);
    expect(await context.cookies()).toEqual([]);
    await context.close();
  });

  it("keeps another origin's page on the same host out, though the browser sends it the cookie; the console's own websocket works", async () => {
    expect((await c.engine.docker(['load', '-i', images.busybox.archive])).code).toBe(0);
    const run = await c.engine.docker(['run', '-di', '--name', 'target', 'busybox', 'sh', '-c', 'while read l; do echo "got $l"; done']);
    expect(run.code, run.stderr).toBe(0);
    const other: Server = createServer((_req, res) => res.end('<!doctype html><title>other</title>'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(c.url); // the cookie, as a user who opened the console has it
      await page.goto(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`);
      const outcome = await page.evaluate(async (origin) => {
        // A form-like POST (no preflight): sent with the cookie, refused for want of the header.
        const simple = await fetch(`${origin}/api/v1.50/containers/target/stop?t=0`, { method: 'POST', mode: 'no-cors', credentials: 'include' }).then(
          () => 'sent',
          () => 'failed',
        );
        // With the header: the preflight is not answered, so the POST never leaves.
        const marked = await fetch(`${origin}/api/v1.50/containers/target/kill`, {
          method: 'POST',
          credentials: 'include',
          headers: { 'x-berth-console': '1' },
        }).then(
          () => 'sent',
          () => 'failed',
        );
        const ws = await new Promise<string>((resolve) => {
          const socket = new WebSocket(`${origin.replace('http', 'ws')}/api/v1.50/containers/target/attach/ws?stream=1&stdin=1`);
          socket.onopen = () => resolve('open');
          socket.onerror = () => resolve('refused');
        });
        return { simple, marked, ws };
      }, c.origin);
      expect(outcome).toEqual({ simple: 'sent', marked: 'failed', ws: 'refused' });
      const state = await c.engine.docker(['inspect', '-f', '{{.State.Running}}', 'target']);
      expect(state.stdout.trim()).toBe('true');
      // The same websocket from the console's own page opens, and carries the container's stdin and output.
      await page.goto(`${c.origin}/`);
      const echoed = await page.evaluate(
        () =>
          new Promise<string>((resolve, reject) => {
            const socket = new WebSocket(`ws://${location.host}/api/v1.50/containers/target/attach/ws?stream=1&stdin=1&stdout=1`);
            socket.binaryType = 'arraybuffer';
            let text = '';
            socket.onopen = () => socket.send('from the page\n');
            socket.onmessage = (m) => {
              text += new TextDecoder().decode(m.data as ArrayBuffer);
              if (text.includes('got from the page')) {
                socket.close();
                resolve(text);
              }
            };
            socket.onerror = () => reject(new Error('the websocket failed'));
          }),
      );
      expect(echoed).toBe('got from the page\n');
      await context.close();
    } finally {
      await new Promise((resolve) => other.close(resolve));
      await c.engine.docker(['rm', '-f', 'target']);
    }
  });
});
