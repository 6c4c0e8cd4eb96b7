// Packages only some requests use (registries, remote contexts, kube YAML), loaded on their first use
// instead of at start: an engine started by socket activation answers its first request sooner.
import { createRequire } from 'node:module';
import type * as Undici from 'undici';
import type * as Yaml from 'yaml';

const require = createRequire(import.meta.url);

function lazy<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(id) as T);
}

export const undici = lazy<typeof Undici>('undici');
export const yaml = lazy<typeof Yaml>('yaml');
