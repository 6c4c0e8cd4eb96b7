// A container's spec completed with the image's defaults, merged as dockerd merges a create over them.
import type { ImageConfig } from '../images/config.js';
import { DEFAULT_PATH } from '../oci/defaults.js';
import type { ContainerSpec, HealthcheckSpec, ProcessSpec } from './spec.js';

const envKey = (e: string) => e.split('=')[0]!;

/** Entrypoint + command: what a container runs. */
export const commandOf = (spec: ContainerSpec): string[] => [...(spec.process.entrypoint ?? []), ...(spec.process.command ?? [])];

const HEALTH_FIELDS = ['interval', 'timeout', 'startPeriod', 'startInterval', 'retries'] as const;

/** A healthcheck as dockerd keeps it: zero fields and an empty test are absent. */
export function normalizeHealth(h: HealthcheckSpec | undefined): HealthcheckSpec | undefined {
  if (!h) return undefined;
  const out: HealthcheckSpec = {};
  if (h.test?.length) out.test = h.test;
  for (const key of HEALTH_FIELDS) if (h[key]) out[key] = h[key];
  return out;
}

/** The image's HEALTHCHECK (Docker's image config shape) in the spec's terms. */
const imageHealth = (h: NonNullable<ImageConfig['config']>['Healthcheck']): HealthcheckSpec | undefined =>
  h
    ? {
        test: h.Test ?? undefined,
        interval: h.Interval ?? undefined,
        timeout: h.Timeout ?? undefined,
        startPeriod: h.StartPeriod ?? undefined,
        startInterval: h.StartInterval ?? undefined,
        retries: h.Retries ?? undefined,
      }
    : undefined;

/**
 * The spec completed with the image's defaults, as dockerd merges a create over the image config
 * (moby's merge): what is stored and what runs. `mac`: the primary endpoint's, when the container has none.
 */
export function completeSpec(spec: ContainerSpec, image: ImageConfig, id: string, o: { workdir?: string; mac?: string } = {}): ContainerSpec {
  const ic = image.config ?? {};
  const p = spec.process;
  const env = [...p.env];
  const keys = new Set(env.map(envKey));
  for (const e of ic.Env ?? []) if (!keys.has(envKey(e))) env.push(e);
  if (!env.some((e) => envKey(e) === 'PATH')) env.unshift(`PATH=${DEFAULT_PATH}`);
  const process: ProcessSpec = { ...p, env };
  let command = p.command;
  let entrypoint = p.entrypoint;
  if (!entrypoint || entrypoint.length === 0) {
    if (!command || command.length === 0) command = ic.Cmd ?? undefined;
    entrypoint = entrypoint ?? ic.Entrypoint ?? undefined;
  }
  // `--entrypoint ""` clears the image's entrypoint.
  if (entrypoint && entrypoint.length === 1 && entrypoint[0] === '') entrypoint = undefined;
  if (entrypoint) process.entrypoint = entrypoint;
  else delete process.entrypoint;
  if (command) process.command = command;
  else delete process.command;
  const user = p.user || ic.User;
  if (user) process.user = user;
  const workdir = o.workdir ?? p.workdir;
  if (workdir || ic.WorkingDir) process.workdir = workdir || ic.WorkingDir;
  const stopSignal = p.stopSignal || ic.StopSignal;
  if (stopSignal) process.stopSignal = stopSignal;
  const out: ContainerSpec = {
    ...spec,
    process,
    network: { ...spec.network, hostname: spec.network.hostname || id.slice(0, 12) },
    labels: { ...(ic.Labels ?? {}), ...spec.labels },
    ports: { ...spec.ports, expose: union(Object.keys(ic.ExposedPorts ?? {}), spec.ports.expose) },
    mounts: { ...spec.mounts, anonymous: union(Object.keys(ic.Volumes ?? {}), spec.mounts.anonymous) },
  };
  if (!out.network.mac && o.mac) out.network.mac = o.mac;
  // The image's HEALTHCHECK under the request's, field by field (zero fields take the image's).
  const own = normalizeHealth(spec.healthcheck);
  const inherited = normalizeHealth(imageHealth(ic.Healthcheck));
  const health = !inherited ? own : !own ? inherited : normalizeHealth({ ...inherited, ...own });
  if (health) out.healthcheck = health;
  else delete out.healthcheck;
  return out;
}

/** Object-key order of `{...a, ...b}`: a's keys, then b's new ones. */
const union = (a: string[], b: string[]) => [...new Set([...a, ...b])];
