// The one door from server/ into the engine: routes import the runtime's verbs, options and result
// types from here and nowhere else under runtime/ (checked in CI), so no route reaches a store, a
// path or a process. Each resource's verbs are added below as they move behind it.
export type { Engine } from './engine.js';
export { EngineError } from './errors.js';
