// Pull and push, streamed as Docker's JSON messages. Nothing is sent until the first message, so a
// failure before it (an unknown repository or manifest, an image not here) is an HTTP error the CLI
// prints as dockerd's; after it, errors arrive as errorDetail messages.
import type { FastifyReply } from 'fastify';
import { EngineError, type Api, type Progress } from '../runtime/api.js';
import { commonHeaders, ERROR_STATUS, sendError } from './app.js';
import { clientGoneSignal, errorMessage, progressBar, type JsonMessage } from './streams.js';

export interface PullQuery {
  fromImage: string;
  tag?: string;
  platform?: string;
}

/** A progress event as dockerd writes it: bars for byte counts, an empty progressDetail for layer states. */
export function progressMessage(p: Progress): JsonMessage {
  if (p.aux) return { progressDetail: {}, aux: p.aux };
  if (p.current !== undefined && p.total !== undefined) {
    return { status: p.status, progressDetail: { current: p.current, total: p.total }, progress: progressBar(p.current, p.total), id: p.id };
  }
  return p.id !== undefined && !/^Pulling from/.test(p.status) ? { status: p.status, progressDetail: {}, id: p.id } : { status: p.status, id: p.id };
}

/** `fromImage` + `tag` as one reference (a tag that is a digest makes `name@digest`). */
export function pullReference(q: PullQuery): string {
  if (!q.tag) return q.fromImage;
  return q.tag.startsWith('sha256:') ? `${q.fromImage}@${q.tag}` : `${q.fromImage}:${q.tag}`;
}

/** Runs `work`, streaming what it reports; see the file comment for how errors are answered. */
async function streamProgress(reply: FastifyReply, work: (report: (p: Progress) => void) => Promise<unknown>): Promise<void> {
  let started = false;
  const res = reply.raw;
  const send = (m: JsonMessage) => {
    if (!started) {
      started = true;
      reply.hijack();
      res.writeHead(200, { ...commonHeaders, 'Content-Type': 'application/json' });
    }
    res.write(JSON.stringify(m) + '\r\n');
  };
  try {
    await work((p) => send(progressMessage(p)));
  } catch (err) {
    const message = (err as Error).message;
    if (!started) {
      await sendError(reply, err instanceof EngineError ? ERROR_STATUS[err.kind] : 500, message);
      return;
    }
    send(errorMessage(message));
  }
  if (started) res.end();
}

export function pull(api: Api, q: PullQuery, authHeader: string | undefined, reply: FastifyReply): Promise<void> {
  const request = { reference: pullReference(q), platform: q.platform || undefined, authHeader, signal: clientGoneSignal(reply) };
  return streamProgress(reply, (report) => api.images.pull(request, report));
}

export function push(api: Api, name: string, tag: string | undefined, authHeader: string | undefined, reply: FastifyReply): Promise<void> {
  return streamProgress(reply, (report) => api.images.push({ name, tag, authHeader }, report));
}
