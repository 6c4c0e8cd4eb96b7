// libpod: generate systemd. The units drive this engine through the socket the request came in by
// (a unit runs on the engine's host); podman --remote prints them or, with --files, writes them.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { EngineError, type Api, type SystemdOptions } from '../../../runtime/api.js';
import { GenerateSystemdQuery, GenerateSystemdReport } from '../../../openapi/libpod-systemd.js';
import { parseBool } from '../../query.js';
import { sendErrorBody } from '../../app.js';
import { BERTH_VERSION } from '../../versioning.js';

const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const uint = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));
/** Where units reach berth when the server cannot tell (socket activation hands it an fd): berth.socket's. */
const DEFAULT_SOCKET = '/run/berth/berth.sock';

export const generateSystemdRoutes: FastifyPluginAsyncTypebox<{ api: Api }> = async (app, { api }) => {
  app.get(
    '/generate/:name/systemd',
    { schema: { summary: 'Generate systemd units (libpod)', querystring: GenerateSystemdQuery, response: { 200: GenerateSystemdReport } } },
    async (request, reply) => {
      const q = request.query;
      const o: SystemdOptions = {
        new: parseBool(q.new),
        useName: parseBool(q.usename),
        noHeader: parseBool(q.noheader),
        template: parseBool(q.templateunitfile),
        containerPrefix: q.containerprefix ?? 'container',
        podPrefix: q.podprefix ?? 'pod',
        separator: q.separator ?? '-',
        restartPolicy: q.restartpolicy || undefined,
        restartSec: uint(q.restartsec),
        startTimeout: uint(q.starttimeout),
        stopTimeout: uint(q.stoptimeout),
        after: list(q.after),
        requires: list(q.requires),
        wants: list(q.wants),
        env: list(q.additionalenvvariables),
      };
      const address = request.server.server.address();
      const socket = typeof address === 'string' && address ? address : DEFAULT_SOCKET;
      try {
        const { name } = request.params as { name: string };
        return api.systemd.generate(name, o, { url: `unix://${socket}`, executable: '/usr/bin/podman', generator: `berth ${BERTH_VERSION}`, now: new Date() });
      } catch (err) {
        if (!(err instanceof EngineError)) throw err;
        // podman answers 500 for all of them, its message wrapped and the innermost error the cause.
        const cause = err.kind === 'not-found' ? 'no such container' : err.message;
        return sendErrorBody(reply, 500, { cause, message: `generating systemd units: ${err.message}`, response: 500 });
      }
    },
  );
};
