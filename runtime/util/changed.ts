import type { EventEmitter } from 'node:events';

/** A subscription to the 'changed' events of one ID on an emitter (for a log follower's onStateChange). */
export function changesOf(emitter: EventEmitter, id: string): (wake: () => void) => () => void {
  return (wake) => {
    const listener = (changed: string) => changed === id && wake();
    emitter.on('changed', listener);
    return () => emitter.off('changed', listener);
  };
}
