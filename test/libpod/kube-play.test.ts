// podman --remote play kube / kube play / kube down against berth, beside Podman's own service: the same
// output and exit codes, and pods whose containers are made as podman makes them (inspect fields).
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TEST_BASE, type TestEngine } from '../helpers/engine.js';
import { sameAsOracle, sideBySide, type PodmanClient, type PodmanService } from '../helpers/podman.js';
import { TestRegistry } from '../helpers/registry.js';

let engine: TestEngine;
let berth: PodmanClient;
let oracle: PodmanService;
let dir: string;
const images = inject('images');

beforeAll(async () => {
  ({ engine, berth, oracle } = await sideBySide({ subnet: '10.231.23.0/24' }));
  // Both load it through podman: `localhost/busybox:latest` on each side.
  await Promise.all([berth.ok(['load', '-i', images.busybox.archive]), oracle.client.ok(['load', '-i', images.busybox.archive])]);
  dir = await mkdtemp(join(TEST_BASE, 'berth-kube-'));
});
afterAll(async () => {
  await Promise.all([engine?.destroy(), oracle?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** IDs (pods, containers: 64 hex; secrets: 25) masked. */
const clean = (s: string) => s.replace(/[0-9a-f]{64}/g, '<id>').replace(/\b[0-9a-f]{25}\b/g, '<sid>');
const same = (args: string[]) => sameAsOracle({ berth, oracle }, args, clean);
const both = (args: string[]) => Promise.all([berth.ok(args), oracle.client.ok(args)]);

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

/** What `inspect --format` shows of a container on each side, volumes' host paths and IDs masked. */
async function fields(client: PodmanClient, name: string, format: string): Promise<string> {
  const out = await client.ok(['inspect', '--format', format, name]);
  // podman lists mounts in no fixed order: sorted here.
  const sorted = out
    .trim()
    .split('|')
    .map((part) => (/^(volume|bind|tmpfs):/.test(part) ? part.trim().split(' ').sort().join(' ') : part))
    .join('|');
  return clean(sorted).replace(/\/var\/tmp\/[^ :]*\/volumes\//g, '<volumes>/');
}

/** A GET on the host's port until it answers (the pod's published port). */
async function get(port: number): Promise<string> {
  for (let i = 0; ; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
      return await res.text();
    } catch (err) {
      if (i >= 20) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

// The captured flow (libpod-plan-captures/kube.yaml): a ConfigMap, a PersistentVolumeClaim, a Deployment.
const DEPLOYMENT = `apiVersion: v1
kind: ConfigMap
metadata:
  name: cm1
data:
  GREETING: hello-cm
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: kvol
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: dep1
  labels: {app: dep1}
spec:
  replicas: 1
  selector:
    matchLabels: {app: dep1}
  template:
    metadata:
      labels: {app: dep1}
    spec:
      containers:
      - name: web
        image: localhost/busybox:latest
        command: ["sh", "-c", "echo $GREETING; trap 'exit 0' TERM; sleep 300 & wait"]
        envFrom:
        - configMapRef: {name: cm1}
        volumeMounts:
        - {name: data, mountPath: /data}
        - {name: scratch, mountPath: /scratch}
      volumes:
      - name: data
        persistentVolumeClaim: {claimName: kvol}
      - name: scratch
        emptyDir: {}
`;

const MEMBER = [
  '{{.Name}}',
  '{{.Path}} {{.Args}}',
  '{{.Config.Entrypoint}} / {{.Config.Cmd}}',
  '{{.Config.Labels}}',
  '{{.HostConfig.RestartPolicy.Name}}',
  '{{.Config.Hostname}} {{.Config.WorkingDir}} {{.Config.User}}',
  '{{range .Mounts}}{{.Type}}:{{.Name}}:{{.Source}}:{{.Destination}}:{{.RW}} {{end}}',
  '{{.HostConfig.CapAdd}} {{.HostConfig.CapDrop}} {{.HostConfig.ReadonlyRootfs}}',
  '{{.HostConfig.Memory}} {{.HostConfig.CpuQuota}} {{.HostConfig.CpuPeriod}}',
  '{{.State.Status}}',
].join('|');

describe('podman --remote play kube', () => {
  it('plays a Deployment with a ConfigMap and a PersistentVolumeClaim; --replace and kube down answer as podman', async () => {
    const yaml = await file('dep.yaml', DEPLOYMENT);
    await same(['play', 'kube', yaml]);
    await same(['ps', '-a', '--format', '{{.Names}} {{.Image}}', '--filter', 'name=dep1']);
    await same(['volume', 'ls']);
    const [ours, theirs] = await Promise.all([fields(berth, 'dep1-pod-0-web', MEMBER), fields(oracle.client, 'dep1-pod-0-web', MEMBER)]);
    expect(ours).toBe(theirs);
    const env = 'hostname; echo $GREETING; ls -d /data /scratch';
    const [inOurs, inTheirs] = await both(['exec', 'dep1-pod-0-web', 'sh', '-c', env]);
    expect(inOurs).toBe('dep1-pod-0\nhello-cm\n/data\n/scratch\n');
    expect(inOurs).toBe(inTheirs);
    // --replace: the client's DELETE, then POST; podman 4.3.1 keeps the claim's volume, so the POST fails.
    await same(['play', 'kube', '--replace', yaml]);
    await same(['volume', 'ls']);
    await same(['kube', 'down', yaml]);
    await same(['play', 'kube', '--down', yaml]);
    await both(['volume', 'rm', 'kvol']);
    // `kube play` is the same verb; the emptyDir volume goes with the pod, the claim's stays.
    await same(['kube', 'play', yaml]);
    await same(['play', 'kube', '--down', yaml]);
    await same(['volume', 'ls']);
    await both(['volume', 'rm', 'kvol']);
  });

  it('makes a Pod member as podman does: command/args, env from values, ConfigMaps and secrets, user, caps, limits, volumes', async () => {
    const hostDir = join(dir, 'hp');
    await mkdir(hostDir);
    const made = join(dir, 'made');
    // A podman secret in the format podman 4.3.1's secretKeyRef reads: a JSON map of base64 values.
    const secret = await file('sec.json', '{"password":"cGFzc3dvcmQx"}');
    await both(['secret', 'create', 'podsec', secret]);
    const yaml = await file(
      'pod.yaml',
      `apiVersion: v1
kind: ConfigMap
metadata:
  name: cm2
data:
  KEY1: v1
  file.txt: hello-file
---
apiVersion: v1
kind: Pod
metadata:
  name: pod2
  labels: {tier: web}
  annotations: {note: hi}
spec:
  hostname: myhost
  restartPolicy: OnFailure
  containers:
  - name: c1
    image: busybox
    command: ["sh", "-c"]
    args: ["trap 'exit 0' TERM; mkdir -p /tmp/www && echo served > /tmp/www/index.html && httpd -f -p 8080 -h /tmp/www & wait"]
    workingDir: /tmp
    env:
    - {name: A, value: "1"}
    - name: FROMCM
      valueFrom: {configMapKeyRef: {name: cm2, key: KEY1}}
    - name: FROMSEC
      valueFrom: {secretKeyRef: {name: podsec, key: password}}
    ports:
    - {containerPort: 8080, hostPort: 23180}
    resources:
      limits: {memory: 64Mi, cpu: "500m"}
    securityContext:
      runAsUser: 1000
      runAsGroup: 1001
      readOnlyRootFilesystem: false
      capabilities: {add: [NET_ADMIN], drop: [CHOWN]}
    volumeMounts:
    - {name: cfg, mountPath: /cfg}
    - {name: hp, mountPath: /hp, readOnly: true}
    - {name: made, mountPath: /made}
  - name: c2
    image: busybox
    args: ["sh", "-c", "trap 'exit 0' TERM; sleep 300 & wait"]
  volumes:
  - name: cfg
    configMap: {name: cm2}
  - name: hp
    hostPath: {path: ${hostDir}, type: Directory}
  - name: made
    hostPath: {path: ${made}, type: DirectoryOrCreate}
`,
    );
    // One side at a time: both publish the same host port.
    const run = async (client: PodmanClient) => {
      const played = await client.podman(['play', 'kube', '--annotation', 'extra=given', yaml]);
      const members = await Promise.all(
        ['pod2-c1', 'pod2-c2'].map((n) => fields(client, n, `${MEMBER}|{{.Config.Annotations.note}} {{.Config.Annotations.extra}}`)),
      );
      const inside = await client.ok(['exec', 'pod2-c1', 'sh', '-c', 'id -u; id -g; hostname; pwd; cat /cfg/file.txt; echo; echo $A $FROMCM $FROMSEC']);
      const served = await get(23180);
      const down = await client.podman(['kube', 'down', yaml]);
      await rm(made, { recursive: true, force: true });
      return { played: { ...played, stdout: clean(played.stdout) }, members, inside, served, down: clean(down.stdout) };
    };
    const theirs = await run(oracle.client);
    const ours = await run(berth);
    expect(ours.inside).toBe('1000\n1001\nmyhost\n/tmp\nhello-file\n1 v1 password1\n');
    expect(ours.served).toBe('served\n');
    expect(ours).toEqual(theirs);
    await same(['volume', 'ls']);
    await both(['volume', 'rm', 'cm2']);
  });

  it('--start=false makes the pod without starting it; a Deployment makes a pod per replica', async () => {
    const yaml = await file(
      'replicas.yaml',
      `apiVersion: apps/v1
kind: Deployment
metadata: {name: d2}
spec:
  replicas: 2
  template:
    metadata: {labels: {app: d2}}
    spec:
      containers:
      - name: c
        image: busybox
        command: [sleep, "300"]
        env:
        - name: X
          valueFrom: {configMapKeyRef: {name: nocm, key: k, optional: true}}
`,
    );
    await same(['play', 'kube', '--start=false', yaml]);
    await same(['ps', '-a', '--format', '{{.Names}} {{.State}}', '--filter', 'name=d2-pod-']);
    await same(['kube', 'down', yaml]);
    // From standard input (`-`): the client reads it and sends the same body.
    const text = await readFile(yaml, 'utf8');
    await sameAsOracle({ berth, oracle }, ['kube', 'play', '--start=false', '-'], clean, text);
    await sameAsOracle({ berth, oracle }, ['kube', 'down', '-'], clean, text);
  });

  it('--network puts the pod on the networks named (podman: the default one), else on podman-default-kube-network', async () => {
    const yaml = await file(
      'net.yaml',
      `apiVersion: v1
kind: Pod
metadata: {name: netpod}
spec:
  containers:
  - {name: c, image: busybox, command: [sh, -c, "trap 'exit 0' TERM; sleep 300 & wait"]}
`,
    );
    /** The networks of the pod's infra container (the member joins its namespace). */
    const networks = async (client: PodmanClient) => {
      const mode = (await client.ok(['inspect', '--format', '{{.HostConfig.NetworkMode}}', 'netpod-c'])).trim();
      expect(mode).toMatch(/^container:[0-9a-f]{64}$/);
      return client.ok(['inspect', '--format', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}', mode.slice('container:'.length)]);
    };
    await both(['network', 'create', 'kn1']);
    for (const flags of [[], ['--network', 'podman'], ['--network', 'kn1']]) {
      await same(['play', 'kube', ...flags, yaml]);
      const [ours, theirs] = await Promise.all([networks(berth), networks(oracle.client)]);
      expect(ours).toBe(theirs);
      await same(['kube', 'down', yaml]);
    }
    await same(['network', 'ls', '--format', '{{.Name}}']);
    await both(['network', 'rm', 'kn1']);
  });

  it('pulls an image it lacks, as podman does (--tls-verify=false for a plain-HTTP registry)', async () => {
    const registry = await TestRegistry.start();
    try {
      await registry.pushArchive(images.busybox.archive, 'lib/busybox:kube');
      const image = `${registry.host}/lib/busybox:kube`;
      const yaml = await file(
        'pull.yaml',
        `apiVersion: v1
kind: Pod
metadata: {name: pullpod}
spec:
  containers:
  - {name: c, image: "${image}", command: [sh, -c, "trap 'exit 0' TERM; sleep 300 & wait"]}
`,
      );
      await same(['play', 'kube', '--tls-verify=false', yaml]);
      await same(['image', 'exists', image]);
      await same(['inspect', '--format', '{{.ImageName}} {{.State.Status}}', 'pullpod-c']);
      await same(['kube', 'down', yaml]);
      await both(['rmi', image]);
    } finally {
      await registry.stop();
    }
  });

  it('checks or makes hostPath volumes by type, fills ConfigMap volumes (items too); berth honours subPath', async () => {
    const untyped = join(dir, 'untyped');
    await mkdir(untyped);
    const yaml = await file(
      'paths.yaml',
      `apiVersion: v1
kind: ConfigMap
metadata: {name: cmi}
data: {a: A, b: B}
---
apiVersion: v1
kind: Pod
metadata: {name: paths}
spec:
  containers:
  - name: c
    image: busybox
    command: [sh, -c, "trap 'exit 0' TERM; sleep 300 & wait"]
    volumeMounts:
    - {name: untyped, mountPath: /untyped}
    - {name: foc, mountPath: /foc}
    - {name: cm, mountPath: /cm, readOnly: true}
  volumes:
  - {name: untyped, hostPath: {path: ${untyped}}}
  - {name: foc, hostPath: {path: ${join(dir, 'foc.txt')}, type: FileOrCreate}}
  - {name: cm, configMap: {name: cmi, items: [{key: a, path: aa}]}}
`,
    );
    const look = 'find /untyped /foc /cm | sort; cat /cm/aa; echo; touch /cm/x 2>/dev/null || echo read-only';
    for (const client of [oracle.client, berth]) {
      await client.ok(['play', 'kube', yaml]);
      expect(await client.ok(['exec', 'paths-c', 'sh', '-c', look])).toBe('/cm\n/cm/aa\n/foc\n/untyped\nA\nread-only\n');
      await client.ok(['kube', 'down', yaml]);
      await client.ok(['volume', 'rm', 'cmi']);
      await rm(join(dir, 'foc.txt'));
    }
    // subPath: a directory of the volume (made when missing), where podman 4.3.1 mounts the whole volume.
    const sub = await file(
      'subpath.yaml',
      `apiVersion: v1
kind: Pod
metadata: {name: sub}
spec:
  containers:
  - name: c
    image: busybox
    command: [sh, -c, "echo in-sub > /v/f; echo in-host > /h/f; trap 'exit 0' TERM; sleep 300 & wait"]
    volumeMounts:
    - {name: v, mountPath: /v, subPath: one/two}
    - {name: h, mountPath: /h, subPath: deeper}
  volumes:
  - {name: v, persistentVolumeClaim: {claimName: subvol}}
  - {name: h, hostPath: {path: ${untyped}, type: Directory}}
`,
    );
    await berth.ok(['play', 'kube', sub]);
    await berth.ok(['run', '--rm', '-v', 'subvol:/all', 'busybox', 'sh', '-c', 'until [ -f /all/one/two/f ]; do sleep 0.1; done']);
    expect(await berth.ok(['run', '--rm', '-v', 'subvol:/all', 'busybox', 'cat', '/all/one/two/f'])).toBe('in-sub\n');
    expect(await readFile(join(untyped, 'deeper', 'f'), 'utf8')).toBe('in-host\n');
    await berth.ok(['kube', 'down', sub]);
    await berth.ok(['volume', 'rm', 'subvol']);
  });

  it('answers podman’s errors with its exit codes', async () => {
    const cases: Record<string, string> = {
      shortname: `apiVersion: v1
kind: Pod
metadata: {name: e1}
spec:
  containers:
  - {name: c, image: nosuchimage, command: [sleep, "300"]}
`,
      hostpath: `apiVersion: v1
kind: Pod
metadata: {name: e2}
spec:
  containers:
  - {name: c, image: busybox, command: [sleep, "300"], volumeMounts: [{name: h, mountPath: /h}]}
  volumes:
  - {name: h, hostPath: {path: ${join(dir, 'nonexistent')}, type: Directory}}
`,
      untyped: `apiVersion: v1
kind: Pod
metadata: {name: e4}
spec:
  containers:
  - {name: c, image: busybox, command: [sleep, "300"], volumeMounts: [{name: h, mountPath: /h}]}
  volumes:
  - {name: h, hostPath: {path: ${join(dir, 'nonexistent')}}}
`,
      mount: `apiVersion: v1
kind: Pod
metadata: {name: e5}
spec:
  containers:
  - {name: c, image: busybox, command: [sleep, "300"], volumeMounts: [{name: missing, mountPath: /m}]}
`,
      configmapOnly: `apiVersion: v1
kind: ConfigMap
metadata: {name: cmx}
data: {X: x}
`,
      daemonset: `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds1}
spec:
  template:
    spec:
      containers: [{name: c, image: busybox}]
`,
      deploymentEnv: `apiVersion: apps/v1
kind: Deployment
metadata: {name: d3}
spec:
  template:
    spec:
      containers:
      - name: c
        image: busybox
        env: [{name: X, valueFrom: {configMapKeyRef: {name: nocm, key: k}}}]
`,
      noname: `apiVersion: v1
kind: Pod
spec:
  containers: [{name: c, image: busybox}]
`,
    };
    for (const [name, text] of Object.entries(cases)) await same(['play', 'kube', await file(`${name}.yaml`, text)]);
    // A pod made before the failure stays, as podman leaves it: playing again finds its name taken.
    const taken = join(dir, 'shortname.yaml');
    await same(['play', 'kube', taken]);
    await same(['kube', 'down', taken]);
    await same(['kube', 'down', taken]);
    await same(['kube', 'down', join(dir, 'daemonset.yaml')]);
    await same(['kube', 'down', join(dir, 'mount.yaml')]);
    await same(['kube', 'down', join(dir, 'deploymentEnv.yaml')]);
    // A member that fails to start: the pod is made, the others run, the client reports it and exits 125.
    const bad = await file(
      'bad.yaml',
      `apiVersion: v1
kind: Pod
metadata: {name: bad}
spec:
  containers:
  - {name: c, image: busybox, command: [nonexistent]}
  - {name: ok, image: busybox, command: [sh, -c, "trap 'exit 0' TERM; sleep 300 & wait"]}
`,
    );
    await same(['play', 'kube', bad]);
    await same(['ps', '-a', '--format', '{{.Names}} {{.State}}', '--filter', 'name=bad-c']);
    await same(['kube', 'down', bad]);
    // A member's name taken by a container: podman's words, the pod left made.
    await both(['create', '--name', 'taken-c', 'busybox', 'true']);
    const taken2 = await file(
      'taken.yaml',
      `apiVersion: v1
kind: Pod
metadata: {name: taken}
spec:
  containers:
  - {name: c, image: busybox, command: [sleep, "1"]}
`,
    );
    await same(['play', 'kube', taken2]);
    await same(['kube', 'down', taken2]);
    await both(['rm', 'taken-c']);
    // --log-driver none: no logs kept.
    await same(['play', 'kube', '--start=false', '--log-driver', 'none', taken2]);
    await same(['inspect', '--format', '{{.HostConfig.LogConfig.Type}}', 'taken-c']);
    await same(['kube', 'down', taken2]);
    // The 4.3.1 client has none of these flags (refused before any request).
    for (const flag of ['--build', '--configmap=x.yaml', '--publish=1:1']) await same(['play', 'kube', flag, taken]);
  });

  it('plays a pod podman generated back into an equivalent pod (round trip)', async () => {
    await oracle.client.ok(['pod', 'create', '--name', 'rt', '-p', '23251:80']);
    await oracle.client.ok(['volume', 'create', 'rtvol']);
    const command = "trap 'exit 0' TERM; mkdir -p /www && echo round > /www/index.html && httpd -f -p 80 -h /www & wait";
    await oracle.client.ok([
      'run',
      '-d',
      '--pod',
      'rt',
      '--name',
      'rtweb',
      '-e',
      'FOO=bar',
      '-v',
      'rtvol:/data',
      '-w',
      '/data',
      'busybox',
      'sh',
      '-c',
      command,
    ]);
    const generated = await oracle.client.ok(['generate', 'kube', 'rt']);
    await oracle.client.ok(['pod', 'rm', '-f', 'rt']);
    const yaml = await file('rt.yaml', generated);
    const format = `${MEMBER}|{{.Config.Env}}`;
    const run = async (client: PodmanClient) => {
      const played = await client.podman(['play', 'kube', yaml]);
      const member = await fields(client, 'rt-rtweb', format);
      const served = await get(23251);
      await client.ok(['kube', 'down', yaml]);
      return { played: { ...played, stdout: clean(played.stdout) }, member: member.replace(/ HOME=\/root| HOSTNAME=rt/g, ''), served };
    };
    const theirs = await run(oracle.client);
    const ours = await run(berth);
    expect(ours.served).toBe('round\n');
    expect(ours.member).toContain('FOO=bar');
    expect(ours.member).toContain('volume:rtvol:<volumes>/rtvol/_data:/data:true');
    // podman lists the image's env first; berth the container's: the same variables.
    const env = (s: string) => s.trim().replace(/\[([^\]]*)\]$/, (_m, vars: string) => vars.split(' ').sort().join(' '));
    expect({ ...ours, member: env(ours.member) }).toEqual({ ...theirs, member: env(theirs.member) });
  });

  it('stores a kube Secret as a podman secret (its YAML); berth also reads it for secretKeyRef, where podman 4.3.1 fails', async () => {
    const secret = `apiVersion: v1
kind: Secret
metadata:
  name: sec1
type: Opaque
data:
  password: cGFzc3dvcmQx
stringData:
  user: admin
`;
    const alone = await file('secret.yaml', secret);
    await same(['play', 'kube', alone]);
    await same(['secret', 'ls', '--format', '{{.Name}} {{.Driver}}', '--filter', 'name=sec1']);
    // Played again: the secret is replaced.
    await same(['play', 'kube', alone]);
    await same(['secret', 'ls', '--format', '{{.Name}}', '--filter', 'name=sec1']);
    const stored = await berth.ok(['run', '--rm', '--secret', 'sec1', 'busybox', 'cat', '/run/secrets/sec1']);
    expect(stored).toBe(await oracle.client.ok(['run', '--rm', '--secret', 'sec1', 'busybox', 'cat', '/run/secrets/sec1']));
    // podman 4.3.1 cannot use a kube Secret it stored ("secret sec1 is not valid JSON"); berth reads its data.
    const yaml = await file(
      'secret-pod.yaml',
      `${secret}---
apiVersion: v1
kind: Pod
metadata: {name: spod}
spec:
  containers:
  - name: c
    image: busybox
    command: [sh, -c, "trap 'exit 0' TERM; sleep 300 & wait"]
    env:
    - name: PW
      valueFrom: {secretKeyRef: {name: sec1, key: password}}
    envFrom:
    - secretRef: {name: sec1}
      prefix: S_
    volumeMounts: [{name: s, mountPath: /s, readOnly: true}]
  volumes:
  - {name: s, secret: {secretName: sec1}}
`,
    );
    await berth.ok(['play', 'kube', yaml]);
    expect(await berth.ok(['exec', 'spod-c', 'sh', '-c', 'echo $PW $S_user $S_password; cat /s/user'])).toBe('password1 admin password1\nadmin');
    await berth.ok(['kube', 'down', yaml]);
    await berth.ok(['volume', 'rm', 'sec1']);
    await both(['secret', 'rm', 'sec1']);
  });

  it('runs init containers to their end first, and takes hostNetwork', async () => {
    const yaml = await file(
      'init.yaml',
      `apiVersion: v1
kind: Pod
metadata: {name: initpod}
spec:
  hostNetwork: true
  initContainers:
  - {name: init, image: busybox, command: [sh, -c, "echo from-init > /work/x"], volumeMounts: [{name: work, mountPath: /work}]}
  containers:
  - {name: c, image: busybox, command: [sh, -c, "trap 'exit 0' TERM; sleep 300 & wait"], volumeMounts: [{name: work, mountPath: /work}]}
  volumes:
  - {name: work, emptyDir: {}}
`,
    );
    // (podman 4.3.1's own run of init containers races with their removal: berth alone here.)
    const out = await berth.ok(['play', 'kube', yaml]);
    expect(clean(out)).toBe('Pod:\n<id>\nContainer:\n<id>\n\n');
    expect(await berth.ok(['exec', 'initpod-c', 'cat', '/work/x'])).toBe('from-init\n');
    expect(await berth.ok(['ps', '-a', '--format', '{{.Names}}', '--filter', 'name=initpod-'])).toBe('initpod-c\n');
    expect(await berth.ok(['inspect', '--format', '{{.HostConfig.NetworkMode}}', 'initpod-c'])).toMatch(/^container:/);
    await berth.ok(['kube', 'down', yaml]);
    expect(await berth.ok(['volume', 'ls', '-q', '--filter', 'name=work'])).toBe('');
  });
});
