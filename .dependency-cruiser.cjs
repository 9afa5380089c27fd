/**
 * Layer rules, checked by `npm run lint:layers` (part of `npm test`). Product code goes
 *   functions → api | jobs | sync | changes → store → providers → core
 * (api may use the jobs domain to submit and read jobs, and the changes domain to read history; static serves the console's built
 * files from core alone); the console is browser code that imports nothing outside itself; simulators, the local runtime, the CLI, bench,
 * tests and infra sit on top. Product code never imports a simulator, the local runtime or the CLI, and
 * no two modules import each other, directly or round a loop.
 */
const product = "^(functions|packages/(core|providers|store|sync|jobs|changes|api|static))/";

/** `from` may import only what `allowed` matches (within the project's own code). */
const only = (name, from, allowed, comment) => ({
  name,
  comment,
  severity: "error",
  from: { path: from },
  to: { path: "^(functions|packages|bench|test|infra|scripts)/", pathNot: allowed },
});

module.exports = {
  forbidden: [
    { name: "no-cycles", comment: "Modules must not import each other round a loop.", severity: "error", from: {}, to: { circular: true } },
    only("core-is-the-base", "^packages/core/", "^packages/core/", "core depends on no other package."),
    only("providers-on-core", "^packages/providers/", "^packages/(core|providers)/", "Upstream clients use only core."),
    only("store-on-providers", "^packages/store/", "^packages/(core|providers|store)/", "The store knows providers' document types, nothing above."),
    only("sync-on-store", "^packages/sync/", "^packages/(core|providers|store|sync)/", "Sync is a domain beside jobs and api."),
    only("jobs-on-store", "^packages/jobs/", "^packages/(core|providers|store|jobs)/", "Jobs is a domain beside sync and api."),
    only("changes-on-store", "^packages/changes/", "^packages/(core|providers|store|changes)/", "Change history reads stream records into the store and the event bus."),
    only("api-on-domains", "^packages/api/", "^packages/(core|store|jobs|changes|api)/", "The HTTP API reads the store and history, and submits jobs."),
    only("functions-wire-domains", "^functions/", "^(functions|packages/(core|api|jobs|sync|changes|static))/", "Lambda entry points only wire domains."),
    only("static-on-core", "^packages/static/", "^packages/(core|static)/", "Serving built files needs nothing but core."),
    only("console-is-browser-code", "^packages/console/", "^packages/console/", "The console runs in the browser: it reaches the system only through the HTTP API."),
    only("simulators-on-providers", "^packages/simulators/", "^packages/(core|providers|simulators)/", "Simulators share the providers' schemas and rules, nothing more."),
    only("local-runtime", "^packages/local/", "^(functions|packages/(core|providers|store|sync|jobs|changes|api|static|simulators|local))/", "The local runtime runs the product; the CLI sits on it."),
    only("infra-on-core", "^(infra/|sst\\.config\\.ts$)", "^(infra|packages/core)/", "Infra is built from the resource description."),
    {
      name: "product-not-on-tools",
      comment: "Product code never imports simulators, the local runtime, the CLI, the console, bench or tests.",
      severity: "error",
      from: { path: product },
      to: { path: "^(packages/(simulators|local|cli|console)|bench|test)/" },
    },
    { name: "resolvable", comment: "Every import resolves.", severity: "error", from: {}, to: { couldNotResolve: true } },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|\\.sst|dist)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"] },
  },
};
