// A kube pod's volumes on the host, made before its pod as podman 4.3 makes them: hostPath checked (or
// made) by its type, a PersistentVolumeClaim is the named volume of its claim, a ConfigMap's or a
// Secret's volume is a named volume (the object's name) holding a file per key, written when the volume
// is made; an emptyDir is a volume of the kube volume's name that goes with the pod (a tmpfs when its
// medium is Memory).
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { invalid } from '../errors.js';
import type { VolumeService } from '../volumes/service.js';
import type { HostVolume } from './play-convert.js';
import type { KubeConfigMap, KubeKeyToPath, KubePodTemplate, KubeVolume } from './play-types.js';

export interface VolumeContext {
  volumes: VolumeService;
  configMaps: KubeConfigMap[];
  secret: (name: string) => Record<string, Buffer> | undefined;
}

/** The label on emptyDir volumes: `--down` removes them with their pod. */
export const EMPTY_DIR_LABEL = 'io.berth.kube.emptydir';

const failed = (v: KubeVolume, message: string) => invalid(`failed to create volume "${v.name}": ${message}`);

async function kindOf(path: string): Promise<string | undefined> {
  const s = await stat(path).catch(() => undefined);
  if (!s) return undefined;
  return s.isDirectory()
    ? 'Directory'
    : s.isFile()
      ? 'File'
      : s.isSocket()
        ? 'Socket'
        : s.isCharacterDevice()
          ? 'CharDevice'
          : s.isBlockDevice()
            ? 'BlockDevice'
            : 'other';
}

async function hostPath(v: KubeVolume): Promise<HostVolume> {
  const { path, type = '' } = v.hostPath!;
  if (!posix.isAbsolute(path)) throw failed(v, `in parsing HostPath in YAML: ${path} is not an absolute path`);
  const kind = await kindOf(path);
  const missing = () => failed(v, `in parsing HostPath in YAML: stat ${path}: no such file or directory`);
  switch (type) {
    case '':
      // Any kind, as long as it is there.
      if (!kind) throw missing();
      break;
    case 'DirectoryOrCreate':
      if (!kind) await mkdir(path, { recursive: true, mode: 0o755 });
      else if (kind !== 'Directory') throw failed(v, `in parsing HostPath in YAML: checking HostPath: ${path} is not a directory`);
      break;
    case 'FileOrCreate':
      if (!kind) await writeFile(path, '', { mode: 0o644, flag: 'a' });
      else if (kind !== 'File') throw failed(v, `in parsing HostPath in YAML: checking HostPath: ${path} is not a file`);
      break;
    case 'Directory':
    case 'File':
    case 'Socket':
    case 'CharDevice':
    case 'BlockDevice':
      if (!kind) throw missing();
      if (kind !== type)
        throw failed(
          v,
          `in parsing HostPath in YAML: checking HostPath: ${path} is not a ${type.toLowerCase().replace('chardevice', 'character device').replace('blockdevice', 'block device')}`,
        );
      break;
    default:
      throw failed(v, `in parsing HostPath in YAML: invalid HostPath type ${type}`);
  }
  return { type: 'bind', path };
}

/** A volume holding a file per key (or per item), made with them when it did not exist. */
async function filesVolume(
  ctx: VolumeContext,
  name: string,
  values: Record<string, Buffer>,
  items: KubeKeyToPath[] | undefined,
  v: KubeVolume,
): Promise<HostVolume> {
  if (ctx.volumes.find(name)) return { type: 'volume', name };
  const files = items?.length ? items.map((i) => ({ path: i.path, data: values[i.key] })) : Object.entries(values).map(([k, data]) => ({ path: k, data }));
  for (const f of files) {
    const path = posix.normalize(f.path);
    if (posix.isAbsolute(path) || path.startsWith('..')) throw failed(v, `invalid path ${f.path}`);
    if (!f.data) throw failed(v, `key not found for path ${f.path}`);
  }
  const volume = await ctx.volumes.create({ name });
  for (const f of files) {
    const target = join(volume.mountpoint, posix.normalize(f.path));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, f.data!, { mode: 0o644 });
  }
  return { type: 'volume', name };
}

function configMapValues(cm: KubeConfigMap): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) out[k] = Buffer.from(String(v), 'base64');
  for (const [k, v] of Object.entries(cm.data ?? {})) out[k] = Buffer.from(String(v));
  return out;
}

/** The pod's volumes by name, as they are on the host. */
export async function hostVolumes(pod: KubePodTemplate, ctx: VolumeContext): Promise<Map<string, HostVolume>> {
  const out = new Map<string, HostVolume>();
  for (const v of pod.spec.volumes ?? []) {
    if (v.hostPath) out.set(v.name, await hostPath(v));
    else if (v.persistentVolumeClaim) out.set(v.name, { type: 'volume', name: v.persistentVolumeClaim.claimName });
    else if (v.configMap) {
      const name = v.configMap.name ?? '';
      const cm = ctx.configMaps.find((m) => m.metadata?.name === name);
      if (!cm) {
        if (!v.configMap.optional) throw failed(v, `no such ConfigMap "${name}"`);
        out.set(v.name, { type: 'skip' });
      } else out.set(v.name, await filesVolume(ctx, name, configMapValues(cm), v.configMap.items, v));
    } else if (v.secret) {
      const name = v.secret.secretName ?? '';
      const values = ctx.secret(name);
      if (!values) {
        if (!v.secret.optional) throw failed(v, `no secret with name or id "${name}": no such secret`);
        out.set(v.name, { type: 'skip' });
      } else out.set(v.name, await filesVolume(ctx, name, values, v.secret.items, v));
    } else if (v.emptyDir !== undefined) {
      if (v.emptyDir?.medium === 'Memory') out.set(v.name, { type: 'tmpfs' });
      else {
        await ctx.volumes.create({ name: v.name, labels: { [EMPTY_DIR_LABEL]: pod.name }, anonymous: true });
        out.set(v.name, { type: 'volume', name: v.name });
      }
    } else throw failed(v, 'HostPath, ConfigMap, EmptyDir, Secret, and PersistentVolumeClaim are currently the only supported VolumeSource');
  }
  return out;
}

/**
 * Each volume mount's subPath made in its volume or host directory when missing, as Kubernetes makes it
 * (podman 4.3.1 ignores subPath and mounts the whole volume; 4.4 honours it).
 */
export async function makeSubPaths(pod: KubePodTemplate, volumes: Map<string, HostVolume>, ctx: VolumeContext): Promise<void> {
  for (const c of [...(pod.spec.initContainers ?? []), ...(pod.spec.containers ?? [])]) {
    for (const m of c.volumeMounts ?? []) {
      if (!m.subPath) continue;
      const sub = posix.normalize(m.subPath);
      if (posix.isAbsolute(sub) || sub === '..' || sub.startsWith('../')) throw invalid(`subPath ${m.subPath} must be a relative path within the volume`);
      const host = volumes.get(m.name);
      if (host?.type === 'bind') await mkdir(join(host.path, sub), { recursive: true, mode: 0o755 });
      else if (host?.type === 'volume') {
        const volume = ctx.volumes.find(host.name) ?? (await ctx.volumes.create({ name: host.name }));
        await mkdir(join(volume.mountpoint, sub), { recursive: true, mode: 0o755 });
      }
    }
  }
}

/** The emptyDir volumes a pod made (by name), to remove with it. */
export function emptyDirs(pod: KubePodTemplate): string[] {
  return (pod.spec.volumes ?? []).filter((v) => v.emptyDir !== undefined && v.emptyDir?.medium !== 'Memory').map((v) => v.name);
}
