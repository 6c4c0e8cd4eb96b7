// The container states grouped by what callers ask of them. "running" meant two things across the
// code: a container that is up (dockerd's IsRunning: running, paused, or restarting between two runs)
// and one whose process exists now (running or paused: it has a pid, endpoints, published ports).
import type { ContainerState } from './store.js';

/** Up: listed by `docker ps` without -a, holding its volumes and its image, not prunable. */
export const UP_STATES: ReadonlySet<string> = new Set<ContainerState>(['running', 'paused', 'restarting']);

/** Live: a process exists (running or frozen), so it has a pid, a network namespace and published ports. */
export const LIVE_STATES: ReadonlySet<string> = new Set<ContainerState>(['running', 'paused']);

export const isUp = (c: { state: string }) => UP_STATES.has(c.state);
export const isLive = (c: { state: string }) => LIVE_STATES.has(c.state);
