// The Dockerfile (Containerfile) parser, line for line as BuildKit's parser (the one the classic builder
// uses): parser directives (`# escape=`), comments, line continuations (comment lines inside them are
// dropped), the instruction word, `--flags`, and each instruction's argument syntax (JSON arrays or
// shell form, `KEY=VALUE` lists, whitespace lists). Errors carry the line they are on.

export class DockerfileError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(line === undefined ? message : `dockerfile parse error line ${line}: ${message}`);
  }
}

export interface Node {
  /** The instruction, lower case (`run`, `copy`...). */
  cmd: string;
  /** The instruction as written (continuations joined): what `Step N/M :` prints. */
  original: string;
  /** `--name=value` words before the arguments. */
  flags: string[];
  /** The arguments as the instruction's syntax splits them (ENV/LABEL: key, value, key, value...). */
  args: string[];
  /** Written as a JSON array. */
  json: boolean;
  /** ENV/LABEL in the legacy `KEY value` form. */
  legacy?: boolean;
  /** ONBUILD: the trigger instruction. */
  trigger?: Node;
  startLine: number;
  endLine: number;
}

export interface Dockerfile {
  nodes: Node[];
  escape: string;
  warnings: string[];
}

const WHITESPACE = /[\t\v\f\r ]+/;
const ESCAPE_DIRECTIVE = /^#[ \t]*escape[ \t]*=[ \t]*(.).*$/i;
const OTHER_DIRECTIVE = /^#[ \t]*([a-z][a-z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$/i;

const trimLeft = (s: string) => s.replace(/^[\s]+/u, '');
const isComment = (line: string) => trimLeft(line).startsWith('#');

export function parseDockerfile(text: string): Dockerfile {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  let escape = '\\';
  let directivesDone = false;
  const seen = new Set<string>();
  const directive = (line: string) => {
    if (directivesDone) return;
    const esc = ESCAPE_DIRECTIVE.exec(line);
    if (esc) {
      if (seen.has('escape')) throw new DockerfileError('only one escape parser directive can be used');
      seen.add('escape');
      if (esc[1] !== '`' && esc[1] !== '\\') throw new DockerfileError(`invalid escape token '${esc[1]}' does not match ${'`'} or \\`);
      escape = esc[1]!;
      return;
    }
    const other = OTHER_DIRECTIVE.exec(line);
    if (other && !seen.has(other[1]!.toLowerCase())) {
      seen.add(other[1]!.toLowerCase());
      return;
    }
    directivesDone = true;
  };
  const continuation = () => new RegExp(`${escape === '\\' ? '\\\\' : '`'}[ \\t]*$`);

  const nodes: Node[] = [];
  const warnings: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const raw = lines[i]!;
    const lineNo = i + 1;
    i++;
    try {
      directive(trimLeft(raw));
    } catch (err) {
      throw new DockerfileError((err as Error).message, lineNo);
    }
    let first = trimLeft(raw);
    if (isComment(first)) first = '';
    const cont = continuation();
    let line = first;
    let ended = !cont.test(line);
    if (!ended) line = line.replace(cont, '');
    if (ended && line.trim() === '') continue;
    let emptyContinuation = false;
    while (!ended && i < lines.length) {
      const next = lines[i]!;
      i++;
      if (isComment(next)) continue;
      if (next.trim() === '') {
        emptyContinuation = true;
        continue;
      }
      ended = !cont.test(next);
      line += ended ? next : next.replace(cont, '');
    }
    if (emptyContinuation) warnings.push(`[WARNING]: Empty continuation line found in:\n    ${line}`);
    if (line.trim() === '') continue; // only continuations of nothing
    nodes.push(nodeFromLine(line, escape, lineNo, i));
  }
  if (warnings.length) warnings.push('[WARNING]: Empty continuation lines will become errors in a future release.');
  if (nodes.length === 0) throw new DockerfileError('file with no instructions');
  return { nodes, escape, warnings };
}

/** Parses one logical line into a node (ONBUILD triggers come through here too). */
export function nodeFromLine(line: string, escape: string, startLine: number, endLine: number): Node {
  const trimmed = line.trim();
  const space = trimmed.search(WHITESPACE);
  const word = space === -1 ? trimmed : trimmed.slice(0, space);
  const cmd = word.toLowerCase();
  let rest = space === -1 ? '' : trimmed.slice(space).replace(WHITESPACE, '');
  let flags: string[] = [];
  if (rest) ({ rest, flags } = extractFlags(rest));
  rest = rest.trim();
  const node: Node = { cmd, original: line, flags, args: [], json: false, startLine, endLine };
  try {
    parseArguments(node, rest, escape);
  } catch (err) {
    throw err instanceof DockerfileError ? err : new DockerfileError((err as Error).message, startLine);
  }
  return node;
}

function parseArguments(node: Node, rest: string, escape: string): void {
  switch (node.cmd) {
    case 'add':
    case 'copy':
    case 'volume':
      return maybeJsonList(node, rest);
    case 'cmd':
    case 'entrypoint':
    case 'run':
    case 'shell':
      return maybeJson(node, rest);
    case 'arg':
      node.args = parseWords(rest, escape);
      return;
    case 'env':
    case 'label':
      return nameValues(node, rest, escape);
    case 'expose':
    case 'from':
      node.args = whitespaceList(rest);
      return;
    case 'healthcheck': {
      const words = whitespaceList(rest);
      if (words.length === 0) return;
      node.args = [words[0]!];
      const after = rest.slice(rest.indexOf(words[0]!) + words[0]!.length).trim();
      const sub: Node = { ...node, args: [] };
      maybeJson(sub, after);
      node.args.push(...sub.args);
      node.json = sub.json;
      return;
    }
    case 'onbuild':
      if (rest === '') return;
      node.trigger = nodeFromLine(rest, escape, node.startLine, node.endLine);
      node.args = [rest];
      return;
    case 'maintainer':
    case 'stopsignal':
    case 'user':
    case 'workdir':
      node.args = rest === '' ? [] : [rest];
      return;
    default:
      node.args = rest === '' ? [] : [rest]; // refused when the instructions are read (with the line)
  }
}

const whitespaceList = (rest: string) => (rest === '' ? [] : rest.split(WHITESPACE).filter((w) => w !== ''));

/** A JSON array of strings; undefined when the text is not one (then it is the shell form). */
function jsonArray(rest: string): string[] | undefined {
  const text = trimLeft(rest);
  if (!text.startsWith('[')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Go's decoder reads one value and ignores what follows it; JSON.parse does not.
    const end = matchingBracket(text);
    if (end < 0) return undefined;
    try {
      value = JSON.parse(text.slice(0, end + 1));
    } catch {
      return undefined;
    }
  }
  if (!Array.isArray(value)) return undefined;
  if (value.some((v) => typeof v !== 'string')) throw new Error('when using JSON array syntax, arrays must be comprised of strings only');
  return value as string[];
}

function matchingBracket(text: string): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '[') depth++;
    else if (ch === ']' && --depth === 0) return i;
  }
  return -1;
}

function maybeJson(node: Node, rest: string): void {
  if (rest === '') return;
  const list = jsonArray(rest);
  if (list) {
    node.args = list;
    node.json = true;
  } else {
    node.args = [rest];
  }
}

function maybeJsonList(node: Node, rest: string): void {
  const list = jsonArray(rest);
  if (list) {
    node.args = list;
    node.json = true;
  } else {
    node.args = whitespaceList(rest);
  }
}

/** ENV and LABEL: `KEY=VALUE ...`, or the legacy `KEY value with spaces`. */
function nameValues(node: Node, rest: string, escape: string): void {
  const words = parseWords(rest, escape);
  if (words.length === 0) return;
  if (!words[0]!.includes('=')) {
    const parts = rest.split(WHITESPACE);
    if (parts.length < 2 || rest.slice(parts[0]!.length).trim() === '') throw new Error(`${node.cmd.toUpperCase()} must have two arguments`);
    node.args = [parts[0]!, rest.slice(parts[0]!.length).replace(WHITESPACE, '')];
    node.legacy = true;
    return;
  }
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq === -1) throw new Error(`Syntax error - can't find = in "${word}". Must be of the form: name=value`);
    node.args.push(word.slice(0, eq), word.slice(eq + 1));
  }
}

/**
 * Splits at whitespace outside quotes, keeping the quotes and escapes in the words (variable
 * substitution removes them later).
 */
export function parseWords(rest: string, escape: string): string[] {
  return scanWords(rest, { escape, keep: true }).words;
}

/** The `--flag[=value]` words at the start of the arguments (quotes and `\` escapes taken out), and the rest. */
function extractFlags(line: string): { rest: string; flags: string[] } {
  const { words, rest } = scanWords(line, { escape: '\\', keep: false, flags: true });
  return { rest, flags: words };
}

/**
 * BuildKit's two word scanners in one: parseWords (`keep`: quotes and escapes stay in the words) and
 * extractBuilderFlags (`flags`: only words starting with `--`, up to the first other word or a lone
 * `--`, whose position is the rest; quotes and escapes are taken out).
 */
function scanWords(line: string, o: { escape: string; keep: boolean; flags?: boolean }): { words: string[]; rest: string } {
  const words: string[] = [];
  const chars = [...line];
  let word = '';
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let quote = '';
  let blankOk = false;
  const restAt = (pos: number) => chars.slice(pos).join('');
  for (let pos = 0; pos <= chars.length; pos++) {
    const end = pos === chars.length;
    let ch = chars[pos] ?? '';
    if (phase === 'spaces') {
      if (end) break;
      if (/\s/u.test(ch)) continue;
      if (o.flags && (ch !== '-' || chars[pos + 1] !== '-')) return { words, rest: restAt(pos) };
      phase = 'word';
    }
    if (end) {
      if (!(o.flags && word === '--') && (blankOk || word.length > 0)) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (/\s/u.test(ch)) {
        phase = 'spaces';
        if (o.flags && word === '--') return { words, rest: restAt(pos) };
        if (blankOk || word.length > 0) words.push(word);
        word = '';
        blankOk = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
        phase = 'quote';
        if (!o.keep) continue;
      }
      if (ch === o.escape) {
        if (pos + 1 === chars.length) continue; // an escape at the end of the line is dropped
        if (o.keep) word += ch;
        ch = chars[++pos]!;
      }
      word += ch;
      continue;
    }
    // in a quote: the escape is literal inside single quotes of kept words
    if (ch === quote) {
      phase = 'word';
      if (!o.keep) continue;
    }
    if (ch === o.escape && (!o.keep || quote !== "'")) {
      if (pos + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      if (o.keep) word += ch;
      ch = chars[++pos]!;
    }
    word += ch;
  }
  return { words, rest: '' };
}
