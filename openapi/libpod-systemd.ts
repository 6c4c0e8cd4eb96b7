// libpod's generate systemd: its query (podman --remote sends every boolean and the prefixes, the
// rest when set; lists repeat the key) and its answer, unit name → unit text.
import { Type } from '@sinclair/typebox';

const Many = Type.Union([Type.String(), Type.Array(Type.String())]);
const Str = Type.Optional(Type.String());

export const GenerateSystemdQuery = Type.Object(
  {
    usename: Str,
    new: Str,
    noheader: Str,
    templateunitfile: Str,
    containerprefix: Str,
    podprefix: Str,
    separator: Str,
    restartpolicy: Str,
    restartsec: Str,
    starttimeout: Str,
    stoptimeout: Str,
    after: Type.Optional(Many),
    requires: Type.Optional(Many),
    wants: Type.Optional(Many),
    additionalenvvariables: Type.Optional(Many),
  },
  { additionalProperties: true },
);

export const GenerateSystemdReport = Type.Record(Type.String(), Type.String(), { description: 'Unit name (without .service) → unit text' });
