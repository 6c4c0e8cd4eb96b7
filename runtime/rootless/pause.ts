// The pause process: a `sleep` that holds the user's user namespace (uid 0 = the user, 1..N = the subuid
// range) and a private mount namespace, as podman's catatonit pause does. The engine, its conmons and
// their containers live in these namespaces; the pause keeps them alive across engine restarts, so a
// restarted engine joins the same namespaces and finds its overlay mounts and network namespaces again.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { IdRange } from './subids.js';

export const pauseFile = (runRoot: string): string => join(runRoot, 'pause.pid');

/** The live pause's pid: a process of ours, in a user namespace other than ours, holding a mapping. */
export function livePause(runRoot: string, uid: number): number | undefined {
  try {
    const pid = Number(readFileSync(pauseFile(runRoot), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 1) return undefined;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    if (Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) !== uid) return undefined;
    // A killed pause stays a zombie until PID 1 reaps it, its namespaces already gone.
    if (/^State:\s+Z/m.test(status)) return undefined;
    if (readlinkSync(`/proc/${pid}/ns/user`) === readlinkSync('/proc/self/ns/user')) return undefined;
    return readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split('\n').length >= 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The run root, made 0700 and ours; another user's directory there is refused (it could be a trap). */
export function ownRunRoot(runRoot: string, uid: number): void {
  mkdirSync(runRoot, { recursive: true, mode: 0o700 });
  const st = lstatSync(runRoot);
  if (!st.isDirectory() || st.uid !== uid) throw new Error(`${runRoot} is not a directory owned by uid ${uid}; refusing to use it`);
}

// Under flock: a second berth starting at the same moment finds the first one's pause instead of making
// its own. unshare (util-linux ≥ 2.38) writes both maps through newuidmap/newgidmap; setsid detaches the
// pause from the caller's session so it outlives the engine and the terminal. $BERTH_SCOPE, when set, is
// the systemd-run prefix that puts the pause in a delegated scope of its own (delegatedScope); where
// that fails, the pause starts without it.
const START = `
pidfile=$1; shift
pid=$(cat "$pidfile" 2>/dev/null || true)
if [ -n "$pid" ] && [ "$(cat /proc/$pid/comm 2>/dev/null)" = sleep ] && ! grep -q '^State:.*Z' /proc/$pid/status 2>/dev/null && [ -n "$(readlink /proc/$pid/ns/user)" ] && [ "$(readlink /proc/$pid/ns/user)" != "$(readlink /proc/self/ns/user)" ]; then exit 0; fi
start() {
  scope=$1; shift
  if [ -n "$BERTH_JOIN" ]; then
    # The namespaces outlived their pause (killed by the user, OOM): a new pause joins them.
    setsid $scope nsenter --user --mount --preserve-credentials -t "$BERTH_JOIN" sleep infinity </dev/null >/dev/null 2>"$pidfile.err" &
  else
    setsid $scope unshare "$@" sleep infinity </dev/null >/dev/null 2>"$pidfile.err" &
  fi
  pid=$!
  i=0
  until [ "$(cat /proc/$pid/comm 2>/dev/null)" = sleep ]; do
    if ! kill -0 $pid 2>/dev/null || [ $i -ge 1000 ]; then return 1; fi
    i=$((i+1)); sleep 0.01
  done
}
if ! { [ -n "$BERTH_SCOPE" ] && start "$BERTH_SCOPE" "$@"; }; then
  [ -n "$BERTH_SCOPE" ] && echo "berth: no delegated cgroup for containers (systemd-run: $(cat "$pidfile.err")): limits are ignored" >&2
  start "" "$@" || { cat "$pidfile.err" >&2; rm -f "$pidfile.err"; exit 1; }
fi
rm -f "$pidfile.err"
echo $pid > "$pidfile.tmp" && mv "$pidfile.tmp" "$pidfile"
`;

/**
 * A live conmon of this run root's containers, in a user namespace of ours: when the pause died while
 * containers ran, their monitors still hold its namespaces, and the next pause joins them there (podman
 * does the same from a conmon's pid), so the engine finds its containers and their mounts again.
 */
export function namespaceHolder(runRoot: string, uid: number): number | undefined {
  const own = readlinkSync('/proc/self/ns/user');
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'conmon') continue;
      if (Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1]) !== uid) continue;
      if (!readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(join(runRoot, 'exits'))) continue;
      if (readlinkSync(`/proc/${entry}/ns/user`) !== own) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/**
 * The systemd-run prefix that starts the pause in a transient scope with Delegate=yes, where a user
 * systemd manager runs on cgroup v2 (its private socket is there): containers' cgroups go under the
 * pause's scope (runtime/rootless/cgroups.ts), as podman's go in scopes of the user's manager. Not under
 * the engine's own unit: a process cannot join a cgroup whose controllers are enabled for children, so
 * systemd could not start berth.service again (socket activation after --idle-exit) while containers ran.
 */
export function delegatedScope(env: NodeJS.ProcessEnv): string {
  if (!env.XDG_RUNTIME_DIR || !existsSync(join(env.XDG_RUNTIME_DIR, 'systemd/private'))) return '';
  if (!existsSync('/sys/fs/cgroup/cgroup.controllers')) return '';
  return 'systemd-run --user --scope --quiet --collect --property=Delegate=yes --description=berth-rootless-pause';
}

/** The pause's pid, started when none lives. */
export function ensurePause(runRoot: string, uid: number, ids: { uid: IdRange; gid: IdRange }): number {
  const live = livePause(runRoot, uid);
  if (live) return live;
  ownRunRoot(runRoot, uid);
  const args = [
    '--user',
    '--mount',
    '--propagation',
    'private',
    '--map-root-user',
    `--map-users=${ids.uid.start},1,${ids.uid.count}`,
    `--map-groups=${ids.gid.start},1,${ids.gid.count}`,
  ];
  const holder = namespaceHolder(runRoot, uid);
  const env = { ...process.env, BERTH_JOIN: holder ? String(holder) : '', BERTH_SCOPE: delegatedScope(process.env) };
  const r = spawnSync('flock', [join(runRoot, 'pause.lock'), 'sh', '-c', START, 'sh', pauseFile(runRoot), ...args], { encoding: 'utf8', env });
  if (r.error) throw new Error(`starting the pause process: ${r.error.message} (is util-linux installed?)`);
  const pid = livePause(runRoot, uid);
  if (r.status !== 0 || !pid) {
    const why = r.stderr.trim() || `exit ${r.status}`;
    const hint = /newuidmap|newgidmap/.test(why) ? ' (install the uidmap package: newuidmap and newgidmap must be setuid root)' : '';
    throw new Error(`cannot create the rootless user namespace: ${why}${hint}`);
  }
  return pid;
}
