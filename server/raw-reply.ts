// Answers written on the raw response, as podman's service writes some: no Content-Type (stats, top),
// or a stream sampled until the client goes away. The headers set so far (the plugin's) go along.
import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';

/** Takes the response over from Fastify and sends the status line and the reply's headers. */
export function rawHead(reply: FastifyReply, status: number): ServerResponse {
  reply.hijack();
  const res = reply.raw;
  for (const [name, value] of Object.entries(reply.getHeaders()))
    if (value !== undefined) res.setHeader(name, typeof value === 'number' ? String(value) : value);
  res.writeHead(status);
  res.flushHeaders();
  return res;
}
