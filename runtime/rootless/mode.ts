// Whether this engine runs rootless: started by a normal user and re-executed by the launcher inside its
// pause user namespace (runtime/rootless/pause.ts), where it is uid 0 with the user's subuid range.
// Inside, geteuid() is 0 like a rootful engine's, so the launcher says so in the environment.

export function rootless(): boolean {
  return process.env.BERTH_ROOTLESS === '1';
}
