// Variable substitution in Dockerfile words, as BuildKit's shell lexer does it (which the classic
// builder uses): quotes, the escape token, $VAR, ${VAR}, ${VAR:-default}, ${VAR:+alt}, ${VAR:?err} (and
// the forms without the colon, which test "set" rather than "set and not empty").

export class LexError extends Error {}

const isSpace = (ch: string) => /\s/u.test(ch);
const isDigit = (ch: string) => /\p{Nd}/u.test(ch);
const isNameChar = (ch: string) => /[\p{L}\p{Nd}_]/u.test(ch);
const SPECIAL_PARAMS = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);

/** An environment as KEY=VALUE strings, the last definition of a key winning. */
export function envMap(env: string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const e of env) {
    const eq = e.indexOf('=');
    if (eq === -1) map.set(e, '');
    else map.set(e.slice(0, eq), e.slice(eq + 1));
  }
  return map;
}

/** Collects the words of a processed string: unquoted spaces split words, quoted text never does. */
class Words {
  word = '';
  words: string[] = [];
  inWord = false;

  addChar(ch: string) {
    if (isSpace(ch)) {
      if (this.inWord && this.word.length > 0) {
        this.words.push(this.word);
        this.word = '';
        this.inWord = false;
      }
      return;
    }
    this.addRaw(ch);
  }

  addRaw(text: string) {
    this.word += text;
    this.inWord = true;
  }

  addString(text: string) {
    for (const ch of text) this.addChar(ch);
  }

  done(): string[] {
    if (this.word.length > 0) this.words.push(this.word);
    this.word = '';
    return this.words;
  }
}

class Scanner {
  private pos = 0;
  private readonly chars: string[];

  constructor(text: string) {
    this.chars = [...text];
  }

  peek = (): string | undefined => this.chars[this.pos];
  next = (): string | undefined => this.chars[this.pos++];
}

class ShellWord {
  private readonly scanner: Scanner;

  constructor(
    text: string,
    private readonly env: Map<string, string>,
    private readonly escape: string,
  ) {
    this.scanner = new Scanner(text);
  }

  process(stop?: string): { word: string; words: string[] } {
    let result = '';
    const words = new Words();
    const s = this.scanner;
    while (s.peek() !== undefined) {
      const ch = s.peek()!;
      if (stop !== undefined && ch === stop) {
        s.next();
        return { word: result, words: words.done() };
      }
      if (ch === "'" || ch === '"' || ch === '$') {
        const text = ch === "'" ? this.singleQuote() : ch === '"' ? this.doubleQuote() : this.dollar();
        result += text;
        if (ch === '$') words.addString(text);
        else words.addRaw(text);
        continue;
      }
      let c = s.next()!;
      if (c === this.escape) {
        const escaped = s.next();
        if (escaped === undefined) break; // an escape at the end is dropped
        c = escaped;
        words.addRaw(c);
      } else {
        words.addChar(c);
      }
      result += c;
    }
    if (stop !== undefined) throw new LexError(`unexpected end of statement while looking for matching ${stop}`);
    return { word: result, words: words.done() };
  }

  private singleQuote(): string {
    const s = this.scanner;
    s.next();
    let out = '';
    for (;;) {
      const ch = s.next();
      if (ch === undefined) throw new LexError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return out;
      out += ch;
    }
  }

  private doubleQuote(): string {
    const s = this.scanner;
    s.next();
    let out = '';
    for (;;) {
      const ch = s.peek();
      if (ch === undefined) throw new LexError('unexpected end of statement while looking for matching double-quote');
      if (ch === '"') {
        s.next();
        return out;
      }
      if (ch === '$') {
        out += this.dollar();
        continue;
      }
      let c = s.next()!;
      if (c === this.escape) {
        const after = s.peek();
        if (after === undefined) continue;
        if (after === '"' || after === '$' || after === this.escape) c = s.next()!;
      }
      out += c;
    }
  }

  private name(): string {
    const s = this.scanner;
    let name = '';
    while (s.peek() !== undefined) {
      const ch = s.peek()!;
      if (name.length === 0 && isDigit(ch)) {
        while (s.peek() !== undefined && isDigit(s.peek()!)) name += s.next();
        return name;
      }
      if (name.length === 0 && SPECIAL_PARAMS.has(ch)) return s.next()!;
      if (!isNameChar(ch)) break;
      name += s.next();
    }
    return name;
  }

  private dollar(): string {
    const s = this.scanner;
    s.next();
    if (s.peek() !== '{') {
      const name = this.name();
      return name === '' ? '$' : (this.env.get(name) ?? '');
    }
    s.next();
    const first = s.peek();
    if (first === undefined) throw new LexError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new LexError('syntax error: bad substitution');
    const name = this.name();
    const ch = s.next();
    if (ch === '}') return this.env.get(name) ?? '';
    const colon = ch === ':';
    const modifier = colon ? s.next() : ch;
    if (modifier === undefined) throw new LexError("syntax error: missing '}'");
    if (!'+-?'.includes(modifier)) {
      if (!colon) throw new LexError(`missing ':' in substitution`);
      throw new LexError(`unsupported modifier (${modifier}) in substitution`);
    }
    let word: string;
    try {
      ({ word } = this.process('}'));
    } catch (err) {
      if (s.peek() === undefined) throw new LexError("syntax error: missing '}'");
      throw err;
    }
    const value = this.env.get(name);
    // With the colon an empty value counts as unset; without it only a missing one does.
    const present = colon ? value !== undefined && value !== '' : value !== undefined;
    switch (modifier) {
      case '+':
        return present ? word : colon ? (value ?? '') : '';
      case '-':
        return present ? value! : word;
      default:
        if (value === undefined) throw new LexError(`${name}: ${word || 'is not allowed to be unset'}`);
        if (colon && value === '') throw new LexError(`${name}: ${word || 'is not allowed to be empty'}`);
        return value;
    }
  }
}

/** One word with its variables replaced and its quotes removed (spaces kept). */
export function processWord(word: string, env: Map<string, string>, escape = '\\'): string {
  return wrap(word, () => new ShellWord(word, env, escape).process().word);
}

/** The same, then split into words at unquoted spaces (EXPOSE $PORTS, and the like). */
export function processWords(word: string, env: Map<string, string>, escape = '\\'): string[] {
  return wrap(word, () => new ShellWord(word, env, escape).process().words);
}

function wrap<T>(source: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof LexError) throw new LexError(`failed to process "${source}": ${err.message}`);
    throw err;
  }
}
