// A hijacked request that did not ask for an Upgrade (dockerode's `attach({stdin: true})` without
// `hijack`: a JSON body, then the container's stdin as raw bytes on the same connection). Node's HTTP
// parser still owns such a socket and would read those bytes as the next request (a 400 "Client Error"
// in the stream). dockerd hands the raw connection to the attach; this does the same, as Node itself
// does for an Upgrade: the server's parser is unhooked and the socket becomes a plain stream.
import type { Socket } from 'node:net';

/** Node's per-connection HTTP parser and the socket's handle, as http.Server leaves them (not public). */
interface ServerParser {
  _consumed?: boolean;
  unconsume?: () => void;
}
interface InternalSocket extends Socket {
  parser?: ServerParser | null;
  _handle?: { reading?: boolean; readStart?: () => number } | null;
}

/** The http.Server's own listeners on a connection, by the names Node gives them (lib/_http_server.js). */
const SERVER_LISTENERS: Record<string, string[]> = {
  data: ['bound socketOnData'],
  end: ['bound socketOnEnd'],
  error: ['socketOnError'],
  timeout: ['socketOnTimeout'],
  pause: ['onSocketPause'],
  resume: ['onSocketResume'],
};

/** Takes the socket from the HTTP server: what the client sends next is read raw, paused until read. */
export function takeRawSocket(socket: InternalSocket): void {
  socket.pause();
  const parser = socket.parser;
  if (parser?._consumed) {
    parser.unconsume?.();
    parser._consumed = false;
    // The parser read the handle itself; reading now stops with it until restarted (as Node's
    // onSocketResume does): the bytes then go to the stream, buffered while it is paused.
    const handle = socket._handle;
    if (handle && !handle.reading) {
      handle.reading = true;
      handle.readStart?.();
    }
  }
  for (const [event, names] of Object.entries(SERVER_LISTENERS)) {
    for (const listener of socket.listeners(event)) {
      if (names.includes(listener.name)) socket.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  socket.on('error', () => undefined); // socketOnError is gone: a reset must not throw
}
