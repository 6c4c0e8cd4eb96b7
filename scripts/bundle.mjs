// Bundles the engine's entry point (tsc's dist/server/main.js and what it imports, node_modules included)
// into one file written over it, so `node dist/server/main.js` loads one module instead of ~1000: a
// socket-activated engine answers its first request sooner and starts with less memory. tsc's other
// per-file output stays for what imports dist modules (tests, benches).
// Left outside the bundle, loaded from node_modules at run time: better-sqlite3 (a native addon), undici
// and yaml (loaded on first use through createRequire, runtime/util/lazy-modules.ts). server/validate.ts's
// compilers (ajv, fast-json-stringify) are Fastify's, which the bundle holds anyway: its require() is
// made the bundle's own (still called on first use), so the first request with a schema loads no file.
// dist/server/main.js.map maps the bundle to the TypeScript sources (node --enable-source-maps).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const entry = 'dist/server/main.js';
const marker = '// berth: bundled by scripts/bundle.mjs';
if (readFileSync(entry, 'utf8').includes(marker)) {
  throw new Error(`${entry} is already a bundle: run tsc first (npm run build)`);
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
const result = await build({
  entryPoints: [entry],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['better-sqlite3'],
  plugins: [bundledRequires],
  // CommonJS packages in an ES module bundle: their require() of Node's modules, and __dirname/__filename.
  banner: {
    js: [
      marker,
      "import { createRequire as __berthCreateRequire } from 'node:module';",
      "import { fileURLToPath as __berthFileURLToPath } from 'node:url';",
      "import { dirname as __berthDirname } from 'node:path';",
      'const require = __berthCreateRequire(import.meta.url);',
      'const __filename = __berthFileURLToPath(import.meta.url);',
      'const __dirname = __berthDirname(__filename);',
    ].join('\n'),
  },
  // Whitespace and syntax only (names kept for stack traces): V8 parses a third less at each start.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  sourcesContent: false,
  outfile: entry,
  write: false,
  logLevel: 'warning',
});
// Written beside, then renamed over tsc's files: a reader never sees half a file.
for (const file of result.outputFiles) {
  writeFileSync(`${file.path}.tmp`, file.contents, { mode: file.path.endsWith('.js') ? 0o755 : 0o644 });
  renameSync(`${file.path}.tmp`, file.path);
}
