// The console in Debian's Firefox ESR (over WebDriver BiDi, test/helpers/firefox.ts): the token becomes
// a cookie the page cannot read, the API answers through the proxy, the containers list follows the
// docker CLI live, a button of the page stops a container, and the terminal runs a command.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { startConsoleEngine, type ConsoleEngine } from '../helpers/console.js';
import { Firefox } from '../helpers/firefox.js';

const images = inject('images');
let con: ConsoleEngine;
let ff: Firefox;

async function ok(args: string[]): Promise<string> {
  const res = await con.engine.docker(args);
  expect(res.code, `docker ${args.join(' ')}: ${res.stderr}`).toBe(0);
  return res.stdout.trim();
}

beforeAll(async () => {
  con = await startConsoleEngine();
  expect((await con.engine.docker(['load', '-i', images.busybox.archive])).code).toBe(0);
  ff = await Firefox.launch();
}, 120_000);

afterAll(async () => {
  await ff?.close();
  await con?.engine.destroy();
});

describe('the console in Firefox', () => {
  it('opens from the printed URL, lists a container live, stops it from the page, runs a terminal', async () => {
    await ff.navigate(con.url);
    await ff.waitFor(`document.querySelector('berth-console nav a[href="#/containers"]') !== null`);
    expect(await ff.evaluate<string>('location.href')).toBe(`${con.origin}/`);
    expect(await ff.evaluate<string>('document.cookie')).toBe('');
    expect(await ff.evaluate<string>(`fetch('/api/_ping').then((r) => r.text())`)).toBe('OK');

    await ff.evaluate(`(location.hash = '#/containers')`);
    // Firefox's fetch of the events stream resolves at its first event, not at its head (Chromium's at
    // the head): the page says "live" only then, but the event that opens it reloads the list.
    await ff.waitFor(`document.body.innerText.includes('No containers')`);
    await ok(['run', '-d', '--name', 'ff-box', 'busybox', 'sleep', '600']);
    await ff.waitFor(`document.querySelector('button[aria-label="Stop ff-box"]') !== null`);
    await ff.screenshot('console-firefox-containers');
    await ff.evaluate(`document.querySelector('button[aria-label="Stop ff-box"]').click()`);
    for (let i = 0; i < 100 && (await ok(['inspect', '-f', '{{.State.Running}}', 'ff-box'])) !== 'false'; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await ok(['inspect', '-f', '{{.State.Running}}', 'ff-box'])).toBe('false');

    await ok(['start', 'ff-box']);
    const id = await ok(['inspect', '-f', '{{.Id}}', 'ff-box']);
    await ff.evaluate(`(location.hash = '#/containers/${id}')`);
    await ff.waitFor(`[...document.querySelectorAll('[role=tab], button')].some((b) => b.textContent.trim() === 'Terminal')`);
    await ff.evaluate(`[...document.querySelectorAll('[role=tab], button')].find((b) => b.textContent.trim() === 'Terminal').click()`);
    await ff.waitFor(`document.querySelector('.xterm-helper-textarea') !== null`);
    // Typed into xterm's input as a keyboard would: its textarea receives the text.
    await ff.waitFor(`document.querySelector('.xterm-rows')?.innerText.includes('#')`);
    await ff.send('input.performActions', {
      context: ff.context,
      actions: [
        {
          type: 'key',
          id: 'keys',
          actions: [...'echo ff-$((6*7))\n']
            .flatMap((c) => (c === '\n' ? ['\uE007'] : [c]))
            .flatMap((value) => [
              { type: 'keyDown', value },
              { type: 'keyUp', value },
            ]),
        },
      ],
    });
    await ff.waitFor(`document.querySelector('.xterm-rows')?.innerText.includes('ff-42')`);
    await ff.screenshot('console-firefox-terminal');
    await ok(['rm', '-f', 'ff-box']);
  });
});
