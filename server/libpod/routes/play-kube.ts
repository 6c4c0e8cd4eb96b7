// libpod: play kube and kube down. The body is the YAML file as the client read it (no Content-Type:
// it arrives as a raw stream); `--replace` is the client's DELETE then POST. podman 4.3.1's client has no
// --build, --configmap or --publish (it refuses them itself: nothing reaches the service).
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { invalid, type Api, type KubePlayOptions } from '../../../runtime/api.js';
import { PlayKubeReport } from '../../../openapi/libpod-kube-play.js';
import { sendErrorBody } from '../../app.js';
import { parseBool } from '../../query.js';
import { readBounded } from '../body.js';
import { libpodError } from '../errors.js';
import { libpodRefusal } from './containers.js';

/** A YAML file's bound (podman reads the whole body; a kube file is small). */
const MAX_YAML = 16 * 1024 * 1024;

type Query = Record<string, string | string[] | undefined>;

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]).filter((s) => s !== '');
const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** Causes podman wraps at the end of its messages (libpod/define's errors). */
const CAUSES = [
  'no such pod',
  'volume already exists',
  'pod already exists',
  'no such secret',
  'image not known',
  'no such container',
  'that name is already in use',
];

/** podman's error: `<what> YAML file: <message>`, its cause the innermost wrapped error. */
function fail(reply: FastifyReply, what: string, err: unknown): FastifyReply {
  // A member's name taken: podman's words (the name is in dockerd's message).
  const name = err instanceof Error ? /container name "\/?([^"]+)" is already in use/.exec(err.message)?.[1] : undefined;
  const refused = libpodRefusal(err, { id: '', name });
  const message = refused instanceof Error ? refused.message : String(refused);
  const known = CAUSES.find((c) => message.endsWith(`: ${c}`));
  // A Deployment's pod wraps its error without %w: the whole of it is the cause.
  const cause = known ?? message.replace(/^encountered while bringing up pod [^:]*: /, '');
  return sendErrorBody(reply, 500, { cause, message: `${what} YAML file: ${message}`, response: 500 });
}

async function yamlOf(body: unknown): Promise<string> {
  const data =
    body instanceof Readable
      ? await readBounded(body, MAX_YAML)
      : Buffer.isBuffer(body)
        ? body
        : typeof body === 'string'
          ? Buffer.from(body)
          : Buffer.alloc(0);
  return data.toString('utf8');
}

function playOptions(q: Query, authHeader: string | undefined): KubePlayOptions {
  let annotations: Record<string, string> = {};
  const raw = first(q.annotations);
  if (raw) {
    try {
      annotations = JSON.parse(raw) as Record<string, string>;
    } catch {
      throw invalid(`annotations: invalid JSON: ${raw}`);
    }
  }
  return {
    start: first(q.start) === undefined || parseBool(first(q.start)),
    networks: list(q.network).flatMap((n) => n.split(',')),
    annotations,
    staticIps: list(q.staticIPs),
    staticMacs: list(q.staticMACs),
    authHeader,
    logDriver: first(q.logdriver) ?? '',
    ...(first(q.tlsVerify) !== undefined ? { tlsVerify: parseBool(first(q.tlsVerify)) } : {}),
  };
}

export const playKubeRoutes: FastifyPluginAsyncTypebox<{ api: Api }> = async (app, { api }) => {
  const play = async (request: { body: unknown; query: unknown; headers: Record<string, string | string[] | undefined> }, reply: FastifyReply) => {
    const yaml = await yamlOf(request.body);
    const o = playOptions(request.query as Query, first(request.headers['x-registry-auth']));
    try {
      const r = await api.kubePlay.play(yaml, o);
      return reply.send({
        Pods: r.pods.length
          ? r.pods.map((p) => ({
              ID: p.id,
              Containers: p.containers.length ? p.containers : null,
              InitContainers: p.initContainers.length ? p.initContainers : null,
              Logs: null,
              // podman's words for each: `starting container <id>: <libpod's error>`.
              ContainerErrors: p.containerErrors.length ? p.containerErrors.map((e) => `starting container ${e.id}: ${libpodError(e, 500).message}`) : null,
            }))
          : null,
        Volumes: r.volumes.length ? r.volumes.map((Name) => ({ Name })) : null,
        StopReport: null,
        RmReport: null,
        Secrets: r.secrets.length ? r.secrets.map((ID) => ({ CreateReport: { ID } })) : null,
      });
    } catch (err) {
      return fail(reply, 'playing', err);
    }
  };
  const down = async (request: { body: unknown }, reply: FastifyReply) => {
    const yaml = await yamlOf(request.body);
    try {
      const r = await api.kubePlay.down(yaml);
      return reply.send({
        Pods: null,
        Volumes: null,
        StopReport: r.stopped.map((s) => ({ Errs: s.errors.length ? s.errors : null, Id: s.id })),
        RmReport: r.removed.map((s) => ({ Err: s.error ?? null, Id: s.id })),
        Secrets: null,
      });
    } catch (err) {
      return fail(reply, 'tearing down', err);
    }
  };
  // podman 4.3's path, and 4.4's (`kube play`), which the 4.3 service serves too.
  for (const path of ['/play/kube', '/kube/play']) {
    app.post(path, { schema: { summary: 'Play a Kubernetes YAML file (libpod)', response: { 200: PlayKubeReport } } }, play);
    app.delete(path, { schema: { summary: 'Tear down the pods of a Kubernetes YAML file (libpod)', response: { 200: PlayKubeReport } } }, down);
  }
};
