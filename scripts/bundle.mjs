// Bundles the engine's entry point (tsc's dist/server/main.js and what it imports, node_modules included)
// into dist/server/berth.cjs, and writes over tsc's main.js a launcher that runs it, so
// `node dist/server/main.js` loads one file instead of ~1000: a socket-activated engine answers its first
// request sooner and starts with less memory. tsc's other per-file output stays for what imports dist
// modules (tests, benches).
// Left outside the bundle, loaded from node_modules at run time: better-sqlite3 (a native addon), undici
// and yaml (loaded on first use through createRequire, runtime/util/lazy-modules.ts). server/validate.ts's
// compilers (ajv, fast-json-stringify) are Fastify's, which the bundle holds anyway: its require() is
// made the bundle's own (still called on first use), so the first request with a schema loads no file.
// The bundle is CommonJS so that the launcher can compile it with V8's code cache (berth.cjs.cache, made
// here by running `berth version` once): a start then deserializes the compiled top level instead of
// parsing 2 MB (~50 ms of CPU). Node rejects a cache from another Node or V8 flags and compiles as usual.
// dist/server/berth.cjs.map maps the bundle to the TypeScript sources.
// The web console's server (server/console/) is a bundle of its own, dist/server/console.cjs, required by
// main.ts only under --console: the engine's bundle holds none of it, so without the flag it is neither
// parsed nor in memory.
import { spawnSync } from 'node:child_process';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const entry = 'dist/server/main.js';
const bundle = 'dist/server/berth.cjs';
const cache = `${bundle}.cache`;
const marker = '// berth: launcher written by scripts/bundle.mjs';
if (readFileSync(entry, 'utf8').includes(marker)) {
  throw new Error(`${entry} is already the launcher: run tsc first (npm run build)`);
}
// validate.js's `const require = createRequire(import.meta.url)` removed: esbuild bundles the require()
// calls left, with the modules they name initialised when called.
const bundledRequires = {
  name: 'bundled-requires',
  setup(b) {
    b.onLoad({ filter: /dist\/server\/validate\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const line = /^const require = createRequire\(import\.meta\.url\);$/m;
      if (!line.test(text)) throw new Error(`${args.path}: no createRequire line to take out`);
      return { contents: text.replace(line, ''), loader: 'js' };
    });
  },
};
const options = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['better-sqlite3'],
  // The ES modules' import.meta.url (createRequire's base) is the bundle's own URL. The banner comes
  // before esbuild's "use strict", so it says it first: the bundle stays strict, as ES modules are.
  define: { 'import.meta.url': '__berthModuleUrl' },
  banner: { js: `'use strict';\nconst __berthModuleUrl = require('node:url').pathToFileURL(__filename).href;` },
  // Whitespace and syntax only (names kept for stack traces): V8 parses a third less.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'warning',
};
const result = await build({ ...options, entryPoints: [entry], plugins: [bundledRequires], outfile: bundle, write: false });
await build({ ...options, entryPoints: ['dist/server/console/server.js'], outfile: 'dist/server/console.cjs' });

// Written beside, then renamed: a reader never sees half a file. The old cache goes first, so a cache is
// never read with a bundle it was not made from (V8 checks only the source's length).
rmSync(cache, { force: true });
const put = (path, contents, mode = 0o644) => {
  writeFileSync(`${path}.tmp`, contents, { mode });
  renameSync(`${path}.tmp`, path);
};
// The bundle is not run as a script: its hashbang (main.ts's) becomes a comment, lines kept for the map.
for (const file of result.outputFiles) put(file.path, file.path.endsWith('.cjs') ? file.text.replace(/^#!/, '//') : file.contents);

// The launcher: what package.json's bin, scripts/start.sh, conmon's exit command and the quadlet
// generator's symlink run (process.argv[1] stays this file). `run` is also how the cache is made below:
// V8 takes a cache only for the very source text it was made from.
const run = `const wrapped = \`(function (exports, require, module, __filename, __dirname) {\${readFileSync(file, 'utf8')}\\n})\`;
const script = new Script(wrapped, { filename: file, cachedData });
const module = { exports: {}, filename: file };
script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));`;
const imports = `import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';`;
const launcher = `#!/usr/bin/env node
${marker}: runs berth.cjs (the engine bundled) through V8's code cache when it has one.
${imports.replace(', writeFileSync', '')}

const file = fileURLToPath(new URL('./berth.cjs', import.meta.url));
// A normal user's serve/unshare re-runs berth inside the user's namespace; this process only waits for
// it, so it loads the launcher's few modules and none of the engine (runtime/rootless/launch.ts).
const launched = process.getuid?.() !== 0 && process.env.BERTH_ROOTLESS !== '1' && ['serve', 'unshare'].includes(process.argv[2])
  ? (await import('../runtime/rootless/launch.js')).launcherCommand(process.argv.slice(2))
  : undefined;
if (launched) {
  process.exitCode = await launched;
} else if (process.sourceMapsEnabled) {
  // node --enable-source-maps: Node's loader, which applies berth.cjs.map to traces (no code cache).
  createRequire(import.meta.url)(file);
} else {
  let cachedData;
  try {
    cachedData = readFileSync(\`\${file}.cache\`);
  } catch {}
  ${run.replaceAll('\n', '\n  ')}
}
`;
put(entry, launcher, 0o755);

// The cache, made after the bundle's modules have run (`berth version`): their top-level code compiled.
const maker = `${imports}
const file = ${JSON.stringify(new URL(`../${bundle}`, import.meta.url).pathname)};
const cachedData = undefined;
process.argv = [process.argv[0], ${JSON.stringify(entry)}, 'version'];
${run}
writeFileSync(\`\${file}.cache.tmp\`, script.createCachedData());`;
const made = spawnSync(process.execPath, ['--input-type=module', '-e', maker], { encoding: 'utf8' });
if (made.status !== 0) throw new Error(`the code cache was not made: ${made.stderr}`);
renameSync(`${cache}.tmp`, cache);
