// A container's health as dockerd keeps it (moby daemon/health.go, container/health.go): the healthcheck
// config (merged with the image's, normalized as dockerd echoes it), the probe command, and State.Health
// moving between starting, healthy and unhealthy. Pure: the monitor (health.ts) runs the probes.
import type { ContainerSpec, HealthcheckSpec } from './spec.js';

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

/** The probe's argv; undefined when none runs (no healthcheck, NONE, or a type dockerd does not know). */
export function probeCommand(spec: ContainerSpec): string[] | undefined {
  const test = spec.healthcheck?.test;
  if (!test?.length) return undefined;
  const [type, ...args] = test;
  if (type === 'CMD') return args.length ? args : undefined;
  if (type === 'CMD-SHELL') return [...(spec.process.shell?.length ? spec.process.shell : ['/bin/sh', '-c']), ...args];
  return undefined;
}

/** A start (or restart) resets the status and the streak; the log stays, as dockerd's initHealthMonitor. */
export function startingHealth(spec: ContainerSpec, previous: HealthState | null): HealthState | null {
  if (!probeCommand(spec)) return previous;
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
export function applyResult(health: HealthState, config: HealthcheckSpec, result: HealthResult, startedAt: string | null): HealthState {
  const Log = [...health.Log, result].slice(-MAX_LOG_ENTRIES);
  if (result.ExitCode === 0) return { Status: 'healthy', FailingStreak: 0, Log };
  const sinceStart = Date.parse(result.Start) - Date.parse(startedAt ?? result.Start);
  if (health.Status === 'starting' && sinceStart < (config.startPeriod ?? 0) / 1e6) return { ...health, Log };
  const FailingStreak = health.FailingStreak + 1;
  return { Status: FailingStreak >= (config.retries || DEFAULT_RETRIES) ? 'unhealthy' : health.Status, FailingStreak, Log };
}

/**
 * Milliseconds until the next probe, counted from the end of the last (or from the start): the interval,
 * or StartInterval (API 1.44) while still starting within the start period. A StartInterval of 0
 * inherits the interval, as dockerd 20.10 (which had none) always probed at the interval.
 */
export function nextProbeDelay(config: HealthcheckSpec, status: HealthStatus, startedAt: string | null): number {
  const elapsed = Date.now() - Date.parse(startedAt ?? new Date().toISOString());
  const starting = status === 'starting' && elapsed < (config.startPeriod ?? 0) / 1e6;
  return ((starting && config.startInterval) || config.interval || DEFAULT_INTERVAL) / 1e6;
}

/** The health part of `docker ps`'s Status: "health: starting", "healthy", "unhealthy". */
export const healthText = (h: HealthState) => (h.Status === 'starting' ? 'health: starting' : h.Status);

export const HEALTH_FILTER_VALUES = ['starting', 'healthy', 'unhealthy', 'none'];
