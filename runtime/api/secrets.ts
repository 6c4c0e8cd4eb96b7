// The secrets verbs the server may call (libpod's secret resource): options in, records out; the data
// goes in as bytes and only containers (at start) read it back.
import type { Engine } from '../engine.js';
import { SecretStore, type Secret } from '../secrets/store.js';

export interface SecretCreateOptions {
  name: string;
  data: Buffer;
  driver?: string;
  labels?: Record<string, string>;
}

/** An absent or empty filter matches; otherwise any of its values must. */
const anyOf = (values: string[] | undefined, test: (v: string) => boolean) => !values?.length || values.some(test);

export function secretApi(engine: Engine) {
  const store = new SecretStore(engine.db, engine.options.root);
  return {
    create: (o: SecretCreateOptions): Promise<Secret> => store.create(o),
    /** With podman's filters: name and id (any value of a key; every key). */
    list: (filters: Record<string, string[]> = {}): Secret[] =>
      store.all().filter((s) => anyOf(filters.name, (n) => s.name.includes(n)) && anyOf(filters.id, (id) => s.id.startsWith(id))),
    inspect: (ref: string): Secret => store.get(ref),
    /** Whether a secret of that name or ID exists. */
    exists: (ref: string): boolean => store.find(ref) !== undefined,
    remove: (ref: string): Promise<Secret> => store.remove(ref),
  };
}
