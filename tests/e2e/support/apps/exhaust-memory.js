// Grows the memory of the newest wasm instance (found through window.wasmMemories, which
// ./note-wasm-memories.js keeps) to its limit: 4 GiB, reserved, not touched, so that the
// next allocation the allocator cannot serve from what it already holds fails, as on a
// device out of memory. Sets window.exhausted (WeakRefs to that memory and its buffer,
// to see them released) and returns the memory's size. Used by the trap app (bundled)
// and, serialized into the page, by ../../hardening-api.test.mjs.
export function exhaustMemory() {
  const memory = window.wasmMemories.at(-1).deref();
  let pages = 65536;
  for (let i = 0; i < 64 && pages >= 1; i += 1) {
    try {
      memory.grow(pages);
    } catch {
      pages >>= 1;
    }
  }
  window.exhausted = [new WeakRef(memory), new WeakRef(memory.buffer)];
  return memory.buffer.byteLength;
}
