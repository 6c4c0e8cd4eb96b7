// A container's health as dockerd keeps it (moby daemon/health.go, container/health.go): the healthcheck
// config (merged with the image's, normalized as dockerd echoes it), the probe command, and State.Health
// moving between starting, healthy and unhealthy. Pure: the monitor (health.ts) runs the probes.
import type { ContainerConfig, HealthConfig } from '../../openapi/containers.js';

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

/** One probe's outcome, as inspect shows it in State.Health.Log. */
export interface HealthResult {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

export interface HealthState {
  Status: HealthStatus;
  FailingStreak: number;
  Log: HealthResult[];
}

/** dockerd's defaults, for durations given as 0 (nanoseconds). */
export const DEFAULT_INTERVAL = 30e9;
export const DEFAULT_TIMEOUT = 30e9;
export const DEFAULT_RETRIES = 3;
/** The last results kept in State.Health.Log. */
export const MAX_LOG_ENTRIES = 5;
/** Probe output kept per result; more is cut and marked with "...". */
export const MAX_OUTPUT = 4096;

const DURATIONS = ['Interval', 'Timeout', 'StartPeriod', 'StartInterval'] as const;

/**
 * The healthcheck as dockerd stores and echoes it: zero and null fields are absent (Go's omitempty,
 * a null decodes as 0), so is an empty Test; fields given are kept as given. Undefined for none.
 */
export function normalizeHealthcheck(h: HealthConfig | null | undefined): HealthConfig | undefined {
  if (!h) return undefined;
  const out: HealthConfig = {};
  if (h.Test?.length) out.Test = h.Test;
  for (const key of DURATIONS) if (h[key]) out[key] = h[key];
  if (h.Retries) out.Retries = h.Retries;
  return out;
}

/** moby's merge: the image's healthcheck, field by field under the request's (zero fields take the image's). */
export function mergeHealthcheck(request: HealthConfig | null | undefined, image: HealthConfig | null | undefined): HealthConfig | undefined {
  const own = normalizeHealthcheck(request);
  const inherited = normalizeHealthcheck(image);
  if (!inherited) return own;
  if (!own) return inherited;
  return normalizeHealthcheck({ ...inherited, ...own });
}

/** The probe's argv; undefined when none runs (no healthcheck, NONE, or a type dockerd does not know). */
export function probeCommand(config: Pick<ContainerConfig, 'Healthcheck' | 'Shell'>): string[] | undefined {
  const test = config.Healthcheck?.Test;
  if (!test?.length) return undefined;
  const [type, ...args] = test;
  if (type === 'CMD') return args.length ? args : undefined;
  if (type === 'CMD-SHELL') return [...(config.Shell?.length ? config.Shell : ['/bin/sh', '-c']), ...args];
  return undefined;
}

/** A start (or restart) resets the status and the streak; the log stays, as dockerd's initHealthMonitor. */
export function startingHealth(config: ContainerConfig, previous: HealthState | null): HealthState | null {
  if (!probeCommand(config)) return previous;
  return { Status: 'starting', FailingStreak: 0, Log: previous?.Log ?? [] };
}

/** The monitor stopped (exit, pause): dockerd then says unhealthy ("for compatibility reasons"), with no event. */
export function stoppedHealth(health: HealthState | null): string | null {
  return health ? JSON.stringify({ ...health, Status: 'unhealthy' }) : null;
}

/**
 * A probe's result applied (moby handleProbeResult): success makes it healthy; a failure counts toward
 * Retries, except while still starting within the start period.
 */
export function applyResult(health: HealthState, config: HealthConfig, result: HealthResult, startedAt: string | null): HealthState {
  const Log = [...health.Log, result].slice(-MAX_LOG_ENTRIES);
  if (result.ExitCode === 0) return { Status: 'healthy', FailingStreak: 0, Log };
  const sinceStart = Date.parse(result.Start) - Date.parse(startedAt ?? result.Start);
  if (health.Status === 'starting' && sinceStart < (config.StartPeriod ?? 0) / 1e6) return { ...health, Log };
  const FailingStreak = health.FailingStreak + 1;
  return { Status: FailingStreak >= (config.Retries || DEFAULT_RETRIES) ? 'unhealthy' : health.Status, FailingStreak, Log };
}

/**
 * Milliseconds until the next probe, counted from the end of the last (or from the start): the interval,
 * or StartInterval (API 1.44) while still starting within the start period. A StartInterval of 0
 * inherits the interval, as dockerd 20.10 (which had none) always probed at the interval.
 */
export function nextProbeDelay(config: HealthConfig, status: HealthStatus, startedAt: string | null): number {
  const elapsed = Date.now() - Date.parse(startedAt ?? new Date().toISOString());
  const starting = status === 'starting' && elapsed < (config.StartPeriod ?? 0) / 1e6;
  return ((starting && config.StartInterval) || config.Interval || DEFAULT_INTERVAL) / 1e6;
}

/** The health part of `docker ps`'s Status: "health: starting", "healthy", "unhealthy". */
export const healthText = (h: HealthState) => (h.Status === 'starting' ? 'health: starting' : h.Status);

export const HEALTH_FILTER_VALUES = ['starting', 'healthy', 'unhealthy', 'none'];
