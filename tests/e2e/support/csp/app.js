// The app of the Content Security Policy test (../../csp.test.mjs): loads the package,
// connects to the socket.io server named by `?server=<url>`, has the server send it an
// event, makes an acknowledged round trip, and reports in `window.cspApp`
// ({ done, error, violations, result }) and on the page.
const app = (window.cspApp = { done: false, error: null, violations: [], result: null });

// Listened to before anything loads, so that no violation of the page's policy, however
// early, goes unrecorded.
document.addEventListener("securitypolicyviolation", (e) => {
  app.violations.push({ directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample });
});

function within(promise, ms, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const status = document.getElementById("status");
try {
  // A dynamic import: a refused WebAssembly compilation then rejects here, where it is
  // reported, rather than failing the module before any of it runs.
  const { io } = await import("/pkg/index.js");
  const server = new URLSearchParams(location.search).get("server");
  const socket = io(server, { reconnection: false, timeout: 5000 });
  try {
    await within(
      new Promise((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("connect_error", reject);
      }),
      8000,
      "connect",
    );
    const event = new Promise((resolve) => socket.once("from-server", (...args) => resolve(args)));
    await socket.timeout(5000).emitWithAck("emit-to-me", "from-server", { hello: "event" });
    const received = await within(event, 5000, 'the "from-server" event');
    const echo = await socket.timeout(5000).emitWithAck("echo", { hello: "ack" });
    app.result = { id: socket.id, received, echo };
  } finally {
    socket.disconnect();
  }
  status.textContent = `ok: ${JSON.stringify(app.result)}`;
} catch (err) {
  app.error = String(err?.message ?? err);
  status.textContent = `failed: ${app.error}`;
} finally {
  app.done = true;
}
