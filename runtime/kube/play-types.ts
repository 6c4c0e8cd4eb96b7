// The Kubernetes objects `play kube` reads, as far as podman 4.3 reads them (core/v1 and apps/v1 field
// names). Only the fields berth acts on are typed; the YAML may hold more.

export interface KubeMeta {
  name?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface KubeKeyRef {
  name?: string;
  key: string;
  optional?: boolean;
}

export interface KubeEnvVar {
  name: string;
  value?: string;
  valueFrom?: { configMapKeyRef?: KubeKeyRef; secretKeyRef?: KubeKeyRef };
}

export interface KubeEnvFrom {
  prefix?: string;
  configMapRef?: { name?: string; optional?: boolean };
  secretRef?: { name?: string; optional?: boolean };
}

export interface KubePort {
  containerPort: number;
  hostPort?: number;
  hostIP?: string;
  protocol?: string;
  name?: string;
}

export interface KubeSecurityContext {
  privileged?: boolean;
  readOnlyRootFilesystem?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
}

export interface KubeVolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  subPath?: string;
}

export interface KubeContainer {
  name: string;
  image?: string;
  imagePullPolicy?: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: KubeEnvVar[];
  envFrom?: KubeEnvFrom[];
  ports?: KubePort[];
  resources?: { limits?: Record<string, string | number>; requests?: Record<string, string | number> };
  securityContext?: KubeSecurityContext;
  volumeMounts?: KubeVolumeMount[];
  tty?: boolean;
  stdin?: boolean;
}

export interface KubeKeyToPath {
  key: string;
  path: string;
}

export interface KubeVolume {
  name: string;
  hostPath?: { path: string; type?: string };
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  configMap?: { name?: string; items?: KubeKeyToPath[]; optional?: boolean };
  secret?: { secretName?: string; items?: KubeKeyToPath[]; optional?: boolean };
  emptyDir?: { medium?: string } | null;
}

export interface KubePodSpec {
  containers?: KubeContainer[];
  initContainers?: KubeContainer[];
  volumes?: KubeVolume[];
  restartPolicy?: string;
  hostname?: string;
  hostNetwork?: boolean;
  shareProcessNamespace?: boolean;
  hostAliases?: { ip: string; hostnames?: string[] }[];
  dnsConfig?: { nameservers?: string[]; searches?: string[]; options?: { name: string; value?: string }[] };
  securityContext?: { runAsUser?: number; runAsGroup?: number; sysctls?: { name: string; value: string }[] };
}

/** A pod to make: a Pod's own, or a Deployment's template under the name podman gives it. */
export interface KubePodTemplate {
  name: string;
  /** Errors about this pod are prefixed (a Deployment's: `encountered while bringing up pod <name>: `). */
  errorPrefix: string;
  meta: KubeMeta;
  spec: KubePodSpec;
}

export interface KubeConfigMap {
  metadata?: KubeMeta;
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

export interface KubeSecret {
  metadata?: KubeMeta;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  type?: string;
}

export interface KubePersistentVolumeClaim {
  metadata?: KubeMeta;
  spec?: { accessModes?: string[]; resources?: { requests?: Record<string, string> } };
}

/** A YAML file's objects by kind, in file order within each kind. */
export interface KubeDocuments {
  pods: KubePodTemplate[];
  configMaps: KubeConfigMap[];
  /** With each its text as podman stores it (the object re-serialized as YAML). */
  secrets: { secret: KubeSecret; yaml: string }[];
  claims: KubePersistentVolumeClaim[];
}
