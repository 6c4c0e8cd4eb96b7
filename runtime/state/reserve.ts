// Space held back for a full disk. A container that fills the filesystem under the root must not lock
// the user out: the operations that free space (kill, stop, rm, recording an exit) write to the DB, and
// SQLite cannot append to its WAL on a full disk. So the root keeps a preallocated file; when such an
// operation's write fails with SQLITE_FULL the file is deleted and the write retried, and once space is
// back the file is made again.
import { AsyncLocalStorage } from 'node:async_hooks';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, statSync, statfsSync, writeSync } from 'node:fs';

const RESERVE_BYTES = 8 * 1024 * 1024;
const CHUNK = Buffer.alloc(1024 * 1024);

const freeing = new AsyncLocalStorage<true>();
const reserves = new Set<SpaceReserve>();

/** Runs an operation that frees space: its DB writes may use the reserve. The reserve is remade after. */
export async function freeingSpace<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await freeing.run(true, fn);
  } finally {
    for (const reserve of reserves) reserve.restore();
  }
}

export const mayUseReserve = () => freeing.getStore() === true;

export class SpaceReserve {
  private held = false;

  constructor(
    readonly file: string,
    readonly bytes = RESERVE_BYTES,
  ) {
    reserves.add(this);
  }

  /** Makes the file when it is not there and the filesystem has room for it and as much again. */
  restore(): void {
    if (this.held) return;
    try {
      if (statSync(this.file, { throwIfNoEntry: false })?.size === this.bytes) {
        this.held = true; // made by an earlier run
        return;
      }
      const fs = statfsSync(this.file.replace(/\/[^/]*$/, '') || '/');
      if (fs.bavail * fs.bsize < 2 * this.bytes) return;
      const staging = `${this.file}.new`;
      const fd = openSync(staging, 'w', 0o600);
      try {
        // Written, not truncated to size: a sparse file would hold no blocks.
        for (let done = 0; done < this.bytes; done += CHUNK.length) writeSync(fd, CHUNK);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(staging, this.file);
      this.held = true;
    } catch {
      rmSync(`${this.file}.new`, { force: true });
    }
  }

  /** Deletes the file; false when there was none to give. */
  release(): boolean {
    if (!this.held) return false;
    rmSync(this.file, { force: true });
    this.held = false;
    process.stderr.write(`berth: the disk under ${this.file} is full: released the space reserve so that kill, stop and rm can go through\n`);
    return true;
  }

  close(): void {
    reserves.delete(this);
  }
}
