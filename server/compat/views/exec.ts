// GET /exec/{id}/json in dockerd's shape.
import type { ExecSession } from '../../../runtime/api.js';

export function execInspect(s: ExecSession) {
  const [entrypoint = '', ...args] = s.config.Cmd ?? [];
  return {
    ID: s.id,
    Running: s.state === 'running',
    ExitCode: s.exit_code,
    ProcessConfig: { tty: !!s.config.Tty, entrypoint, arguments: args, privileged: !!s.config.Privileged, user: s.config.User || undefined },
    OpenStdin: !!s.config.AttachStdin,
    OpenStderr: !!s.config.AttachStderr,
    OpenStdout: !!s.config.AttachStdout,
    CanRemove: false,
    ContainerID: s.container_id,
    DetachKeys: s.config.DetachKeys ?? '',
    Pid: s.pid,
  };
}
