// The Dockerfile parser, the word lexer, .dockerignore patterns and Go's formats, against what the
// classic builder (BuildKit's parser in dockerd 20.10) does with the same input.
import { describe, expect, it } from 'vitest';
import { parseDockerfile } from '../runtime/build/dockerfile.js';
import { parsePlan } from '../runtime/build/instructions.js';
import { envMap, processWord, processWords } from '../runtime/build/lexer.js';
import { PatternMatcher, readDockerignore } from '../runtime/build/dockerignore.js';
import { goDuration, goQuoteList, goQuoteRune, parseGoDuration } from '../runtime/build/gofmt.js';
import { sameConfig } from '../runtime/build/cache.js';

const errorOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
};

describe('the Dockerfile parser', () => {
  it('joins continuations, skips comments inside them, keeps the original text', () => {
    const file = parseDockerfile(['# a comment', 'FROM busybox', 'RUN echo a \\', '  # dropped', '    b \\', '', '  c', '', 'CMD ["x"]'].join('\n'));
    expect(file.nodes.map((n) => [n.cmd, n.original, n.startLine])).toEqual([
      ['from', 'FROM busybox', 2],
      ['run', 'RUN echo a     b   c', 3],
      ['cmd', 'CMD ["x"]', 9],
    ]);
    expect(file.nodes[2]!.json).toBe(true);
    expect(file.warnings[0]).toContain('Empty continuation line');
  });

  it('honours the escape directive, only at the top', () => {
    const file = parseDockerfile(['# escape=`', 'FROM busybox', 'RUN dir c:\\ `', '  && echo ok'].join('\n'));
    expect(file.escape).toBe('`');
    expect(file.nodes[1]!.original).toBe('RUN dir c:\\   && echo ok');
    expect(parseDockerfile(['FROM busybox', '# escape=`', 'RUN a \\', 'b'].join('\n')).nodes[1]!.original).toBe('RUN a b');
  });

  it('reads JSON and shell forms, flags, KEY=VALUE lists and the legacy ENV form', () => {
    const [env, legacy, copy, json, health, onbuild] = parseDockerfile(
      [
        'ENV A=1 B="two words" C=x\\ y',
        'ENV PATHS /a /b',
        'COPY --chown=1:2 --from=build a b /dst/',
        'ENTRYPOINT ["sh", "-c"] trailing',
        'HEALTHCHECK --interval=5s CMD ["true"]',
        'ONBUILD RUN echo hi',
      ].join('\n'),
    ).nodes;
    expect(env!.args).toEqual(['A', '1', 'B', '"two words"', 'C', 'x\\ y']);
    expect([legacy!.args, legacy!.legacy]).toEqual([['PATHS', '/a /b'], true]);
    expect([copy!.flags, copy!.args]).toEqual([
      ['--chown=1:2', '--from=build'],
      ['a', 'b', '/dst/'],
    ]);
    expect([json!.json, json!.args]).toEqual([true, ['sh', '-c']]);
    expect([health!.flags, health!.args, health!.json]).toEqual([['--interval=5s'], ['CMD', 'true'], true]);
    expect(onbuild!.trigger?.cmd).toBe('run');
  });

  it('groups stages, keeps ARGs before FROM as meta args', () => {
    const plan = parsePlan(['ARG V=1', 'FROM busybox:$V AS Build', 'RUN true', 'FROM scratch', 'COPY --from=build /x /x'].join('\n'));
    expect(plan.metaArgs.map((a) => a.args)).toEqual([[{ key: 'V', value: '1' }]]);
    expect(plan.stages.map((s) => [s.name, s.base, s.commands.length])).toEqual([
      ['build', 'busybox:$V', 1],
      ['', 'scratch', 1],
    ]);
  });

  it('names the line of what it refuses', () => {
    expect(errorOf(() => parsePlan('FROM busybox\nFOO bar'))).toBe('dockerfile parse error line 2: unknown instruction: FOO');
    expect(errorOf(() => parsePlan('FROM busybox\n\nCMD ["a", 1]'))).toBe(
      'dockerfile parse error line 3: when using JSON array syntax, arrays must be comprised of strings only',
    );
    expect(errorOf(() => parsePlan('RUN true'))).toBe('dockerfile parse error line 1: no build stage in current context');
    expect(errorOf(() => parsePlan('FROM busybox\nCOPY --foo=1 a /'))).toBe('dockerfile parse error line 2: Unknown flag: foo');
    expect(errorOf(() => parsePlan('FROM busybox\nEXPOSE'))).toBe('dockerfile parse error line 2: EXPOSE requires at least one argument');
    expect(errorOf(() => parsePlan('FROM busybox as 1x'))).toContain('invalid name for build stage');
    expect(errorOf(() => parsePlan('FROM busybox\nHEALTHCHECK --retries=0 CMD true'))).toContain('--retries must be at least 1 (not 0)');
    expect(errorOf(() => parsePlan('FROM busybox\nONBUILD ONBUILD RUN x'))).toContain("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    expect(errorOf(() => parsePlan('FROM busybox\nSHELL /bin/bash'))).toContain('SHELL requires the arguments to be in JSON form');
    expect(errorOf(() => parsePlan('# only a comment\n'))).toBe('file with no instructions');
  });
});

describe('variable substitution', () => {
  const env = envMap(['A=1', 'EMPTY=', 'W=a b']);
  it.each([
    ['$A', '1'],
    ['${A}', '1'],
    ['${A:-x}', '1'],
    ['${NOPE:-x}', 'x'],
    ['${EMPTY:-x}', 'x'],
    ['${EMPTY-x}', ''],
    ['${A:+alt}', 'alt'],
    ['${NOPE:+alt}', ''],
    ['${EMPTY:+alt}', ''],
    ['${EMPTY+alt}', 'alt'],
    ["'$A'", '$A'],
    ['"$A"', '1'],
    ['\\$A', '$A'],
    ['a\\ b', 'a b'],
    ['"q\\"uote"', 'q"uote'],
    ['${NOPE:-${A}}', '1'],
    ['$', '$'],
  ])('%s → %s', (word, expected) => expect(processWord(word, env)).toBe(expected));

  it('splits words after substitution, not inside quotes', () => {
    expect(processWords('$W "c d" e', env)).toEqual(['a', 'b', 'c d', 'e']);
  });

  it('refuses bad substitutions', () => {
    expect(errorOf(() => processWord('${A', env))).toContain("missing '}'");
    expect(errorOf(() => processWord('${NOPE:?must be set}', env))).toContain('NOPE: must be set');
    expect(errorOf(() => processWord("'open", env))).toContain('matching single-quote');
  });
});

describe('.dockerignore', () => {
  const matcher = new PatternMatcher(readDockerignore(['# comment', '*.log', '/build', '**/tmp', 'docs', '!docs/keep.md', 'secret?.txt', ''].join('\n')));
  it.each([
    ['app.log', true],
    ['sub/app.log', false],
    ['build', true],
    ['build/x/y', true],
    ['a/b/tmp', true],
    ['tmp', true],
    ['docs/a.md', true],
    ['docs/keep.md', false],
    ['secret1.txt', true],
    ['secret12.txt', false],
    ['src/main.ts', false],
  ])('%s excluded: %s', (path, excluded) => expect(matcher.matches(path)).toBe(excluded));
  it('knows when exceptions need excluded directories walked', () => {
    expect(matcher.exclusions).toBe(true);
    expect(new PatternMatcher(['node_modules']).exclusions).toBe(false);
  });
});

describe("Go's formats in history lines", () => {
  it('formats durations and %q as Go does', () => {
    expect([goDuration(0), goDuration(30e9), goDuration(90e9), goDuration(300e9), goDuration(3600e9), goDuration(1.5e9), goDuration(5e5)]).toEqual([
      '0s',
      '30s',
      '1m30s',
      '5m0s',
      '1h0m0s',
      '1.5s',
      '500µs',
    ]);
    expect(parseGoDuration('1m30s')).toBe(90e9);
    expect(parseGoDuration('1.5h')).toBe(5400e9);
    expect(() => parseGoDuration('10')).toThrow('missing unit');
    expect(goQuoteList(['CMD-SHELL', 'say "hi"\n'])).toBe('["CMD-SHELL" "say \\"hi\\"\\n"]');
    expect([goQuoteRune(3), goQuoteRune(0), goQuoteRune(10), goQuoteRune(65)]).toEqual(["'\\x03'", "'\\x00'", "'\\n'", "'A'"]);
  });
});

describe('the cache comparison', () => {
  it('compares what moby compares and nothing else', () => {
    const base = { Cmd: ['/bin/sh', '-c', 'x'], Env: ['A=1'], Labels: { a: 'b' }, WorkingDir: '/a', Hostname: 'h1' };
    expect(sameConfig(base, { ...base, WorkingDir: '/b', Hostname: 'h2' })).toBe(true);
    expect(sameConfig(base, { ...base, Cmd: ['/bin/sh', '-c', 'y'] })).toBe(false);
    expect(sameConfig(base, { ...base, Labels: { a: 'c' } })).toBe(false);
    expect(sameConfig(base, { ...base, Env: ['A=1', 'B=2'] })).toBe(false);
  });
});
