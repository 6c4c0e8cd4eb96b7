// docker-py (Debian's python3-docker, which scripts/deps.sh installs; what compose v1 runs on) against an
// engine: the Python client as users drive it, one script a process.
import { run, type Result } from './engine.js';

export interface DockerPyOptions {
  /** The API version the client pins (docker-py's `version=`), e.g. '1.41' as it talks to dockerd 20.10. */
  version?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs `script` by /usr/bin/python3 with `docker`, `json`, `sys` and `time` imported and the client
 * connected to `socket` as `client` (and `c`, its short name in scripts).
 */
export function dockerPy(socket: string, script: string, o: DockerPyOptions = {}): Promise<Result> {
  const version = o.version ? `, version='${o.version}'` : '';
  const prelude = `import docker, json, sys, time\nclient = c = docker.DockerClient(base_url=sys.argv[1]${version})\n`;
  return run('/usr/bin/python3', ['-c', prelude + script, `unix://${socket}`], { env: o.env });
}
