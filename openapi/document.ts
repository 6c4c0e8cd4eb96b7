// The OpenAPI description of what berth serves, assembled from the schemas the routes validate with.
import type { TSchema } from '@sinclair/typebox';

export interface RouteDoc {
  method: string;
  url: string;
  summary?: string;
  querystring?: TSchema;
  body?: TSchema;
  response?: Record<number, TSchema>;
}

export function openApiDocument(routes: RouteDoc[], version: string, apiVersion: string): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const route of routes) {
    const path = route.url.replace(/:(\w+)/g, '{$1}').replace(/\*$/, '{name}');
    const parameters: { name: string; in: string; schema: object }[] = Object.entries(
      (route.querystring as { properties?: Record<string, TSchema> } | undefined)?.properties ?? {},
    ).map(([name, schema]) => ({ name, in: 'query', schema }));
    for (const p of path.matchAll(/\{(\w+)\}/g)) parameters.push({ name: p[1]!, in: 'path', schema: { type: 'string' } });
    const responses: Record<string, object> = {};
    for (const [status, schema] of Object.entries(route.response ?? { 200: undefined })) {
      responses[status] = schema ? { description: 'OK', content: { 'application/json': { schema } } } : { description: 'OK' };
    }
    (paths[path] ??= {})[route.method.toLowerCase()] = {
      summary: route.summary,
      parameters,
      ...(route.body ? { requestBody: { content: { 'application/json': { schema: route.body } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'berth: Docker Engine API', version: apiVersion, 'x-berth-version': version },
    servers: [{ url: '/v' + apiVersion }],
    paths,
  };
}
