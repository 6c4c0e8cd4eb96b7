// Docker's defaults for a container's OCI spec: capabilities, masked and read-only paths, mounts, and a
// seccomp profile that blocks what Docker's default profile blocks.

export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

export const ALL_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

export const MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Syscalls Docker's default profile refuses (EPERM), unless the container holds the capability named. */
const BLOCKED: Record<string, string | null> = {
  acct: 'CAP_SYS_PACCT',
  add_key: null,
  bpf: 'CAP_SYS_ADMIN',
  clock_adjtime: 'CAP_SYS_TIME',
  clock_settime: 'CAP_SYS_TIME',
  create_module: 'CAP_SYS_MODULE',
  delete_module: 'CAP_SYS_MODULE',
  finit_module: 'CAP_SYS_MODULE',
  get_kernel_syms: null,
  get_mempolicy: 'CAP_SYS_NICE',
  init_module: 'CAP_SYS_MODULE',
  ioperm: 'CAP_SYS_RAWIO',
  iopl: 'CAP_SYS_RAWIO',
  kcmp: 'CAP_SYS_PTRACE',
  kexec_file_load: 'CAP_SYS_BOOT',
  kexec_load: 'CAP_SYS_BOOT',
  keyctl: null,
  lookup_dcookie: 'CAP_SYS_ADMIN',
  mbind: 'CAP_SYS_NICE',
  mount: 'CAP_SYS_ADMIN',
  move_pages: 'CAP_SYS_NICE',
  name_to_handle_at: 'CAP_DAC_READ_SEARCH',
  nfsservctl: null,
  open_by_handle_at: 'CAP_DAC_READ_SEARCH',
  perf_event_open: 'CAP_PERFMON',
  pivot_root: 'CAP_SYS_ADMIN',
  process_vm_readv: 'CAP_SYS_PTRACE',
  process_vm_writev: 'CAP_SYS_PTRACE',
  ptrace: 'CAP_SYS_PTRACE',
  query_module: null,
  quotactl: 'CAP_SYS_ADMIN',
  reboot: 'CAP_SYS_BOOT',
  request_key: null,
  set_mempolicy: 'CAP_SYS_NICE',
  setns: 'CAP_SYS_ADMIN',
  settimeofday: 'CAP_SYS_TIME',
  stime: 'CAP_SYS_TIME',
  swapon: 'CAP_SYS_ADMIN',
  swapoff: 'CAP_SYS_ADMIN',
  sysfs: null,
  _sysctl: null,
  umount: 'CAP_SYS_ADMIN',
  umount2: 'CAP_SYS_ADMIN',
  unshare: 'CAP_SYS_ADMIN',
  uselib: null,
  userfaultfd: 'CAP_SYS_PTRACE',
  ustat: null,
  vm86: null,
  vm86old: null,
  fanotify_init: 'CAP_SYS_ADMIN',
  open_tree: 'CAP_SYS_ADMIN',
  move_mount: 'CAP_SYS_ADMIN',
  fsopen: 'CAP_SYS_ADMIN',
  fsconfig: 'CAP_SYS_ADMIN',
  fsmount: 'CAP_SYS_ADMIN',
  fspick: 'CAP_SYS_ADMIN',
  syslog: 'CAP_SYSLOG',
};

// clone() flags that make namespaces: refused without CAP_SYS_ADMIN, as Docker's profile does.
const CLONE_NAMESPACE_FLAGS = [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000];

const EPERM = 1;
const ENOSYS = 38;

/** Docker's default seccomp policy for a container with these capabilities, as an OCI seccomp section. */
export function defaultSeccomp(capabilities: string[]): object {
  const caps = new Set(capabilities);
  const blocked = Object.entries(BLOCKED)
    .filter(([, cap]) => cap === null || !caps.has(cap))
    .map(([name]) => name);
  const syscalls: object[] = [{ names: blocked, action: 'SCMP_ACT_ERRNO', errnoRet: EPERM }];
  if (!caps.has('CAP_SYS_ADMIN')) {
    for (const flag of CLONE_NAMESPACE_FLAGS) {
      syscalls.push({
        names: ['clone'],
        action: 'SCMP_ACT_ERRNO',
        errnoRet: EPERM,
        args: [{ index: 0, value: flag, valueTwo: flag, op: 'SCMP_CMP_MASKED_EQ' }],
      });
    }
    // glibc falls back to clone() when clone3 is missing; clone3's flags cannot be filtered.
    syscalls.push({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS });
  }
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
    syscalls,
  };
}
