// Debian's Firefox ESR driven over WebDriver BiDi, its own remote protocol: playwright-core's Firefox
// needs Playwright's patched build, and its BiDi mode asks this ESR for commands it does not have
// (emulation.setMediaFeaturesOverride). A few BiDi commands are all the console's Firefox check needs.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'undici';
import { ARTIFACTS } from './browser.js';

export const FIREFOX = process.env.BERTH_FIREFOX ?? '/usr/bin/firefox-esr';

export class Firefox {
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(
    private readonly child: ChildProcess,
    private readonly ws: WebSocket,
    private readonly profile: string,
    private readonly tab: () => string,
  ) {}

  /** The top-level browsing context (the tab). */
  get context(): string {
    return this.tab();
  }

  static async launch(): Promise<Firefox> {
    const profile = await mkdtemp(join(tmpdir(), 'berth-firefox-'));
    const child = spawn(FIREFOX, ['--headless', '--no-remote', '--remote-debugging-port=0', '--profile', profile], {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
      env: { ...process.env, MOZ_CRASHREPORTER_DISABLE: '1' },
    });
    let said = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`firefox did not listen: ${said}`)), 60_000);
      child.stderr!.on('data', (d: Buffer) => {
        said += d.toString();
        const m = /WebDriver BiDi listening on (ws:\/\/\S+)/.exec(said);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.once('exit', (code) => reject(new Error(`firefox exited ${code}: ${said}`)));
    }).catch(async (err) => {
      kill(child);
      await rm(profile, { recursive: true, force: true });
      throw err;
    });
    const ws = new WebSocket(`${url}/session`);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error('the BiDi websocket failed'));
    });
    let context = '';
    const ff = new Firefox(child, ws, profile, () => context);
    ws.onmessage = (m) => ff.onMessage(String(m.data));
    await ff.send('session.new', { capabilities: {} });
    const tree = (await ff.send('browsingContext.getTree', {})) as { contexts: { context: string }[] };
    context = tree.contexts[0]!.context;
    return ff;
  }

  private onMessage(text: string): void {
    const msg = JSON.parse(text) as { id?: number; error?: string; message?: string; result?: unknown };
    if (msg.id === undefined) return; // an event
    const w = this.waiting.get(msg.id);
    this.waiting.delete(msg.id);
    if (msg.error) w?.reject(new Error(`${msg.error}: ${msg.message}`));
    else w?.resolve(msg.result);
  }

  send(method: string, params: object): Promise<unknown> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  async navigate(url: string): Promise<void> {
    await this.send('browsingContext.navigate', { context: this.context, url, wait: 'complete' });
  }

  /** Evaluates `expression` in the page (promises awaited); its JSON-able value. */
  async evaluate<T>(expression: string): Promise<T> {
    const r = (await this.send('script.evaluate', {
      expression: `(async () => JSON.stringify(await (${expression})))()`,
      target: { context: this.context },
      awaitPromise: true,
    })) as { type: string; result?: { value?: string }; exceptionDetails?: { text: string } };
    if (r.type === 'exception') throw new Error(`in the page: ${r.exceptionDetails?.text}`);
    const value = r.result?.value;
    return (value === undefined ? undefined : JSON.parse(value)) as T;
  }

  /** Evaluates `expression` until it is truthy (or throws after `ms`). */
  async waitFor(expression: string, ms = 15_000): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (await this.evaluate<boolean>(expression).catch(() => false)) return;
      if (Date.now() > deadline) throw new Error(`not true in Firefox after ${ms} ms: ${expression}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async screenshot(name: string): Promise<void> {
    const r = (await this.send('browsingContext.captureScreenshot', { context: this.context })) as { data: string };
    await mkdir(ARTIFACTS, { recursive: true });
    await writeFile(join(ARTIFACTS, `${name}.png`), Buffer.from(r.data, 'base64'));
  }

  async close(): Promise<void> {
    await this.send('browser.close', {}).catch(() => undefined);
    this.ws.close();
    const exited = new Promise((r) => this.child.once('exit', r));
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    kill(this.child);
    await rm(this.profile, { recursive: true, force: true });
  }
}

function kill(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // gone
  }
}
