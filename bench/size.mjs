// What an app ships, min+gzip: the same tiny app, once importing `io` from resocket,
// once from socket.io-client 4.8.4, once from the raw baseline, each bundled and minified
// by esbuild (ESM, browser, es2022: resocket's loader uses top-level await) and gzipped
// (level 9). resocket's .wasm is fetched at run time, next to the bundle: it is gzipped
// on its own and added. For reference, the published pre-minified bundle of
// socket.io-client (dist/socket.io.esm.min.js) is measured too.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(import.meta.url);

const gzip = (bytes) => gzipSync(bytes, { level: 9 }).length;

// The app: connect, listen, emit, ack. Only the import line differs.
const app = (from) => `import { io } from ${JSON.stringify(from)};
const socket = io("https://example.com/chat", { reconnectionDelay: 500 });
socket.on("connect", () => console.log("connected", socket.id));
socket.on("message", (m) => console.log(m));
socket.emit("hello", { name: "app" });
socket.timeout(2000).emitWithAck("echo", 1).then(console.log, console.error);
`;

async function bundle(from, alias) {
  const result = await build({
    stdin: { contents: app(from), resolveDir: ROOT, sourcefile: "app.js", loader: "js" },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    legalComments: "none",
    write: false,
    logLevel: "silent",
    alias,
  });
  const js = result.outputFiles[0].contents;
  return { minBytes: js.length, gzipBytes: gzip(js) };
}

/**
 * { resocket, "socket.io-client", raw, reference }: bytes, min and min+gzip. `pkgDir`:
 * the built package (default pkg/).
 */
export async function measureSizes(pkgDir = join(ROOT, "pkg")) {
  const resocketJs = await bundle("resocket", { resocket: join(pkgDir, "index.js") });
  const wasm = await readFile(join(pkgDir, "resocket_wasm_bg.wasm"));
  const wasmGzip = gzip(wasm);
  const sioc = await bundle("socket.io-client");
  const raw = await bundle("./bench/page/raw-client.js");
  const dist = await readFile(join(dirname(require.resolve("socket.io-client/package.json")), "dist", "socket.io.esm.min.js"));
  return {
    resocket: {
      jsMin: resocketJs.minBytes,
      jsGzip: resocketJs.gzipBytes,
      wasm: wasm.length,
      wasmGzip,
      totalGzip: resocketJs.gzipBytes + wasmGzip,
    },
    "socket.io-client": { jsMin: sioc.minBytes, jsGzip: sioc.gzipBytes, totalGzip: sioc.gzipBytes },
    raw: { jsMin: raw.minBytes, jsGzip: raw.gzipBytes, totalGzip: raw.gzipBytes },
    reference: { siocDistEsmMin: dist.length, siocDistEsmMinGzip: gzip(dist) },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await measureSizes(), null, 2));
}
