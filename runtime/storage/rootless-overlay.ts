// Overlay in a rootless engine's user namespace. The kernel lets the namespace's root mount overlayfs
// (5.11+), but it cannot write `trusted.*` xattrs: without `userxattr` the mount works yet a lower
// directory deleted and made again fails with EIO (overlay cannot mark it opaque). With `userxattr`
// overlay keeps its marks as `user.overlay.*`, so layers and upper dirs store opaque directories under
// that name too. Where the kernel refuses `userxattr`, fuse-overlayfs does the mounting (untested on
// this VM, whose kernel takes userxattr; BERTH_ROOTLESS_OVERLAY=fuse-overlayfs forces it).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { rootless } from '../rootless/mode.js';

const run = promisify(execFile);

/** The xattr overlayfs reads and writes for an opaque directory in this engine's layers and upper dirs. */
export const opaqueXattr = (): string => (rootless() ? 'user.overlay.opaque' : 'trusted.overlay.opaque');

/** Overlay's own xattrs (not content to copy or commit). */
export const isOverlayXattr = (name: string): boolean => name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.');

type Driver = 'userxattr' | 'fuse-overlayfs';

/** Decided by the first mount (the probe is a real mount) and kept. */
let driver: Driver | undefined = process.env.BERTH_ROOTLESS_OVERLAY === 'fuse-overlayfs' ? 'fuse-overlayfs' : undefined;

/**
 * A rootless overlay mount: `userxattr` through `native` (mount(2) with these options), or
 * fuse-overlayfs when the kernel refused that once.
 */
export async function mountRootlessOverlay(options: string, merged: string, native: (options: string) => Promise<void>): Promise<void> {
  if (driver !== 'fuse-overlayfs') {
    try {
      await native(`${options},userxattr`);
      driver = 'userxattr';
      return;
    } catch (err) {
      // It worked before, or this is not the kernel refusing the option (EINVAL): this mount's own failure.
      if (driver === 'userxattr' || !/invalid argument|bad option|unknown parameter/i.test((err as Error).message)) throw err;
      try {
        await fuseOverlay(options, merged);
      } catch (fuseErr) {
        throw new Error(`${(err as Error).message} (overlay with userxattr; fuse-overlayfs: ${(fuseErr as Error).message})`);
      }
      process.stderr.write(`berth: the kernel refused overlay with userxattr (${(err as Error).message}): using fuse-overlayfs\n`);
      driver = 'fuse-overlayfs';
      return;
    }
  }
  await fuseOverlay(options, merged);
}

/** fuse-overlayfs mounts and daemonizes; unmounting (umount2 by the namespace's root) ends it. */
async function fuseOverlay(options: string, merged: string): Promise<void> {
  await run('fuse-overlayfs', ['-o', options, merged]).catch((err: Error & { stderr?: string }) => {
    throw new Error(err.stderr?.trim() || err.message);
  });
}
