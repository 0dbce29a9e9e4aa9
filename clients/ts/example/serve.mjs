#!/usr/bin/env node
// Serves the example page (index.html, app.tsx bundled by esbuild) on
// loopback against a local cluster:
//
//   build/client/tally up --data-dir .tally --open-prices --ws-port 7780 &
//   node clients/ts/example/serve.mjs --data-dir .tally        # then open http://127.0.0.1:8080/
//
// /config.json gives the page the gateway's WebSocket address and the
// worker account, read from DIR/tally.env (TALLY_GATEWAY_WS,
// TALLY_WORKER_ACCOUNT) at each request, so a restarted cluster is picked
// up; while the cluster is stopped (tally up removes the file) it gives the
// last one it read, so that the page still loads, and shows itself offline. Needs `npm ci --prefix clients/ts` and `npm run --prefix clients/ts
// build` (the protobuf code the bundle takes). Plain node:http, no framework.
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const usage = "usage: node clients/ts/example/serve.mjs [--data-dir DIR (.tally)] [--port N (8080)] "
              + "[--host ADDR (127.0.0.1)]";

function fail(message) {
  console.error(`serve: ${message}`);
  process.exit(1);
}

const options = { dataDir: ".tally", port: 8080, host: "127.0.0.1" };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const value = args[i + 1];
  if (args[i] === "--help" || args[i] === "-h") {
    console.log(usage);
    process.exit(0);
  } else if (args[i] === "--data-dir" && value) {
    options.dataDir = value;
    i++;
  } else if (args[i] === "--port" && value && /^\d+$/.test(value) && Number(value) < 65536) {
    options.port = Number(value);
    i++;
  } else if (args[i] === "--host" && value) {
    options.host = value;
    i++;
  } else {
    console.error(usage);
    process.exit(2);
  }
}
const envPath = resolve(options.dataDir, "tally.env");

if (!existsSync(join(here, "..", "src", "gen", "tally_pb.ts")))
  fail("the protobuf code is not generated: run npm ci --prefix clients/ts && "
       + "npm run --prefix clients/ts build");
let esbuild;
try {
  esbuild = await import("esbuild");
} catch {
  fail("esbuild is not installed: run npm ci --prefix clients/ts (or scripts/install-deps.sh --test)");
}

const built = await esbuild.build({
  entryPoints: [join(here, "app.tsx")],
  bundle: true,
  write: false,
  format: "esm",
  platform: "browser",
  target: "es2022",
  jsx: "automatic",
  minify: true,
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
}).catch((error) => fail(`bundling app.tsx: ${error.message}`));
const bundle = built.outputFiles[0].contents;
const page = readFileSync(join(here, "index.html"));

// DIR/tally.env: KEY=VALUE lines, as tally up writes them.
let lastConfig = null;
function config() {
  const found = readConfig();
  if (!found.error) lastConfig = found;
  return found.error && lastConfig ? lastConfig : found;
}

function readConfig() {
  let text;
  try {
    text = readFileSync(envPath, "utf8");
  } catch {
    return { error: `${envPath} not found: start the cluster with tally up --data-dir `
                    + `${options.dataDir} --ws-port PORT (it writes the file once it is ready)` };
  }
  const env = Object.fromEntries(text.split("\n").filter((line) => line.includes("="))
    .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]));
  if (!env.TALLY_GATEWAY_WS)
    return { error: `${envPath} has no TALLY_GATEWAY_WS: start tally up with --ws-port PORT` };
  if (!env.TALLY_WORKER_ACCOUNT) return { error: `${envPath} has no TALLY_WORKER_ACCOUNT` };
  return { gateway: env.TALLY_GATEWAY_WS, worker: env.TALLY_WORKER_ACCOUNT };
}

const server = createServer((request, response) => {
  const path = new URL(request.url ?? "/", "http://localhost").pathname;
  const send = (status, type, body) => {
    response.writeHead(status, { "content-type": type, "cache-control": "no-store" });
    response.end(body);
  };
  if (request.method !== "GET" && request.method !== "HEAD") return send(405, "text/plain", "GET only\n");
  if (path === "/" || path === "/index.html") return send(200, "text/html; charset=utf-8", page);
  if (path === "/app.js") return send(200, "text/javascript; charset=utf-8", bundle);
  if (path === "/config.json") {
    const found = config();
    return found.error ? send(503, "text/plain; charset=utf-8", `${found.error}\n`)
                       : send(200, "application/json", JSON.stringify(found));
  }
  if (path === "/favicon.ico") return send(204, "image/x-icon", "");
  return send(404, "text/plain", "not found\n");
});
server.on("error", (error) => fail(`${options.host}:${options.port}: ${error.message}`));
server.listen(options.port, options.host, () => {
  const found = config();
  console.log(`serve: http://${options.host}:${options.port}/ `
              + (found.error ? `(${found.error})` : `gateway=${found.gateway} worker=${found.worker}`));
});
for (const signal of ["SIGINT", "SIGTERM"])
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
