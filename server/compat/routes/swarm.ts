// Swarm endpoints: berth has no swarm mode, so it answers them as a dockerd that is not in a swarm does
// (20.10): 503 "not a swarm manager" for every path, "not part of a swarm" for leave (docker-py's
// teardown calls `POST /swarm/leave?force=1` and accepts only 503 or 406). dockerd would initialise or
// join a swarm; berth cannot, and says so with the same status.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { Type } from '@sinclair/typebox';
import { sendError } from '../../app.js';

const NOT_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
const NOT_IN_SWARM = 'This node is not part of a swarm';
const NO_SWARM_MODE = 'berth does not support swarm mode';

const response = { 503: Type.Object({ message: Type.String() }) };
const PREFIXES = ['/swarm', '/services', '/nodes', '/tasks', '/secrets', '/configs'];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE'] as const;

export const swarmRoutes: FastifyPluginAsync = async (app) => {
  const answer = (message: string) => async (_request: unknown, reply: FastifyReply) => sendError(reply, 503, message);
  app.post('/swarm/leave', { schema: { summary: 'Leave a swarm: berth is never in one (503)', response } }, answer(NOT_IN_SWARM));
  app.post('/swarm/init', { schema: { summary: 'Initialise a swarm: unsupported (503)', response } }, answer(NO_SWARM_MODE));
  app.post('/swarm/join', { schema: { summary: 'Join a swarm: unsupported (503)', response } }, answer(NO_SWARM_MODE));
  for (const prefix of PREFIXES) {
    for (const url of [prefix, `${prefix}/*`]) {
      for (const method of METHODS) {
        // The three above are routed already; find-my-way refuses a second route for them.
        if (method === 'POST' && ['/swarm/leave', '/swarm/init', '/swarm/join'].includes(url)) continue;
        app.route({ method, url, schema: { summary: 'Swarm objects: not a swarm manager (503)', response }, handler: answer(NOT_MANAGER) });
      }
    }
  }
};
