// podman --remote pods against berth, beside Podman's own service: pod create/ps/inspect/exists/rm/prune,
// containers joining pods (run/create --pod, --pod new:), ps --pod and the pod filter, and what members
// share (localhost, the pod's published port, PID namespace, the pod cgroup's limits).
import { existsSync } from 'node:fs';
import { readFile, readlink } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { httpOn, type TestEngine } from '../helpers/engine.js';
import { sameAsOracle, sideBySide, type PodmanClient, type PodmanService } from '../helpers/podman.js';

let engine: TestEngine;
let berth: PodmanClient;
let oracle: PodmanService;
const images = inject('images');

beforeAll(async () => {
  ({ engine, berth, oracle } = await sideBySide({ subnet: '10.231.20.0/24', busybox: images.busybox.archive, dockerName: true }));
});
afterAll(async () => {
  // Pods first: the Docker API's cleanup in destroy() may not remove an infra container.
  await berth?.podman(['pod', 'rm', '-af', '-t', '0']);
  await Promise.all([engine?.destroy(), oracle?.stop()]);
});

/** IDs and relative times vary between the two; table columns then differ in width only. */
const clean = (s: string) =>
  s
    .replace(/[0-9a-f]{64}/g, '<ID>')
    .replace(/[0-9a-f]{12}/g, '<id>')
    .replace(/(Less than a second|About a minute|About an hour|\d+ (second|minute|hour)s?) ago/g, '<ago>')
    .replace(/ {2,}/g, '  ');
const same = (args: string[], c = clean) => sameAsOracle({ berth, oracle }, args, c);
const both = (args: string[]) => Promise.all([berth.ok(args), oracle.client.ok(args)]);

/** A pod's inspect document with what differs by nature (IDs, times, paths, the cgroup parent) taken out. */
function comparable(doc: Record<string, unknown>): unknown {
  const { Created: _c, CreateCommand: _cc, CgroupParent: _cp, CgroupPath: _cpath, ...rest } = doc;
  const out = JSON.parse(clean(JSON.stringify(rest)));
  // podman's order of SharedNamespaces comes from a Go map: it varies from pod to pod.
  if (Array.isArray(out.SharedNamespaces)) out.SharedNamespaces.sort();
  for (const m of out.mounts ?? []) m.Source = '<source>';
  return out;
}

describe('podman --remote pod create, ps, inspect', () => {
  it('creates pods as podman does, with its errors', async () => {
    await both(['volume', 'create', 'pvx']);
    const full = ['pod', 'create', '--name', 'pf', '-p', '18291:80', '--share', 'net,ipc,uts,pid', '--hostname', 'ph', '--add-host', 'a:1.1.1.1'];
    await same([...full, '--dns', '8.8.8.8', '--label', 'pl=1', '--cpus', '0.5', '--memory', '64m', '--infra-command', '/catatonit', '-v', 'pvx:/pv']);
    await same(['pod', 'create', '--name', 'pn', '--infra=false']);
    await same(['pod', 'create', '--name', 'pd', '--label', 'team=a']);
    await same(['pod', 'create', '--name', 'pi', '--infra-name', 'myinfra']);
    await same(['pod', 'create', '--name', 'pm', '--mac-address', '02:42:0a:00:00:77', '--dns-search', 'example.com']);
    await same(['pod', 'create', '--name', 'psp', '--share-parent=false']);
    // Refusals: a name in use, a namespace podman does not know, a bad name, keep-id as root.
    await same(['pod', 'create', '--name', 'pd']);
    await same(['pod', 'create', '--name', 'px', '--share', 'net,foo']);
    await same(['pod', 'create', '--name', 'a!b']);
    await same(['pod', 'create', '--name', 'px', '--exit-policy', 'bogus']);
    // Pods and containers share names: a container's name, or an infra name a container has, is taken.
    await both(['create', '--name', 'taken', 'busybox', 'true']);
    await same(['pod', 'create', '--name', 'taken']);
    await same(['pod', 'create', '--name', 'pt', '--infra-name', 'taken']);
    await both(['rm', 'taken']);
    await same(['create', '--name', 'pd', 'busybox', 'true']);
    await oracle.client.podman(['pod', 'rm', 'pt']); // (podman 4.3 leaves the pod whose infra container failed)
    // (the client refuses these itself)
    await same(['pod', 'create', '--name', 'px', '--infra=false', '--share', 'net']);
    await same(['pod', 'create', '--name', 'px', '--share', 'cgroup,net']);

    for (const name of ['pf', 'pn', 'pd', 'pi', 'pm', 'psp']) {
      const [ours, theirs] = await both(['pod', 'inspect', name]);
      expect(comparable(JSON.parse(ours)), name).toEqual(comparable(JSON.parse(theirs)));
    }
    await same(['pod', 'inspect', '--format', '{{.Name}} {{.State}} {{.Hostname}} {{.NumContainers}} {{.CreateInfra}} {{.Labels}}', 'pf']);
    await same(['pod', 'inspect', 'nope']);
    await same(['pod', 'exists', 'pd']);
    await same(['pod', 'exists', 'nope']);
    // The infra container: the pod's hostname and labels, podman's pause image, no command.
    await same(['ps', '-a', '--pod', '--format', '{{.Names}} {{.PodName}} {{.Image}} {{.Command}} {{.Status}} {{.IsInfra}}']);
    await same(['inspect', '--format', '{{.Config.Hostname}} {{.Config.Labels}} {{.IsInfra}} {{.Pod}}', 'myinfra'], (s) =>
      clean(s).replace(/io\.buildah\.version:[^\] ]+ ?/, ''),
    );
  });

  it("answers podman's error bodies (cause, message, status)", async () => {
    const ask = async (method: string, path: string, body?: object) => {
      const [ours, theirs] = await Promise.all([engine.http(method, path, body), httpOn(oracle.socket, method, path, body)]);
      expect({ status: ours.status, body: ours.json() }, `${method} ${path}`).toEqual({ status: theirs.status, body: theirs.json() });
    };
    await ask('POST', '/v4.3.1/libpod/pods/create', { name: 'pd' });
    await ask('POST', '/v4.3.1/libpod/pods/create', { name: 'px', shared_namespaces: ['foo'] });
    await ask('POST', '/v4.3.1/libpod/pods/create', { name: 'a b' });
    await ask('POST', '/v4.3.1/libpod/pods/create', { name: 'px', exit_policy: 'bogus' });
    await ask('GET', '/v4.3.1/libpod/pods/nope/json');
    await ask('GET', '/v4.3.1/libpod/pods/nope/exists');
    await ask('DELETE', '/v4.3.1/libpod/pods/nope');
    await ask('GET', `/v4.3.1/libpod/pods/json?filters=${encodeURIComponent('{"bogus":["1"]}')}`);
    await ask('GET', `/v4.3.1/libpod/pods/json?filters=${encodeURIComponent('{"status":["x"]}')}`);
  });

  it('runs containers in pods: --pod, --pod new:, create --pod, a missing pod', async () => {
    await same(['run', '-d', '--pod', 'pd', '--name', 'pdm', 'busybox', 'sleep', '300']);
    await same(['run', '-d', '--pod', 'new:pnew', '--name', 'pnm', 'busybox', 'sleep', '300']);
    await same(['create', '--pod', 'pi', '--name', 'pim', 'busybox', 'true']);
    await same(['run', '--pod', 'nope', 'busybox', 'true']);
    await same(['create', '--pod', 'pd', '-p', '18292:80', 'busybox', 'true']);

    await same(['ps', '-a', '--pod', '--format', '{{.Names}} {{.PodName}} {{.Pod}} {{.State}} {{.Ports}}']);
    await same(['ps', '-a', '--filter', 'pod=pd', '--format', '{{.Names}}']);
    await same(['ps', '-a', '--filter', 'pod=nope', '--format', '{{.Names}}']);
    // A member joins the infra container's namespaces, depends on it and lives in the pod's cgroup.
    const format =
      '{{.Pod}} {{.Dependencies}} {{.HostConfig.NetworkMode}} {{.HostConfig.IpcMode}} {{.HostConfig.UTSMode}} {{.HostConfig.PidMode}} {{.IsInfra}}';
    await same(['inspect', '--format', format, 'pdm']);
    // A pod without infra container makes no cgroup: its members are under the default parent.
    await same(['create', '--pod', 'pn', '--name', 'pnx', 'busybox', 'true']);
    await same(['inspect', '--format', `${format} {{.HostConfig.CgroupParent}}`, 'pnx']);
    // --share-parent=false: no pod cgroup either.
    await same(['create', '--pod', 'psp', '--name', 'pspm', 'busybox', 'true']);
    await same(['inspect', '--format', '{{.HostConfig.CgroupParent}}', 'pspm']);
    await same(['pod', 'inspect', '--format', '{{.CreateCgroup}}', 'psp']);
    // Without the UTS namespace shared a member keeps its own hostname (its short ID).
    await same(['pod', 'create', '--name', 'pu', '--share', 'pid,net']);
    await same(['run', '--pod', 'pu', '--name', 'pum', 'busybox', 'sh', '-c', 'hostname | wc -c']);
    await same(['inspect', '--format', format, 'pum']);
    const [hostname, shortId] = (await berth.ok(['inspect', '--format', '{{.Config.Hostname}} {{.Id}}', 'pum'])).trim().split(' ');
    expect(hostname).toBe(shortId?.slice(0, 12));
    await same(['pod', 'rm', '-f', 'pu']);
    const [podId, infraId] = (await berth.ok(['pod', 'inspect', '--format', '{{.Id}} {{.InfraContainerID}}', 'pd'])).trim().split(' ');
    expect((await berth.ok(['inspect', '--format', '{{.Pod}} {{.HostConfig.CgroupParent}} {{.Dependencies}}', 'pdm'])).trim()).toBe(
      `${podId} /berth/pod-${podId} [${infraId}]`,
    );
    // podman's member inspect shows the pod's network (the infra container's).
    const [ours, theirs] = await both(['inspect', '--format', '{{json .NetworkSettings.Ports}} {{len .NetworkSettings.Networks}}', 'pdm']);
    expect(ours).toBe(theirs);
    // The pod's volumes (pod create -v) are every member's.
    await both(['volume', 'create', 'pvol']);
    await same(['pod', 'create', '--name', 'pv', '-v', 'pvol:/pv']);
    await same(['run', '--pod', 'pv', '--name', 'pvm', 'busybox', 'sh', '-c', 'echo shared > /pv/f && cat /pv/f']);
    await same(['inspect', '--format', '{{range .Mounts}}{{.Name}}:{{.Destination}} {{end}}', 'pvm']);
    await same(['pod', 'rm', '-f', 'pv']);
    // The infra container goes only with its pod.
    await same(['rm', '-f', 'myinfra']);
    await same(['rm', 'myinfra']);
  });

  it('lists pods with podman filters and formats', async () => {
    const fmt = '{{.Name}} {{.Status}} {{.NumberOfContainers}} {{.Labels}} {{.Networks}}';
    await same(['pod', 'ps', '--format', fmt]);
    await same(['pod', 'ps']);
    // A pod's containers are listed in podman's database order (by ID): each list compares as a set.
    const sets = (s: string) => clean(s).replace(/\S+,\S+/g, (list) => list.split(',').sort().join(','));
    await same(['pod', 'ps', '--ctr-names', '--ctr-status', '--ctr-ids', '--sort', 'name'], sets);
    const byName = (a: { Names: string }, b: { Names: string }) => (a.Names < b.Names ? -1 : 1);
    const json = (s: string) =>
      s &&
      clean(
        JSON.stringify(
          JSON.parse(s).map(({ Created: _c, Cgroup: _g, Containers, ...rest }: { Created: string; Cgroup: string; Containers: { Names: string }[] }) => ({
            ...rest,
            Containers: Containers.sort(byName),
          })),
        ),
      );
    await same(['pod', 'ps', '--format', 'json'], json);
    for (const filter of [
      'name=pd',
      'name=^p[dn]$',
      'label=team=a',
      'label=pl',
      'status=running',
      'status=created',
      // (podman 4.3 matches ctr-names against one container of each pod, the first by ID: only patterns
      // that match all or none of a pod's containers give the same answer every run.)
      'ctr-names=.',
      'ctr-names=zzz',
      'ctr-ids=.',
      'ctr-ids=^g',
      'ctr-status=running',
      'ctr-status=created',
      'ctr-number=0',
      'ctr-number=2',
      'network=podman',
      'until=1h',
      'status=bogus',
      'ctr-status=bogus',
      'bogus=1',
    ])
      await same(['pod', 'ps', '--filter', filter, '--format', '{{.Name}}', '--sort', 'name']);
    await same(['pod', 'ps', '--filter', 'label=team=a', '--filter', 'status=running', '--format', '{{.Name}}']);
    await same(['pod', 'ps', '-q', '--filter', 'name=pd']);
  });

  it('removes pods: a running member refuses it without -f, -f and -a remove all, prune the exited', async () => {
    // podman's multi-error: the running member, and the infra container it still needs (lines sorted:
    // podman's order follows a Go map).
    const sortedLines = (s: string) => clean(s).split('\n').sort().join('\n');
    await same(['pod', 'rm', 'pd'], sortedLines);
    await same(['pod', 'rm', 'nope']);
    await same(['pod', 'rm', 'pn', 'nope']);
    await same(['pod', 'exists', 'pn']);
    await same(['pod', 'rm', 'pn']);
    // -t 0: the member (sleep as PID 1 ignores SIGTERM) is killed at once, not after 10 s.
    const t0 = Date.now();
    await same(['pod', 'rm', '-f', '-t', '0', 'pd']);
    expect(Date.now() - t0).toBeLessThan(6000);
    await same(['ps', '-a', '--filter', 'name=pdm', '--format', '{{.Names}}']);
    // An exited pod goes with prune; created and running ones stay.
    // (pod start/stop are another module's: a member that exits and a stopped infra container do it.)
    await both(['pod', 'create', '--name', 'pe', '--infra-name', 'pe-infra']);
    await both(['run', '--pod', 'pe', 'busybox', 'true']);
    await both(['stop', '-t', '0', 'pe-infra']);
    await same(['pod', 'ps', '--filter', 'name=pe', '--format', '{{.Name}} {{.Status}}']);
    await same(['pod', 'prune', '-f']);
    await same(['pod', 'ps', '--format', '{{.Name}}', '--sort', 'name']);
    await same(['pod', 'rm', '-a', '-f', '-t', '0']);
    await same(['pod', 'ps', '-q']);
    await same(['ps', '-aq']);
  });
});

describe('what members of a pod share (berth)', () => {
  it('localhost between members, the pod port from the host, processes with --share pid, the pod cgroup', async () => {
    const id = (
      await berth.ok(['pod', 'create', '--name', 'web', '-p', '18295:8080', '--share', 'net,ipc,uts,pid', '--memory', '64m', '--cpus', '0.5'])
    ).trim();
    const cgroup = `/sys/fs/cgroup/memory/berth/pod-${id}`;
    const v1 = existsSync('/sys/fs/cgroup/memory/berth');
    if (v1) {
      expect((await readFile(`${cgroup}/memory.limit_in_bytes`, 'utf8')).trim()).toBe(String(64 * 1024 * 1024));
      expect((await readFile(`/sys/fs/cgroup/cpu/berth/pod-${id}/cpu.cfs_quota_us`, 'utf8')).trim()).toBe('50000');
    }
    await berth.ok([
      'run',
      '-d',
      '--pod',
      'web',
      '--name',
      'httpd',
      'busybox',
      'sh',
      '-c',
      'mkdir /w && echo hello-pod > /w/index.html && exec httpd -f -p 8080 -h /w',
    ]);
    let page = '';
    for (let i = 0; i < 50 && page !== 'hello-pod\n'; i++) {
      const r = await berth.podman(['run', '--rm', '--pod', 'web', 'busybox', 'wget', '-qO-', 'http://localhost:8080/']);
      page = r.stdout;
      if (page !== 'hello-pod\n') await new Promise((r) => setTimeout(r, 100));
    }
    expect(page).toBe('hello-pod\n');
    const res = await fetch('http://127.0.0.1:18295/');
    expect(await res.text()).toBe('hello-pod\n');
    // With the PID namespace shared, a member sees the infra container's catatonit and the others' processes.
    const ps = await berth.ok(['run', '--rm', '--pod', 'web', 'busybox', 'ps', '-o', 'pid,comm']);
    expect(ps).toMatch(/^\s*1 catatonit$/m);
    expect(ps).toMatch(/ httpd$/m);
    expect((await berth.ok(['exec', 'httpd', 'hostname'])).trim()).toBe('web');
    // The Docker API shows a member with the pod's network and ports, as podman's compat API does.
    const dockerPs = await engine.docker(['ps', '--filter', 'name=httpd', '--format', '{{.Ports}} {{.Networks}}']);
    expect(dockerPs.stdout.trim()).toBe('0.0.0.0:18295->8080/tcp bridge');
    const dockerInspect = await engine.docker(['inspect', '--format', '{{json .NetworkSettings.Ports}} {{.NetworkSettings.IPAddress}}', 'httpd']);
    expect(dockerInspect.stdout).toMatch(/^\{"8080\/tcp":\[\{"HostIp":"0\.0\.0\.0","HostPort":"18295"\}\]\} \d+\.\d+\.\d+\.\d+\n$/);
    // A member's cgroup is under the pod's.
    if (v1) expect(existsSync(`${cgroup}/${(await berth.ok(['inspect', '--format', '{{.Id}}', 'httpd'])).trim()}`)).toBe(true);
    await berth.ok(['pod', 'rm', '-f', '-t', '0', 'web']);
    expect(existsSync(cgroup)).toBe(false);
  });

  it("--share cgroup: members join the infra container's cgroup namespace", async () => {
    await berth.ok(['pod', 'create', '--name', 'cg', '--share', 'cgroup,net', '--share-parent=false']);
    await berth.ok(['run', '-d', '--pod', 'cg', '--name', 'cgm', 'busybox', 'sleep', '100']);
    const infra = (await berth.ok(['pod', 'inspect', '--format', '{{.InfraContainerID}}', 'cg'])).trim();
    const pid = (await berth.ok(['inspect', '--format', '{{.State.Pid}}', infra])).trim();
    const own = (await berth.ok(['exec', 'cgm', 'readlink', '/proc/self/ns/cgroup'])).trim();
    expect(own).toMatch(/^cgroup:\[\d+\]$/);
    expect(own).toBe(await readlink(`/proc/${pid}/ns/cgroup`));
    // podman 4.3 shows a member joining the infra's cgroup namespace as `host`.
    expect(await berth.ok(['inspect', '--format', '{{.HostConfig.CgroupMode}}', 'cgm'])).toBe('host\n');
    await berth.ok(['pod', 'rm', '-f', '-t', '0', 'cg']);
  });
});
