// A container's stdin and terminal size, through conmon: stdin goes over conmon's attach socket, a
// SOCK_SEQPACKET socket Node cannot open, so socat carries it; resizes go to conmon's control FIFO.
import { spawn, type ChildProcess } from 'node:child_process';
import { open } from 'node:fs/promises';
import { constants } from 'node:fs';
import type { Writable } from 'node:stream';
import type { ContainerPaths } from './paths.js';

export interface StdinPipe {
  stdin: Writable;
  closed: Promise<void>;
  process: ChildProcess;
}

/** Writes to the container's stdin; ending the stream closes it (conmon then closes stdin if StdinOnce). */
export function openStdin(paths: ContainerPaths, id: string): StdinPipe {
  // Both directions and -t: after stdin's EOF socat stays connected a moment before closing; conmon misses
  // a client that sends and hangs up at once, and would then leave the container's stdin open.
  const child = spawn('socat', ['-t', '0.2', '-b', '8192', '-', `UNIX-CONNECT:${paths.attachSocket(id)},type=5`], { stdio: ['pipe', 'ignore', 'ignore'] });
  child.stdin!.on('error', () => undefined); // the container may exit first
  const closed = new Promise<void>((resolve) => {
    child.on('close', () => resolve());
    child.on('error', () => resolve());
  });
  return { stdin: child.stdin!, closed, process: child };
}

/** Sets the container's terminal size: conmon reads `1 <rows> <cols>` lines from its ctl FIFO. */
export async function resizeTerminal(paths: ContainerPaths, id: string, height: number, width: number): Promise<void> {
  // O_NONBLOCK: if conmon is not there to read, fail instead of hanging.
  const handle = await open(paths.controlFifo(id), constants.O_WRONLY | constants.O_NONBLOCK);
  try {
    await handle.write(`1 ${height} ${width}\n`);
  } finally {
    await handle.close();
  }
}
