// Build arguments as the classic builder keeps them: values given with --build-arg, ARGs declared
// before FROM (meta args, for FROM lines) and in the current stage (allowed in its RUN environment and
// substitutions), the proxy variables that are allowed without being declared, and which were used.

const BUILTIN = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);

export class BuildArgs {
  private allowed = new Map<string, string | undefined>();
  private readonly meta = new Map<string, string | undefined>();
  private readonly referenced = new Set<string>();

  constructor(private readonly fromOptions: Map<string, string | null>) {}

  /** A stage's copy: the meta args and what was used so far, none of the previous stage's ARGs. */
  forStage(): BuildArgs {
    const copy = new BuildArgs(this.fromOptions);
    for (const [k, v] of this.meta) copy.meta.set(k, v);
    for (const k of this.referenced) copy.referenced.add(k);
    return copy;
  }

  mergeReferenced(other: BuildArgs): void {
    for (const k of other.referenced) this.referenced.add(k);
  }

  /** ARG in a stage (and, with addMeta, before FROM). */
  add(key: string, value: string | undefined): void {
    this.allowed.set(key, value);
    this.referenced.add(key);
  }

  addMeta(key: string, value: string | undefined): void {
    this.meta.set(key, value);
  }

  private value(key: string, mapping: Map<string, string | undefined>): string | undefined {
    const given = this.fromOptions.get(key);
    if (given !== undefined && given !== null) return given;
    if (!mapping.has(key)) return undefined;
    const declared = mapping.get(key);
    if (declared === undefined) return mapping === this.meta ? undefined : this.meta.get(key);
    return declared;
  }

  private all(mapping: Map<string, string | undefined>): Map<string, string> {
    const out = new Map<string, string>();
    const keys = new Set([...mapping.keys(), ...[...BUILTIN].filter((k) => this.fromOptions.has(k))]);
    for (const key of keys) {
      const v = BUILTIN.has(key) && !mapping.has(key) ? (this.fromOptions.get(key) ?? undefined) : this.value(key, mapping);
      if (v !== undefined) out.set(key, v);
    }
    return out;
  }

  allAllowed = () => this.all(this.allowed);
  allMeta = () => this.all(this.meta);

  /** The allowed args (with values) that the environment does not set, as KEY=VALUE. */
  filterAllowed(env: string[]): string[] {
    const set = new Set(env.map((e) => e.split('=')[0]));
    return [...this.allAllowed()].filter(([k]) => !set.has(k)).map(([k, v]) => `${k}=${v}`);
  }

  /** Whether a RUN's cache key names this arg: declared ones always, the proxy ones only when declared. */
  inCacheKey = (key: string) => this.allowed.has(key) || !BUILTIN.has(key);

  /** --build-arg values no ARG used (the proxy ones never count). */
  unused(): string[] {
    return [...this.fromOptions.keys()].filter((k) => !BUILTIN.has(k) && !this.referenced.has(k)).sort();
  }
}
