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

// The views of instance `i`'s memory, made again once it grows (its buffer changes).
const views = (i) => {
  const buffer = i.x.memory.buffer;
  if (i.views?.buffer !== buffer) i.views = { buffer, u8: new Uint8Array(buffer), f64: new Float64Array(buffer) };
  return i.views;
};

// One connection of instance `i`; `out(kind, key, a, b, c, d)` hears each record of a
// command, after the command has run.
export class Connection {
  constructor(i, out) {
    this.i = i;
    this.out = out;
    this.h = i.x.resocket_new(Math.random() * 2 ** 53) >>> 0;
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
    const i = this.i;
    const length = v.length;
    // Addresses are unsigned; wasm gives them as signed 32-bit numbers.
    let at = i.x.resocket_input(length) >>> 0;
    let u8 = views(i).u8;
    if (typeof v != "string") {
      u8.set(v, at);
      return length;
    }
    // ASCII by hand (cheaper than a call for the short texts of most commands), the rest,
    // from the first longer character, with encodeInto in room for the worst case.
    let ascii = 0;
    for (; ascii < length; ascii++) {
      const code = v.charCodeAt(ascii);
      if (code > 0x7f) break;
      u8[at + ascii] = code;
    }
    if (ascii == length) return length;
    const room = ascii + (length - ascii) * 3;
    at = i.x.resocket_input(room) >>> 0;
    u8 = views(i).u8;
    return ascii + encoder.encodeInto(v.slice(ascii), u8.subarray(at + ascii, at + room)).written;
  }

  _run(op, key, n, flags, len, now) {
    const i = this.i;
    const at = (i.x.resocket_run(this.h, op, key, n, flags, len, now) >>> 0) / 8;
    const v = views(i);
    const f = v.f64;
    // How many numbers follow the count, then the status.
    const end = at + 1 + f[at];
    const status = f[at + 1];
    reading.f = f;
    reading.u8 = v.u8;
    reading.buffer = v.buffer;
    reading.p = at + 2;
    const result = arg();
    while (reading.p < end) {
      const kind = f[reading.p++];
      const k = f[reading.p++];
      const a = arg();
      const b = arg();
      const c = arg();
      this.out(kind, k, a, b, c, arg());
    }
    // Nothing keeps the memory past the reading (a trapped instance's must go).
    reading.f = reading.u8 = reading.buffer = null;
    // An option the core cannot take; an emit it refused; an unknown command.
    if (status == OPTION_ERROR) throw new TypeError(result);
    if (status) throw fail(result, status == EMIT_ERROR ? "EmitError" : "InvalidCommand");
    return result;
  }
}

// The output being read: its numbers, the memory's buffer, the next number's index. The
// records of one command are read to the end before another runs (the driver runs none
// while it hears them).
const reading = { f: null, u8: null, buffer: null, p: 0 };

const bytes = () => {
  const r = reading;
  const at = r.f[r.p++];
  return r.buffer.slice(at, at + r.f[r.p++]);
};

// Most texts out of wasm are a few ASCII bytes (a frame's head, a reason): read by hand,
// cheaper than a call to the decoder; the others decoded as UTF-8.
const SHORT = 32;
const text = (at, length) => {
  const u8 = reading.u8;
  if (length <= SHORT) {
    let s = "";
    for (let i = at; i < at + length; i++) {
      const code = u8[i];
      if (code > 0x7f) return decoder.decode(u8.subarray(at, at + length));
      s += String.fromCharCode(code);
    }
    return s;
  }
  return decoder.decode(u8.subarray(at, at + length));
};

const arg = () => {
  const r = reading;
  const f = r.f;
  switch (f[r.p++]) {
    case NUMBER:
      return f[r.p++];
    case TRUE:
      return true;
    case FALSE:
      return false;
    case TEXT:
      return text(f[r.p++], f[r.p++]);
    case BYTES:
      return bytes();
    case BYTES_LIST:
      return Array.from({ length: f[r.p++] }, bytes);
  }
};
