// Engine API versions: paths may carry /v1.12 … /v1.50 or none (meaning the newest).
import { invalid } from '../runtime/api.js';

export const MIN_API_VERSION = '1.12';
export const MAX_API_VERSION = '1.50';
export const BERTH_VERSION = '0.1.0';
export const LIBPOD_API_VERSION = '4.3.1';
/** The buildah version podman 4.3.1 reports in `Libpod-Buildah-Version` (its ping). */
export const BUILDAH_VERSION = '1.28.2';

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

/** The oldest libpod API podman --remote 4 accepts from a service (it refuses 3.x). */
export const MIN_LIBPOD_API_VERSION = '4.0.0';

/**
 * Splits a request path into the API family, its version and the path the routes know:
 * `/v1.41/images/json` → Docker 1.41 `/images/json`; `/v4.3.1/libpod/info` → libpod 4.3.1
 * `/libpod/info` (libpod keeps its prefix: its routes live under it). A libpod version is
 * podman's `N.N.N` (N.N and N accepted too).
 */
export function splitVersion(url: string): { version?: string; libpodVersion?: string; url: string } {
  const libpod = /^\/v(\d+(?:\.\d+){0,2})(\/libpod(?:\/|\?|$).*)$/.exec(url);
  if (libpod) return { libpodVersion: libpod[1], url: libpod[2]! };
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
