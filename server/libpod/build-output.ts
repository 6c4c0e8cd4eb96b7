// podman build through the libpod API: its query as the builder's request, and the builder's events in
// podman's (buildah's) words: `STEP 1/3: FROM …` (`[1/2] ` before each line of a multi-stage build),
// RUN output as it comes, `--> Using cache <id>` and `--> <11 hex>` after each step but FROM, `COMMIT
// <name>` before the last step's image (unless the cache gave it), `Successfully tagged <full name>`,
// then the image ID. A failed RUN is `building at STEP "<step>": while running runtime: exit status
// <code>`; the client exits with that code.
import { isShortName, type BuildEvent, type BuildRequest } from '../../runtime/api.js';
import type { LibpodBuildQuery } from '../../openapi/libpod-image-transfer.js';
import { parseBool, repeated, jsonParam } from '../query.js';

/** `pm2build:1` → `localhost/pm2build:1`: podman names what it makes without a registry under localhost. */
export const qualifyLocal = (name: string) => (isShortName(name) ? `localhost/${name}` : name);

/** The query podman --remote sends, as the builder's request (what the builder has no use for is ignored). */
export function buildRequestOf(q: LibpodBuildQuery): BuildRequest & { layers: boolean; tags: string[] } {
  // `dockerfile` is a JSON list of names in the context; an old client's plain name is taken as one.
  const dockerfiles = q.dockerfile?.startsWith('[') ? (jsonParam<string[]>('dockerfile', q.dockerfile) ?? []) : repeated(q.dockerfile);
  const pullPolicy = (q.pullpolicy ?? '').toLowerCase();
  // Without layers (the client sends none for --layers=false and for --squash) buildah runs every step
  // in one container and commits once: the build's own layers become one over its base, a squash.
  const layers = parseBool(q.layers) && !parseBool(q.squash);
  const squash = !layers;
  return {
    dockerfile: dockerfiles[0] || undefined,
    tags: repeated(q.t).filter(Boolean).map(qualifyLocal),
    buildArgs: jsonParam<Record<string, string>>('buildargs', q.buildargs) ?? {},
    labels: labelsOf(q.labels),
    target: q.target || undefined,
    // Without layers there are no step images, so nothing is taken from the cache either.
    noCache: parseBool(q.nocache) || !layers,
    pull: pullPolicy === 'always' || pullPolicy === 'newer' || parseBool(q.pull),
    remove: parseBool(q.rm, true),
    forceRemove: parseBool(q.forcerm, true),
    // networkmode is buildah's policy number: 1 is "none"; 0 (default) and 2 (enabled) the default network.
    networkMode: q.networkmode === '1' ? 'none' : undefined,
    // podman sends `platform=/` when none is asked for.
    platform: q.platform && q.platform !== '/' ? q.platform : undefined,
    squash,
    insecure: q.tlsVerify !== undefined && !parseBool(q.tlsVerify, true),
    names: 'podman',
    layers,
  };
}

/** podman sends its --label flags as a JSON list of `key=value`; a JSON object is taken too. */
function labelsOf(value: string | undefined): Record<string, string> {
  const parsed = jsonParam<string[] | Record<string, string>>('labels', value);
  if (!Array.isArray(parsed)) return parsed ?? {};
  return Object.fromEntries(parsed.map((l) => [l.split('=')[0]!, l.includes('=') ? l.slice(l.indexOf('=') + 1) : '']));
}

/** What containers/image prints of a copy (pull, push): the blobs (top first), the config, the manifest. */
export function copyLines(id: string, layers: string[]): string[] {
  return [
    'Getting image source signatures\n',
    ...[...layers].reverse().map((l) => `Copying blob ${l}\n`),
    `Copying config ${id}\n`,
    'Writing manifest to image destination\n',
    'Storing signatures\n',
  ];
}

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 11);

/** podman's lines for the events of one build (`quiet`: none but the ID); `given`: the -t names as typed (COMMIT shows the first). */
export function buildOutput(given: string[], o: { quiet: boolean; layers: boolean }) {
  let step: Extract<BuildEvent, { kind: 'step' }> | undefined;
  let cached = false;
  const prefix = () => (step && step.stages > 1 ? `[${step.stage}/${step.stages}] ` : '');
  const final = () => !!step && step.stage === step.stages && step.stageIndex === step.stageTotal;
  return {
    event(e: BuildEvent): string[] {
      if (o.quiet) return [];
      switch (e.kind) {
        case 'stdout':
        case 'stderr':
          return [e.text];
        case 'step':
          step = e;
          cached = false;
          return e.stage === 0 ? [] : [`${prefix()}STEP ${e.stageIndex}/${e.stageTotal}: ${e.text}\n`];
        case 'cached':
          cached = true;
          return [`--> Using cache ${e.id.replace(/^sha256:/, '')}\n`];
        case 'stepped':
          // The last step's image is said at `built` (a squash makes another).
          if (final()) return cached ? [] : [`${prefix()}COMMIT${given[0] ? ` ${given[0]}` : ''}\n`];
          return e.from || (!o.layers && !cached) ? [] : [`--> ${short(e.id)}\n`];
        case 'built':
          // Without layers buildah commits once, and says what it copies (bottom layer first).
          return [...(o.layers ? [] : copyLines(e.id, [...e.layers].reverse())), `--> ${short(e.id)}\n`];
        case 'tagged':
          return [`Successfully tagged ${e.reference}\n`];
        case 'pull':
          return [`Trying to pull ${e.reference}...\n`];
        case 'pulled':
          return copyLines(e.id, e.layers);
        default:
          return [];
      }
    },
    finished: (id: string) => [`${id.replace(/^sha256:/, '')}\n`],
    /** The message of a failed build: a RUN's as buildah words it; a FROM's as "creating build container". */
    failure(message: string, code: number | undefined): string {
      if (code !== undefined && step) return `building at STEP "${step.text}": while running runtime: exit status ${code}\n`;
      // buildah's messages end in a newline (the client prints an empty line after them).
      if (step && step.stageIndex === 1 && step.stage > 0) return `creating build container: ${message}\n`;
      return message.endsWith('\n') ? message : `${message}\n`;
    },
  };
}
