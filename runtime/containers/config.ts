// A container's Config: the create request over the image's defaults, merged as dockerd merges them.
import type { ContainerConfig } from '../../openapi/containers.js';
import type { ImageConfig } from '../images/config.js';
import { DEFAULT_PATH } from '../oci/defaults.js';
import { asList } from '../util/list.js';
import { mergeHealthcheck } from './health-state.js';

const envKey = (e: string) => e.split('=')[0]!;
// null stays null here: an absent Entrypoint or Cmd is not an empty one when merging with the image.
const asListOrNull = (v: string[] | string | null | undefined): string[] | null => (v == null ? null : asList(v));

/** Entrypoint + Cmd: the command a container runs. */
export const commandOf = (config: ContainerConfig): string[] => [...asList(config.Entrypoint), ...asList(config.Cmd)];

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
