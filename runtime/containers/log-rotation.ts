// `--log-opt max-size=S --log-opt max-file=N`: conmon keeps one log file (at its size bound it starts it
// over), so for N > 1 the engine rotates: log.(N-2) → log.(N-1) …, log → log.1, then conmon reopens
// its log on a control message. Nothing is lost: conmon writes the old file until it reopens.
import { open, rename, rm, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import type { ContainerPaths } from './paths.js';

export interface LogLimits {
  maxSize?: number;
  maxFile: number;
}

/** The names a log's rotated files have, oldest first (readLog skips those that do not exist). */
export function rotatedLogs(log: string, maxFile: number): string[] {
  return Array.from({ length: Math.max(maxFile - 1, 0) }, (_, i) => `${log}.${maxFile - 1 - i}`);
}

export async function rotateIfNeeded(paths: ContainerPaths, id: string, limits: LogLimits): Promise<void> {
  if (!limits.maxSize || limits.maxFile <= 1) return;
  const log = paths.log(id);
  const size = (await stat(log).catch(() => ({ size: 0 }))).size;
  if (size < limits.maxSize) return;
  await rm(`${log}.${limits.maxFile - 1}`, { force: true });
  for (let i = limits.maxFile - 2; i >= 1; i--) await rename(`${log}.${i}`, `${log}.${i + 1}`).catch(() => undefined);
  await rename(log, `${log}.1`);
  // conmon's control FIFO: message type 2 reopens the log file. O_NONBLOCK: never hang on a gone conmon.
  const ctl = await open(paths.controlFifo(id), constants.O_WRONLY | constants.O_NONBLOCK).catch(() => undefined);
  await ctl?.write('2 0 0\n').catch(() => undefined);
  await ctl?.close();
}
