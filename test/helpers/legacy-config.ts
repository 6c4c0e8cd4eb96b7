// berth's create merge as it was before ContainerSpec (runtime/containers/config.ts mergeConfig and
// health-state.ts's healthcheck merge, frozen): the oracle the converter's table tests compare with.
import type { ContainerConfig, HealthConfig } from '../../openapi/containers.js';
import type { ImageConfig } from '../../runtime/images/config.js';
import { DEFAULT_PATH } from '../../runtime/oci/defaults.js';

const asList = (v: string[] | string | null | undefined): string[] => (v == null ? [] : Array.isArray(v) ? v : [v]);
const DURATIONS = ['Interval', 'Timeout', 'StartPeriod', 'StartInterval'] as const;

/**
 * The healthcheck as dockerd stores and echoes it: zero and null fields are absent (Go's omitempty,
 * a null decodes as 0), so is an empty Test; fields given are kept as given. Undefined for none.
 */
function normalizeHealthcheck(h: HealthConfig | null | undefined): HealthConfig | undefined {
  if (!h) return undefined;
  const out: HealthConfig = {};
  if (h.Test?.length) out.Test = h.Test;
  for (const key of DURATIONS) if (h[key]) out[key] = h[key];
  if (h.Retries) out.Retries = h.Retries;
  return out;
}

/** moby's merge: the image's healthcheck, field by field under the request's (zero fields take the image's). */
function mergeHealthcheck(request: HealthConfig | null | undefined, image: HealthConfig | null | undefined): HealthConfig | undefined {
  const own = normalizeHealthcheck(request);
  const inherited = normalizeHealthcheck(image);
  if (!inherited) return own;
  if (!own) return inherited;
  return normalizeHealthcheck({ ...inherited, ...own });
}

const envKey = (e: string) => e.split('=')[0]!;
// null stays null here: an absent Entrypoint or Cmd is not an empty one when merging with the image.
const asListOrNull = (v: string[] | string | null | undefined): string[] | null => (v == null ? null : asList(v));

export function mergeConfig(request: ContainerConfig, image: ImageConfig, id: string): ContainerConfig {
  const ic = image.config ?? {};
  const config: ContainerConfig = { ...request };
  config.Hostname = request.Hostname || id.slice(0, 12);
  config.Domainname = request.Domainname ?? '';
  config.User = request.User || ic.User || '';
  const env = [...(request.Env ?? [])];
  const keys = new Set(env.map(envKey));
  for (const e of ic.Env ?? []) if (!keys.has(envKey(e))) env.push(e);
  if (!env.some((e) => envKey(e) === 'PATH')) env.unshift(`PATH=${DEFAULT_PATH}`);
  config.Env = env;
  const entrypoint = asListOrNull(request.Entrypoint);
  let cmd = asListOrNull(request.Cmd);
  if (!entrypoint || entrypoint.length === 0) {
    if (!cmd || cmd.length === 0) cmd = ic.Cmd ?? null;
    config.Entrypoint = entrypoint ?? ic.Entrypoint ?? null;
  } else {
    config.Entrypoint = entrypoint;
  }
  // `--entrypoint ""` clears the image's entrypoint.
  if (config.Entrypoint && config.Entrypoint.length === 1 && config.Entrypoint[0] === '') config.Entrypoint = null;
  config.Cmd = cmd;
  config.WorkingDir = request.WorkingDir || ic.WorkingDir || '';
  config.Labels = { ...(ic.Labels ?? {}), ...(request.Labels ?? {}) };
  config.ExposedPorts = { ...(ic.ExposedPorts ?? {}), ...(request.ExposedPorts ?? {}) };
  config.Volumes = { ...(ic.Volumes ?? {}), ...(request.Volumes ?? {}) };
  config.StopSignal = request.StopSignal || ic.StopSignal || undefined;
  // The image's HEALTHCHECK under the request's, field by field; kept as dockerd echoes it (no zero fields).
  config.Healthcheck = mergeHealthcheck(request.Healthcheck, ic.Healthcheck);
  config.Tty = !!request.Tty;
  config.OpenStdin = !!request.OpenStdin;
  config.StdinOnce = !!request.StdinOnce;
  config.AttachStdin = !!request.AttachStdin;
  config.AttachStdout = !!request.AttachStdout;
  config.AttachStderr = !!request.AttachStderr;
  return config;
}
