// Schemas of the libpod API's registry and build routes: pull, push, search, build. podman --remote
// sends every parameter it knows (many empty); those berth has no use for are accepted and ignored.
import { Type, type Static } from '@sinclair/typebox';

const Str = Type.Optional(Type.String());
const Strings = Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())]));
const Open = { additionalProperties: true };

export const LibpodPullQuery = Type.Object(
  {
    reference: Type.Optional(Type.String({ description: 'what to pull: a name, short or qualified' })),
    policy: Type.Optional(Type.String({ description: 'always (podman pull), missing (run, create), never, newer' })),
    tlsVerify: Type.Optional(Type.String({ description: 'false: plain HTTP and unverified TLS allowed' })),
    quiet: Str,
    allTags: Str,
    username: Str,
    password: Str,
    arch: Str,
    os: Str,
    variant: Str,
  },
  Open,
);
export type LibpodPullQuery = Static<typeof LibpodPullQuery>;

export const LibpodPushQuery = Type.Object(
  {
    destination: Type.Optional(Type.String({ description: 'where to push: host/repo[:tag]; default the image name' })),
    tlsVerify: Str,
    username: Str,
    password: Str,
    quiet: Str,
  },
  Open,
);
export type LibpodPushQuery = Static<typeof LibpodPushQuery>;

export const LibpodSearchQuery = Type.Object(
  {
    term: Type.Optional(Type.String()),
    limit: Str,
    tlsVerify: Str,
    listtags: Type.Optional(Type.String({ description: 'true: the tags of the repository named by term' })),
    filters: Str,
  },
  Open,
);

export const LibpodSearchResult = Type.Object({
  Index: Type.String(),
  Name: Type.String(),
  Description: Type.String(),
  Stars: Type.Integer(),
  Official: Type.String(),
  Automated: Type.String(),
  Tag: Type.String(),
});

export const LibpodBuildQuery = Type.Object(
  {
    dockerfile: Type.Optional(Type.String({ description: 'JSON list of Containerfile paths in the context (the first is used)' })),
    t: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())], { description: 'name:tag, repeated; unqualified names get localhost/' })),
    layers: Str,
    rm: Str,
    forcerm: Str,
    nocache: Str,
    pullpolicy: Type.Optional(Type.String({ description: 'missing, always, never, newer' })),
    pull: Str,
    buildargs: Type.Optional(Type.String({ description: 'JSON object of build arguments' })),
    labels: Type.Optional(Type.String({ description: 'JSON object of labels' })),
    squash: Str,
    target: Str,
    platform: Str,
    networkmode: Str,
    outputformat: Str,
    q: Str,
    tlsVerify: Type.Optional(Type.String({ description: 'false: base images pulled over plain HTTP or unverified TLS' })),
    extrahosts: Strings,
  },
  Open,
);
export type LibpodBuildQuery = Static<typeof LibpodBuildQuery>;
