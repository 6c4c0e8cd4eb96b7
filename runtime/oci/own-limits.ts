// The engine's own hard resource limits (Node has no getrlimit): what a container can be given at most.
import { readFileSync } from 'node:fs';

let hardLimits: Map<string, number> | undefined;

/** The engine's own hard rlimits by OCI name, from /proc/self/limits ("unlimited" left out). */
export function ownHardLimits(): Map<string, number> {
  if (hardLimits) return hardLimits;
  const names: Record<string, string> = {
    'Max cpu time': 'RLIMIT_CPU',
    'Max file size': 'RLIMIT_FSIZE',
    'Max data size': 'RLIMIT_DATA',
    'Max stack size': 'RLIMIT_STACK',
    'Max core file size': 'RLIMIT_CORE',
    'Max resident set': 'RLIMIT_RSS',
    'Max processes': 'RLIMIT_NPROC',
    'Max open files': 'RLIMIT_NOFILE',
    'Max locked memory': 'RLIMIT_MEMLOCK',
    'Max address space': 'RLIMIT_AS',
    'Max file locks': 'RLIMIT_LOCKS',
    'Max pending signals': 'RLIMIT_SIGPENDING',
    'Max msgqueue size': 'RLIMIT_MSGQUEUE',
    'Max nice priority': 'RLIMIT_NICE',
    'Max realtime priority': 'RLIMIT_RTPRIO',
    'Max realtime timeout': 'RLIMIT_RTTIME',
  };
  hardLimits = new Map();
  for (const line of limitsText().split('\n')) {
    const m = /^(Max [a-z ]+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    const type = m && names[m[1]!];
    if (type && m[3] !== 'unlimited') hardLimits.set(type, Number(m[3]));
  }
  return hardLimits;
}

function limitsText(): string {
  try {
    return readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return '';
  }
}
