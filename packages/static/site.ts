/**
 * A built single-page site as API Gateway (payload 2.0) responses. `GET /` is `index.html`, revalidated on
 * every load (it names the current assets); `GET /console/{file}` serves the content-hashed assets, cached
 * for a year. Every response carries a strict Content-Security-Policy (scripts, styles and requests from
 * this origin only, no inline script, no framing, no form submissions) and is gzip-compressed when the
 * client accepts it. Files are read once, on the first request: a request only ever picks from that set,
 * so no path reaches the file system.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import { gzipSync } from "node:zlib";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";

export const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
].join("; ");

const securityHeaders = {
  "content-security-policy": contentSecurityPolicy,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "strict-transport-security": "max-age=31536000",
};

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".json": "application/json",
};

interface SiteFile {
  body: Buffer;
  gzip: Buffer;
  headers: Record<string, string>;
}

/** The URL path of an asset file: the build puts assets in `assets/`, served under `/console/`. */
export const assetPath = (file: string) => `/console/${file}`;

function siteFile(path: string, cacheControl: string): SiteFile {
  const body = readFileSync(path);
  const headers = {
    "content-type": contentTypes[extname(path)] ?? "application/octet-stream",
    "cache-control": cacheControl,
    etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`,
    vary: "accept-encoding",
  };
  return { body, gzip: gzipSync(body, { level: 9 }), headers };
}

/** Every file the site serves, by URL path. Throws when the directory holds no built site. */
function loadSite(dir: string): Map<string, SiteFile> {
  const files = new Map<string, SiteFile>([["/", siteFile(join(dir, "index.html"), "no-cache")]]);
  for (const file of readdirSync(join(dir, "assets"))) {
    // Names carry a content hash, so a cached copy can never be stale.
    files.set(assetPath(file), siteFile(join(dir, "assets", file), "public, max-age=31536000, immutable"));
  }
  return files;
}

function respond(file: SiteFile, event: APIGatewayProxyEventV2): APIGatewayProxyStructuredResultV2 {
  const headers = { ...securityHeaders, ...file.headers };
  const tags = event.headers["if-none-match"]?.split(",").map((tag) => tag.trim().replace(/^W\//, ""));
  if (tags?.includes(file.headers.etag as string)) return { statusCode: 304, headers };
  const gzip = /\bgzip\b/.test(event.headers["accept-encoding"] ?? "");
  return {
    statusCode: 200,
    headers: gzip ? { ...headers, "content-encoding": "gzip" } : headers,
    body: (gzip ? file.gzip : file.body).toString("base64"),
    isBase64Encoded: true,
  };
}

const plain = (statusCode: number, text: string): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { ...securityHeaders, "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
  body: text,
});

/** The handler for the site's routes (`GET /`, `GET /console/{file}`), serving the site built in `dir`. */
export function siteHandler(dir: string): (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2> {
  let files: Map<string, SiteFile> | undefined;
  return async (event) => {
    try {
      files ??= loadSite(dir);
    } catch (error) {
      console.error(`the console is not built in ${dir}:`, (error as Error).message);
      return plain(503, "The console is not built (npm run build:console).");
    }
    const path = event.pathParameters?.file === undefined ? "/" : assetPath(event.pathParameters.file);
    const file = files.get(path);
    return file ? respond(file, event) : plain(404, "Not found");
  };
}
