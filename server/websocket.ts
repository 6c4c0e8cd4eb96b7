// A WebSocket as a Node Duplex, so the websocket attach shares the hijacked attach's code: messages
// in are stdin bytes, writes go out as binary messages. A WebSocket has no half-close: the end of
// either side closes it.
import { Duplex } from 'node:stream';

interface WebSocketLike {
  send(data: Buffer, options: { binary: boolean }, cb?: (err?: Error) => void): void;
  close(): void;
  on(event: 'message', listener: (data: Buffer) => void): void;
  on(event: 'close' | 'error', listener: () => void): void;
}

export function websocketDuplex(ws: WebSocketLike): Duplex {
  const duplex = new Duplex({
    read() {
      // messages are pushed as they come
    },
    write(chunk: Buffer, _enc, done) {
      ws.send(chunk, { binary: true }, (err) => done(err ?? null));
    },
    final(done) {
      ws.close();
      done();
    },
  });
  ws.on('message', (data) => duplex.push(Buffer.from(data)));
  ws.on('close', () => {
    duplex.push(null);
    duplex.destroy();
  });
  ws.on('error', () => duplex.destroy());
  return duplex;
}
