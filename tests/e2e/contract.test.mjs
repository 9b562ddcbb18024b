// The contract between the wasm module and its JS wrapper, read from both sources: the
// commands of `Connection::run`, their flags, the kinds of their errors and the page's
// events (src/api/connection.rs), and the records' outputs and argument tags
// (src/api/events.rs) are numbered by position, so the JS lists in
// src/api/js/contract.js must name the same things in the same order. A mismatch would
// deliver one event as another, or run the wrong command, without any error.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

const source = (path) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
const rust = { connection: source("src/api/connection.rs"), events: source("src/api/events.rs") };
const js = source("src/api/js/contract.js");

// The variants of `enum name { ... }`, in order (doc comments and attributes skipped).
const variants = (text, name) => {
  const body = new RegExp(`\\benum ${name} \\{([^}]*)\\}`).exec(text)?.[1];
  assert.ok(body, `enum ${name} not found`);
  return body
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => /^[A-Z]\w*,?$/.test(line))
    .map((line) => line.replace(",", ""));
};

// The strings of `const name = [...]`.
const jsList = (name) => {
  const list = new RegExp(`\\bconst ${name} = (\\[[^\\]]*\\])`).exec(js)?.[1];
  assert.ok(list, `const ${name} not found in contract.js`);
  return JSON.parse(list);
};

const snake = (name) => name.replace(/(?<=[a-z])([A-Z])/g, "_$1").toLowerCase();

test("the JS event names are the callback's Kind, in order", () => {
  const kinds = variants(rust.events, "Kind");
  assert.ok(kinds.length > 10);
  assert.deepEqual(jsList("KINDS").map(snake), kinds.map(snake));
});

test("the JS command numbers are Connection::run's Op, in order", () => {
  const ops = variants(rust.connection, "Op");
  assert.ok(ops.length > 10);
  assert.deepEqual(jsList("OPS"), ops.map(snake));
  // The lookup table lists every variant once, in declaration order.
  const table = /\bconst OPS: \[Op; (\d+)\] = \[([^\]]*)\]/.exec(rust.connection);
  assert.ok(table, "const OPS not found in connection.rs");
  assert.equal(Number(table[1]), ops.length);
  assert.deepEqual(
    table[2].split(",").map((s) => s.trim()).filter(Boolean),
    ops.map((op) => `Op::${op}`),
  );
});

test("the JS command flags have Connection::run's values", () => {
  const flags = [...rust.connection.matchAll(/^const (\w+): u32 = (\d+);/gm)].map(([, name, value]) => [name, Number(value)]);
  assert.deepEqual(flags.map(([name]) => name).sort(), ["REPORT_SENT", "VOLATILE", "WITH_ACK"]);
  for (const [name, value] of flags) {
    const declared = new RegExp(`\\bconst ${name} = (\\d+);`).exec(js);
    assert.ok(declared, `${name} not declared in contract.js`);
    assert.equal(Number(declared[1]), value, name);
  }
  // The driver's own flag must not be one of them.
  const deliver = Number(/\bconst DELIVER = (\d+);/.exec(js)?.[1]);
  assert.ok(deliver > 0);
  for (const [name, value] of flags) assert.equal(deliver & value, 0, `DELIVER overlaps ${name}`);
});

test("the page's events are numbered as the core's NetworkEvent, in order", () => {
  const table = /\bconst NETWORK_EVENTS: \[NetworkEvent; \d+\] = \[([^\]]*)\]/.exec(rust.connection)?.[1];
  assert.ok(table, "const NETWORK_EVENTS not found in connection.rs");
  const order = table.split(",").map((s) => s.trim()).filter(Boolean);
  assert.deepEqual(jsList("NETWORK"), order.map((name) => snake(name.replace("NetworkEvent::", ""))));
});

test("the records' tags and the errors' kinds are numbered as in Rust", () => {
  const tags = [...rust.events.matchAll(/^pub const (\w+): f64 = (\d+)\.0;/gm)].map(([, name, n]) => [Number(n), name]);
  assert.ok(tags.length > 5);
  const js = jsList("TAGS");
  for (const [n, name] of tags) assert.equal(js[n]?.toUpperCase(), name, `tag ${n}`);
  assert.equal(js.length, tags.length);
  const body = /\benum ErrorKind \{([^}]*)\}/.exec(rust.connection)?.[1];
  assert.ok(body, "enum ErrorKind not found");
  const kinds = [...body.matchAll(/^\s+(\w+) = (\d+),$/gm)].map(([, name, n]) => [snake(name), Number(n)]);
  assert.deepEqual(kinds, jsList("ERRORS").map((name, i) => [name, i + 1]));
});
