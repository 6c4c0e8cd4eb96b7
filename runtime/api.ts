// The one door from server/ into the engine: routes import the runtime's verbs, options and result
// types from here and nowhere else under runtime/ (checked in CI), so no route reaches a store, a
// path or a process. Each resource's verbs live in runtime/api/<resource>.ts; both API families
// (Docker's compat and libpod) call the same verbs.
import type { Engine } from './engine.js';
import { containerApi } from './api/containers.js';
import { execApi } from './api/exec.js';
import { imageApi } from './api/images.js';
import { networkApi } from './api/networks.js';
import { volumeApi } from './api/volumes.js';
import { systemApi } from './api/system.js';
import { buildApi } from './api/build.js';
import { eventApi } from './api/events.js';
import { registryApi } from './api/registry.js';

export type { Engine } from './engine.js';
export { EngineError } from './errors.js';
export type * from './containers/spec.js';
export type { ClientEcho, Container } from './containers/store.js';
export type { ContainerConfig as ImageContainerConfig } from './images/config.js';
// What the containers' views read of a container beyond its record.
export { commandOf } from './containers/config.js';
export { logDriver } from './containers/log-driver.js';
export { linksEcho } from './containers/links.js';
export { healthText } from './containers/health-state.js';
export { MASKED_PATHS, READONLY_PATHS } from './oci/defaults.js';

export function createApi(engine: Engine) {
  return {
    containers: containerApi(engine),
    exec: execApi(engine),
    images: imageApi(engine),
    networks: networkApi(engine),
    volumes: volumeApi(engine),
    system: systemApi(engine),
    build: buildApi(engine),
    events: eventApi(engine),
    registry: registryApi(engine),
  };
}
export type Api = ReturnType<typeof createApi>;
