// Kubernetes objects as berth writes (generate kube) and reads (play kube) them: the subset of the
// core/v1 API podman uses, as plain objects (field names are the API's JSON names). Additive only.

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** RFC 3339, seconds. */
  creationTimestamp?: string;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: Record<string, unknown>;
}

export interface ContainerPort {
  containerPort: number;
  hostPort?: number;
  hostIP?: string;
  /** Absent: TCP. */
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  name?: string;
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  subPath?: string;
}

/** Quantities as the API writes them (`64Mi`, `1500m`). */
export interface ResourceRequirements {
  limits?: Record<string, string>;
  requests?: Record<string, string>;
}

export interface Capabilities {
  add?: string[];
  drop?: string[];
}

export interface SecurityContext {
  allowPrivilegeEscalation?: boolean;
  capabilities?: Capabilities;
  privileged?: boolean;
  readOnlyRootFilesystem?: boolean;
  runAsGroup?: number;
  runAsUser?: number;
  runAsNonRoot?: boolean;
  seLinuxOptions?: { user?: string; role?: string; type?: string; level?: string };
}

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: Record<string, unknown>[];
  workingDir?: string;
  ports?: ContainerPort[];
  resources?: ResourceRequirements;
  securityContext?: SecurityContext;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  volumeMounts?: VolumeMount[];
  imagePullPolicy?: string;
}

export type HostPathType = '' | 'DirectoryOrCreate' | 'Directory' | 'FileOrCreate' | 'File' | 'Socket' | 'CharDevice' | 'BlockDevice';

export interface Volume {
  name: string;
  hostPath?: { path: string; type?: HostPathType };
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  emptyDir?: { medium?: string; sizeLimit?: string };
  configMap?: { name: string; items?: { key: string; path: string }[]; optional?: boolean; defaultMode?: number };
  secret?: { secretName: string; items?: { key: string; path: string }[]; optional?: boolean; defaultMode?: number };
}

export interface PodDNSConfig {
  nameservers?: string[];
  searches?: string[];
  options?: { name: string; value?: string }[];
}

export interface HostAlias {
  ip: string;
  hostnames: string[];
}

export interface PodSpec {
  automountServiceAccountToken?: boolean;
  containers: Container[];
  initContainers?: Container[];
  dnsConfig?: PodDNSConfig;
  enableServiceLinks?: boolean;
  hostAliases?: HostAlias[];
  hostname?: string;
  hostNetwork?: boolean;
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  shareProcessNamespace?: boolean;
  volumes?: Volume[];
}

export interface Pod {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: ObjectMeta;
  spec: PodSpec;
  status?: Record<string, unknown>;
}

export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  nodePort?: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
}

export interface Service {
  apiVersion: 'v1';
  kind: 'Service';
  metadata: ObjectMeta;
  spec: { ports?: ServicePort[]; selector?: Record<string, string>; type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' };
  status?: Record<string, unknown>;
}

export interface PersistentVolumeClaim {
  apiVersion: 'v1';
  kind: 'PersistentVolumeClaim';
  metadata: ObjectMeta;
  spec: { accessModes?: string[]; resources?: ResourceRequirements; storageClassName?: string };
  status?: Record<string, unknown>;
}
