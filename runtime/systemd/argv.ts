// Command lines inside unit files: systemd's quoting and specifiers, podman's line layout, and the
// rewriting of a client's argv so that it reaches berth's socket (a unit runs on the engine's host,
// where the client's configuration — its connections, CONTAINER_HOST — is not).

const quoted = (s: string) => (s === '' || /[\s"'\\;]/.test(s) ? JSON.stringify(s) : s);

/**
 * One argument as systemd reads it on an Exec line: `%` and `$` doubled (the word reaches podman as
 * it is, neither a specifier nor expanded from the unit's environment), quoted when it holds blanks
 * or quotes.
 */
export const escapeArg = (arg: string) => quoted(arg.replace(/[%$]/g, (c) => c + c));

/** A Quadlet file's word: a unit-file word already (`%h` there is the specifier, `%%` a percent sign), so only `$` is doubled. */
export const escapeUnitWord = (word: string) => quoted(word.replace(/\$/g, '$$$$'));

/**
 * podman's layout: the first word, then every argument that starts with `-` on a continuation line
 * (a flag's value stays beside it). `inline` words follow the first on its line (a remote client's
 * global flags in stop/rm lines, as podman writes its pod units' root flags).
 */
export function layout(argv: string[], inline = 1): string {
  let out = argv.slice(0, inline).join(' ');
  for (const a of argv.slice(inline)) out += a.startsWith('-') ? ` \\\n\t${a}` : ` ${a}`;
  return out;
}

/** The podman client's global flags that take a value (those before the subcommand). */
const GLOBAL_WITH_VALUE = new Set([
  '--url',
  '--connection',
  '-c',
  '--identity',
  '--log-level',
  '--cgroup-manager',
  '--root',
  '--runroot',
  '--events-backend',
  '--module',
  '--ssh',
]);

/**
 * A recorded create command (`podman [global flags] <sub...> args`) split at its subcommand `words`
 * (`['run']`/`['create']`, `['pod','create']`): the global flags with the client's way of reaching
 * the engine replaced by `url` (what a unit on this host must use), and the arguments after it.
 */
export function splitCommand(argv: string[], words: string[][], url: string): { globals: string[]; args: string[] } | undefined {
  let i = 1;
  const globals: string[] = [];
  while (i < argv.length && argv[i]!.startsWith('-')) {
    const a = argv[i]!;
    const name = a.split('=')[0]!;
    const takesValue = GLOBAL_WITH_VALUE.has(name) && !a.includes('=');
    const value = takesValue ? argv[i + 1] : undefined;
    i += takesValue ? 2 : 1;
    // The client's own connection (a name in its config, an ssh identity, the socket it reached us by
    // when not a Unix path on this host) means nothing to systemd here: the unit uses `url`.
    if (['--url', '--connection', '-c', '--identity', '--remote', '-r', '--ssh'].includes(name)) continue;
    globals.push(a, ...(value === undefined ? [] : [value]));
  }
  const at = words.find((w) => w.every((word, k) => argv[i + k] === word));
  if (!at) return undefined;
  return { globals: ['--remote', '--url', url, ...globals], args: argv.slice(i + at.length) };
}

/** podman run/create's flags that take no value (all others take one, unless given as `--flag=value`). */
const RUN_BOOLS = new Set(
  '-d --detach -i --interactive -t --tty --rm --replace --privileged --init --read-only --read-only-tmpfs --no-hosts --no-healthcheck -P --publish-all --rmi --sig-proxy --http-proxy --oom-kill-disable --env-host -q --quiet --help --disable-content-trust --tls-verify --passwd --rootfs --pull-always'.split(
    ' ',
  ),
);
const POD_BOOLS = new Set('--infra --replace --help --no-hosts --share-parent'.split(' '));
const valuedIn = (bools: Set<string>) => (flag: string) => {
  // Combined short flags (`-dit`, `-dp 80:80`): the last letter decides.
  if (/^-[A-Za-z]{2,}$/.test(flag)) return !bools.has(`-${flag.at(-1)}`);
  return !bools.has(flag);
};
export const runFlagValued = valuedIn(RUN_BOOLS);
export const podFlagValued = valuedIn(POD_BOOLS);

/** The index in `args` where the positional part (image and command) starts, given the valued flags. */
export function positionalStart(args: string[], valued: (flag: string) => boolean): number {
  let i = 0;
  while (i < args.length) {
    const a = args[i]!;
    if (a === '--') return i + 1;
    if (!a.startsWith('-') || a === '-') return i;
    const name = a.split('=')[0]!;
    i += !a.includes('=') && valued(name) ? 2 : 1;
  }
  return i;
}

/** `args`' flags before `end` with `drop`'s flags (and their values) removed. */
export function dropFlags(args: string[], end: number, drop: Set<string>, valued: (flag: string) => boolean): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < end) {
    const a = args[i]!;
    const name = a.split('=')[0]!;
    const width = a.startsWith('-') && !a.includes('=') && valued(name) ? 2 : 1;
    if (!drop.has(name)) out.push(...args.slice(i, i + width));
    i += width;
  }
  return [...out, ...args.slice(end)];
}
