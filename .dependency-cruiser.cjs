// Import boundaries (docs/architecture.md): the runtime is the engine and knows neither HTTP nor
// Docker's wire types; the server reaches the engine only through runtime/api.ts; the openapi/
// schemas stand alone. Run by scripts/checks.sh (`npx depcruise server runtime openapi`).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'runtime-not-server',
      comment: 'The runtime is the engine: it serves no HTTP and imports nothing from server/.',
      severity: 'error',
      from: { path: '^runtime/' },
      to: { path: '^server/' },
    },
    {
      name: 'runtime-not-openapi',
      comment: "The runtime defines its own types; server/compat/views map them to Docker's wire shapes.",
      severity: 'error',
      from: { path: '^runtime/' },
      to: { path: '^openapi/' },
    },
    {
      name: 'server-only-runtime-api',
      comment:
        'server/ imports the engine only through its one door, runtime/api.ts (types included). server/main.ts is the ' +
        "process's entry (the composition root): it opens the Engine from the command line's options and hands it to the server.",
      severity: 'error',
      from: { path: '^server/', pathNot: '^server/main\\.ts$' },
      to: { path: '^runtime/', pathNot: '^runtime/api\\.ts$' },
    },
    {
      name: 'openapi-standalone',
      comment: 'The openapi/ schemas describe the wire and import neither the server nor the runtime.',
      severity: 'error',
      from: { path: '^openapi/' },
      to: { path: '^(server|runtime)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a runtime module typed by openapi/ is still bound to Docker's wire.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
