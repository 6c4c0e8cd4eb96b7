// A `play kube` YAML file as the objects podman 4.3 plays: Pods, Deployments (a pod per replica, named
// `<name>-pod-<i>`), PersistentVolumeClaims, ConfigMaps and Secrets. Other kinds (Service, DaemonSet...)
// are skipped, as podman 4.3 skips them; a file with none it plays is refused in podman's words.
import { yaml } from '../util/lazy-modules.js';
import { invalid } from '../errors.js';
import type { KubeDocuments, KubeMeta, KubePodSpec, KubeSecret } from './play-types.js';

type Doc = Record<string, unknown>;

const isObject = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The file's documents (empty ones dropped); podman's error when the YAML does not parse. */
export function splitDocuments(text: string): Doc[] {
  const docs = yaml().parseAllDocuments(text);
  const out: Doc[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    const error = doc.errors[0];
    if (error) throw invalid(`multi doc yaml could not be split: yaml: ${error.message.split('\n')[0]}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (!isObject(value)) throw invalid(`multi doc yaml could not be split: yaml: unmarshal errors: cannot unmarshal ${typeof value} into a kube object`);
    out.push(value);
  }
  return out;
}

/** A Secret as podman stores it in its secret (sigs.k8s.io/yaml's marshalling: sorted keys, null creationTimestamp). */
function secretYaml(doc: Doc): string {
  const meta = isObject(doc.metadata) ? doc.metadata : {};
  return yaml().stringify({ ...doc, metadata: { creationTimestamp: null, ...meta } }, { sortMapEntries: true });
}

/** The pods, volumes, config maps and secrets of a file, as podman reads them. */
export function readDocuments(text: string): KubeDocuments {
  const out: KubeDocuments = { pods: [], configMaps: [], secrets: [], claims: [] };
  for (const doc of splitDocuments(text)) {
    const meta = (isObject(doc.metadata) ? doc.metadata : {}) as KubeMeta;
    const spec = isObject(doc.spec) ? doc.spec : {};
    switch (doc.kind) {
      case 'Pod':
        if (!meta.name) throw invalid('pod does not have a name');
        out.pods.push({ name: meta.name, errorPrefix: '', meta, spec: spec as KubePodSpec });
        break;
      case 'Deployment': {
        if (!meta.name) throw invalid('deployment does not have a name');
        // A pod per replica (1 when not given), `<name>-pod-<i>`, each from the template.
        const template = isObject(spec.template) ? spec.template : {};
        const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1;
        const templateMeta = (isObject(template.metadata) ? template.metadata : {}) as KubeMeta;
        for (let i = 0; i < replicas; i++) {
          const name = `${meta.name}-pod-${i}`;
          out.pods.push({ name, errorPrefix: `encountered while bringing up pod ${name}: `, meta: templateMeta, spec: (template.spec ?? {}) as KubePodSpec });
        }
        break;
      }
      case 'PersistentVolumeClaim':
        if (!meta.name) throw invalid('persistent volume claim does not have a name');
        out.claims.push({ metadata: meta, spec });
        break;
      case 'ConfigMap':
        out.configMaps.push({ metadata: meta, data: doc.data as Record<string, string>, binaryData: doc.binaryData as Record<string, string> });
        break;
      case 'Secret':
        if (!meta.name) throw invalid('secret does not have a name');
        out.secrets.push({ secret: doc as KubeSecret, yaml: secretYaml(doc) });
        break;
      default:
      // Not a kind podman 4.3 plays.
    }
  }
  return out;
}

/** play refuses a file with nothing it plays (kube down takes it, and does nothing). */
export function requirePlayable(docs: KubeDocuments): void {
  if (docs.pods.length || docs.claims.length || docs.secrets.length) return;
  if (docs.configMaps.length) throw invalid('ConfigMaps in podman are not a standalone object and must be used in a container');
  throw invalid('YAML document does not contain any supported kube kind');
}

/** A Kubernetes quantity (`64Mi`, `1G`, `500m`, `2`) as a number of units (bytes, cores). */
export function quantity(value: string | number | undefined): number {
  if (value === undefined || value === '') return 0;
  if (typeof value === 'number') return value;
  const m = /^([0-9.]+)(Ki|Mi|Gi|Ti|Pi|Ei|k|K|M|G|T|P|E|m)?$/.exec(value.trim());
  if (!m) throw invalid(`quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`);
  const n = Number(m[1]);
  const unit = m[2] ?? '';
  const binary: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
  const decimal: Record<string, number> = { m: 1e-3, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
  return n * (binary[unit] ?? decimal[unit] ?? 1);
}

/** A Secret's values by key: `data` decoded from base64, `stringData` over it. */
export function secretValues(secret: KubeSecret): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) out[k] = Buffer.from(String(v), 'base64');
  for (const [k, v] of Object.entries(secret.stringData ?? {})) out[k] = Buffer.from(String(v));
  return out;
}
