// An engine with its web console on a free loopback port: `berth serve --console 127.0.0.1:0` prints
// `berth: console at http://HOST:PORT/?token=TOKEN` once on stderr; the tests read it from there.
import { TestEngine } from './engine.js';

export interface ConsoleEngine {
  engine: TestEngine;
  /** http://127.0.0.1:PORT */
  origin: string;
  token: string;
  /** The URL berth printed (origin + /?token=…). */
  url: string;
}

export async function startConsoleEngine(extraArgs: string[] = []): Promise<ConsoleEngine> {
  const engine = await TestEngine.start(['--console', '127.0.0.1:0', ...extraArgs]);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const m = /console at (http:\/\/[^/\s]+)\/\?token=([0-9a-zA-Z_-]+)/.exec(engine.stderr);
    if (m) return { engine, origin: m[1]!, token: m[2]!, url: `${m[1]}/?token=${m[2]}` };
    if (Date.now() > deadline) {
      await engine.destroy();
      throw new Error(`berth printed no console URL: ${engine.stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
