// libpod: the verbs on a pod's members (start, stop, restart, kill, pause, unpause), top and stats.
//
// A verb answers podman's report `{Errs, Id}`: 200 with `Errs: null`, or 409 with each failed member's
// error as podman words it (`starting container <id>: <cause>`), which the client prints joined by
// commas (exit 125). Nothing to do is podman's 304 (start of a running pod, stop of one that runs
// nothing; the client then prints the ID as for a 200).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { EngineError, type Api, type PodVerbReport } from '../../../runtime/api.js';
import {
  PodKillQuery,
  PodNameParams as params,
  PodStatsQuery,
  PodStatsResponse,
  PodStopQuery,
  PodTopQuery,
  PodVerbResponse,
} from '../../../openapi/libpod-pod-verbs.js';
import { sendErrorBody } from '../../app.js';
import { parseBool, repeated } from '../../query.js';
import { rawHead } from '../../raw-reply.js';
import { libpodError } from '../errors.js';
import { libpodSample } from '../stats-report.js';
import { podStatsReport } from '../views/pod-stats.js';

/** How podman's report words a member's failure, by verb. */
const DOING = { start: 'starting', stop: 'stopping', restart: 'restarting', kill: 'killing', pause: 'pausing', unpause: 'unpausing' } as const;
type Verb = keyof typeof DOING;

function sendReport(reply: FastifyReply, verb: Verb, r: PodVerbReport) {
  if (r.unchanged) return reply.code(304).send();
  const errs = Object.entries(r.errors).map(([id, err]) => `${DOING[verb]} container ${id}: ${libpodError(err, 409).message}`);
  return reply.code(errs.length ? 409 : 200).send({ Errs: errs.length ? errs : null, Id: r.id });
}

/** A seconds count from the query (absent, empty or negative: the members' own timeouts). */
function seconds(value: string | undefined): number | undefined {
  const n = value === undefined || value === '' ? NaN : Number(value);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

export const podVerbRoutes: FastifyPluginAsyncTypebox<{ api: Api }> = async (app, { api }) => {
  const response = { 200: PodVerbResponse, 409: PodVerbResponse };

  // A pod without containers: podman's 409 with its cause (the client, expecting a report, prints an
  // empty error).
  app.post('/pods/:name/start', { schema: { summary: 'Start a pod (libpod)', params, response } }, async (request, reply) => {
    try {
      return sendReport(reply, 'start', await api.pods.start(request.params.name));
    } catch (err) {
      if (!(err instanceof EngineError) || err.kind !== 'conflict' || !err.message.endsWith(': no such container')) throw err;
      return sendErrorBody(reply, 409, { cause: 'no such container', message: err.message, response: 409 });
    }
  });
  app.post('/pods/:name/stop', { schema: { summary: 'Stop a pod (libpod)', params, querystring: PodStopQuery, response } }, async (request, reply) =>
    sendReport(reply, 'stop', await api.pods.stop(request.params.name, seconds(request.query.timeout))),
  );
  app.post('/pods/:name/restart', { schema: { summary: 'Restart a pod (libpod)', params, response } }, async (request, reply) =>
    sendReport(reply, 'restart', await api.pods.restart(request.params.name)),
  );
  app.post('/pods/:name/pause', { schema: { summary: 'Pause a pod (libpod)', params, response } }, async (request, reply) =>
    sendReport(reply, 'pause', await api.pods.pause(request.params.name)),
  );
  app.post('/pods/:name/unpause', { schema: { summary: 'Unpause a pod (libpod)', params, response } }, async (request, reply) =>
    sendReport(reply, 'unpause', await api.pods.unpause(request.params.name)),
  );

  // A signal podman cannot parse is its 500, before the pod is looked up.
  app.post('/pods/:name/kill', { schema: { summary: 'Kill a pod (libpod)', params, querystring: PodKillQuery, response } }, async (request, reply) => {
    const signal = request.query.signal ?? 'KILL';
    try {
      return sendReport(reply, 'kill', await api.pods.kill(request.params.name, signal));
    } catch (err) {
      if (!(err instanceof EngineError) || err.kind !== 'invalid') throw err;
      const cause = `invalid signal: ${signal}`;
      return sendErrorBody(reply, 500, { cause, message: `unable to parse signal value: ${cause}`, response: 500 });
    }
  });

  // podman pod top: `{Processes, Titles}` without Content-Type (as container top); once the pod is
  // found podman's service has answered 200, and one with nothing to describe ends empty (the client
  // says "unexpected end of JSON input").
  app.get('/pods/:name/top', { schema: { summary: 'List processes in a pod (libpod)', params, querystring: PodTopQuery } }, async (request, reply) => {
    api.pods.inspect(request.params.name); // a 404 first
    const given = request.query.ps_args;
    const args = (Array.isArray(given) ? given : [given ?? '']).filter(Boolean);
    let body = '';
    try {
      const top = await api.pods.top(request.params.name, args);
      if (top) body = `${JSON.stringify({ Processes: top.processes, Titles: top.titles })}\n`;
    } catch (err) {
      request.log.info({ err }, 'libpod pod top failed after the answer was committed');
    }
    rawHead(reply, 200).end(body);
  });

  // podman pod stats: one sample of every member of the pods named (or all), podman's formatted
  // strings; a member that runs nothing is all `--`. The client asks again each second to stream.
  app.get(
    '/pods/stats',
    { schema: { summary: 'Resource usage of pods (libpod)', querystring: PodStatsQuery, response: { 200: PodStatsResponse } } },
    async (request, reply) => {
      const names = repeated(request.query.namesOrIDs);
      if (names.length && parseBool(request.query.all)) {
        const message = '--all, --latest and arguments cannot be used together';
        return sendErrorBody(reply, 500, { cause: message, message, response: 500 });
      }
      api.containers.refuseStats({ pod: true }); // a rootless engine on cgroup v1 has none to give
      let pods;
      try {
        pods = api.pods.statsTargets(names);
      } catch (err) {
        if (!(err instanceof EngineError) || err.kind !== 'not-found') throw err;
        return sendErrorBody(reply, 404, { cause: 'no such pod', message: `unable to get list of pods: ${err.message}`, response: 404 });
      }
      const reports = [];
      for (const { pod, members } of pods) {
        for (const c of [...members].sort((a, b) => (a.id < b.id ? -1 : 1))) {
          const reading = await api.containers.statsReading(c.id).catch(() => undefined);
          if (reading) reports.push(podStatsReport(pod.id, libpodSample(reading, undefined)));
        }
      }
      return reports;
    },
  );
};
