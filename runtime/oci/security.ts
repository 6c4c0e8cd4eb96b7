// HostConfig.SecurityOpt as dockerd reads it (moby's parseSecurityOpt): `no-new-privileges[=bool]`,
// `seccomp=<profile JSON>|unconfined|builtin`, `writable-cgroups=bool`, `apparmor=...`, `label=...`, `disable`. This host has
// neither AppArmor nor SELinux, so apparmor and label options are taken and have no effect, as dockerd
// does on such a host.
import { asList } from '../util/list.js';
import { EngineError } from '../errors.js';

export interface SecurityOptions {
  noNewPrivileges: boolean;
  /** `writable-cgroups=true`: /sys/fs/cgroup mounted read-write (Docker 28). */
  writableCgroups?: boolean;
  /** The profile's JSON as the client sent it (the docker CLI reads the file), 'unconfined', or undefined for the default. */
  seccomp?: string;
}

// dockerd answers these with 500 (plain errors, not invalid-parameter ones).
const refused = (message: string) => new EngineError('internal', message);

/** Go's strconv.ParseBool. */
function parseGoBool(value: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return undefined;
}

export function parseSecurityOptions(list: string[] | string | null | undefined): SecurityOptions {
  const out: SecurityOptions = { noNewPrivileges: false };
  for (const opt of asList(list)) {
    if (opt === 'no-new-privileges') {
      out.noNewPrivileges = true;
      continue;
    }
    if (opt === 'disable') continue; // label=disable's short form
    // `=` separates; `:` only when there is no `=` (the deprecated form).
    const sep = opt.includes('=') ? opt.indexOf('=') : opt.indexOf(':');
    if (sep < 0) throw refused(`invalid --security-opt 1: ${JSON.stringify(opt)}`);
    const key = opt.slice(0, sep);
    const value = opt.slice(sep + 1);
    switch (key) {
      case 'label':
      case 'apparmor':
        break;
      case 'seccomp':
        out.seccomp = value === 'builtin' || value === '' ? undefined : value; // both mean the default profile
        break;
      case 'no-new-privileges':
      case 'writable-cgroups': {
        const on = parseGoBool(value);
        if (on === undefined) throw refused(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
        if (key === 'no-new-privileges') out.noNewPrivileges = on;
        else out.writableCgroups = on;
        break;
      }
      default:
        throw refused(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
    }
  }
  return out;
}
