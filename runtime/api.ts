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

// Types the routes of containers and exec sessions use.
export { conflict, invalid, notFound } from './errors.js';
export type { WaitCondition } from './containers/service.js';
export type { LogEntry } from './containers/logs.js';
export type { LogsOptions, ContainerLogs } from './containers/container-logs.js';
export type { TopResult } from './containers/top.js';
export type { Change, ExtractOptions, PathStat } from './containers/rootfs-io.js';
export type { AttachSession } from './containers/attach-session.js';
export type { StopOptions } from './api/containers.js';
export type { ExecConfig } from './api/exec.js';
export type { ExecSession } from './exec/store.js';
