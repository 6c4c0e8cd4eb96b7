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
import { secretApi } from './api/secrets.js';
import { podApi } from './api/pods.js';
import { kubeApi } from './api/kube.js';
import { systemdApi } from './api/systemd.js';
import { kubePlayApi } from './api/kube-play.js';

export type { Engine } from './engine.js';
export { EngineError, conflict, invalid, notFound } from './errors.js';

// Filters (the server parses `filters`, the runtime matches) and times.
export {
  BUILD_PRUNE_FILTERS,
  CONTAINER_LIST_FILTERS,
  CONTAINER_PRUNE_FILTERS,
  EVENT_FILTERS,
  NETWORK_LIST_FILTERS,
  NETWORK_PRUNE_FILTERS,
  SEARCH_FILTERS,
  VOLUME_LIST_FILTERS,
  parseEventTime,
  parseLogTime,
} from './filters.js';
export type { Filters } from './filters.js';

// Containers.
export { isLive, isUp } from './containers/state.js';
export type { ClientEcho, Container } from './containers/store.js';
export type { ContainerFacts } from './containers/facts.js';
export type * from './containers/spec.js';
export type { ContainerConfig as ImageContainerConfig } from './images/config.js';
export type { ContainerListOptions, ListedContainer } from './containers/list.js';

// Images, registries, build.
export type { ImageRecord } from './images/store.js';
/** A stored name as Docker shows it (`docker.io/library/busybox:1` → `busybox:1`). */
export { familiar } from './images/reference.js';
export { isShortName } from './registry/short-names.js';
export type { DeleteRecord, HistoryItem, ImageFilters } from './images/service.js';
export type { LoadMessage } from './images/load.js';
export type { IdMapping } from './rootless/idmap.js';
export type { ImportMessage, ImportOptions } from './images/import.js';
export type { Progress } from './images/pull.js';
export type { ImageDetails, PullRequest } from './api/images.js';
export type { LibpodImage, LibpodHistoryItem } from './images/libpod.js';
export type { LibpodRemoveReport } from './images/libpod-remove.js';
export { RegistryError } from './registry/client.js';
export type { Credentials } from './registry/auth.js';
export { BuildError } from './build/builder.js';
export type { BuildEvent, BuildRequest } from './build/builder.js';

// Volumes and networks (the network helpers are what the container views show of endpoints).
export type { Volume } from './volumes/service.js';
export type { VolumeCreateOptions } from './api/volumes.js';
export type { Endpoint, Network } from './network/store.js';
export type { NetworkCreateOptions, EndpointOptions, NetworkMember } from './api/networks.js';
export { networkMode, v4Config, v6Config } from './network/attachments.js';
export { parsePortKey } from './network/ports.js';
export { normalizedName, referenceGlob } from './images/reference.js';

// Secrets (libpod).
export type { Secret } from './secrets/store.js';
export type { SecretCreateOptions } from './api/secrets.js';
export { secretDestination } from './secrets/container.js';

// Pods (libpod).
export type { PodSpec, PodResources, SharedNamespace } from './pods/spec.js';
export type { Pod } from './pods/store.js';
export type { PodStatus, PodVerbReport } from './pods/service.js';
export type { PodDetails } from './api/pods.js';
export { PAUSE_IMAGE } from './pods/pause-image.js';
export { POD_LIST_FILTERS } from './pods/filters.js';
export { inspectedUserns, sharesUserns } from './pods/userns.js';
export type { GenerateKubeOptions } from './api/kube.js';

// systemd units (libpod's generate systemd).
export type { SystemdOptions } from './api/systemd.js';
export type { UnitContext } from './systemd/generate.js';
export type { KubePlayOptions, KubePlayReport, KubeDownReport } from './api/kube-play.js';

// Events.
export type { EngineEvent } from './events/log.js';
export type { EventSink, WatchOptions } from './events/watch.js';
export type { LibpodEvent } from './events/views.js';

// System.
export type { StaticDetails, LiveDetails } from './system/details.js';

// What the containers' views read of a container beyond its record.
export { commandOf } from './containers/config.js';
export { logDriver } from './containers/log-driver.js';
export { linksEcho } from './containers/links.js';
export { healthText } from './containers/health-state.js';
export { logrusMessage } from './containers/conmon.js';
export { DEFAULT_CAPABILITIES, MASKED_PATHS, READONLY_PATHS } from './oci/defaults.js';
export { capabilities } from './oci/spec.js';

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
    secrets: secretApi(engine),
    pods: podApi(engine),
    kube: kubeApi(engine),
    systemd: systemdApi(engine),
    kubePlay: kubePlayApi(engine),
  };
}
export type Api = ReturnType<typeof createApi>;

// Types the routes of containers and exec sessions use.
export type { WaitCondition } from './containers/service.js';
export type { LogEntry } from './containers/logs.js';
export type { LogsOptions, ContainerLogs } from './containers/container-logs.js';
export type { TopResult } from './containers/top.js';
export type { Change, ExtractOptions, PathStat } from './containers/rootfs-io.js';
export type { AttachSession } from './containers/attach-session.js';
export type { StopOptions } from './api/containers.js';
export type { ExecConfig } from './api/exec.js';
export type { ExecSession } from './exec/store.js';
