// Runs a command on a real pseudo-terminal (test/helpers/terminal.py): types, waits for output, resizes.
import { fileURLToPath } from 'node:url';
import { run, type Result } from './engine.js';

const DRIVER = fileURLToPath(new URL('./terminal.py', import.meta.url));

export type TerminalStep = { expect: string } | { send: string } | { resize: [number, number] } | { sleep: number };

export function onTerminal(size: [number, number], steps: TerminalStep[], command: string[], env: NodeJS.ProcessEnv): Promise<Result> {
  return run('python3', [DRIVER, String(size[0]), String(size[1]), JSON.stringify(steps), '--', ...command], { env });
}
