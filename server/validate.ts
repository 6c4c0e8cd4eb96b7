// ajv validation for routes that dispatch by hand (image names contain slashes, so one wildcard route
// serves several operations). Other routes validate through Fastify's schema option, also ajv.
import { Ajv, type ValidateFunction } from 'ajv';
import type { Static, TSchema } from '@sinclair/typebox';
import { invalid } from '../runtime/api.js';

const ajv = new Ajv({ coerceTypes: false, allErrors: false });
const compiled = new WeakMap<TSchema, ValidateFunction>();

/** `where` names the value in the message, as Fastify's validation names it (`query`, `body`). */
export function validated<T extends TSchema>(schema: T, value: unknown, where = 'query'): Static<T> {
  let check = compiled.get(schema);
  if (!check) compiled.set(schema, (check = ajv.compile(schema)));
  const copy = structuredClone(value ?? {});
  if (!check(copy)) throw invalid(`invalid parameter: ${ajv.errorsText(check.errors, { dataVar: where })}`);
  return copy as Static<T>;
}
