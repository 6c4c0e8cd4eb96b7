// --security-opt as dockerd honours it, through the real docker CLI: a seccomp profile file (Docker's
// JSON format; the CLI sends its contents) is applied, a bad one is refused at create with dockerd's
// words, no-new-privileges reaches the process, apparmor/label are taken as on a host without those LSMs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TEST_BASE } from './helpers/engine.js';
import { suiteEngine } from './helpers/suite.js';
import { cliOf } from './helpers/cli.js';

const images = inject('images');
const engine = suiteEngine({ load: [images.busybox.archive] });
const { docker, ok } = cliOf(() => engine);
let dir: string;

const profile = (rules: object[], extra: object = {}) => JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: rules, ...extra });
const noMkdir = { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' };

beforeAll(async () => {
  dir = await mkdtemp(join(TEST_BASE, 'berth-seccomp-'));
  await writeFile(join(dir, 'no-mkdir.json'), profile([noMkdir]));
  // Rules for another architecture, or for a capability the container lacks, do not apply (moby's includes).
  await writeFile(
    join(dir, 'elsewhere.json'),
    profile([
      { ...noMkdir, includes: { arches: ['s390x'] } },
      { ...noMkdir, includes: { caps: ['CAP_SYS_ADMIN'] } },
    ]),
  );
  await writeFile(
    join(dir, 'arch-map.json'),
    profile([noMkdir], { archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }] }),
  );
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const containerCount = async () => (await engine.http('GET', '/containers/json?all=1')).json().length;
const create = (securityOpt: string[]) =>
  engine.http('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { SecurityOpt: securityOpt } });

describe('seccomp', () => {
  it('applies a profile given as a file: a rule that refuses mkdir refuses it in the container', async () => {
    const blocked = await docker(['run', '--rm', '--security-opt', `seccomp=${join(dir, 'no-mkdir.json')}`, 'busybox', 'mkdir', '/x']);
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toContain("mkdir: can't create directory '/x': Operation not permitted");
    const mapped = await docker(['run', '--rm', '--security-opt', `seccomp=${join(dir, 'arch-map.json')}`, 'busybox', 'mkdir', '/x']);
    expect(mapped.code).toBe(1);
    await ok(['run', '--rm', 'busybox', 'mkdir', '/x']);
    await ok(['run', '--rm', '--security-opt', `seccomp=${join(dir, 'elsewhere.json')}`, 'busybox', 'mkdir', '/x']);
  });

  it('turns seccomp off with seccomp=unconfined', async () => {
    expect(await ok(['run', '--rm', '--security-opt', 'seccomp=unconfined', 'busybox', 'grep', 'Seccomp:', '/proc/self/status'])).toMatch(/Seccomp:\s+0/);
    expect(await ok(['run', '--rm', 'busybox', 'grep', 'Seccomp:', '/proc/self/status'])).toMatch(/Seccomp:\s+2/);
  });

  it('takes seccomp=builtin and an empty seccomp= as the default profile, as dockerd does', async () => {
    expect(await ok(['run', '--rm', '--security-opt', 'seccomp=builtin', 'busybox', 'grep', 'Seccomp:', '/proc/self/status'])).toMatch(/Seccomp:\s+2/);
    const res = await engine.http('POST', '/containers/create?name=empty-seccomp', {
      Image: 'busybox',
      Cmd: ['grep', 'Seccomp:', '/proc/self/status'],
      HostConfig: { SecurityOpt: ['seccomp='] },
    });
    expect(res.status, res.body.toString()).toBe(201);
    expect(await ok(['start', '-a', 'empty-seccomp'])).toMatch(/Seccomp:\s+2/);
    await ok(['rm', 'empty-seccomp']);
  });

  it("refuses a profile it cannot use at create, with dockerd's message, making nothing", async () => {
    const before = await containerCount();
    for (const [value, message] of [
      ['garbage', "Decoding seccomp profile failed: invalid character 'g' looking for beginning of value"],
      ['/no/such/profile.json', "Decoding seccomp profile failed: invalid character '/' looking for beginning of value"],
      [profile([], { defaultAction: 'SCMP_ACT_BOGUS' }), 'string SCMP_ACT_BOGUS is not a valid action for seccomp'],
      [
        profile([{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_SOMETIMES' }] }]),
        'string SCMP_CMP_SOMETIMES is not a valid operator for seccomp',
      ],
      [
        profile([], { architectures: ['SCMP_ARCH_X86_64'], archMap: [{ architecture: 'SCMP_ARCH_X86_64' }] }),
        "'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'",
      ],
    ]) {
      const res = await create([`seccomp=${value}`]);
      expect(res.json(), value).toEqual({ message });
      expect(res.status).toBe(500); // dockerd's status for these
    }
    expect(await containerCount()).toBe(before);
  });

  it('leaves a missing profile file to the CLI, which refuses it before asking', async () => {
    const before = await containerCount();
    const res = await docker(['run', '--rm', '--security-opt', `seccomp=${join(dir, 'missing.json')}`, 'busybox', 'true']);
    expect(res.code).toBe(125);
    expect(res.stderr).toContain(`opening seccomp profile (${join(dir, 'missing.json')}) failed`);
    expect(await containerCount()).toBe(before);
  });
});

describe('other security options', () => {
  it('refuses options dockerd does not know, with its messages', async () => {
    const before = await containerCount();
    for (const [opt, message] of [
      ['bogus=1', 'invalid --security-opt 2: "bogus=1"'],
      ['bogus', 'invalid --security-opt 1: "bogus"'],
      ['no-new-privileges=maybe', 'invalid --security-opt 2: "no-new-privileges=maybe"'],
    ]) {
      const res = await create([opt]);
      expect(res.json(), opt).toEqual({ message });
      expect(res.status).toBe(500);
    }
    expect(await containerCount()).toBe(before);
  });

  it('sets no_new_privs for no-new-privileges in each of its forms', async () => {
    const nnp = async (opts: string[]) =>
      (await ok(['run', '--rm', ...opts.flatMap((o) => ['--security-opt', o]), 'busybox', 'grep', 'NoNewPrivs', '/proc/self/status'])).trim();
    expect(await nnp([])).toMatch(/NoNewPrivs:\s+0/);
    for (const opt of ['no-new-privileges', 'no-new-privileges=true', 'no-new-privileges=1', 'no-new-privileges:true'])
      expect(await nnp([opt]), opt).toMatch(/NoNewPrivs:\s+1/);
    expect(await nnp(['no-new-privileges=false'])).toMatch(/NoNewPrivs:\s+0/);
  });

  it('mounts the cgroup hierarchy read-write for writable-cgroups=true (Docker 28), read-only otherwise', async () => {
    const cgroupMount = async (opts: string[]) =>
      ok(['run', '--rm', ...opts, 'busybox', 'sh', '-c', "grep -E ' /sys/fs/cgroup(/memory)? cgroup2? ' /proc/mounts"]);
    expect(await cgroupMount(['--security-opt', 'writable-cgroups=true'])).toMatch(/ cgroup2? rw,/);
    expect(await cgroupMount([])).toMatch(/ cgroup2? ro,/);
    expect((await create(['writable-cgroups=maybe'])).json()).toEqual({ message: 'invalid --security-opt 2: "writable-cgroups=maybe"' });
  });

  it('takes apparmor= and label= as dockerd does on a host without AppArmor or SELinux: accepted, no effect', async () => {
    const out = await ok([
      'run',
      '--rm',
      '--security-opt',
      'apparmor=my-profile',
      '--security-opt',
      'label=type:foo_t',
      '--security-opt',
      'label=disable',
      'busybox',
      'echo',
      'ran',
    ]);
    expect(out).toBe('ran\n');
  });
});
