// .dockerignore: moby's file format (comments, `!` exceptions, paths cleaned and made relative) and its
// pattern matcher (Go's filepath.Match syntax plus `**`; a pattern that matches a parent directory
// matches everything under it; the last matching pattern decides).
import { posix } from 'node:path';

/** The patterns of a .dockerignore file, in order. */
export function readDockerignore(text: string): string[] {
  const patterns: string[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = i === 0 ? raw.replace(/^\uFEFF/, '') : raw;
    if (line.startsWith('#')) continue;
    let pattern = line.trim();
    if (pattern === '') continue;
    const invert = pattern.startsWith('!');
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = posix.normalize(pattern).replace(/\/+$/, '') || '/';
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    patterns.push(invert ? `!${pattern}` : pattern);
  }
  return patterns;
}

interface Pattern {
  exclusion: boolean;
  dirs: number;
  re: RegExp;
}

export class PatternMatcher {
  private readonly patterns: Pattern[] = [];
  /** Whether any pattern is an exception (`!...`): then excluded directories must still be walked. */
  readonly exclusions: boolean;

  constructor(patterns: string[]) {
    for (const raw of patterns) {
      let p = raw.trim();
      if (p === '') continue;
      let exclusion = false;
      if (p.startsWith('!')) {
        if (p.length === 1) throw new Error('illegal exclusion pattern: "!"');
        exclusion = true;
        p = p.slice(1);
      }
      p = posix.normalize(p).replace(/(.)\/+$/, '$1');
      this.patterns.push({ exclusion, dirs: p.split('/').length, re: compile(p) });
    }
    this.exclusions = this.patterns.some((p) => p.exclusion);
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /** Whether `file` (a context-relative path with `/`) is excluded. */
  matches(file: string): boolean {
    let matched = false;
    const parent = posix.dirname(file);
    const parentDirs = parent.split('/');
    for (const p of this.patterns) {
      let match = p.re.test(file);
      if (!match && parent !== '.' && p.dirs <= parentDirs.length) match = p.re.test(parentDirs.slice(0, p.dirs).join('/'));
      if (match) matched = !p.exclusion;
    }
    return matched;
  }
}

/** Go's filepath.Match (no `**`): what COPY and ADD sources with wildcards are matched with. */
export const globMatcher = (pattern: string): RegExp => compile(pattern, false);

/** Whether a path has glob characters (unescaped `*`, `?` or `[`). */
export const hasWildcards = (path: string) => /(^|[^\\])[*?[]/.test(path);

/** A pattern as a regular expression, the way moby's fileutils compiles it (`**` only in .dockerignore). */
function compile(pattern: string, doubleStar = true): RegExp {
  let re = '^';
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === '*') {
      if (doubleStar && chars[i + 1] === '*') {
        i++;
        if (chars[i + 1] === '/') i++;
        re += i + 1 >= chars.length ? '.*' : '(.*/)?';
      } else {
        re += '[^/]*';
      }
    } else if (ch === '?') {
      re += '[^/]';
    } else if (ch === '[') {
      // A character class, as filepath.Match reads it ('^' negates).
      const end = chars.indexOf(']', i + 1);
      if (end === -1) throw new Error('syntax error in pattern');
      re +=
        '[' +
        chars
          .slice(i + 1, end)
          .join('')
          .replace(/\\(.)/g, '\\$1') +
        ']';
      i = end;
    } else if (ch === '\\') {
      re += i + 1 < chars.length ? escapeRegex(chars[++i]!) : '\\\\';
    } else {
      re += escapeRegex(ch);
    }
  }
  return new RegExp(re + '$', 'u');
}

const escapeRegex = (ch: string) => (/[.*+?^${}()|[\]\\]/.test(ch) ? '\\' + ch : ch);
