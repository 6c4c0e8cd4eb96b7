// Request bodies podman --remote sends without a Content-Type arrive as raw streams (see plugin.ts).
import type { Readable } from 'node:stream';

/** The whole stream; past `limit` bytes, the error Fastify's own body limit raises (answered 413). */
export async function readBounded(stream: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      stream.resume(); // drain the rest, so the client reads the answer
      throw Object.assign(new Error('request body too large'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 });
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
