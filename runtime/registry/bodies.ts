// Registry answers read whole (manifests, configs, tokens, error and search documents) are held in
// memory: each is read bounded, so a registry that sends without end cannot exhaust the engine's memory.
import type { Readable } from 'node:stream';

/** The most a manifest may weigh (containerd's and the registries' common bound). */
export const MAX_MANIFEST_SIZE = 4 * 1024 * 1024;
/** The most a config blob may weigh; real ones are kilobytes. */
export const MAX_CONFIG_SIZE = 64 * 1024 * 1024;
/** Tokens, error bodies, search results: small JSON documents. */
export const MAX_DOCUMENT_SIZE = 4 * 1024 * 1024;

/** A response body read whole, but never more than max bytes: past max the body is closed and `tooLarge()` thrown. */
export async function readBounded(body: Readable, max: number, tooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > max) {
      body.destroy();
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
