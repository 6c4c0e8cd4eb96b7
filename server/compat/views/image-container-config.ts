// An image's ContainerConfig as dockerd shows it (API < 1.45): moby keeps it as a struct, not a
// pointer, so an image without container_config (FROM scratch, built by BuildKit, or saved by tools
// that omit it) still shows an object of zero values, never null. docker-compose 1.x reads
// `image_config['ContainerConfig'].get('Volumes')` when it recreates a container.
import type { ImageInspect } from '../../../openapi/images.js';

type ContainerConfigView = NonNullable<ImageInspect['ContainerConfig']>;

/** container.Config's fields without omitempty, at their zero values. */
const ZERO = {
  Hostname: '',
  Domainname: '',
  User: '',
  AttachStdin: false,
  AttachStdout: false,
  AttachStderr: false,
  Tty: false,
  OpenStdin: false,
  StdinOnce: false,
  Env: null,
  Cmd: null,
  Image: '',
  Volumes: null,
  WorkingDir: '',
  Entrypoint: null,
  OnBuild: null,
  Labels: null,
};

/** The stored container_config (if any) over the zero values, as Go decodes it into the struct. */
export function imageContainerConfig(stored: unknown): ContainerConfigView {
  const given = stored !== null && typeof stored === 'object' ? (stored as ContainerConfigView) : {};
  return { ...ZERO, ...given };
}
