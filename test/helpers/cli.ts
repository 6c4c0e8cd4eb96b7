// The docker CLI against a test engine, as the suites use it: `docker` returns the result, `ok` also
// asserts success (and, when strict, a quiet stderr) and returns stdout; `env` is the CLI's environment
// for commands the suites start themselves (on a pty, in the background).
import { expect } from 'vitest';
import { join } from 'node:path';
import type { Result, TestEngine } from './engine.js';

export function cliOf(engine: () => TestEngine, o: { strict?: boolean } = {}) {
  const docker = (args: string[], input?: string | Buffer): Promise<Result> => engine().docker(args, { input });
  const ok = async (args: string[], input?: string | Buffer): Promise<string> => {
    const res = await docker(args, input);
    if (o.strict) expect(res.stderr, `docker ${args.join(' ')}`).toBe('');
    expect(res.code, `docker ${args.join(' ')}: ${res.stderr}`).toBe(0);
    return res.stdout;
  };
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, DOCKER_HOST: `unix://${engine().socket}`, DOCKER_CONFIG: join(engine().dir, 'docker-config') });
  return { docker, ok, env };
}
