// The container's WORKDIR, made in its rootfs at start as dockerd makes it: inside the root, symlinks on
// the way followed as the container would follow them (util/in-root.ts), never a host path.
import { invalid } from '../errors.js';
import { isErrno, mkdirInRoot } from '../util/in-root.js';

export function makeWorkingDir(rootfs: string, dir: string): void {
  try {
    mkdirInRoot(rootfs, dir).close();
  } catch (err) {
    if (isErrno(err, 'ENOTDIR', 'EEXIST')) throw invalid(`Cannot mkdir: ${dir} is not a directory`);
    throw err;
  }
}
