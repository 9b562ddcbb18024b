// Injected before a test page's own scripts (Playwright's addInitScript, as a classic
// script) by the trap tests (../../hardening-api.test.mjs, ../../packaging.test.mjs):
// notes the memory of each WebAssembly instance the page makes, in
// window.wasmMemories, so that a test can grow it to its limit even when the package
// is bundled and gives no way to reach it. WeakRefs: the note keeps nothing alive, so
// the tests can also see a dead instance's memory collected.
(() => {
  const memories = (window.wasmMemories = []);
  const note = (instance) => {
    // Whatever its export is named (the package's module names its exports shortly).
    const memory = Object.values(instance?.exports ?? {}).find((value) => value instanceof WebAssembly.Memory);
    if (memory) memories.push(new WeakRef(memory));
    return instance;
  };
  const { instantiate, instantiateStreaming } = WebAssembly;
  WebAssembly.instantiate = async (...args) => {
    const made = await instantiate(...args);
    note(made.instance ?? made);
    return made;
  };
  WebAssembly.instantiateStreaming = async (...args) => {
    const made = await instantiateStreaming(...args);
    note(made.instance);
    return made;
  };
  WebAssembly.Instance = new Proxy(WebAssembly.Instance, {
    construct: (target, args, newTarget) => note(Reflect.construct(target, args, newTarget)),
  });
})();
