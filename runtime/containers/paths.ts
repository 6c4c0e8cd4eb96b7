// Where a container's files live. Persistent state under the root; sockets, exit files and runc state
// under the run root (gone with a reboot, as the processes are).
import { join } from 'node:path';

export class ContainerPaths {
  constructor(
    readonly root: string,
    readonly runRoot: string,
  ) {}

  containersDir = () => join(this.root, 'containers');
  dir = (id: string) => join(this.containersDir(), id);
  upper = (id: string) => join(this.dir(id), 'diff');
  work = (id: string) => join(this.dir(id), 'work');
  merged = (id: string) => join(this.dir(id), 'merged');
  /**
   * A rootless container in a user namespace of its own: the image's layers as it sees them (chowned
   * once), below its upper dir; made under the `mapped.*` names and renamed to `mapped` when complete.
   */
  mapped = (id: string) => ({
    layer: join(this.dir(id), 'mapped'),
    temp: join(this.dir(id), 'mapped.tmp'),
    work: join(this.dir(id), 'mapped.work'),
    mount: join(this.dir(id), 'mapped.mnt'),
    upper: this.upper(id),
  });
  /** What an engine before mapped layers left in the bundle of such a container whose rootfs it chowned in place. */
  legacyMapped = (id: string) => join(this.bundle(id), 'userns-mapped');
  /** An IpcMode shareable container's /dev/shm, mounted on the host so that joiners can bind it. */
  shm = (id: string) => join(this.dir(id), 'shm');
  /** The OCI bundle: config.json, generated /etc files, the log; conmon's persist dir too. */
  bundle = (id: string) => join(this.dir(id), 'userdata');
  log = (id: string) => join(this.bundle(id), 'ctr.log');
  exitDir = () => join(this.runRoot, 'exits');
  exitFile = (id: string) => join(this.exitDir(), id);
  runcRoot = () => join(this.runRoot, 'runc');
  socketDir = () => join(this.runRoot, 'sock');
  /** conmon names the attach socket by a short ID so the socket path fits in 108 bytes. */
  attachSocket = (id: string) => join(this.socketDir(), id.slice(0, 12), 'attach');
  /** conmon's link from the socket dir to the persist dir that holds the attach socket. */
  attachLink = (id: string) => join(this.socketDir(), id.slice(0, 12));
  controlFifo = (id: string) => join(this.bundle(id), 'ctl');
  conmonPid = (id: string) => join(this.bundle(id), 'conmon.pid');
}
