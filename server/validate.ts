// ajv validation for routes that dispatch by hand (image names contain slashes, so one wildcard route
// serves several operations). Other routes validate through Fastify's schema option, also ajv, and
// serialize their answers through fast-json-stringify: both compiled on a route's first use
// (lazySchemaCompilers), not at start.
import { createRequire } from 'node:module';
import type { Ajv, ValidateFunction } from 'ajv';
import type { FastifyServerOptions } from 'fastify';
import type { Static, TSchema } from '@sinclair/typebox';
import { invalid } from '../runtime/api.js';

const require = createRequire(import.meta.url);

let ajv: Ajv | undefined;
const compiled = new WeakMap<TSchema, ValidateFunction>();

/** `where` names the value in the message, as Fastify's validation names it (`query`, `body`). */
export function validated<T extends TSchema>(schema: T, value: unknown, where = 'query'): Static<T> {
  let check = compiled.get(schema);
  if (!check) {
    ajv ??= new (require('ajv') as typeof import('ajv')).Ajv({ coerceTypes: false, allErrors: false });
    compiled.set(schema, (check = ajv.compile(schema)));
  }
  const copy = structuredClone(value ?? {});
  if (!check(copy)) throw invalid(`invalid parameter: ${ajv!.errorsText(check.errors, { dataVar: where })}`);
  return copy as Static<T>;
}

type Validate = ((data: unknown) => unknown) & { errors?: unknown };
type Serialize = (data: unknown) => string;
type Compile<F> = (route: { schema: unknown; method?: string; url?: string; httpPart?: string; httpStatus?: string; contentType?: string }) => F;
type Builder<F, O> = (externalSchemas: unknown, options: O) => Compile<F>;

/** Compilations not made yet, with the route each is for (warmSchemas makes some ahead of their first request). */
const pending = new Map<() => void, string>();

/**
 * Fastify's compilers (its ajv and fast-json-stringify ones, with the options Fastify passes), each
 * schema compiled on its first use and kept: ~300 routes' schemas cost ~0.6 s of CPU and tens of MB
 * when compiled at start, and most routes are never called by one engine. Errors and messages are the
 * same ajv's (Fastify reads `errors` off the function it got, so the wrapper carries them over).
 */
export function lazySchemaCompilers(): NonNullable<FastifyServerOptions['schemaController']>['compilersFactory'] {
  const buildValidator = lazily<Validate>(
    () => (require('@fastify/ajv-compiler') as () => Builder<Validate, unknown>)(),
    (get) => {
      const validate: Validate = (data) => {
        const fn = get();
        const ok = fn(data);
        validate.errors = fn.errors;
        return ok;
      };
      return validate;
    },
  );
  const buildSerializer = lazily<Serialize>(
    () => (require('@fastify/fast-json-stringify-compiler') as () => Builder<Serialize, unknown>)(),
    (get) => (data) => get()(data),
  );
  // Fastify's factory types name ajv's and fast-json-stringify's own types; these are the same shapes.
  return { buildValidator, buildSerializer } as never;
}

/**
 * A compiler builder (`load`: Fastify's, loaded on first use) whose compilers hand each route a stand-in
 * (`wrap`) that compiles the route's schema when first called.
 */
function lazily<F>(load: () => Builder<F, unknown>, wrap: (get: () => F) => F): Builder<F, unknown> {
  let builder: Builder<F, unknown> | undefined;
  return (externalSchemas, options) => {
    let compile: Compile<F> | undefined;
    return (route) => {
      let fn: F | undefined;
      const make = () => {
        builder ??= load();
        compile ??= builder(externalSchemas, options);
        fn = compile(route);
        pending.delete(make);
      };
      pending.set(make, `${route.method} ${route.url}`);
      return wrap(() => {
        if (!fn) make();
        return fn!;
      });
    };
  };
}

/** Compiles every schema not compiled yet (tests: a broken schema fails here as it would at start). */
export function compileAllSchemas(): void {
  for (const make of [...pending.keys()]) make();
}

/** The routes whose compilations are still to be made (tests), one entry per schema. */
export function pendingSchemaRoutes(): string[] {
  return [...pending.values()];
}

/**
 * The routes a session's first commands use (`docker run`, `ps`, `images`, `inspect`, podman's
 * equivalents), for warmSchemas. Not warmed by default: compiled ahead they cost ~25 MB of RSS (the
 * create bodies most), which an engine that only answers `docker version` or `ps` never needs.
 */
export const FIRST_ROUTES: ReadonlySet<string> = new Set([
  'GET /version',
  'GET /info',
  'GET /containers/json',
  'POST /containers/create',
  'GET /containers/:id/json',
  'POST /containers/:id/wait',
  'DELETE /containers/:id',
  'GET /images/json',
  'POST /images/create',
  'GET /libpod/version',
  'GET /libpod/info',
  'GET /libpod/containers/json',
  'POST /libpod/containers/create',
  'GET /libpod/containers/:id/json',
  'GET /libpod/images/json',
]);

/**
 * Compiles the schemas of these routes (`METHOD /url` as registered) not compiled yet, one per turn of
 * the event loop, so requests that come meanwhile wait for one compilation at most; settles when all are.
 */
export function warmSchemas(routes: ReadonlySet<string>): Promise<void> {
  const makes = [...pending].filter(([, route]) => routes.has(route)).map(([make]) => make);
  return new Promise((resolve) => {
    const next = () => {
      const make = makes.shift();
      if (!make) return resolve();
      if (pending.has(make)) make();
      setImmediate(next);
    };
    setImmediate(next);
  });
}
