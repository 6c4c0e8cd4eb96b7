// What dockerd refuses at create (and, for resources and the restart policy, at update) before anything
// is made: moby's verifyContainerSettings, in its order and with its messages (API 1.50).
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { posix } from 'node:path';
import type { ContainerSpec, ContainerUpdate, ResourcesSpec, RestartSpec } from './spec.js';
import { invalid } from '../errors.js';
import { ALL_CAPABILITIES } from '../oci/defaults.js';
import { parseSignal } from './signals.js';
import { deviceOf } from '../oci/spec.js';

/** Below this a container cannot even start (moby's linuxMinMemory). */
const MIN_MEMORY = 6 * 1024 * 1024;
/** Healthcheck durations under a millisecond (but not 0, the default) are refused. */
const MIN_DURATION_NS = 1_000_000;
const RESTART_POLICIES = ['no', 'always', 'on-failure', 'unless-stopped'];

/**
 * Checks a create request; returns the working directory as dockerd keeps it (cleaned). `spec` is the
 * request's own, before the image's defaults are merged in.
 */
export function validateCreate(spec: ContainerSpec): string | undefined {
  const workingDir = validateProcess(spec);
  if (spec.restart.autoRemove && !isNoRestart(spec.restart)) throw invalid(`can't create 'AutoRemove' container with restart policy`);
  validateRestartPolicy(spec.restart);
  validateTimezone(spec.process.timezone);
  for (const d of spec.devices ?? []) deviceOf(d);
  validateCapabilities('CapAdd', spec.security.capAdd);
  validateCapabilities('CapDrop', spec.security.capDrop);
  validateResources(spec.resources, false);
  if ((spec.resources.shmSize ?? 0) < 0) throw invalid('SHM size can not be less than 0');
  const oom = spec.process.oomScoreAdj ?? 0;
  if (oom < -1000 || oom > 1000) throw invalid(`Invalid value ${oom}, range for oom score adj is [-1000, 1000]`);
  return workingDir;
}

/** Checks a spec with what a start before API 1.24 changed in it: what start applies. */
export function validateStart(spec: ContainerSpec): void {
  if (spec.restart.autoRemove && !isNoRestart(spec.restart)) throw invalid(`can't create 'AutoRemove' container with restart policy`);
  validateRestartPolicy(spec.restart);
  validateCapabilities('CapAdd', spec.security.capAdd);
  validateCapabilities('CapDrop', spec.security.capDrop);
}

/** Checks what an update carries (limits and the restart policy only). */
export function validateUpdate(changes: ContainerUpdate): void {
  if (changes.restart) validateRestartPolicy(changes.restart);
  validateResources(changes.resources, true);
}

function validateProcess(spec: ContainerSpec): string | undefined {
  const config = spec.process;
  let workingDir = config.workdir;
  if (workingDir) {
    if (!workingDir.startsWith('/')) throw invalid(`the working directory '${workingDir}' is invalid, it needs to be an absolute path`);
    workingDir = posix.normalize(workingDir).replace(/(.)\/$/, '$1');
  }
  if (config.stopSignal) parseSignal(config.stopSignal);
  for (const e of config.env) {
    if (e === '' || e.startsWith('=')) throw invalid(`invalid environment variable: ${e}`);
  }
  const health = spec.healthcheck;
  if (health) {
    const tooShort = (d: number | null | undefined) => !!d && d < MIN_DURATION_NS;
    if (tooShort(health.interval)) throw invalid('Interval in Healthcheck cannot be less than 1ms');
    if (tooShort(health.timeout)) throw invalid('Timeout in Healthcheck cannot be less than 1ms');
    if ((health.retries ?? 0) < 0) throw invalid('Retries in Healthcheck cannot be negative');
    if (tooShort(health.startPeriod)) throw invalid('StartPeriod in Healthcheck cannot be less than 1ms');
    if (tooShort(health.startInterval)) throw invalid('StartInterval in Healthcheck cannot be less than 1ms');
  }
  return workingDir;
}

const isNoRestart = (r: Pick<RestartSpec, 'policy'>) => !r.policy || r.policy === 'no';

function validateRestartPolicy(r: Pick<RestartSpec, 'policy' | 'maxRetries'>): void {
  if (!r.policy) return; // an empty name (what old clients send) takes any count, as dockerd allows
  const count = r.maxRetries;
  if (!RESTART_POLICIES.includes(r.policy)) {
    throw invalid(`invalid restart policy: unknown policy '${r.policy}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
  if (r.policy === 'on-failure') {
    if (count < 0) throw invalid('invalid restart policy: maximum retry count cannot be negative');
  } else if (count !== 0) {
    throw invalid(`invalid restart policy: maximum retry count can only be used with 'on-failure'${count < 0 ? ' and cannot be negative' : ''}`);
  }
}

/** Capability names as moby normalizes them (any case, `CAP_` optional, `ALL`). */
function validateCapabilities(field: string, list: string[] | undefined): void {
  for (const given of list ?? []) {
    const upper = given.toUpperCase();
    if (upper === 'ALL') continue;
    const name = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
    if (!ALL_CAPABILITIES.includes(name)) throw invalid(`invalid ${field}: unknown capability: ${JSON.stringify(name)}`);
  }
}

/** moby's verifyPlatformContainerResources: limits runc would refuse, or apply to no effect. */
function validateResources(r: ResourcesSpec, update: boolean): void {
  const memory = r.memory ?? 0;
  const swap = r.memorySwap ?? 0;
  if (memory !== 0 && memory < MIN_MEMORY) throw invalid('Minimum memory limit allowed is 6MB');
  if (memory > 0 && swap > 0 && swap < memory) throw invalid('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (memory === 0 && swap > 0 && !update) throw invalid('You should always set the Memory limit when using Memoryswap limit, see usage');
  const swappiness = r.memorySwappiness ?? -1; // -1: the kernel's default
  if (swappiness !== -1 && (swappiness < 0 || swappiness > 100)) throw invalid(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
  const reservation = r.memoryReservation ?? 0;
  if (reservation > 0 && reservation < MIN_MEMORY) throw invalid('Minimum memory reservation allowed is 6MB');
  if (memory > 0 && reservation > 0 && memory < reservation) throw invalid('Minimum memory limit can not be less than memory reservation limit, see usage');
  const nanoCpus = r.nanoCpus ?? 0;
  const period = r.cpuPeriod ?? 0;
  const quota = r.cpuQuota ?? 0;
  if (nanoCpus > 0 && period > 0) throw invalid('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nanoCpus > 0 && quota > 0) throw invalid('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  const cpus = availableParallelism();
  if (nanoCpus < 0 || nanoCpus > cpus * 1e9) throw invalid(`Range of CPUs is from 0.01 to ${cpus}.00, as there are only ${cpus} CPUs available`);
  const shares = r.cpuShares ?? 0;
  if (shares < 0) throw invalid(`invalid CPU shares (${shares}): value must be a positive integer`);
  if (period !== 0 && (period < 1000 || period > 1_000_000))
    throw invalid('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  if (quota > 0 && quota < 1000) throw invalid('CPU cfs quota can not be less than 1ms (i.e. 1000)');
}

/** `--tz`: a zone the host's zoneinfo has (or `local`), refused at create as podman does. */
function validateTimezone(tz: string | undefined): void {
  if (!tz || tz === 'local') return;
  if (tz.includes('..') || !existsSync(`/usr/share/zoneinfo/${tz}`))
    throw invalid(`running container create option: stat /usr/share/zoneinfo/${tz}: no such file or directory`);
}
