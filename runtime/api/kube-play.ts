// play kube / kube down (libpod): a Kubernetes YAML file played as pods, volumes and secrets through the
// same verbs the other routes use (pods.create, containers.create with `spec.pod`, pods.start), in
// podman 4.3's order: Secrets, then PersistentVolumeClaims, then each pod (its volumes, the pod, its init
// containers, its containers, its start). As podman, a failure leaves what was made before it.
import type { Engine } from '../engine.js';
import { EngineError, invalid, notFound } from '../errors.js';
import { SecretStore } from '../secrets/store.js';
import { readDocuments, requirePlayable, secretValues } from '../kube/play-parse.js';
import { KUBE_NETWORK, memberSpecOf, podSpecOf, type MemberContext } from '../kube/play-convert.js';
import { emptyDirs, EMPTY_DIR_LABEL, hostVolumes, makeSubPaths } from '../kube/play-volumes.js';
import type { KubeContainer, KubePodTemplate, KubeSecret } from '../kube/play-types.js';
import { yaml as yamlModule } from '../util/lazy-modules.js';
import { podApi } from './pods.js';
import { containerApi } from './containers.js';
import { imageApi } from './images.js';

export interface KubePlayOptions {
  /** false: made, not started (--start=false). */
  start: boolean;
  /** --network (names or host/none); empty: podman's kube network. */
  networks: string[];
  /** --annotation: added to every container's. */
  annotations: Record<string, string>;
  /** --ip / --mac-address: one per pod, in order. */
  staticIps: string[];
  staticMacs: string[];
  /** The client's X-Registry-Auth, for pulls. */
  authHeader?: string;
  /** --log-driver of every container. */
  logDriver?: string;
  /** false: pulls may use plain HTTP or unverified TLS (--tls-verify=false). */
  tlsVerify?: boolean;
}

export interface KubePlayedPod {
  id: string;
  containers: string[];
  initContainers: string[];
  /** Members that failed to start, and why (in the engine's words). */
  containerErrors: { id: string; message: string }[];
}

export interface KubePlayReport {
  pods: KubePlayedPod[];
  /** PersistentVolumeClaims made (volume names). */
  volumes: string[];
  /** Secrets made (IDs). */
  secrets: string[];
}

export interface KubeDownReport {
  stopped: { id: string; errors: string[] }[];
  removed: { id: string; error?: string }[];
}

/** A failure of one pod, in podman's words (a Deployment's carries the pod's name). */
const within = (pod: KubePodTemplate, err: unknown): unknown =>
  pod.errorPrefix && err instanceof Error ? new EngineError(err instanceof EngineError ? err.kind : 'internal', pod.errorPrefix + err.message) : err;

/**
 * A stored secret's values by key: podman's own format (a JSON map of base64 values) or a kube Secret
 * (what play kube stores: its YAML, `data` in base64 and `stringData`).
 */
function storedSecretValues(data: Buffer): Record<string, Buffer> | undefined {
  const text = data.toString('utf8');
  try {
    const map: unknown = JSON.parse(text);
    if (map && typeof map === 'object' && !Array.isArray(map))
      return Object.fromEntries(Object.entries(map as Record<string, unknown>).map(([k, v]) => [k, Buffer.from(String(v), 'base64')]));
  } catch {
    // not JSON
  }
  try {
    const doc: unknown = yamlModule().parse(text);
    if (doc && typeof doc === 'object' && (doc as { kind?: unknown }).kind === 'Secret') return secretValues(doc as KubeSecret);
  } catch {
    // not YAML
  }
  return undefined;
}

export function kubePlayApi(engine: Engine) {
  const pods = podApi(engine);
  const containers = containerApi(engine);
  const images = imageApi(engine);
  const secrets = new SecretStore(engine.db, engine.options.root);

  /** The image to create from, pulled as podman does (policy Missing unless the container says otherwise). */
  async function imageOf(c: KubeContainer, o: Pick<KubePlayOptions, 'authHeader' | 'tlsVerify'>): Promise<string> {
    const name = c.image ?? '';
    if (!name) throw invalid(`container ${c.name} has no image`);
    const policy = (c.imagePullPolicy ?? '').toLowerCase();
    if (policy !== 'always' && images.lookupLibpod(name)) return images.resolveLibpod(name).name;
    if (policy === 'never') throw notFound(`${name}: image not known`);
    const errors: string[] = [];
    for (const candidate of images.pullCandidates(name).names) {
      try {
        await images.pull({ reference: candidate, authHeader: o.authHeader, tlsVerify: o.tlsVerify }, () => undefined);
        return candidate;
      } catch (err) {
        errors.push(`initializing source docker://${candidate}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    throw new EngineError(
      'internal',
      errors.length === 1 ? errors[0]! : `${errors.length} errors occurred while pulling:\n${errors.map((e) => ` * ${e}`).join('\n')}`,
    );
  }

  /** podman's kube network, made on first use (DNS on, a free subnet). */
  async function kubeNetwork(): Promise<void> {
    if (engine.networks.store.allNamed(KUBE_NETWORK).length) return;
    await engine.networks.create(
      { Name: KUBE_NETWORK, Driver: 'bridge', Internal: false, EnableIPv6: false, IPAM: { Config: [] }, Options: {}, Labels: {}, dnsEnabled: true },
      true,
    );
  }

  async function playPod(
    pod: KubePodTemplate,
    index: number,
    ctx: Omit<MemberContext, 'pod' | 'podId' | 'image' | 'volumes'>,
    o: KubePlayOptions,
  ): Promise<KubePlayedPod> {
    const volumeContext = { volumes: engine.volumes, configMaps: ctx.configMaps, secret: ctx.secret };
    const volumes = await hostVolumes(pod, volumeContext);
    if (!pod.spec.hostNetwork && !o.networks.length) await kubeNetwork();
    const spec = podSpecOf(pod, { networks: o.networks, ip: o.staticIps[index], mac: o.staticMacs[index] });
    const podId = await pods.create(spec, { createCommand: null }, pod.name);
    await makeSubPaths(pod, volumes, volumeContext);
    const member = async (c: KubeContainer) => memberSpecOf(c, { ...ctx, pod, podId, image: await imageOf(c, o), volumes });
    const played: KubePlayedPod = { id: podId, containers: [], initContainers: [], containerErrors: [] };
    // Init containers run to their end, in order, before the others are made; then they go (podman's `once`).
    const inits = pod.spec.initContainers ?? [];
    if (inits.length && o.start) await pods.start(podId);
    for (const c of inits) {
      const s = await member(c);
      s.restart.policy = '';
      const { id } = await containers.create(s, { libpod: {} }, `${pod.name}-${c.name}`);
      played.initContainers.push(id);
      if (!o.start) continue;
      await containers.start(id);
      await containers.wait(id, 'not-running');
      const code = containers.inspect(id).exit_code;
      await engine.containers.remove(id, true, true);
      if (code !== 0) throw new EngineError('internal', `init container ${id} exited with code ${code}`);
    }
    for (const c of pod.spec.containers ?? []) {
      const { id } = await containers.create(await member(c), { libpod: {} }, `${pod.name}-${c.name}`);
      played.containers.push(id);
    }
    if (o.start) {
      const started = await pods.start(podId);
      for (const [id, err] of Object.entries(started.errors)) played.containerErrors.push({ id, message: err.message });
    }
    return played;
  }

  return {
    /** play kube: what was made (podman's report). */
    play: async (yaml: string, o: KubePlayOptions): Promise<KubePlayReport> => {
      const docs = readDocuments(yaml);
      requirePlayable(docs);
      const report: KubePlayReport = { pods: [], volumes: [], secrets: [] };
      // A Secret replaces the secret of its name; its data is the object's YAML, as podman stores it.
      for (const { secret, yaml: text } of docs.secrets) {
        const name = secret.metadata!.name!;
        if (secrets.find(name)) await secrets.remove(name);
        report.secrets.push((await secrets.create({ name, data: Buffer.from(text) })).id);
      }
      for (const claim of docs.claims) {
        const name = claim.metadata!.name!;
        if (engine.volumes.find(name)) throw new EngineError('internal', `volume with name ${name} already exists: volume already exists`);
        await engine.volumes.create({ name });
        report.volumes.push(name);
      }
      // Secrets are read once each, by name, when a pod refers to them.
      const read = new Map<string, Record<string, Buffer> | undefined>();
      const names = new Set<string>();
      for (const pod of docs.pods) {
        for (const v of pod.spec.volumes ?? []) if (v.secret?.secretName) names.add(v.secret.secretName);
        for (const c of [...(pod.spec.containers ?? []), ...(pod.spec.initContainers ?? [])]) {
          for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef?.name) names.add(e.valueFrom.secretKeyRef.name);
          for (const e of c.envFrom ?? []) if (e.secretRef?.name) names.add(e.secretRef.name);
        }
      }
      for (const name of names) read.set(name, secrets.find(name) ? storedSecretValues(await secrets.data(name)) : undefined);
      const ctx = { configMaps: docs.configMaps, secret: (name: string) => read.get(name), annotations: o.annotations, logDriver: o.logDriver };
      for (const [i, pod] of docs.pods.entries()) {
        try {
          report.pods.push(await playPod(pod, i, ctx, o));
        } catch (err) {
          throw within(pod, err);
        }
      }
      return report;
    },

    /** kube down (and the first half of --replace): each pod of the file stopped, then removed, with its emptyDir volumes. */
    down: async (yaml: string): Promise<KubeDownReport> => {
      const docs = readDocuments(yaml);
      const report: KubeDownReport = { stopped: [], removed: [] };
      const found = docs.pods.map((pod) => {
        if (!pods.exists(pod.name)) throw notFound(`no pod with name or ID ${pod.name} found: no such pod`);
        return { pod, id: pods.inspect(pod.name).pod.id };
      });
      for (const { id } of found) {
        const stopped = await pods.stop(id);
        report.stopped.push({ id, errors: Object.values(stopped.errors).map((e) => e.message) });
      }
      for (const { pod, id } of found) {
        try {
          await pods.remove(id, { force: true });
          report.removed.push({ id });
        } catch (err) {
          report.removed.push({ id, error: err instanceof Error ? err.message : String(err) });
        }
        for (const name of emptyDirs(pod)) {
          const v = engine.volumes.find(name);
          if (v?.labels[EMPTY_DIR_LABEL] === pod.name && !engine.volumes.users(name).length) await engine.volumes.remove(name, []);
        }
      }
      return report;
    },
  };
}
