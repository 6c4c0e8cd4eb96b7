// The Kubernetes verbs the server may call (generate kube; play kube adds its own).
import type { Engine } from '../engine.js';
import { generateKube, type GenerateKubeOptions } from '../kube/generate.js';

export type { GenerateKubeOptions };

export function kubeApi(engine: Engine) {
  return {
    /** YAML for containers, pods and volumes, by name or ID (podman's `generate kube`). */
    generateKube: (names: string[], o: GenerateKubeOptions = {}): Promise<string> => generateKube(engine, names, o),
  };
}
