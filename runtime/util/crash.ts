// Crash injection for the tests' "kill -9 at any step" checks: with BERTH_CRASH_AT=<point> the engine
// kills itself (SIGKILL, nothing flushed or undone) when it reaches that point. Unset, it costs a compare.
const crashAt = process.env.BERTH_CRASH_AT;

export function crashPoint(name: string): void {
  if (crashAt === name) process.kill(process.pid, 'SIGKILL');
}
