// The wasm module's calling convention (src/api/abi.rs and src/api/events.rs): text and
// bytes go into its input buffer, a command runs, and the result and the records of what
// the core asks for are read out of its output buffer, all in numbers and memory; no
// generated glue. Owns that encoding and nothing else: what the records mean is the
// driver's (driver.js).

import { ERRORS, OP, TAGS } from "./contract.js";
import { fail } from "./instance.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const [NUMBER, TRUE, FALSE, TEXT, BYTES, BYTES_LIST] = ["number", "true", "false", "text", "bytes", "bytes_list"].map((t) => TAGS.indexOf(t));
const [EMIT_ERROR, OPTION_ERROR] = ["emit", "option"].map((e) => ERRORS.indexOf(e) + 1);

// One connection of instance `i` ({ x: its exports }); `out(kind, key, a, b, c, d)` hears
// each record of a command, after the command has run.
export class Connection {
  constructor(i, out) {
    this.i = i;
    this.out = out;
    this.h = i.x.resocket_new(Math.random() * 2 ** 53);
  }

  // Runs command `op` (see `Op` in src/api/connection.rs). `text`: a string or undefined;
  // `extra`: the command's bytes (a Uint8Array, an array of them, or a string) or
  // undefined. Returns the command's result, after its records; throws its error.
  run(op, key, n, flags, text, extra, now) {
    if (extra !== undefined) for (const bytes of [].concat(extra)) this._run(OP.bytes, 0, 0, 0, this._put(bytes), now);
    return this._run(op, key, n, flags, text === undefined ? 0 : this._put(text), now);
  }

  free() {
    this.i.x?.resocket_free(this.h);
  }

  // Writes `v` (a string, as UTF-8, or bytes) into the input buffer; its length.
  _put(v) {
    const x = this.i.x;
    if (typeof v != "string") {
      new Uint8Array(x.memory.buffer, x.resocket_input(v.length), v.length).set(v);
      return v.length;
    }
    // Room for ASCII first; more once a longer character shows up.
    let room = v.length;
    let at = x.resocket_input(room);
    const { read, written } = encoder.encodeInto(v, new Uint8Array(x.memory.buffer, at, room));
    if (read == v.length) return written;
    room = written + (v.length - read) * 3;
    at = x.resocket_input(room);
    return written + encoder.encodeInto(v.slice(read), new Uint8Array(x.memory.buffer, at + written, room - written)).written;
  }

  _run(op, key, n, flags, len, now) {
    const x = this.i.x;
    const status = x.resocket_run(this.h, op, key, n, flags, len, now);
    const buffer = x.memory.buffer;
    const f = new Float64Array(buffer, x.resocket_output(), x.resocket_output_len());
    let p = 0;
    const bytes = () => {
      const at = f[p++];
      return buffer.slice(at, at + f[p++]);
    };
    const arg = () => {
      switch (f[p++]) {
        case NUMBER:
          return f[p++];
        case TRUE:
          return true;
        case FALSE:
          return false;
        case TEXT:
          return decoder.decode(new Uint8Array(buffer, f[p++], f[p++]));
        case BYTES:
          return bytes();
        case BYTES_LIST:
          return Array.from({ length: f[p++] }, bytes);
      }
    };
    const result = arg();
    while (p < f.length) {
      const kind = f[p++];
      const k = f[p++];
      const a = arg();
      const b = arg();
      const c = arg();
      this.out(kind, k, a, b, c, arg());
    }
    // An option the core cannot take; an emit it refused; an unknown command.
    if (status == OPTION_ERROR) throw new TypeError(result);
    if (status) throw fail(result, status == EMIT_ERROR ? "EmitError" : "InvalidCommand");
    return result;
  }
}
