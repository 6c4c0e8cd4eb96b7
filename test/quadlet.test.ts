// berth quadlet: Quadlet files (podman 4.4+'s format) → units that drive berth through podman --remote.
// The units pass systemd-analyze verify; the generator writes them with their [Install] links; a
// converted .container's own command lines run the container under a test engine.
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MAIN, TestEngine, run } from './helpers/engine.js';
import { podmanClient, type PodmanClient } from './helpers/podman.js';
import { execArgv, startMain, unitValues, verifyUnits } from './helpers/units.js';

let engine: TestEngine;
let berth: PodmanClient;
let src: string;
const images = inject('images');

const FILES: Record<string, string> = {
  'web.container': [
    '[Unit]',
    'Description=A web server',
    '',
    '[Container]',
    'Image=busybox',
    `Exec=sh -c 'echo "up $HOME 50%%" > /data/note; echo up; trap "exit 0" TERM; sleep 300 & wait'`,
    'Environment=FOO=bar "BAZ=a b"',
    'Volume=data.volume:/data',
    'Label=app=web',
    '',
    '[Service]',
    'Restart=always',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n'),
  'data.volume': '[Volume]\nLabel=k=v\n',
  'net.network': '[Network]\nNetworkName=qnet\nSubnet=10.231.24.0/24\nInternal=yes\n',
  'member.container': '[Container]\nImage=busybox\nExec=sleep 300\nPod=grp.pod\nNetwork=net.network\n',
  'grp.pod': '[Pod]\nPodName=group\nPublishPort=18197:80\nLabel=pl=1\n',
  'app.kube': '[Kube]\nYaml=app.yaml\nPublishPort=18198:80\n\n[Install]\nRequiredBy=default.target\n',
  'app.yaml': 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  containers:\n  - name: c\n    image: busybox\n',
};

beforeAll(async () => {
  engine = await TestEngine.start();
  berth = await podmanClient(engine.socket, engine.dir);
  const loaded = await engine.docker(['load', '-i', images.busybox.archive]);
  expect(loaded.code, loaded.stderr).toBe(0);
  src = await mkdtemp(join(engine.dir, 'quadlet-'));
  for (const [name, text] of Object.entries(FILES)) await writeFile(join(src, name), text);
}, 60_000);
afterAll(async () => {
  await engine?.destroy();
});

const quadlet = (args: string[], env: NodeJS.ProcessEnv = {}) => run(process.execPath, [MAIN, 'quadlet', ...args], { env: { ...process.env, ...env } });

/** `--dry-run`'s units: `---name---` then the text. */
function units(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of stdout
    .split(/^---(.+)---\n/m)
    .slice(1)
    .reduce<string[][]>((acc, x, i) => (i % 2 ? (acc.at(-1)!.push(x), acc) : [...acc, [x]]), []))
    out[part[0]!] = part[1]!.replace(/\n$/, '');
  return out;
}

describe('berth quadlet', () => {
  it('turns .container, .pod, .kube, .volume and .network files into units systemd takes', async () => {
    const res = await quadlet(['--dry-run', '--url', `unix://${engine.socket}`, src]);
    expect(res, res.stderr).toMatchObject({ code: 0, stderr: '' });
    const u = units(res.stdout);
    expect(Object.keys(u).sort()).toEqual(['app.service', 'data-volume.service', 'grp-pod.service', 'member.service', 'net-network.service', 'web.service']);
    const verdict = await verifyUnits(u);
    expect(verdict, verdict.stderr).toMatchObject({ code: 0, stderr: '' });
    const client = `/usr/bin/podman --remote --url unix://${engine.socket}`;
    const web = u['web.service']!;
    expect(web).toContain('\nRequires=berth.socket\nAfter=berth.socket\nRequires=data-volume.service\nAfter=data-volume.service\nDescription=A web server\n');
    expect(unitValues(web, 'ExecStart')).toEqual([
      `${client} run --name=systemd-%N --cidfile=%t/%N.cid --replace --rm --env=FOO=bar "--env=BAZ=a b" --volume=systemd-data:/data --label=app=web busybox sh -c "echo \\"up $$HOME 50%%\\" > /data/note; echo up; trap \\"exit 0\\" TERM; sleep 300 & wait"`,
    ]);
    // The user's [Service] lines follow (Restart= overrides), [Install] passes through.
    expect(web).toMatch(/Type=exec\nSuccessExitStatus=137 143\nSyslogIdentifier=%N\nRestart=always\n\n\[Install\]\nWantedBy=multi-user.target\n$/);
    const member = u['member.service']!;
    expect(member).toContain('Requires=net-network.service\nAfter=net-network.service\nBindsTo=grp-pod.service\nAfter=grp-pod.service\n');
    expect(unitValues(member, 'ExecStart')[0]).toBe(
      `${client} run --name=systemd-%N --cidfile=%t/%N.cid --replace --rm --network=qnet --pod-id-file=%t/grp-pod.pod-id busybox sleep 300`,
    );
    const pod = u['grp-pod.service']!;
    expect(pod).toContain('Wants=member.service\nBefore=member.service\n');
    expect(unitValues(pod, 'ExecStartPre')[1]).toBe(
      `${client} pod create --pod-id-file=%t/%N.pod-id --exit-policy=stop --replace --name=group --publish=18197:80 --label=pl=1`,
    );
    expect(unitValues(u['app.service']!, 'ExecStart')).toEqual([`${client} kube play --replace --publish=18198:80 ${src}/app.yaml`]);
    expect(unitValues(u['app.service']!, 'ExecStop')).toEqual([`${client} kube down ${src}/app.yaml`]);
    expect(unitValues(u['net-network.service']!, 'ExecStart')).toEqual([
      `-${client} network create --subnet=10.231.24.0/24 --internal qnet`,
      `${client} network exists qnet`,
    ]);
  });

  it('runs as a systemd generator: units and their [Install] links in the normal directory', async () => {
    const gen = await mkdtemp(join(engine.dir, 'gen-'));
    const dirs = ['normal', 'early', 'late'].map((d) => join(gen, d));
    // As installed: berth linked into system-generators/ under the generator's name, given only the directories.
    const link = join(gen, 'berth-quadlet-generator');
    await symlink(MAIN, link);
    const res = await run(process.execPath, [link, ...dirs], { env: { ...process.env, BERTH_QUADLET_DIRS: `${join(gen, 'none')}:${src}` } });
    expect(res, res.stderr).toMatchObject({ code: 0, stderr: '' });
    expect((await readdir(dirs[0]!)).sort()).toEqual([
      'app.service',
      'data-volume.service',
      'default.target.requires',
      'grp-pod.service',
      'member.service',
      'multi-user.target.wants',
      'net-network.service',
      'web.service',
    ]);
    expect(await readlink(join(dirs[0]!, 'multi-user.target.wants', 'web.service'))).toBe('../web.service');
    expect(await readlink(join(dirs[0]!, 'default.target.requires', 'app.service'))).toBe('../app.service');
    // A broken file is said and skipped; the others are still written, and the exit code tells.
    await mkdir(join(gen, 'bad'));
    await writeFile(join(gen, 'bad', 'bad.container'), '[Container]\nImage=busybox\nBogus=1\n');
    await writeFile(join(gen, 'bad', 'noimage.container'), '[Container]\nExec=true\n');
    await writeFile(join(gen, 'bad', 'notify.container'), '[Container]\nImage=busybox\nNotify=true\n');
    await writeFile(join(gen, 'bad', 'quote.container'), "[Container]\nImage=busybox\nExec=sh -c 'true\n");
    await writeFile(join(gen, 'bad', 'ok.volume'), '[Volume]\n');
    const bad = await quadlet(['--generator', join(gen, 'out')], { BERTH_QUADLET_DIRS: join(gen, 'bad') });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      `berth quadlet: ${join(gen, 'bad', 'bad.container')}: unsupported key 'Bogus' in group 'Container'\n` +
        `berth quadlet: ${join(gen, 'bad', 'noimage.container')}: no Image key specified\n` +
        `berth quadlet: ${join(gen, 'bad', 'notify.container')}: Notify=true needs conmon to reach systemd's notify socket, which a remote engine cannot\n` +
        `berth quadlet: ${join(gen, 'bad', 'quote.container')}: unterminated quote in: sh -c 'true\n`,
    );
    expect(await readdir(join(gen, 'out'))).toEqual(['ok-volume.service']);
    await rm(gen, { recursive: true });
  });

  it("runs a converted .container unit's command lines: the container runs under berth with its volume", async () => {
    const res = await quadlet(['--dry-run', '--url', `unix://${engine.socket}`, join(src, 'web.container'), join(src, 'data.volume')]);
    expect(res, res.stderr).toMatchObject({ code: 0, stderr: '' });
    const u = units(res.stdout);
    const runtimeDir = await mkdtemp(join(engine.dir, 'rt-'));
    const argv = (unit: string, key: string) => unitValues(u[unit]!, key).map((l) => execArgv(l, { t: runtimeDir, n: unit }));
    const exec = async (line: string[], allowFailure = false) => {
      const r = await run(line[0]!, line.slice(1), { env: berth.env });
      if (!allowFailure) expect(r.code, `${line.join(' ')}: ${r.stderr}`).toBe(0);
    };
    // The volume unit: created, then checked (twice: the second start finds it there).
    for (let i = 0; i < 2; i++) for (const [k, line] of argv('data-volume.service', 'ExecStart').entries()) await exec(line, k === 0);
    expect(await berth.ok(['volume', 'inspect', '--format', '{{.Labels}}', 'systemd-data'])).toBe('map[k:v]\n');
    for (const line of argv('web.service', 'ExecStartPre')) await exec(line);
    const { out, exited } = await startMain(argv('web.service', 'ExecStart')[0]!, berth.env, 'up');
    expect(out).toBe('up\n');
    expect(await berth.ok(['inspect', '--format', '{{.State.Status}} {{index .Config.Labels "app"}}', 'systemd-web'])).toBe('running web\n');
    expect(await berth.ok(['exec', 'systemd-web', 'sh', '-c', 'cat /data/note; echo $FOO; echo $BAZ'])).toBe('up /root 50%\nbar\na b\n');
    for (const line of argv('web.service', 'ExecStop')) await exec(line);
    expect(await exited).toBe(0);
    for (const line of argv('web.service', 'ExecStopPost')) await exec(line);
    expect(await berth.ok(['ps', '-a', '-q', '--filter', 'name=systemd-web'])).toBe('');
    await expect(readFile(join(runtimeDir, 'web.cid'))).rejects.toThrow();
    await berth.ok(['volume', 'rm', 'systemd-data']);
    await rm(runtimeDir, { recursive: true });
  });
});
