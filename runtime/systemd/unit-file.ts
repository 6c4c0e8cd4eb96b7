// systemd's unit file syntax, as Quadlet files use it: `[Section]` groups of `Key=value` lines in
// order (a key may repeat), `#`/`;` comments, a trailing backslash continuing a line; and the word
// splitting systemd applies to Exec= and Environment= values (quotes, backslash escapes).

export interface UnitEntry {
  key: string;
  value: string;
}

/** A unit file's sections in order, each its entries in order. */
export type UnitFile = { name: string; entries: UnitEntry[] }[];

export class UnitSyntaxError extends Error {}

export function parseUnitFile(text: string): UnitFile {
  const sections: UnitFile = [];
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      const next = lines[++i]!.trim();
      if (next.startsWith('#') || next.startsWith(';')) continue; // comments inside a continued line are skipped, as systemd does
      line = `${line.slice(0, -1)} ${next}`;
    }
    if (line.startsWith('[')) {
      if (!line.endsWith(']')) throw new UnitSyntaxError(`line ${i + 1}: invalid section header ${line}`);
      sections.push({ name: line.slice(1, -1), entries: [] });
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new UnitSyntaxError(`line ${i + 1}: expected key=value, got ${line}`);
    const section = sections.at(-1);
    if (!section) throw new UnitSyntaxError(`line ${i + 1}: key outside of any section`);
    section.entries.push({ key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim() });
  }
  return sections;
}

/** The unit file as text (sections in order, a blank line between them). */
export function formatUnitFile(file: UnitFile): string {
  return `${file.map((s) => [`[${s.name}]`, ...s.entries.map((e) => `${e.key}=${e.value}`)].join('\n')).join('\n\n')}\n`;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", s: ' ' };

/** systemd's word splitting: blanks separate words; quotes group; backslash escapes (C-style) inside and out. */
export function splitWords(value: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && i + 1 < value.length) {
      const n = value[++i]!;
      word = (word ?? '') + (ESCAPES[n] ?? n);
    } else if (quote) {
      if (c === quote) quote = undefined;
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word = word ?? '';
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else word = (word ?? '') + c;
  }
  if (quote) throw new UnitSyntaxError(`unterminated quote in: ${value}`);
  if (word !== undefined) words.push(word);
  return words;
}
