// SpecGenerator → ContainerSpec for secrets: `secrets` ([{Source,Target,UID,GID,Mode}], the files of
// --secret name[,target=,uid=,gid=,mode=]) and `secret_env` ({VAR: secret}, --secret name,type=env,
// target=VAR). Each secret is looked up now, so a create naming a missing one fails with podman's 404,
// and the spec keeps its ID. The values themselves are read only at start (runtime/secrets/container.ts).
import { secretDestination, type Api, type SecretSpec } from '../../../runtime/api.js';

/** One entry of SpecGenerator `secrets` (podman's specgen.Secret). */
export interface SpecGenSecret {
  Source: string;
  Target?: string;
  UID?: number;
  GID?: number;
  Mode?: number;
}

/** podman's default mode of a secret file: 0444. */
const DEFAULT_MODE = 0o444;

/** `spec.secrets` of a libpod create (undefined when it names none). Throws the lookup's not-found. */
export function secretsToSpec(
  api: Pick<Api, 'secrets'>,
  secrets: SpecGenSecret[] | null | undefined,
  secretEnv: Record<string, string> | null | undefined,
): SecretSpec[] | undefined {
  const out: SecretSpec[] = [];
  for (const s of secrets ?? []) {
    const found = api.secrets.inspect(s.Source);
    secretDestination({ target: s.Target ?? '', name: found.name }); // a target with `..` fails the create
    out.push({
      id: found.id,
      name: found.name,
      type: 'mount',
      target: s.Target || found.name,
      uid: s.UID ?? 0,
      gid: s.GID ?? 0,
      mode: s.Mode || DEFAULT_MODE,
    });
  }
  for (const [variable, source] of Object.entries(secretEnv ?? {})) {
    const found = api.secrets.inspect(source);
    out.push({ id: found.id, name: found.name, type: 'env', target: variable });
  }
  return out.length ? out : undefined;
}
