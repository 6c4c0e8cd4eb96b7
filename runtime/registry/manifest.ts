// Manifests as registries serve them: Docker schema 2 and OCI image manifests, Docker manifest lists
// and OCI indexes (one entry chosen per platform), schema 1 refused.
import { invalid } from '../errors.js';

export const MEDIA = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  schema1: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

/** What a pull accepts, as dockerd's Accept header lists it. */
export const ACCEPT = [MEDIA.dockerManifest, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.ociIndex].join(', ');

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  platform?: Platform;
  annotations?: Record<string, string>;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface ManifestIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

export type Manifest = { kind: 'image'; manifest: ImageManifest } | { kind: 'index'; index: ManifestIndex };

/** Parses a manifest by its Content-Type (or its own mediaType field). */
export function parseManifest(bytes: Buffer, contentType: string | undefined, name: string): Manifest {
  let doc: { schemaVersion?: number; mediaType?: string; manifests?: unknown; layers?: unknown; config?: unknown };
  try {
    doc = JSON.parse(bytes.toString('utf8')) as typeof doc;
  } catch {
    throw invalid(`invalid manifest for ${name}: not JSON`);
  }
  const type = (contentType?.split(';')[0]?.trim() || doc.mediaType || '').toLowerCase();
  if (doc.schemaVersion === 1 || type.includes('manifest.v1')) {
    throw invalid(
      `[DEPRECATION NOTICE] Docker Image Format v1 and Docker Image manifest version 2, schema 1 support is disabled by default and will be removed in an upcoming release. Suggest the author of ${name} to upgrade the image to the OCI Format or Docker Image manifest v2, schema 2.`,
    );
  }
  if (type === MEDIA.dockerList || type === MEDIA.ociIndex || Array.isArray(doc.manifests)) return { kind: 'index', index: doc as ManifestIndex };
  if (Array.isArray(doc.layers) && doc.config) return { kind: 'image', manifest: doc as ImageManifest };
  throw invalid(`unsupported manifest media type for ${name}: ${type || 'none'}`);
}

/** Splits `os/arch[/variant]`. */
export function parsePlatform(spec: string): Platform {
  const [os = '', architecture = '', variant] = spec.toLowerCase().split('/');
  if (!os || !architecture) throw invalid(`"${spec}": unknown operating system or architecture: invalid argument`);
  return { os, architecture: normalizeArch(architecture), variant };
}

const normalizeArch = (a: string) => ({ x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', armhf: 'arm', armel: 'arm' })[a] ?? a;

/** The index entry for `want`, as containerd's platform matcher picks it (a variant must match if asked). */
export function selectPlatform(index: ManifestIndex, want: Platform): Descriptor | undefined {
  const candidates = index.manifests.filter((m) => {
    const p = m.platform;
    if (!p) return false;
    if (p.os !== want.os || normalizeArch(p.architecture) !== want.architecture) return false;
    if (want.variant && p.variant && p.variant !== want.variant) return false;
    if (want.variant && !p.variant && !(want.architecture === 'arm64' && want.variant === 'v8')) return false;
    return true;
  });
  // Prefer an exact variant match, then one with no variant.
  return candidates.find((m) => m.platform?.variant === want.variant) ?? candidates[0];
}

export const platformString = (p: Platform) => [p.os, p.architecture, p.variant].filter(Boolean).join('/');
