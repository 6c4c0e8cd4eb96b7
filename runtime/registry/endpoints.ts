// Which server a repository's domain means, and how to talk to it: docker.io is registry-1.docker.io;
// loopback registries are insecure by default (as in Docker); TLS material comes from Docker's
// certs.d layout (`<certsDir>/<host[:port]>/ca.crt`, `*.crt` CAs, `client.cert` + `client.key`).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import type { Endpoint } from './client.js';
import { EMPTY_CONF, type RegistriesConf } from './config.js';

export interface RegistryOptions {
  /** Hosts (host[:port]) allowed over plain HTTP and unverified TLS, beyond loopback. */
  insecure: string[];
  certsDir: string;
  conf: RegistriesConf;
}

export const DEFAULT_REGISTRY_OPTIONS: RegistryOptions = { insecure: [], certsDir: '/etc/docker/certs.d', conf: EMPTY_CONF };

export const registryHost = (domain: string) => (domain === 'docker.io' ? 'registry-1.docker.io' : domain);

/** The system CA bundle (Debian's ca-certificates), else Node's own roots. */
async function systemCAs(): Promise<(Buffer | string)[]> {
  const bundle = await readFile('/etc/ssl/certs/ca-certificates.crt').catch(() => undefined);
  return bundle ? [bundle] : [...rootCertificates];
}

function isLoopback(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return name === 'localhost' || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name);
}

/** How to reach `domain`; `insecure` (a registries.conf entry or mirror says so) allows plain HTTP too. */
export async function endpointFor(domain: string, o: RegistryOptions, insecureHere = false): Promise<Endpoint> {
  const host = registryHost(domain);
  const configured = o.conf.registries.some((r) => r.insecure && (r.location === domain || r.prefix === domain));
  const insecure = insecureHere || configured || isLoopback(host) || o.insecure.includes(host) || o.insecure.includes(domain);
  const dir = join(o.certsDir, domain);
  const files = await readdir(dir).catch(() => [] as string[]);
  const extra = await Promise.all(files.filter((f) => f.endsWith('.crt')).map((f) => readFile(join(dir, f))));
  // CAs given to TLS replace the defaults: as Docker, certs.d adds to the system's bundle.
  const ca = extra.length ? [...(await systemCAs()), ...extra] : [];
  const certFile = files.find((f) => f.endsWith('.cert'));
  const keyFile = certFile && files.find((f) => f === certFile.replace(/\.cert$/, '.key'));
  return {
    host,
    insecure,
    tls: {
      ca,
      cert: certFile && keyFile ? await readFile(join(dir, certFile)) : undefined,
      key: certFile && keyFile ? await readFile(join(dir, keyFile)) : undefined,
    },
  };
}
