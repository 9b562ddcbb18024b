// The tiny app of the packaging tests (../../packaging.test.mjs), shared by every way of
// loading the package: connects to the socket.io server named by `?server=<url>`, makes
// two acknowledged round trips, and reports in `window.app` ({ done, error, result }) and
// on the page. The app does not import the opt-in features: their options are refused,
// naming the module to import.
export async function check(io) {
  const app = (window.app = { done: false, error: null, result: null });
  const status = document.getElementById("status");
  try {
    const server = new URLSearchParams(location.search).get("server");
    const optIn = ["shareAcrossTabs", "persistQueue"].map((option) => {
      try {
        io(server, { [option]: true, autoConnect: false, forceNew: true });
        return `${option}: no error`;
      } catch (err) {
        return `${err.name}: ${err.message}`;
      }
    });
    const socket = io(server, { reconnection: false, timeout: 5000 });
    await new Promise((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("connect_error", reject);
    });
    const echo = await socket.timeout(5000).emitWithAck("echo", { hello: "from the app" });
    const whoami = await socket.timeout(5000).emitWithAck("whoami");
    app.result = { id: socket.id, echo, whoami, optIn };
    socket.disconnect();
    status.textContent = `ok: ${JSON.stringify(app.result)}`;
  } catch (err) {
    app.error = String(err?.stack ?? err);
    status.textContent = `failed: ${app.error}`;
  } finally {
    app.done = true;
  }
}
