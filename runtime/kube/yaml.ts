// Kubernetes YAML as podman writes it (its objects go through JSON and then Go's yaml.v2): every map's
// keys sorted with yaml.v2's order, sequences not indented under their key, strings that YAML 1.1
// would read as something else (`"300"`, `"false"`, `"null"`, timestamps) double-quoted, other
// strings that cannot be plain single-quoted, multi-line strings as literal blocks.
import type { Pair } from 'yaml';
import { yaml } from '../util/lazy-modules.js';

/** yaml.v2's key order: rune by rune, a non-letter before a letter, runs of digits by their value. */
export function compareKeys(a: string, b: string): number {
  const ar = [...a];
  const br = [...b];
  const letter = (c: string) => /\p{L}/u.test(c);
  const digit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
  for (let i = 0; i < ar.length && i < br.length; i++) {
    const x = ar[i]!;
    const y = br[i]!;
    if (x === y) continue;
    const xl = letter(x);
    const yl = letter(y);
    if (xl && yl) return x < y ? -1 : 1;
    if (xl || yl) return yl ? -1 : 1;
    let an = 0n;
    let bn = 0n;
    if (x === '0' || y === '0') {
      for (let j = i - 1; j >= 0 && digit(ar[j]); j--)
        if (ar[j] !== '0') {
          an = 1n;
          bn = 1n;
          break;
        }
    }
    let ai = i;
    let bi = i;
    for (; digit(ar[ai]); ai++) an = an * 10n + BigInt(ar[ai]!.charCodeAt(0) - 48);
    for (; digit(br[bi]); bi++) bn = bn * 10n + BigInt(br[bi]!.charCodeAt(0) - 48);
    if (an !== bn) return an < bn ? -1 : 1;
    if (ai !== bi) return ai < bi ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return ar.length - br.length;
}

/** What yaml.v2 writes without escapes (a tab is not: it double-quotes the string). */
const printable = (s: string) => !/[^\n\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.test(s) && !s.includes('\uFEFF');

/** Whether a one-line string can be written plain in block context (yaml.v2's analysis). */
function plain(s: string): boolean {
  if (s === '' || /^\s|\s$/.test(s)) return false;
  if (/^[,[\]{}#&*!|>'"%@`]/.test(s)) return false;
  if (/^[-?:](\s|$)/.test(s)) return false;
  return !/:(\s|$)|\s#/.test(s);
}

const keyOf = (p: Pair) => {
  const k = p.key;
  return String(k instanceof yaml().Scalar ? (k as { value: unknown }).value : k);
};

/** One YAML document (no `---`), ending in a newline. */
export function toYaml(object: unknown): string {
  const { Document, Scalar, visit } = yaml();
  // No anchors: an object met twice is written twice, as Go writes it.
  const doc = new Document(object, { version: '1.1', aliasDuplicateObjects: false, sortMapEntries: (a, b) => compareKeys(keyOf(a), keyOf(b)) });
  const tags = doc.schema.tags;
  // A string YAML 1.1 would resolve to another type is written double-quoted, as yaml.v2 writes it.
  const ambiguous = (s: string) => tags.some((t) => t.default && t.tag !== 'tag:yaml.org,2002:str' && t.test?.test(s));
  visit(doc, {
    Scalar(_key, node) {
      const v = node.value;
      if (typeof v !== 'string') return;
      if (!printable(v) || (!v.includes('\n') && ambiguous(v))) node.type = Scalar.QUOTE_DOUBLE;
      // The writer would double-quote a string with a single quote in it; yaml.v2 single-quotes it.
      else if (!v.includes('\n') && v.includes("'") && !plain(v)) node.type = Scalar.QUOTE_SINGLE;
    },
  });
  return fold(doc.toString({ indentSeq: false, singleQuote: true, lineWidth: 0 }));
}

/** yaml.v2's line width: past this column, the next single space of a plain or single-quoted scalar breaks the line. */
const BEST_WIDTH = 80;

/** A line holding one scalar: its indentation, `- ` and `key: ` prefixes, and the scalar as written. */
const SCALAR_LINE = /^( *)((?:- )?)((?:[^\s'"#-][^:]*: )?)(.*)$/;

/**
 * Long plain and quoted scalars folded as yaml.v2 folds them (the writer above leaves every
 * scalar on one line): at a single space once the line is past 80 columns, continuing two columns in
 * from the entry the scalar belongs to. Lines of block scalars are left as they are.
 */
function fold(text: string): string {
  const out: string[] = [];
  let blockIndent = -1; // inside a block scalar: the indentation its lines exceed
  for (const line of text.split('\n')) {
    const indent = line.length - line.trimStart().length;
    if (blockIndent >= 0 && (line.trim() === '' || indent > blockIndent)) {
      out.push(line);
      continue;
    }
    blockIndent = /(^|: |- )[|>][-+]?$/.test(line.trimStart()) ? indent : -1;
    const m = SCALAR_LINE.exec(line);
    const chars = [...line];
    if (!m || chars.length <= BEST_WIDTH) {
      out.push(line);
      continue;
    }
    const [, lead = '', dash = '', key = '', scalar = ''] = m;
    if (scalar === '' || /^[|>{[&*!]/.test(scalar)) {
      out.push(line);
      continue;
    }
    const quoted = scalar.startsWith("'") || scalar.startsWith('"');
    const double = scalar.startsWith('"');
    // yaml.v2 writes a scalar two columns in from its mapping's keys, or from its sequence's dashes.
    const next = ' '.repeat(lead.length + 2 + (dash && key ? 2 : 0));
    const start = chars.length - [...scalar].length;
    let folded = chars.slice(0, start).join('');
    let column = start;
    const body = [...scalar];
    for (let i = 0; i < body.length; i++) {
      const c = body[i]!;
      const first = quoted ? i === 1 : i === 0;
      const last = quoted ? i === body.length - 2 : i === body.length - 1;
      // A double-quoted string breaks before a second space too, escaping it with a backslash.
      if (c === ' ' && body[i - 1] !== ' ' && (double || body[i + 1] !== ' ') && column > BEST_WIDTH && !first && !last) {
        const escape = double && body[i + 1] === ' ' ? '\\' : '';
        folded += `\n${next}${escape}`;
        column = next.length + escape.length;
        continue;
      }
      folded += c;
      column++;
    }
    out.push(key || dash ? folded : line);
  }
  return out.join('\n');
}
