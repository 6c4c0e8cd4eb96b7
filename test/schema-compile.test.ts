// Route schemas compile on a route's first use (server/validate.ts), so a schema ajv or
// fast-json-stringify refuses no longer stops the engine at start: this compiles them all.
import { describe, expect, it } from 'vitest';
import { buildApp } from '../server/app.js';
import { compileAllSchemas, FIRST_ROUTES, pendingSchemaRoutes, warmSchemas } from '../server/validate.js';
import type { Engine } from '../runtime/api.js';

/** An engine the routes are wired to but never call: every property is another such stand-in (paths are strings). */
const standIn = (): any =>
  new Proxy(() => {}, { get: (_t, key) => (key === 'then' ? undefined : typeof key === 'string' && /root$/i.test(key) ? '/nonexistent' : standIn()) });

describe('route schemas', () => {
  it('are left uncompiled at start, and every one compiles', async () => {
    const app = await buildApp(standIn() as Engine);
    await app.ready();
    const pending = pendingSchemaRoutes();
    expect(pending.length).toBeGreaterThan(100);
    // The routes warmed after the first request are named as Fastify names them.
    for (const route of FIRST_ROUTES) expect(pending).toContain(route);
    await warmSchemas(FIRST_ROUTES);
    for (const route of FIRST_ROUTES) expect(pendingSchemaRoutes()).not.toContain(route);
    compileAllSchemas();
    expect(pendingSchemaRoutes()).toEqual([]);
    await app.close();
  });
});
