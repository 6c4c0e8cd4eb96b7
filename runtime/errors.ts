// Engine errors carry the HTTP-neutral kind of failure; the server maps kinds to status codes.
export type ErrorKind = 'invalid' | 'forbidden' | 'not-found' | 'conflict' | 'internal' | 'not-implemented';

export class EngineError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export const invalid = (message: string) => new EngineError('invalid', message);
export const notFound = (message: string) => new EngineError('not-found', message);
export const conflict = (message: string) => new EngineError('conflict', message);
