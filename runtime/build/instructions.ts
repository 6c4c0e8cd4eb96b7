// Parsed nodes as typed instructions grouped into stages, checked the way the classic builder checks
// them before the build starts (argument counts, flags, FROM names, HEALTHCHECK options, ONBUILD
// triggers). Variables are substituted later, at dispatch, with the environment of that point.
import { DockerfileError, nodeFromLine, parseDockerfile, type Node } from './dockerfile.js';
import { parseGoDuration } from './gofmt.js';

export interface HealthConfig {
  Test: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  Retries?: number;
}

export type Instruction =
  | { kind: 'run' | 'cmd' | 'entrypoint'; node: Node; cmd: string[]; prependShell: boolean }
  | { kind: 'env' | 'label'; node: Node; pairs: [string, string][]; noExpand?: boolean }
  | { kind: 'arg'; node: Node; args: { key: string; value?: string }[] }
  | { kind: 'maintainer' | 'user' | 'workdir' | 'stopsignal'; node: Node; value: string }
  | { kind: 'expose'; node: Node; ports: string[] }
  | { kind: 'copy' | 'add'; node: Node; sources: string[]; dest: string; from?: string; chown?: string; chmod?: string }
  | { kind: 'volume'; node: Node; volumes: string[] }
  | { kind: 'healthcheck'; node: Node; health: HealthConfig }
  | { kind: 'onbuild'; node: Node; expression: string }
  | { kind: 'shell'; node: Node; shell: string[] };

export type ArgInstruction = Extract<Instruction, { kind: 'arg' }>;

export interface Stage {
  /** `AS name`, lower case; '' when unnamed. */
  name: string;
  base: string;
  platform?: string;
  /** `FROM ...` as written, trimmed. */
  source: string;
  commands: Instruction[];
}

export interface BuildPlan {
  stages: Stage[];
  metaArgs: ArgInstruction[];
  escape: string;
  warnings: string[];
}

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

/** Parses a Dockerfile into stages; errors name their line. */
export function parsePlan(text: string): BuildPlan {
  const file = parseDockerfile(text);
  const stages: Stage[] = [];
  const metaArgs: ArgInstruction[] = [];
  for (const node of file.nodes) {
    const at = <T>(fn: () => T): T => {
      try {
        return fn();
      } catch (err) {
        if (err instanceof DockerfileError) throw err;
        throw new DockerfileError((err as Error).message, node.startLine);
      }
    };
    if (node.cmd === 'from') {
      stages.push(at(() => parseFrom(node)));
      continue;
    }
    const instruction = at(() => parseInstruction(node));
    if (stages.length === 0) {
      if (instruction.kind === 'arg') {
        metaArgs.push(instruction);
        continue;
      }
      throw new DockerfileError('no build stage in current context', node.startLine);
    }
    stages[stages.length - 1]!.commands.push(instruction);
  }
  return { stages, metaArgs, escape: file.escape, warnings: file.warnings };
}

/** One instruction from its text (an ONBUILD trigger of a base image). */
export function parseTrigger(text: string, escape = '\\'): Instruction {
  const node = nodeFromLine(text, escape, 1, 1);
  if (node.cmd === 'from') throw new Error("FROM isn't allowed as an ONBUILD trigger");
  return parseInstruction(node);
}

/** The `--flag=value` words a node may carry (the names given), anything else refused as dockerd does. */
function flagsOf(node: Node, allowed: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const flag of node.flags) {
    if (!flag.startsWith('--')) throw new Error(`Arg "${flag}" must start with '--'`);
    if (flag === '--') break;
    const body = flag.slice(2);
    const eq = body.indexOf('=');
    const name = eq === -1 ? body : body.slice(0, eq);
    if (!allowed.includes(name)) throw new Error(`Unknown flag: ${name}`);
    if (name in out) throw new Error(`Duplicate flag specified: ${name}`);
    if (eq === -1) throw new Error(`Missing a value on flag: ${name}`);
    out[name] = body.slice(eq + 1);
  }
  return out;
}

function parseFrom(node: Node): Stage {
  const args = node.args;
  let name = '';
  if (args.length === 3 && args[1]!.toLowerCase() === 'as') {
    name = args[2]!.toLowerCase();
    if (!STAGE_NAME.test(name)) throw new Error(`invalid name for build stage: "${args[2]}", name can't start with a number or contain symbols`);
  } else if (args.length !== 1) {
    throw new Error('FROM requires either one or three arguments');
  }
  const flags = flagsOf(node, ['platform']);
  return { name, base: args[0]!, platform: flags.platform || undefined, source: node.original.trim(), commands: [] };
}

const atLeastOne = (node: Node) => {
  if (node.args.length === 0) throw new Error(`${node.cmd.toUpperCase()} requires at least one argument`);
};
const exactlyOne = (node: Node) => {
  if (node.args.length !== 1) throw new Error(`${node.cmd.toUpperCase()} requires exactly one argument`);
};

function parseInstruction(node: Node): Instruction {
  const name = node.cmd.toUpperCase();
  switch (node.cmd) {
    case 'run':
      flagsOf(node, []);
      atLeastOne(node);
      return { kind: 'run', node, cmd: node.args, prependShell: !node.json };
    case 'cmd':
    case 'entrypoint':
      flagsOf(node, []);
      return { kind: node.cmd, node, cmd: node.args, prependShell: !node.json };
    case 'env':
    case 'label': {
      flagsOf(node, []);
      atLeastOne(node);
      const pairs: [string, string][] = [];
      for (let i = 0; i < node.args.length; i += 2) {
        if (node.args[i] === '') throw new Error(`${name} names can not be blank`);
        pairs.push([node.args[i]!, node.args[i + 1] ?? '']);
      }
      return { kind: node.cmd, node, pairs };
    }
    case 'arg': {
      flagsOf(node, []);
      atLeastOne(node);
      return {
        kind: 'arg',
        node,
        args: node.args.map((word) => {
          const eq = word.indexOf('=');
          const key = eq === -1 ? word : word.slice(0, eq);
          if (key === '') throw new Error('ARG names can not be blank');
          return eq === -1 ? { key } : { key, value: word.slice(eq + 1) };
        }),
      };
    }
    case 'maintainer':
    case 'user':
    case 'workdir':
    case 'stopsignal':
      flagsOf(node, []);
      exactlyOne(node);
      return { kind: node.cmd, node, value: node.args[0]! };
    case 'expose':
      flagsOf(node, []);
      atLeastOne(node);
      return { kind: 'expose', node, ports: node.args };
    case 'copy':
    case 'add': {
      const flags = flagsOf(node, node.cmd === 'copy' ? ['from', 'chown', 'chmod'] : ['chown', 'chmod']);
      if (node.args.length < 2) throw new Error(`${name} requires at least two arguments, but only one was provided. Destination could not be determined.`);
      if (flags.chmod !== undefined && !/^[0-7]{1,4}$/.test(flags.chmod)) throw new Error(`invalid chmod parameter: ${flags.chmod}`);
      return {
        kind: node.cmd,
        node,
        sources: node.args.slice(0, -1),
        dest: node.args[node.args.length - 1]!,
        from: flags.from,
        chown: flags.chown || undefined,
        chmod: flags.chmod,
      };
    }
    case 'volume':
      flagsOf(node, []);
      atLeastOne(node);
      for (const v of node.args) if (v.trim() === '') throw new Error('VOLUME specified can not be an empty string');
      return { kind: 'volume', node, volumes: node.args };
    case 'healthcheck':
      return { kind: 'healthcheck', node, health: parseHealthcheck(node) };
    case 'onbuild': {
      flagsOf(node, []);
      atLeastOne(node);
      const trigger = node.trigger!;
      const triggerName = trigger.cmd.toUpperCase();
      if (triggerName === 'ONBUILD') throw new Error("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      if (triggerName === 'MAINTAINER' || triggerName === 'FROM') throw new Error(`${triggerName} isn't allowed as an ONBUILD trigger`);
      parseInstruction(trigger); // a trigger is checked now, not when an image uses it
      return { kind: 'onbuild', node, expression: node.original.replace(/^\s*ONBUILD\s*/i, '') };
    }
    case 'shell':
      flagsOf(node, []);
      atLeastOne(node);
      if (!node.json) throw new Error('SHELL requires the arguments to be in JSON form');
      return { kind: 'shell', node, shell: node.args };
    default:
      throw new Error(`unknown instruction: ${name}`);
  }
}

const MIN_DURATION_NS = 1e6;

function parseHealthcheck(node: Node): HealthConfig {
  atLeastOne(node);
  const type = node.args[0]!.toUpperCase();
  const args = node.args.slice(1);
  if (type === 'NONE') {
    if (args.length !== 0) throw new Error('HEALTHCHECK NONE takes no arguments');
    flagsOf(node, []);
    return { Test: ['NONE'] };
  }
  const flags = flagsOf(node, ['interval', 'timeout', 'start-period', 'retries']);
  if (type !== 'CMD') throw new Error(`Unknown type "${type}" in HEALTHCHECK (try CMD)`);
  if (args.length === 0) throw new Error('Missing command after HEALTHCHECK CMD');
  const health: HealthConfig = { Test: [node.json ? 'CMD' : 'CMD-SHELL', ...args] };
  const interval = (flag: string): number => {
    const value = flags[flag];
    if (!value) return 0;
    const ns = parseGoDuration(value);
    if (ns < MIN_DURATION_NS) throw new Error(`Interval "${flag}" cannot be less than 1ms`);
    return ns;
  };
  health.Interval = interval('interval');
  health.Timeout = interval('timeout');
  health.StartPeriod = interval('start-period');
  health.Retries = 0;
  if (flags.retries) {
    if (!/^[+-]?\d+$/.test(flags.retries)) throw new Error(`strconv.ParseInt: parsing "${flags.retries}": invalid syntax`);
    const retries = Number(flags.retries);
    if (retries < 1) throw new Error(`--retries must be at least 1 (not ${retries})`);
    health.Retries = retries;
  }
  return health;
}
