// How podman reads attach's query (its compat handler serves /libpod too): `stream`, stdin, stdout and
// stderr are each true unless the query says otherwise. cockpit-podman's terminal on a TTY container
// sends stdin, stdout and stderr only, no stream.
import { invalid } from '../../runtime/api.js';
import { parseBool } from '../query.js';

export interface AttachStreams {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  logs: boolean;
  stream: boolean;
}

type Query = { [K in keyof AttachStreams]?: string };

/** Docker's reading: every stream and `stream` itself only when asked for. */
export const dockerAttachQuery = (q: Query): AttachStreams => ({
  stdin: parseBool(q.stdin),
  stdout: parseBool(q.stdout),
  stderr: parseBool(q.stderr),
  logs: parseBool(q.logs),
  stream: parseBool(q.stream),
});

/** podman's reading, with its refusals (400s) before anything is attached. */
export function libpodAttachQuery(q: Query): AttachStreams {
  const streams = {
    stdin: parseBool(q.stdin, true),
    stdout: parseBool(q.stdout, true),
    stderr: parseBool(q.stderr, true),
    logs: parseBool(q.logs),
    stream: parseBool(q.stream, true),
  };
  if (!streams.stdin && !streams.stdout && !streams.stderr) throw invalid('at least one of stdin, stdout, stderr must be true');
  if (!streams.stream && !streams.logs) throw invalid('at least one of Logs or Stream must be set');
  return streams;
}
