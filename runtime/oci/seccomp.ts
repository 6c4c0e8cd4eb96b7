// A seccomp profile in Docker's JSON format (the format of Docker's default profile: defaultAction,
// architectures or archMap, syscalls with includes/excludes) turned into the OCI spec's linux.seccomp,
// as moby's profiles/seccomp does. Checked at create, so a bad profile is refused then with dockerd's
// words rather than by runc at start.
import { arch, release } from 'node:os';
import { EngineError } from '../errors.js';

// dockerd answers a profile it cannot use with 500.
const refused = (message: string) => new EngineError('internal', message);
const decodeFailed = (message: string) => refused(`Decoding seccomp profile failed: ${message}`);

const ACTIONS = [
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
];
const ARCHES = [
  'SCMP_ARCH_X86',
  'SCMP_ARCH_X86_64',
  'SCMP_ARCH_X32',
  'SCMP_ARCH_ARM',
  'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64',
  'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC',
  'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE',
  'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X',
  'SCMP_ARCH_RISCV64',
];
const OPERATORS = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'];

/** This machine as profiles name it: includes/excludes use libseccomp's names, archMap the SCMP_ARCH ones. */
const NATIVE: Record<string, [string, string]> = {
  x64: ['amd64', 'SCMP_ARCH_X86_64'],
  arm64: ['arm64', 'SCMP_ARCH_AARCH64'],
  arm: ['arm', 'SCMP_ARCH_ARM'],
  ia32: ['x86', 'SCMP_ARCH_X86'],
  ppc64: ['ppc64le', 'SCMP_ARCH_PPC64LE'],
  s390x: ['s390x', 'SCMP_ARCH_S390X'],
  riscv64: ['riscv64', 'SCMP_ARCH_RISCV64'],
};

interface Filter {
  arches?: string[];
  caps?: string[];
  minKernel?: string;
}

type Json = Record<string, unknown>;

/** Go's json.Unmarshal errors, in its words for the common cases. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const token = /^Unexpected token '?(.)'?/.exec(message)?.[1];
    if (token) throw decodeFailed(`invalid character '${token}' looking for beginning of value`);
    if (/end of JSON input/.test(message)) throw decodeFailed('unexpected end of JSON input');
    throw decodeFailed(message);
  }
}

const jsonType = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'object' ? 'object' : typeof v);

/** A field of the given JSON type (absent and null are allowed), or Go's type error. */
function field<T>(from: Json, key: string, type: 'string' | 'number' | 'array' | 'object', where: string, goType: string): T | undefined {
  const v = from[key];
  if (v === undefined || v === null) return undefined;
  if (jsonType(v) !== type) throw decodeFailed(`json: cannot unmarshal ${jsonType(v)} into Go struct field ${where}.${key} of type ${goType}`);
  return v as T;
}

function strings(from: Json, key: string, where: string): string[] | undefined {
  const list = field<unknown[]>(from, key, 'array', where, '[]string');
  if (list?.some((s) => typeof s !== 'string'))
    throw decodeFailed(`json: cannot unmarshal ${jsonType(list.find((s) => typeof s !== 'string'))} into Go struct field ${where}.${key} of type string`);
  return list as string[] | undefined;
}

function kernelAtLeast(min: string): boolean {
  const parse = (v: string) => {
    const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(v);
    if (!m) throw refused(`Can't parse kernel version ${v}`);
    return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  };
  const want = parse(min);
  const have = parse(release());
  for (let i = 0; i < 3; i++) if (have[i] !== want[i]) return have[i]! > want[i]!;
  return true;
}

/**
 * The OCI seccomp section for a profile (its JSON text), for a container with these capabilities;
 * undefined when the profile names neither a default action nor syscalls (seccomp off, as in moby).
 */
export function loadSeccompProfile(text: string, capabilities: string[]): object | undefined {
  const profile = parseJson(text);
  if (jsonType(profile) !== 'object') throw decodeFailed(`json: cannot unmarshal ${jsonType(profile)} into Go value of type seccomp.Seccomp`);
  const p = profile as Json;
  const defaultAction = field<string>(p, 'defaultAction', 'string', 'Seccomp', 'specs.LinuxSeccompAction');
  const syscalls = field<unknown[]>(p, 'syscalls', 'array', 'Seccomp', '[]*seccomp.Syscall') ?? [];
  if (!defaultAction && syscalls.length === 0) return undefined;
  const architectures = strings(p, 'architectures', 'Seccomp');
  const archMap = field<unknown[]>(p, 'archMap', 'array', 'Seccomp', '[]seccomp.Architecture') ?? [];
  if (architectures?.length && archMap.length) {
    throw refused(`'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'`);
  }
  const [native, nativeSeccomp] = NATIVE[arch()] ?? [arch(), ''];
  const arches = [...(architectures ?? [])];
  for (const entry of archMap) {
    if (jsonType(entry) !== 'object')
      throw decodeFailed(`json: cannot unmarshal ${jsonType(entry)} into Go struct field Seccomp.archMap of type seccomp.Architecture`);
    if ((entry as Json).architecture === nativeSeccomp) {
      arches.push(nativeSeccomp, ...(strings(entry as Json, 'subArchitectures', 'Architecture') ?? []));
      break;
    }
  }
  checkAction(defaultAction ?? '');
  for (const a of arches) if (!ARCHES.includes(a)) throw refused(`string ${a} is not a valid arch for seccomp`);
  const caps = new Set(capabilities);
  const rules: object[] = [];
  for (const entry of syscalls) {
    if (jsonType(entry) !== 'object')
      throw decodeFailed(`json: cannot unmarshal ${jsonType(entry)} into Go struct field Seccomp.syscalls of type seccomp.Syscall`);
    const call = entry as Json;
    const includes = (field<Json>(call, 'includes', 'object', 'Syscall', 'seccomp.Filter') ?? {}) as Filter;
    const excludes = (field<Json>(call, 'excludes', 'object', 'Syscall', 'seccomp.Filter') ?? {}) as Filter;
    if (excludes.arches?.includes(native)) continue;
    if (excludes.caps?.some((c) => caps.has(c))) continue;
    if (excludes.minKernel && kernelAtLeast(excludes.minKernel)) continue;
    if (includes.arches?.length && !includes.arches.includes(native)) continue;
    if (includes.caps?.some((c) => !caps.has(c))) continue;
    if (includes.minKernel && !kernelAtLeast(includes.minKernel)) continue;
    const name = field<string>(call, 'name', 'string', 'Syscall', 'string');
    const names = strings(call, 'names', 'Syscall') ?? [];
    if (name && names.length) throw refused(`'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'`);
    const action = field<string>(call, 'action', 'string', 'Syscall', 'specs.LinuxSeccompAction') ?? '';
    checkAction(action);
    const errnoRet = field<number>(call, 'errnoRet', 'number', 'Syscall', 'uint');
    const args = (field<unknown[]>(call, 'args', 'array', 'Syscall', '[]*seccomp.Arg') ?? []).map((a) => {
      if (jsonType(a) !== 'object') throw decodeFailed(`json: cannot unmarshal ${jsonType(a)} into Go struct field Syscall.args of type seccomp.Arg`);
      const arg = a as Json;
      const op = field<string>(arg, 'op', 'string', 'Arg', 'specs.LinuxSeccompOperator') ?? '';
      if (!OPERATORS.includes(op)) throw refused(`string ${op} is not a valid operator for seccomp`);
      const num = (key: string) => field<number>(arg, key, 'number', 'Arg', 'uint64') ?? 0;
      return { index: num('index'), value: num('value'), valueTwo: num('valueTwo'), op };
    });
    rules.push({ names: name ? [name] : names, action, errnoRet, args: args.length ? args : undefined });
  }
  return {
    defaultAction,
    defaultErrnoRet: field<number>(p, 'defaultErrnoRet', 'number', 'Seccomp', 'uint'),
    architectures: arches.length ? arches : undefined,
    flags: strings(p, 'flags', 'Seccomp'),
    listenerPath: field<string>(p, 'listenerPath', 'string', 'Seccomp', 'string'),
    listenerMetadata: field<string>(p, 'listenerMetadata', 'string', 'Seccomp', 'string'),
    syscalls: rules,
  };
}

function checkAction(action: string): void {
  if (!ACTIONS.includes(action)) throw refused(`string ${action} is not a valid action for seccomp`);
}
