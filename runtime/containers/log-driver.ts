// HostConfig.LogConfig.Type: what dockerd 20.10 takes without a plugin that berth can honour. conmon
// writes the log in every case (attach follows it); `none` only means it is not read back, as dockerd says.
import { EngineError, invalid } from '../errors.js';
import type { HostConfig } from '../../openapi/containers.js';

const DRIVERS = ['json-file', 'local', 'none'];

/** The driver a container logs with ('' is the daemon's default, json-file). */
export const logDriver = (hc: HostConfig): string => hc.LogConfig?.Type || 'json-file';

/** At create: any other driver is a plugin dockerd would look up, and not find. */
export function validateLogDriver(hc: HostConfig): void {
  const driver = logDriver(hc);
  if (!DRIVERS.includes(driver)) throw invalid(`error looking up logging plugin ${driver}: plugin "${driver}" not found`);
}

/** Before reading logs back: dockerd's 501 for a driver that keeps none. */
export function assertReadableLogs(hc: HostConfig): void {
  if (logDriver(hc) === 'none') throw new EngineError('not-implemented', 'configured logging driver does not support reading');
}
