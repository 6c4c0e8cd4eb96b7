// Secrets as podman shows them (SecretInfoReport).
import type { Secret } from '../../../runtime/api.js';
import type { LibpodSecret } from '../../../openapi/libpod-secrets.js';

export function libpodSecretView(s: Secret): LibpodSecret {
  return {
    ID: s.id,
    CreatedAt: s.createdAt,
    UpdatedAt: s.updatedAt,
    Spec: { Name: s.name, Driver: { Name: s.driver, Options: s.options }, Labels: s.labels },
  };
}
