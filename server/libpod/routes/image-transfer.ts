// libpod: images to and from registries and builds (pull, push, search, build).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { EngineError, type Api } from '../../../runtime/api.js';

const PullQuery = Type.Object({ reference: Type.String(), policy: Type.Optional(Type.String()) }, { additionalProperties: true });

export const imageTransferRoutes: FastifyPluginAsyncTypebox<{ api: Api }> = async (app, { api }) => {
  // podman create/run pulls with policy=missing first: a local image (libpod's short-name rules) answers
  // its final line only. Registry pulls are the images slice's (an error line until then).
  app.post('/images/pull', { schema: { summary: 'Pull an image (libpod)', querystring: PullQuery } }, async (request, reply) => {
    const { reference, policy = 'always' } = request.query;
    let line: object;
    try {
      if (policy !== 'missing' && policy !== 'newer')
        throw new EngineError('not-implemented', `pulling ${reference} from a registry is not implemented by berth's libpod API yet`);
      const id = api.images.resolveLibpod(reference).id.replace(/^sha256:/, '');
      line = { images: [id], id };
    } catch (err) {
      if (!(err instanceof EngineError)) throw err;
      line = { error: err.kind === 'not-found' ? `pulling ${reference} from a registry is not implemented by berth's libpod API yet` : err.message };
    }
    return reply.code(200).send(`${JSON.stringify(line)}\n`);
  });
};
