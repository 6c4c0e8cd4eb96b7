// podman run --user <uid>[:<group>] of a uid the image's /etc/passwd lacks: podman gives it a line
// (`uid:*:uid:gid:container user:<workdir>:/bin/sh`, gid 0 unless a group is given) and, for a numeric
// group the image lacks (the uid's own when none is given), `gid:x:gid:uid`, so that `id` names them:
// `uid=1000(1000) gid=1000(1000)`. A user given by name is the image's to have.
import { addEntry } from '../rootless/userns-modes.js';
import { resolveUser } from '../oci/user.js';

export async function addPodmanUser(rootfs: string, user: string | undefined, workdir: string | undefined): Promise<void> {
  const [uid = '', group] = (user ?? '').split(':');
  if (!/^\d+$/.test(uid)) return;
  // The group's id as the image names it (a missing named group fails later, in resolveUser's words).
  const gid = group
    ? await resolveUser(rootfs, `0:${group}`).then(
        (u) => u.gid,
        () => 0,
      )
    : 0;
  await addEntry(rootfs, 'etc/passwd', 2, uid, `${uid}:*:${uid}:${gid}:container user:${workdir || '/'}:/bin/sh`);
  const own = group || uid;
  if (/^\d+$/.test(own)) await addEntry(rootfs, 'etc/group', 2, own, `${own}:x:${own}:${uid}`);
}
