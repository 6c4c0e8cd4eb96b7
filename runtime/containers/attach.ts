// A container's stdin and terminal size, through conmon: stdin goes over conmon's attach socket, a
// SOCK_SEQPACKET socket Node cannot open, so socat carries it; resizes go to conmon's control FIFO.
import { spawn, type ChildProcess } from 'node:child_process';
import { open } from 'node:fs/promises';
import { constants } from 'node:fs';
import type { Writable } from 'node:stream';

export interface StdinPipe {
  stdin: Writable;
  closed: Promise<void>;
  process: ChildProcess;
}

/** Writes to a conmon-held stdin through its attach socket; ending the stream closes it (for a container,
 * when StdinOnce; for an exec session, always). */
export function openStdin(attachSocket: string): StdinPipe {
  // Both directions and -t: after stdin's EOF socat stays connected a moment before closing; conmon misses
  // a client that sends and hangs up at once, and would then leave the container's stdin open.
  const child = spawn('socat', ['-t', '0.2', '-b', '8192', '-', `UNIX-CONNECT:${attachSocket},type=5`], { stdio: ['pipe', 'ignore', 'ignore'] });
  child.stdin!.on('error', () => undefined); // the container may exit first
  const closed = new Promise<void>((resolve) => {
    child.on('close', () => resolve());
    child.on('error', () => resolve());
  });
  return { stdin: child.stdin!, closed, process: child };
}

/** Sets a terminal's size: conmon reads `1 <rows> <cols>` lines from its ctl FIFO. */
export async function resizeTerminal(controlFifo: string, height: number, width: number): Promise<void> {
  // O_NONBLOCK: if conmon is not there to read, fail instead of hanging.
  const handle = await open(controlFifo, constants.O_WRONLY | constants.O_NONBLOCK);
  try {
    await handle.write(`1 ${height} ${width}\n`);
  } finally {
    await handle.close();
  }
}
