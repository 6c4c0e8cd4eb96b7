// The exec verbs the server may call: options in, results out; no store, path or process leaks out.
import type { Engine } from '../engine.js';
import type { ExecStartOptions } from '../exec/service.js';
import type { ExecSession } from '../exec/store.js';
import { execOutput, execStdin, resizeExec } from '../exec/io.js';

/** What an exec runs and how it is attached (today Docker's exec create body). */
export type ExecConfig = ExecSession['config'];

export function execApi(engine: Engine) {
  const { execs } = engine;
  return {
    /** A session in a running container; its ID. */
    create: (container: string, config: ExecConfig): string => execs.create(container, config),
    /** The session, its state brought up to date. */
    inspect: (id: string): ExecSession => execs.inspect(id),
    /** What start would refuse (no such session, run already, container not running), refused now. */
    checkStartable: (id: string): ExecSession => execs.checkStartable(id).session,
    /** Starts the process; resolves once it runs. */
    start: (id: string, o: Pick<ExecStartOptions, 'consoleSize' | 'notFoundCode'> = {}): Promise<ExecSession> =>
      execs.start(id, { consoleSize: o.consoleSize, notFoundCode: o.notFoundCode }),
    /** A started session's output, in batches, until its process has ended and its log is drained. */
    output: (s: ExecSession, o: { stdout: boolean; stderr: boolean; signal: AbortSignal }) => execOutput(execs, s, o),
    stdin: (s: ExecSession) => execStdin(execs, s),
    resize: (id: string, height: number, width: number) => resizeExec(execs, id, height, width),
    /** Signals a running session's process (the exec websocket's hangup when its client goes away). */
    signal: (id: string, signal: NodeJS.Signals) => execs.signal(id, signal),
  };
}
