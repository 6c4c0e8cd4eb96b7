// libpod's error body: {"cause","message","response"}. podman writes the innermost wrapped error as
// `cause` (define.ErrNoSuchCtr's "no such container"...), the whole error as `message`, the status as
// `response`; podman --remote reads `response` to tell "not found" from other failures (a generic
// inspect falls through container → image → volume → network only on 404). The runtime words its
// errors as dockerd does; the ones libpod words differently are translated here.
import { logrusMessage, type EngineError } from '../../runtime/api.js';

export interface LibpodErrorBody {
  cause: string;
  message: string;
  response: number;
}

/** dockerd's wording → libpod's cause and message. */
const TRANSLATIONS: { pattern: RegExp; cause: string | ((inner: string) => string); message: (name: string, cause: string, whole: string) => string }[] = [
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
  { pattern: /^(.*): pod already exists$/, cause: 'pod already exists', message: (m) => `${m}: pod already exists` },
  { pattern: /^(.*): no such pod$/, cause: 'no such pod', message: (m) => `${m}: no such pod` },
  // runc's failure to start a process: podman names the runtime and wraps the cause the client reads
  // (its exit code is 127 when the message says "not found" or "no such file", 126 otherwise).
  {
    pattern: /^OCI runtime (?:create|exec) failed: (.*?)(?:: unknown)?$/s,
    cause: ociCause,
    message: (inner, cause) => `runc: ${logrusMessage(inner)}: ${cause}`,
  },
  // A user or group the container does not have (exec -u): the lookup's words are the cause.
  {
    pattern: /^unable to find (?:user|group) .*?: (no matching entries in (?:passwd|group) file)$/,
    cause: (inner) => inner,
    message: (_inner, _cause, whole) => whole,
  },
  // A query podman's schema decoder refuses: the decoder's words are the cause.
  { pattern: /^failed to parse parameters for \S+: (.*)$/s, cause: (inner) => inner, message: (_inner, _cause, whole) => whole },
];

/** podman's define.ErrOCIRuntime* cause for runc's message. */
function ociCause(inner: string): string {
  if (/executable file not found|no such file or directory/.test(inner)) return 'OCI runtime attempted to invoke a command that was not found';
  if (/permission denied/.test(inner)) return 'OCI permission denied';
  return 'OCI runtime error';
}

/** The body of an engine error as libpod sends it with `status`. */
export function libpodError(error: Pick<EngineError, 'message'>, status: number): LibpodErrorBody {
  for (const t of TRANSLATIONS) {
    const m = t.pattern.exec(error.message);
    if (!m) continue;
    const cause = typeof t.cause === 'string' ? t.cause : t.cause(m[1]!);
    return { cause, message: t.message(m[1]!, cause, error.message), response: status };
  }
  // An error that wraps nothing is its own cause.
  return { cause: error.message, message: error.message, response: status };
}

// podman's attach prepares (inits) the container before its 101; a run that fails there is the attach's
// failure, worded so (container-verbs/attach-waiting.ts): the inner error translated as on its own.
TRANSLATIONS.push({
  pattern: /^preparing container \S+ for attach: (.*)$/s,
  cause: (inner) => libpodError({ message: inner }, 0).cause,
  message: (inner, _cause, whole) => `${whole.slice(0, whole.length - inner.length)}${libpodError({ message: inner }, 0).message}`,
});
