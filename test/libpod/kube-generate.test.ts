// podman --remote generate kube against berth, beside Podman's own service: the same YAML for the same
// containers, pods and volumes (times, IDs, NodePorts and the "Created with" line aside), and every
// document it writes valid Kubernetes (checked against the API's schemas by kubernetes-models).
import { mkdtemp, mkdir, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { PersistentVolumeClaim, Pod, Service } from 'kubernetes-models/v1';
import { TEST_BASE, type TestEngine } from '../helpers/engine.js';
import { sameAsOracle, sideBySide, type PodmanClient, type PodmanService } from '../helpers/podman.js';

let engine: TestEngine;
let berth: PodmanClient;
let oracle: PodmanService;
let dir: string;
const images = inject('images');

beforeAll(async () => {
  ({ engine, berth, oracle } = await sideBySide({ subnet: '10.231.22.0/24', busybox: images.busybox.archive, dockerName: true }));
  // Host paths both engines bind (the same paths: hostPath volumes are named after them).
  dir = await mkdtemp(join(TEST_BASE, 'berth-kube-'));
  await mkdir(join(dir, 'data'));
  await mkdir(join(dir, 'gone'));
  await writeFile(join(dir, 'file.conf'), 'x\n');
});
afterAll(async () => {
  await berth?.podman(['pod', 'rm', '-af', '-t', '0']);
  await Promise.all([engine?.destroy(), oracle?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
  // The pods' cgroups, should the engine have kept them (a pod's is made with it, removed with it).
  for (const id of pods) {
    for (const controller of await readdir('/sys/fs/cgroup').catch(() => []))
      await rmdir(join('/sys/fs/cgroup', controller, 'berth', `pod-${id}`)).catch(() => undefined);
  }
});

/** The pods made on berth (their IDs). */
const pods = new Set<string>();

/** The same command against both engines, asserting it succeeds on both. */
const both = async (args: string[]) => {
  const out = await berth.ok(args);
  if (args[0] === 'pod' && args[1] === 'create') pods.add(out.trim());
  await oracle.client.ok(args);
};

/** What may differ: the generating tool's line, times, IDs (the pod's, cut to 63 characters), NodePorts (random). */
const clean = (s: string) =>
  s
    .replace(/^# Created with .*\n/m, '')
    .replace(/creationTimestamp: "[^"]+"/g, 'creationTimestamp: <time>')
    .replace(/nodePort: \d+/g, 'nodePort: <port>')
    .replace(/\b[0-9a-f]{63,64}\b/g, '<id>');

type Doc = Record<string, unknown>;

/** Every document validated against the Kubernetes API's schemas (a NOTE between separators is an empty document). */
function validated(text: string): Doc[] {
  const docs = parseAllDocuments(text).flatMap((d) => {
    expect(d.errors, text).toEqual([]);
    const js: unknown = d.toJS();
    return js ? [js as Doc] : [];
  });
  for (const doc of docs) {
    if (doc.kind === 'Pod') new Pod(doc).validate();
    else if (doc.kind === 'Service') new Service(doc).validate();
    else if (doc.kind === 'PersistentVolumeClaim') new PersistentVolumeClaim(doc).validate();
    else throw new Error(`unexpected kind ${String(doc.kind)}`);
  }
  return docs;
}

/** `generate kube args` on both: the same exit code and text; berth's YAML valid; its documents. */
async function same(args: string[]): Promise<Doc[]> {
  const ours = await sameAsOracle({ berth, oracle }, ['generate', 'kube', ...args], clean);
  expect(ours.code, ours.stderr).toBe(0);
  const docs = validated(ours.stdout);
  expect(docs.length).toBeGreaterThan(0);
  return docs;
}

const byKey =
  <T>(key: (t: T) => string) =>
  (a: T, b: T) =>
    key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;

/**
 * A document with podman's unordered parts in one order: env variables and a pod's ports (podman makes
 * these lists from maps), and mounts and volumes (podman numbers hostPath volumes in its own map order).
 */
function ordered(doc: Doc): Doc {
  const copy = JSON.parse(JSON.stringify(doc)) as Doc;
  const spec = copy.spec as { containers?: Doc[]; volumes?: Doc[]; ports?: Doc[] } | undefined;
  spec?.ports?.sort(byKey((p: Doc) => JSON.stringify(p)));
  const unnumbered = (name: unknown) => String(name).replace(/-host-\d+$/, '-host');
  for (const c of spec?.containers ?? []) {
    if (Array.isArray(c.env)) c.env.sort(byKey((e: Doc) => String(e.name)));
    if (Array.isArray(c.ports)) c.ports.sort(byKey((p: Doc) => JSON.stringify(p)));
    if (Array.isArray(c.volumeMounts)) {
      for (const m of c.volumeMounts as Doc[]) m.name = unnumbered(m.name);
      c.volumeMounts.sort(byKey((m: Doc) => String(m.mountPath)));
    }
  }
  if (spec?.volumes) {
    for (const v of spec.volumes) v.name = unnumbered(v.name);
    spec.volumes.sort(byKey((v: Doc) => JSON.stringify(v)));
  }
  return copy;
}

/** `generate kube args` on both where podman's order is random: the same documents once ordered, berth's valid. */
async function sameDocuments(args: string[]): Promise<Doc[]> {
  const run = ['generate', 'kube', ...args];
  const [ours, theirs] = await Promise.all([berth.podman(run), oracle.podman(run)]);
  expect(theirs.code, theirs.stderr).toBe(0);
  expect(ours.code, ours.stderr).toBe(0);
  const docs = validated(ours.stdout);
  validated(theirs.stdout);
  const parsed = (text: string) =>
    parseAllDocuments(clean(text))
      .map((d) => d.toJS() as Doc | null)
      .flatMap((d) => (d ? [ordered(d)] : []));
  expect(parsed(ours.stdout)).toEqual(parsed(theirs.stdout));
  // The comments and separators between the documents too.
  const skeleton = (text: string) =>
    clean(text)
      .split('\n')
      .filter((l) => l.startsWith('#') || l === '---');
  expect(skeleton(ours.stdout)).toEqual(skeleton(theirs.stdout));
  return docs;
}

describe('podman --remote generate kube', () => {
  it('writes a container as a Pod, with a Service on request', async () => {
    await both(['create', '--name', 'kc1', 'busybox', 'sleep', '300']);
    const [pod] = await same(['kc1']);
    expect(pod).toMatchObject({ kind: 'Pod', metadata: { name: 'kc1-pod', labels: { app: 'kc1-pod' } } });
    const [service] = await same(['--service', 'kc1']);
    expect(service).toMatchObject({ kind: 'Service', spec: { type: 'NodePort', selector: { app: 'kc1-pod' } } });
  });

  it('answers `kube generate` and `generate kube -f` (the client writes the file) alike', async () => {
    const ours = await sameAsOracle({ berth, oracle }, ['kube', 'generate', 'kc1'], clean);
    validated(ours.stdout);
    const file = join(dir, 'kc1.yaml');
    await berth.ok(['generate', 'kube', '-f', file, 'kc1']);
    const written = await readFile(file, 'utf8');
    // (Printing it, the client adds a newline.)
    expect(`${clean(written)}\n`).toBe(clean(ours.stdout));
  });

  it('writes a container made through the Docker API as valid Kubernetes', async () => {
    const made = await engine.docker(['create', '--name', 'kdocker', '-e', 'X=1', '-p', '18485:80', '--memory', '64m', '-t', 'busybox', 'sleep', '60']);
    expect(made.code, made.stderr).toBe(0);
    const text = await berth.ok(['generate', 'kube', '-s', 'kdocker']);
    const [service, pod] = validated(text);
    expect(service).toMatchObject({ kind: 'Service', spec: { ports: [{ port: 80 }] } });
    expect(pod).toMatchObject({
      metadata: { annotations: { 'io.kubernetes.cri-o.TTY/kdocker': 'true' } },
      spec: {
        containers: [
          {
            name: 'kdocker',
            image: 'docker.io/library/busybox:latest',
            command: ['sleep', '60'],
            env: [{ name: 'X', value: '1' }],
            ports: [{ containerPort: 80, hostPort: 18485 }],
            resources: { limits: { memory: '64Mi' } },
            tty: true,
          },
        ],
      },
    });
  });

  it('writes the host ports a running container was given', async () => {
    await berth.ok(['run', '-d', '--name', 'krun', '-p', '18486:80', '-p', '80', 'busybox', 'sleep', '60']);
    const picked = (await berth.ok(['port', 'krun']))
      .trim()
      .split('\n')
      .map((l) => Number(l.split(':').pop()));
    expect(picked).toHaveLength(2);
    const [pod] = validated(await berth.ok(['generate', 'kube', 'krun']));
    const ports = (pod as { spec: { containers: { ports: { hostPort: number }[] }[] } }).spec.containers[0]!.ports;
    expect(ports.map((p) => p.hostPort).sort()).toEqual(picked.sort());
    await berth.ok(['rm', '-f', '-t', '0', 'krun']);
  });

  it('writes env, command and args, working dir, user, limits, capabilities, ports, DNS and volumes', async () => {
    await both([
      'create',
      '--name',
      'kfull',
      ...['-e', 'FOO=bar', '-e', 'SPACED=a b', '-e', 'EMPTY=', '-e', 'NUM=300'],
      ...['-w', '/tmp', '--entrypoint', '/bin/sh', '-u', '1000:1000'],
      ...['--memory', '64m', '--cpus', '1.5', '--cap-add', 'NET_ADMIN', '--cap-drop', 'CHOWN', '--restart', 'always'],
      ...['-l', 'team=a', '--annotation', 'note=hi', '-p', '18480:80', '-p', '18481:81/udp'],
      ...['--hostname', 'kh', '--dns', '10.231.22.53', '--dns-search', 'example.com', '--dns-option', 'ndots:2'],
      ...['-v', 'kvol:/data', '-v', `${dir}/data:/b1:ro`, '-v', `${dir}/file.conf:/etc/f.conf`, '-v', `${dir}/gone:/m`, '--tmpfs', '/scratch'],
      'busybox',
      '-c',
      'sleep 1000',
    ]);
    // A source gone since is one to make (DirectoryOrCreate).
    await rm(join(dir, 'gone'), { recursive: true });
    const [service, pod] = await sameDocuments(['-s', 'kfull']);
    expect(service).toMatchObject({
      kind: 'Service',
      spec: {
        ports: [
          { port: 80, targetPort: 80 },
          { port: 81, protocol: 'UDP' },
        ],
      },
    });
    const container = (pod as { spec: { containers: Doc[]; volumes: Doc[] } }).spec.containers[0];
    expect(container).toMatchObject({
      command: ['/bin/sh'],
      args: ['-c', 'sleep 1000'],
      workingDir: '/tmp',
      resources: { limits: { cpu: '1500m', memory: '64Mi' } },
      securityContext: { capabilities: { add: ['CAP_NET_ADMIN'], drop: ['CAP_CHOWN'] }, runAsUser: 1000, runAsGroup: 1000 },
      ports: [
        { containerPort: 80, hostPort: 18480 },
        { containerPort: 81, hostPort: 18481, protocol: 'UDP' },
      ],
    });
    const volumes = (pod as { spec: { volumes: Doc[] } }).spec.volumes;
    expect(volumes).toEqual(
      expect.arrayContaining([
        { name: 'kvol-pvc', persistentVolumeClaim: { claimName: 'kvol' } },
        expect.objectContaining({ hostPath: { path: `${dir}/data`, type: 'Directory' } }),
        expect.objectContaining({ hostPath: { path: `${dir}/file.conf`, type: 'File' } }),
        expect.objectContaining({ hostPath: { path: `${dir}/gone`, type: 'DirectoryOrCreate' } }),
      ]),
    );
  });

  it('writes a read-only, privileged, interactive container (tmpfs mounts as podman writes them)', async () => {
    await both(['create', '--name', 'kro', '--read-only', '--privileged', '-it', '--rm', '--init', '-v', 'kvol2:/v2:ro', 'busybox', 'sh']);
    const [pod] = await sameDocuments(['kro']);
    expect(pod).toMatchObject({ spec: { containers: [{ securityContext: { privileged: true, readOnlyRootFilesystem: true }, stdin: true, tty: true }] } });
  });

  it('writes anonymous volumes and --mount mounts as podman does', async () => {
    await both(['create', '--name', 'kanon', '-v', '/anon', '--mount', `type=bind,source=${dir}/data,target=/mb,readonly`, 'busybox', 'true']);
    const [pod] = await same(['kanon']);
    expect(pod).toMatchObject({ spec: { volumes: [{ hostPath: { path: `${dir}/data`, type: 'Directory' } }, { persistentVolumeClaim: {} }] } });
  });

  it('quotes strings as podman does (YAML 1.1 look-alikes double-quoted, others single-quoted, lines as a block)', async () => {
    const args = ["'q'", "it's", 'a: b # c', 'line1\nline2', 'null', 'yes', 'on', '-x', '1.5', '2026-01-01', 'ünï', 'a\tb', ' x', 'x:y', '#no', '*a'];
    await both(['create', '--name', 'kquote', '--entrypoint', '/bin/echo', 'busybox', '-c', ...args]);
    const [pod] = await same(['kquote']);
    expect(pod).toMatchObject({ spec: { containers: [{ command: ['/bin/echo'], args: ['-c', ...args] }] } });
  });

  it('folds long strings where podman folds them', async () => {
    const long = Array.from({ length: 30 }, (_, i) => `w${i}`).join(' ');
    await both([
      'create',
      '--name',
      'klong',
      '-e',
      `LONG=${long} `,
      '--entrypoint',
      '/bin/echo',
      'busybox',
      long,
      `it's ${long}`,
      `${long}:`,
      `\t${long}  two  words`,
    ]);
    const [pod] = await same(['klong']);
    expect(pod).toMatchObject({
      spec: { containers: [{ env: [{ name: 'LONG', value: `${long} ` }], args: [long, `it's ${long}`, `${long}:`, `\t${long}  two  words`] }] },
    });
  });

  it('writes what podman writes of capabilities, users and privileges', async () => {
    const variants = [
      ['--cap-add', 'SYS_TIME', '--cap-add', 'NET_ADMIN'],
      ['--cap-drop', 'ALL', '--cap-add', 'CHOWN'],
      ['--security-opt', 'no-new-privileges', '-u', 'nobody'],
      ['-u', '1000', '--cpus', '0.3', '--memory', '100m'],
      ['--security-opt', 'label=disable', '-p', '127.0.0.1:18482:99'],
      ['--network', 'host', '--hostname', 'kvm'],
      ['--network', 'host'],
    ];
    for (const [i, args] of variants.entries()) {
      await both(['create', '--name', `kcap${i}`, ...args, 'busybox', 'true']);
      await same([`kcap${i}`]);
    }
  });

  it('writes several containers as one Pod (podman 4.3 shows the last one’s resources on those with limits)', async () => {
    await both(['create', '--name', 'km1', '--memory', '50m', 'busybox', 'true']);
    await both(['create', '--name', 'km2', '--cpus', '1', '-p', '18483:80', 'busybox', 'true']);
    await both(['create', '--name', 'km3', 'busybox', 'true']);
    await same(['km1', 'km2', 'km3']);
    await same(['-s', 'km3', 'km1']);
  });

  it('writes named volumes as PersistentVolumeClaims, before services and pods', async () => {
    await both(['volume', 'create', '--label', 'k=v', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=nodev', 'kpvc']);
    const docs = await same(['kpvc', 'kc1', 'kvol']);
    expect(docs.map((d) => d.kind)).toEqual(['PersistentVolumeClaim', 'PersistentVolumeClaim', 'Pod']);
    expect(docs[0]).toMatchObject({
      metadata: { annotations: { 'volume.podman.io/type': 'tmpfs' }, labels: { k: 'v' } },
      spec: { resources: { requests: { storage: '1Gi' } } },
    });
  });

  it('writes a pod: its ports on the first member, its DNS, hosts and hostname, the first member’s restart policy', async () => {
    await both([
      'pod',
      'create',
      '--name',
      'kp1',
      '-p',
      '18490:80',
      '-p',
      '18491:53/udp',
      '--hostname',
      'kph',
      '--dns',
      '10.231.22.53',
      '--add-host',
      'foo:10.231.22.9',
    ]);
    await both(['create', '--pod', 'kp1', '--name', 'kpm1', '-e', 'A=1', '-v', 'kvol:/d', 'busybox', 'sleep', '300']);
    await both(['create', '--pod', 'kp1', '--name', 'kpm_2', '--restart', 'on-failure', '--memory', '32m', '-w', '/srv', 'busybox', 'httpd', '-f']);
    const [service, pod] = await sameDocuments(['-s', 'kp1']);
    expect(service).toMatchObject({
      kind: 'Service',
      metadata: { name: 'kp1' },
      spec: { ports: expect.arrayContaining([expect.objectContaining({ port: 53, protocol: 'UDP' })]) },
    });
    expect(pod).toMatchObject({
      kind: 'Pod',
      metadata: { name: 'kp1' },
      spec: {
        containers: [{ name: 'kpm1', ports: expect.arrayContaining([{ containerPort: 80, hostPort: 18490 }]) }, { name: 'kpm2' }],
        hostname: 'kph',
        hostAliases: [{ hostnames: ['foo'], ip: '10.231.22.9' }],
        dnsConfig: { nameservers: ['10.231.22.53'] },
        restartPolicy: 'Never',
      },
      status: {},
    });
    // Pods, containers and volumes together.
    await sameDocuments(['kp1', 'kc1', 'kpvc']);
  });

  it('notes a pod whose namespaces differ from a Kubernetes pod’s', async () => {
    await both(['pod', 'create', '--name', 'kp2', '--share', 'pid,net,ipc,uts']);
    await both(['create', '--pod', 'kp2', '--name', 'kp2a', '-v', `${dir}/data:/x`, 'busybox', 'true']);
    const [pod] = await sameDocuments(['kp2']);
    expect(pod).toMatchObject({ spec: { shareProcessNamespace: true } });
    await both(['pod', 'create', '--name', 'kp3', '--infra=false']);
    await both(['create', '--pod', 'kp3', '--name', 'kp3a', '--restart', 'always', 'busybox', 'true']);
    await same(['-s', 'kp3']);
    await both(['pod', 'create', '--name', 'kp5', '--network', 'host']);
    await both(['create', '--pod', 'kp5', '--name', 'kp5a', 'busybox', 'true']);
    await same(['kp5']);
    await both(['pod', 'create', '--name', 'kp6', '--share', 'ipc,uts']);
    await both(['create', '--pod', 'kp6', '--name', 'kp6a', '-p', '18487:80', 'busybox', 'true']);
    await same(['kp6']);
  });

  it('refuses what podman refuses, in its words', async () => {
    const errors = (s: string) => clean(s).replace(/\b[0-9a-f]{12,64}\b/g, '<id>');
    // A pod member alone, with others or not (podman: generate the pod itself).
    await sameAsOracle({ berth, oracle }, ['generate', 'kube', 'kpm1'], errors);
    await sameAsOracle({ berth, oracle }, ['generate', 'kube', 'kpm1', 'kc1'], errors);
    await sameAsOracle({ berth, oracle }, ['generate', 'kube', 'nope'], errors);
    await both(['pod', 'create', '--name', 'kp4']);
    await sameAsOracle({ berth, oracle }, ['generate', 'kube', 'kp4'], errors);
    await both(['create', '--name', 'kdev', '--device', '/dev/null:/dev/xnull', 'busybox', 'true']);
    await sameAsOracle({ berth, oracle }, ['generate', 'kube', 'kdev'], errors);
    await sameAsOracle({ berth, oracle }, ['generate', 'kube'], errors);
  });

  it('answers on the wire as podman: application/x-tar, 500 with the wrapped cause, 400 for a bad service flag', async () => {
    const ok = await engine.http('GET', '/v4.3.1/libpod/generate/kube?names=kc1&service=false');
    expect(ok.status).toBe(200);
    expect(ok.headers['content-type']).toBe('application/x-tar');
    const member = await engine.http('GET', '/v4.3.1/libpod/generate/kube?names=kpm1');
    expect(member.status).toBe(500);
    const body = member.json();
    expect(body.message).toBe(`generating YAML: ${body.cause}`);
    expect(body.cause).toMatch(/^container [0-9a-f]{64} is associated with pod [0-9a-f]{64}: use generate on the pod itself$/);
    const bad = await engine.http('GET', '/v4.3.1/libpod/generate/kube?names=kc1&service=maybe');
    expect(bad.status).toBe(400);
    expect(bad.json().cause).toBe('schema: error converting value for "service"');
  });
});
