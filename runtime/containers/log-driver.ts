// HostConfig.LogConfig.Type: what dockerd 20.10 takes without a plugin that berth can honour. conmon
// writes the log in every case (attach follows it); `none` only means it is not read back, as dockerd says.
import { EngineError, invalid } from '../errors.js';
import type { LogSpec } from './spec.js';
import type { LogLimits } from './log-rotation.js';

/** The drivers, with the options each takes (none takes any: dockerd ignores them). */
const OPTIONS: Record<string, string[] | undefined> = {
  'json-file': ['max-file', 'max-size', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag'],
  local: ['max-file', 'max-size', 'compress'],
  none: undefined,
};

/** The driver a container logs with ('' is the daemon's default, json-file). */
export const logDriver = (log: LogSpec | undefined): string => log?.driver || 'json-file';

/** At create: any other driver is a plugin dockerd would look up, and not find. */
export function validateLogDriver(log: LogSpec | undefined): void {
  const driver = logDriver(log);
  if (!(driver in OPTIONS)) throw invalid(`error looking up logging plugin ${driver}: plugin "${driver}" not found`);
  const known = OPTIONS[driver];
  for (const key of Object.keys(log?.options ?? {})) {
    if (known && !known.includes(key))
      throw invalid(driver === 'local' ? `unknown log opt '${key}' for log driver local` : `unknown log opt '${key}' for ${driver} log driver`);
  }
}

/** Before reading logs back: dockerd's 501 for a driver that keeps none. */
export function assertReadableLogs(log: LogSpec | undefined): void {
  if (logDriver(log) === 'none') throw new EngineError('not-implemented', 'configured logging driver does not support reading');
}

/** The json-file options that bound a log: max-size (one file: conmon bounds it) and max-file (the engine rotates). */
export function logLimitsOf(log: LogSpec | undefined): LogLimits {
  const config = log?.options ?? {};
  const maxFile = config['max-file'] ? Number(config['max-file']) : 1;
  if (!Number.isInteger(maxFile) || maxFile < 1) throw invalid(`invalid value for max-file: ${config['max-file']}`);
  return { maxSize: parseSize(config['max-size']), maxFile };
}

/** `10m`, `1g`, `512k`, `1000` in bytes (Docker's log-opt max-size). */
function parseSize(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)b?$/i.exec(value.trim());
  if (!m) throw invalid(`invalid max-size: ${value}`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '']!;
  return Math.floor(Number(m[1]) * unit);
}
