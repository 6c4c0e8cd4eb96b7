// POST /auth (docker login): the credentials are tried against the registry as a pull would use them —
// Basic on /v2/ itself, or a token from the realm the /v2/ challenge names.
import { RegistryClient, RegistryError } from './client.js';
import { AuthError, type Credentials } from './auth.js';
import { endpointFor, type RegistryOptions } from './endpoints.js';

/** Docker's default index for a login without a server address. */
const DEFAULT_SERVER = 'https://index.docker.io/v1/';

/** `https://host/v1/`, `host:port`, `http://host` → the registry domain. */
export function serverDomain(serveraddress: string | undefined): string {
  const address = serveraddress || DEFAULT_SERVER;
  const host = address.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

export async function login(creds: Credentials, o: RegistryOptions): Promise<{ identityToken: string }> {
  const client = new RegistryClient(await endpointFor(serverDomain(creds.serveraddress), o), creds);
  try {
    const base = await client.baseUrl();
    const res = await client.fetch('GET', '/v2/', '');
    await res.body.dump();
    if (res.status === 401 || res.status === 403) {
      throw new RegistryError(`login attempt to ${base}/v2/ failed with status: ${res.status} ${res.status === 401 ? 'Unauthorized' : 'Forbidden'}`, 401);
    }
    if (res.status >= 300) throw new RegistryError(`login attempt to ${base}/v2/ failed with status: ${res.status}`, 500);
    return { identityToken: client.tokens.refreshToken ?? '' };
  } catch (err) {
    if (err instanceof RegistryError && err.code === 'UNAUTHORIZED') throw new RegistryError(err.message, 401);
    if (err instanceof AuthError) throw new RegistryError(err.message, 401);
    throw err;
  } finally {
    await client.close();
  }
}
