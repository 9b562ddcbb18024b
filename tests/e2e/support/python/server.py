"""A python-socketio server (python-engineio under uvicorn) for the e2e tests.

A second, independent implementation of the Socket.IO server side, so that the client
is checked against more than the Node server it was written beside. Run by
../python-server.mjs with the interpreter of the virtualenv that scripts/setup.sh
makes (target/python-venv, packages pinned in ./requirements.txt).

Options (argv, --name=value):
  --port=<n>           port on 127.0.0.1 (default 0: any free port); exits with code 98
                       when it is in use (the parent retries)
  --ping-interval=<ms> Engine.IO pingInterval (default 25000)
  --ping-timeout=<ms>  Engine.IO pingTimeout (default 20000)

Output (stdout, one JSON object a line), the contract of ../processes.mjs:
  first line: {"port": <n>} once it listens
  {"event":"connection","sid":..,"eioSid":..,"transport":"polling"|"websocket","query":{..}}
  {"event":"upgrade","sid":..,"eioSid":..,"transport":"websocket"}
      (the Engine.IO session moved from polling to WebSocket)
  {"event":"disconnect","sid":..,"eioSid":..,"reason":..,"transport":..,"upgraded":bool}
It exits when its stdin closes (the test runner went away) or on SIGTERM/SIGINT.

What namespace "/" answers (the client drives the server through events):
  "echo" (...args, ack)         ack(...args)
  "echo-back" (...args)         emit("echo", ...args)
  "describe" (...args, ack)     ack(args with every binary replaced by {"$bytes": hex})
  "send-binary" (ack)           emit("binary", <nested bytes>) then ack(<nested bytes>)
  "ask" (payload, ack)          emit("question", payload) with an ack (3 s timeout), then
                                ack({"answer": described answer} | {"error": ..})
  "emit-to-me" (name, ...args, ack?)  emit(name, ...args), then ack()
  "whoami" (ack)                ack({sid, eioSid, transport})
  "kick"                        a Socket.IO disconnect of this socket (the client sees
                                "io server disconnect" and does not reconnect)
  "drop-transport"              closes this client's Engine.IO session (a CLOSE packet,
                                then the WebSocket, if there is one, closed)
"""

import asyncio
import errno
import json
import signal
import socket
import sys
import threading
from urllib.parse import parse_qsl

import socketio
from engineio import packet as eio_packet
import uvicorn


def option(name, fallback):
    prefix = f"--{name}="
    for arg in sys.argv[1:]:
        if arg.startswith(prefix):
            return arg[len(prefix):]
    return fallback


PORT = int(option("port", "0"))
PING_INTERVAL = int(option("ping-interval", "25000")) / 1000
PING_TIMEOUT = int(option("ping-timeout", "20000")) / 1000


def report(line):
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def describe(value, depth=0):
    """A JSON-safe picture of what arrived: binaries as {"$bytes": hex}."""
    if depth > 20:
        return "<too deep>"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": bytes(value).hex()}
    if isinstance(value, (list, tuple)):
        return [describe(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {k: describe(v, depth + 1) for k, v in value.items()}
    return value


def binary_payload():
    """The same bytes as ../server.mjs sends, so that one expectation fits both servers."""
    return {
        "top": bytes([0, 1, 2, 253, 254, 255]),
        "nested": {"deeper": ["héllo".encode("utf-8"), 42, b""]},
        "text": "not binary",
    }


sio = socketio.AsyncServer(
    async_mode="asgi",
    cors_allowed_origins="*",
    ping_interval=PING_INTERVAL,
    ping_timeout=PING_TIMEOUT,
)
engine_app = socketio.ASGIApp(sio)

# The ASGI `send` of each Engine.IO session's WebSocket, by session id, for drop().
websockets = {}


async def app(scope, receive, send):
    """python-socketio's ASGI app, keeping each WebSocket's `send` for drop()."""
    if scope["type"] != "websocket":
        return await engine_app(scope, receive, send)
    eio_sid = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"))).get("sid")
    # An upgrade names its session in the query; a WebSocket-only one learns it from the
    # open packet it sends.
    known = [eio_sid]
    if eio_sid:
        websockets[eio_sid] = send

    async def watched_send(message):
        if known[0] is None and message.get("type") == "websocket.send":
            text = message.get("text") or ""
            if text.startswith("0{"):
                known[0] = json.loads(text[1:]).get("sid")
                websockets[known[0]] = send
        await send(message)

    try:
        return await engine_app(scope, receive, watched_send)
    finally:
        if known[0] and websockets.get(known[0]) is send:
            del websockets[known[0]]


# sid -> {"eio": its Engine.IO session id, "sock": that session, "initial": the
# transport it opened on, "upgraded": whether its upgrade was reported}
clients = {}


def eio_sid_of(sid):
    return sio.manager.eio_sid_from_sid(sid, "/")


def note_upgrade(sid):
    """Reports the session's upgrade once, when it has happened."""
    info = clients.get(sid)
    if info and info["initial"] == "polling" and not info["upgraded"] and info["sock"].upgraded:
        info["upgraded"] = True
        report({"event": "upgrade", "sid": sid, "eioSid": info["eio"], "transport": "websocket"})


def transport_of(sid):
    info = clients.get(sid)
    return "websocket" if info and info["sock"].upgraded else "polling"


async def watch_upgrades():
    # python-engineio has no upgrade event: look at each session often enough that the
    # line comes right after the upgrade (and before anything the session does next:
    # see the calls of note_upgrade()).
    while True:
        for sid in list(clients):
            note_upgrade(sid)
        await asyncio.sleep(0.02)


@sio.event
async def connect(sid, environ, auth=None):
    eio_sid = eio_sid_of(sid)
    sock = sio.eio.sockets[eio_sid]
    # A session that starts on WebSocket is `upgraded` from its first packet on.
    initial = "websocket" if sock.upgraded else "polling"
    clients[sid] = {"eio": eio_sid, "sock": sock, "initial": initial, "upgraded": False}
    query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
    query.pop("t", None)
    report({"event": "connection", "sid": sid, "eioSid": eio_sid, "transport": initial, "query": query})


@sio.event
async def disconnect(sid, reason=None):
    note_upgrade(sid)
    info = clients.pop(sid, None) or {}
    report({
        "event": "disconnect",
        "sid": sid,
        "eioSid": info.get("eio"),
        "reason": str(reason),
        "transport": "websocket" if info.get("upgraded") or info.get("initial") == "websocket" else "polling",
        "upgraded": bool(info.get("upgraded")),
    })


@sio.on("echo")
async def on_echo(sid, *args):
    return tuple(args)


@sio.on("echo-back")
async def on_echo_back(sid, *args):
    await sio.emit("echo", tuple(args), to=sid)


@sio.on("describe")
async def on_describe(sid, *args):
    return describe(list(args))


@sio.on("send-binary")
async def on_send_binary(sid, *args):
    await sio.emit("binary", binary_payload(), to=sid)
    return binary_payload()


@sio.on("ask")
async def on_ask(sid, payload=None, *rest):
    try:
        answer = await sio.call("question", payload, to=sid, timeout=3)
    except Exception as exc:  # a timeout or a lost client: the test reads the message
        return {"error": f"{type(exc).__name__}: {exc}"}
    # One argument comes back as itself, several as a tuple.
    answer = list(answer) if isinstance(answer, tuple) else [answer]
    return {"answer": describe(answer)}


@sio.on("emit-to-me")
async def on_emit_to_me(sid, name, *args):
    await sio.emit(name, tuple(args), to=sid)


@sio.on("whoami")
async def on_whoami(sid, *args):
    note_upgrade(sid)
    return {"sid": sid, "eioSid": eio_sid_of(sid), "transport": transport_of(sid)}


@sio.on("kick")
async def on_kick(sid, *args):
    await sio.disconnect(sid)


async def drop(eio_sid):
    """Closes an Engine.IO session as socket.io's server does: the CLOSE packet, then the
    WebSocket, if any, is closed."""
    sock = sio.eio.sockets.get(eio_sid)
    if sock is None or sock.closed:
        return
    # Not sio.eio.disconnect(): it marks the session closed at once, and python-engineio
    # then answers a poll that was not already waiting with a 400 instead of the CLOSE
    # packet. Here the packet is queued first, and the session closed once a poll (or
    # the WebSocket) has taken it.
    await sock.send(eio_packet.Packet(eio_packet.CLOSE))
    try:
        await asyncio.wait_for(sock.queue.join(), 5)
    except asyncio.TimeoutError:
        pass
    await sock.close(wait=False, abort=True, reason=sio.eio.reason.SERVER_DISCONNECT)
    # python-engineio leaves the WebSocket open after the CLOSE packet (until the client
    # closes it, which socket.io-client does not do): close it here.
    ws_send = websockets.get(eio_sid)
    if ws_send is not None:
        try:
            await ws_send({"type": "websocket.close", "code": 1000})
        except Exception:  # already closed by the client
            pass


@sio.on("drop-transport")
async def on_drop_transport(sid, *args):
    sio.start_background_task(drop, eio_sid_of(sid))


def watch_stdin(loop, server):
    """Runs in a thread: the end of stdin means that the parent went away."""
    for _ in sys.stdin:
        pass
    loop.call_soon_threadsafe(setattr, server, "should_exit", True)


async def main():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("127.0.0.1", PORT))
    except OSError as exc:
        sys.stderr.write(f"python-socketio server: {exc}\n")
        sys.exit(98 if exc.errno == errno.EADDRINUSE else 1)
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=0.2,
    )
    server = uvicorn.Server(config)
    serving = asyncio.ensure_future(server.serve(sockets=[listener]))
    for _ in range(1000):
        if server.started or serving.done():
            break
        await asyncio.sleep(0.01)
    if not server.started:
        await serving  # raises what stopped it, if anything
        sys.exit(1)
    report({"port": listener.getsockname()[1]})
    watcher = asyncio.ensure_future(watch_upgrades())
    threading.Thread(target=watch_stdin, args=(asyncio.get_running_loop(), server), daemon=True).start()
    try:
        await serving
    finally:
        watcher.cancel()


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    asyncio.run(main())
