// The containers verbs the server may call: options in, results out; no store, path or process leaks out.
import type { Engine } from '../engine.js';

export function containerApi(engine: Engine) {
  void engine;
  return {};
}
