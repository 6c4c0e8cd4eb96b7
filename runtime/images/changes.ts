// `--change` instructions (docker commit, docker import): Dockerfile instructions applied to the config
// of the image being made.
import { invalid } from '../errors.js';
import type { ContainerConfig } from './config.js';

const shellOrJson = (args: string): string[] => {
  const text = args.trim();
  if (text.startsWith('[')) {
    try {
      return JSON.parse(text) as string[];
    } catch {
      // not JSON: the shell form
    }
  }
  return ['/bin/sh', '-c', text];
};

/** Applies `--change` Dockerfile instructions (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL). */
export function applyChanges(config: ContainerConfig, changes: string[]): ContainerConfig {
  const out: ContainerConfig = { ...config, Env: [...(config.Env ?? [])], Labels: { ...(config.Labels ?? {}) } };
  for (const change of changes
    .flatMap((c) => c.split('\n'))
    .map((c) => c.trim())
    .filter(Boolean)) {
    const [, keyword = '', rest = ''] = /^(\w+)\s+([\s\S]*)$/.exec(change) ?? [];
    switch (keyword.toUpperCase()) {
      case 'CMD':
        out.Cmd = shellOrJson(rest);
        break;
      case 'ENTRYPOINT':
        out.Entrypoint = shellOrJson(rest);
        break;
      case 'ENV': {
        const pairs = rest.includes('=') ? (rest.match(/(\S+?)=("[^"]*"|\S*)/g) ?? []) : [rest.replace(/\s+/, '=')];
        for (const pair of pairs) {
          const [key] = pair.split('=');
          const value = pair.slice(key!.length + 1).replace(/^"(.*)"$/, '$1');
          out.Env = [...out.Env!.filter((e) => e.split('=')[0] !== key), `${key}=${value}`];
        }
        break;
      }
      case 'LABEL':
        for (const pair of rest.match(/(\S+?)=("[^"]*"|\S*)/g) ?? []) {
          const [key] = pair.split('=');
          out.Labels![key!] = pair.slice(key!.length + 1).replace(/^"(.*)"$/, '$1');
        }
        break;
      case 'EXPOSE':
        out.ExposedPorts = { ...(out.ExposedPorts ?? {}) };
        for (const port of rest.split(/\s+/)) out.ExposedPorts[port.includes('/') ? port : `${port}/tcp`] = {};
        break;
      case 'USER':
        out.User = rest;
        break;
      case 'WORKDIR':
        out.WorkingDir = rest;
        break;
      case 'STOPSIGNAL':
        out.StopSignal = rest;
        break;
      case 'VOLUME':
        out.Volumes = { ...(out.Volumes ?? {}) };
        for (const v of shellOrJson(rest)[0] === '/bin/sh' ? rest.split(/\s+/) : shellOrJson(rest)) out.Volumes[v] = {};
        break;
      default:
        throw invalid(`${keyword} is not a valid change command`);
    }
  }
  return out;
}
