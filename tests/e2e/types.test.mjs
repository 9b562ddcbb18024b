// The TypeScript declarations of the BUILT package (pkg/index.d.ts), checked with the
// project's tsc (node_modules, `--strict`):
//   - tests/types/usage.ts (typed use à la socket.io-client) and tests/types/misuse.ts
//     (mistakes, each marked `// @ts-expect-error`) compile: tsc fails on an unused
//     marker, so every marked mistake is refused;
//   - misuse.ts with its markers removed fails, with an error on exactly each marked line.
// tests/types/tsconfig.json maps `resocket` to pkg/index.d.ts. packaging.test.mjs checks
// the same usage against the installed package (package.json `exports`/`types`).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { ROOT } from "./support/static.mjs";

const TYPES_DIR = join(ROOT, "tests", "types");
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
const MARKER = /^\s*\/\/\s*@ts-expect-error\b/;

/** Runs tsc (at most 60 s); resolves to { code, output }. */
function tsc(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TSC, ...args, "--pretty", "false"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal, output });
    });
  });
}

let tmp;
before(async () => {
  if (!existsSync(join(ROOT, "pkg", "index.d.ts"))) {
    throw new Error("pkg/index.d.ts is missing: build the package first (node scripts/build-package.mjs)");
  }
  tmp = await mkdtemp(join(tmpdir(), "resocket-types-"));
});

after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test("typed usage and every marked misuse type-check against pkg/index.d.ts (tsc --strict)", async () => {
  const { code, output } = await tsc(["-p", TYPES_DIR]);
  assert.equal(code, 0, `tsc -p tests/types failed:\n${output}`);
});

test("misuse.ts without its @ts-expect-error markers fails on exactly the marked lines", async () => {
  const lines = (await readFile(join(TYPES_DIR, "misuse.ts"), "utf8")).split("\n");
  // Marked line numbers (1-based): the line after each marker.
  const expected = lines.flatMap((line, i) => (MARKER.test(line) ? [i + 2] : []));
  assert.ok(expected.length >= 10, `misuse.ts has only ${expected.length} markers`);
  // The markers become blank lines, so that the line numbers stay the same.
  await writeFile(join(tmp, "misuse.ts"), lines.map((line) => (MARKER.test(line) ? "" : line)).join("\n"));
  await writeFile(
    join(tmp, "tsconfig.json"),
    JSON.stringify({ extends: join(TYPES_DIR, "tsconfig.json"), files: ["misuse.ts"] }),
  );

  const { code, output } = await tsc(["-p", tmp]);
  assert.notEqual(code, 0, `tsc accepted misuse.ts without its markers:\n${output}`);
  const failing = new Set(
    [...output.matchAll(/misuse\.ts\((\d+),\d+\): error TS\d+/g)].map((match) => Number(match[1])),
  );
  const unrefused = expected.filter((line) => !failing.has(line));
  assert.deepEqual(unrefused, [], `no error on these marked lines of misuse.ts:\n${output}`);
  const unexpected = [...failing].filter((line) => !expected.includes(line));
  assert.deepEqual(unexpected, [], `errors on unmarked lines of misuse.ts:\n${output}`);
  assert.doesNotMatch(output, /^(?!.*misuse\.ts\().*error TS\d+/m, `errors outside misuse.ts:\n${output}`);
});
