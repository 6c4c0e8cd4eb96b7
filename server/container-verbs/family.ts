// The container verbs both API families serve (Docker's compat API and libpod) are route modules written
// once; `family` names the few places where they answer differently.
import type { Api } from '../../runtime/api.js';

export type Family = 'compat' | 'libpod';

export interface VerbOptions {
  api: Api;
  family: Family;
}
