// libpod's error body: {"cause","message","response"}. podman writes the innermost wrapped error as
// `cause` (define.ErrNoSuchCtr's "no such container"...), the whole error as `message`, the status as
// `response`; podman --remote reads `response` to tell "not found" from other failures (a generic
// inspect falls through container → image → volume → network only on 404). The runtime words its
// errors as dockerd does; the ones libpod words differently are translated here.
import type { EngineError } from '../../runtime/api.js';

export interface LibpodErrorBody {
  cause: string;
  message: string;
  response: number;
}

/** dockerd's wording → libpod's cause and message. */
const TRANSLATIONS: { pattern: RegExp; cause: string; message: (name: string) => string }[] = [
  { pattern: /^No such container: (.*)$/, cause: 'no such container', message: (n) => `no container with name or ID "${n}" found: no such container` },
  { pattern: /^No such image: (.*)$/, cause: 'image not known', message: (n) => `${n}: image not known` },
  { pattern: /^get (.*): no such volume$/, cause: 'no such volume', message: (n) => `no volume with name "${n}" found: no such volume` },
  {
    pattern: /^failed to find image (.*?): .*: image not known$/,
    cause: 'image not known',
    message: (n) => `failed to find image ${n}: ${n}: image not known`,
  },
  { pattern: /^(.*): image not known$/, cause: 'image not known', message: (n) => `${n}: image not known` },
  { pattern: /^(.*): tag not known$/, cause: 'tag not known', message: (n) => `${n}: tag not known` },
  { pattern: /^network (.*) not found$/, cause: 'network not found', message: (n) => `unable to find network with name or ID ${n}: network not found` },
  // Errors libpod's own routes word as podman does, ending in podman's cause.
  { pattern: /^(.*): container state improper$/, cause: 'container state improper', message: (m) => `${m}: container state improper` },
  { pattern: /^(.*): container already exists$/, cause: 'container already exists', message: (m) => `${m}: container already exists` },
  { pattern: /^(.*): that name is already in use$/, cause: 'that name is already in use', message: (m) => `${m}: that name is already in use` },
  {
    pattern: /^no secret with name or id "(.*)": no such secret$/,
    cause: 'no such secret',
    message: (n) => `no secret with name or id "${n}": no such secret`,
  },
];

/** The body of an engine error as libpod sends it with `status`. */
export function libpodError(error: Pick<EngineError, 'message'>, status: number): LibpodErrorBody {
  for (const t of TRANSLATIONS) {
    const m = t.pattern.exec(error.message);
    if (m) return { cause: t.cause, message: t.message(m[1]!), response: status };
  }
  // An error that wraps nothing is its own cause.
  return { cause: error.message, message: error.message, response: status };
}
