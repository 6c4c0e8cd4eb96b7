// Builds the web console (console/) into dist/console: one ES module bundle of its TypeScript with Lit,
// xterm and uPlot, one stylesheet (the console's, xterm's, uPlot's) and the page. Part of `npm run
// build`; the engine serves dist/console only under `berth serve --console`.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const out = 'dist/console';
mkdirSync(out, { recursive: true });
await build({
  entryPoints: ['console/src/main.ts'],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: 'linked',
  outfile: `${out}/app.js`,
  tsconfig: 'console/tsconfig.json',
  logLevel: 'warning',
});
const css = ['console/style.css', 'node_modules/@xterm/xterm/css/xterm.css', 'node_modules/uplot/dist/uPlot.min.css'].map((f) => readFileSync(f, 'utf8'));
writeFileSync(`${out}/app.css`, css.join('\n'));
writeFileSync(`${out}/index.html`, readFileSync('console/index.html'));
