// Engine API versions: paths may carry /v1.12 … /v1.50 or none (meaning the newest).
import { invalid } from '../runtime/errors.js';

export const MIN_API_VERSION = '1.12';
export const MAX_API_VERSION = '1.50';
export const BERTH_VERSION = '0.1.0';
export const LIBPOD_API_VERSION = '4.3.1';

/** Compares dotted versions numerically: -1, 0 or 1. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

export const versionBefore = (version: string, than: string) => compareVersions(version, than) < 0;

/** Splits `/v1.41/images/json` into the version and the path the routes know. Libpod keeps its prefix. */
export function splitVersion(url: string): { version?: string; url: string } {
  const libpod = /^\/v\d+(?:\.\d+)*(\/libpod(?:\/|\?|$).*)$/.exec(url);
  if (libpod) return { url: libpod[1]! };
  const engine = /^\/v(\d+\.\d+)((?:\/|\?).*|)$/.exec(url);
  if (engine) return { version: engine[1], url: engine[2] || '/' };
  return { url };
}

/** Docker's answer to a version outside what it speaks. */
export function checkVersion(version: string): void {
  if (compareVersions(version, MAX_API_VERSION) > 0) {
    throw invalid(`client version ${version} is too new. Maximum supported API version is ${MAX_API_VERSION}`);
  }
  if (compareVersions(version, MIN_API_VERSION) < 0) {
    throw invalid(`client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
  }
}
