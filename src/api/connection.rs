//! `Connection`: one Engine.IO connection with its namespace sockets, exported to JS.
//!
//! The core, driven through one entry point, [`Connection::run`], by the package's JS
//! driver (`src/api/js/driver.js`), which owns everything of the browser: WebSockets,
//! polling requests, the timer, the clock and the page's listeners. Both the app's
//! commands and what the browser reports arrive here as numbered commands; everything
//! the core asks for (events, transports to open, frames to send, the timer) goes back
//! through the one callback of the events module, while the command runs.
//!
//! Arguments arrive already validated by the JS wrapper (types and ranges of options,
//! JSON written by `JSON.stringify`); what can still be wrong (an emit that is not an
//! array, a reserved event name, an unknown option) is returned as a JS `Error` with a
//! stable `.type`, never a panic.

use std::sync::atomic::{AtomicU32, Ordering};

use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::core::{
    ConnId, EmitOptions, Manager, ManagerConfig, NetworkEvent, Output, Session, SocketKey,
};
use crate::driver::random_seed;
use crate::protocol::{Frame, JsonText};

use super::events::{forward, Caller, EventCallback};
use super::options::{manager_options, socket_options};

#[wasm_bindgen]
pub struct Connection {
    manager: Manager,
    caller: Caller,
    /// The latest reading of the driver's clock: readings never go back (a frame stamped
    /// before it counts as at it).
    now: u64,
    /// The deadline the driver's timer is armed for, if it is.
    armed: Option<u64>,
    /// The latest text received on each open transport (a frame, or a polling
    /// response): an event completed by a later binary frame ends it too.
    texts: Vec<(ConnId, String)>,
    /// The JSON of the emit or ack being run: a frame that ends with it crosses as its
    /// head alone, and the driver appends its own string of the JSON.
    sending: Option<String>,
}

/// Connections alive in this wasm instance (created and not yet freed): lets tests and
/// apps check that abandoned connections are released.
static LIVE_CONNECTIONS: AtomicU32 = AtomicU32::new(0);

#[wasm_bindgen(js_name = liveConnections)]
pub fn live_connections() -> u32 {
    LIVE_CONNECTIONS.load(Ordering::Relaxed)
}

impl Drop for Connection {
    fn drop(&mut self) {
        LIVE_CONNECTIONS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The commands of [`Connection::run`], numbered in the order of `OPS` in
/// `src/api/js/contract.js` (the same names in snake case; `tests/e2e/contract.test.mjs`
/// checks it). Arguments: `key` the socket (or, for what the browser reports, the
/// transport), `number`, `flags`, `text`, `extra` as each says.
#[derive(Clone, Copy)]
enum Op {
    /// `text`: the Manager's options that change, as JSON (see `manager_options`).
    Configure,
    /// `text`: the socket's options, as JSON (see `socket_options`); returns its key.
    Socket,
    /// socket.io-client's `Manager.open()`: connects now, with or without a socket.
    Open,
    /// The end of socket.io-client's `Manager.disconnect()`, once every socket is
    /// disconnected: nothing keeps or re-establishes the connection any more.
    Close,
    Connect,
    Disconnect,
    /// Drops the transport as a network failure would (`socket.io.engine.close()`).
    CloseTransport,
    /// `text`: the JSON of `[name, ...args]`, `extra`: its attachments (an array of
    /// `Uint8Array`s) or `undefined`, `number`: the ack timeout in milliseconds or
    /// negative for none, `flags`: [`WITH_ACK`], [`VOLATILE`], [`REPORT_SENT`]. Returns
    /// the ack id when asked for.
    Emit,
    /// Answers the server's acknowledgement request `number` with `text` (a JSON array)
    /// and `extra` (attachments).
    Ack,
    /// Answers `auth` event `number`: `text` is the JSON of an object, or `undefined`.
    Auth,
    /// The app's auth function failed for `auth` event `number`.
    AuthFailed,
    /// Declares a rejoin emit (`text`, `extra` as for an emit); returns its id.
    AddRejoin,
    /// Removes rejoin emit `number`; returns whether it was there.
    RemoveRejoin,
    ClearQueue,
    /// The emits in the offline queue, oldest first, as the JSON of one array.
    Queued,
    /// The Engine.IO session id of the open connection (`socket.io.engine.id`).
    EngineId,
    /// The socket's session id.
    Sid,
    /// The socket's state in one number: flags 1 connected, 2 active (wants a
    /// connection), 4 recovered (its last connect restored the session); the
    /// connection's flag 8, opened for its own sake (`open()`), whatever the key; and
    /// from bit 4 up, how many at-least-once emits wait for their acknowledgement.
    State,
    /// How many emits have not gone for good: those of the offline queue and the
    /// at-least-once ones not yet acknowledged (what `persistQueue` keeps in storage).
    Waiting,
    /// The recoverable session of socket `key`, once the server gave one and an event
    /// has been delivered: its private session id (the offsets are in the events).
    /// For `shareAcrossTabs`, whose leading page hands it to the next one.
    Session,
    /// Socket `key`'s next CONNECT presents the session of another client: `text` its
    /// private session id, `extra` the offset of the last event delivered. Returns
    /// whether it was taken (not once a CONNECT of the socket's own is under way).
    Resume,
    /// Transport `key` (a WebSocket) is open.
    TransportOpen,
    /// Transport `key` received the text frame `text`.
    TextFrame,
    /// Transport `key` received a binary frame, `extra` (a `Uint8Array`).
    BinaryFrame,
    /// Transport `key` closed; `number` 1: it failed rather than closed normally.
    TransportClosed,
    /// Transport `key` received a frame over the `frameBytes` limit, not copied.
    FrameTooLarge,
    /// The GET of polling transport `key` answered `text`.
    Polled,
    /// A POST of polling transport `key` was accepted.
    Posted,
    /// A request of polling transport `key` failed; `number` 1: a POST.
    RequestFailed,
    /// The timer fired; the wall clock went `number` milliseconds further than the
    /// monotonic one since the driver last looked (a sleep, say), or 0.
    Timeout,
    /// The page's event `number`: 0 online, 1 offline, 2 visible again, 3 restored from
    /// the back/forward cache.
    Network,
    /// The wall clock went `number` milliseconds further than the monotonic one (a
    /// sleep, say) since the driver last looked.
    TimeGap,
}

const OPS: [Op; 32] = [
    Op::Configure,
    Op::Socket,
    Op::Open,
    Op::Close,
    Op::Connect,
    Op::Disconnect,
    Op::CloseTransport,
    Op::Emit,
    Op::Ack,
    Op::Auth,
    Op::AuthFailed,
    Op::AddRejoin,
    Op::RemoveRejoin,
    Op::ClearQueue,
    Op::Queued,
    Op::EngineId,
    Op::Sid,
    Op::State,
    Op::Waiting,
    Op::Session,
    Op::Resume,
    Op::TransportOpen,
    Op::TextFrame,
    Op::BinaryFrame,
    Op::TransportClosed,
    Op::FrameTooLarge,
    Op::Polled,
    Op::Posted,
    Op::RequestFailed,
    Op::Timeout,
    Op::Network,
    Op::TimeGap,
];

const NETWORK_EVENTS: [NetworkEvent; 4] = [
    NetworkEvent::Online,
    NetworkEvent::Offline,
    NetworkEvent::Visible,
    NetworkEvent::PageShow,
];

/// Flags of [`Connection::run`]: the emit asks for an acknowledgement.
const WITH_ACK: u32 = 1;
/// The emit is dropped unless it can go on the wire at once.
const VOLATILE: u32 = 2;
/// Every copy of the emit that goes on the wire comes back as a "sent" event.
const REPORT_SENT: u32 = 4;

/// How often the timer fires at least while a connection is open, so that the driver
/// compares the wall clock with the monotonic one soon after a sleep.
const WALL_CHECK_MS: u64 = 5000;

#[wasm_bindgen]
impl Connection {
    /// `on_event`: see the events module. The settings are socket.io-client's defaults
    /// until the `configure` command (the JS Manager sends it right away, before any
    /// socket connects).
    #[wasm_bindgen(constructor)]
    pub fn new(on_event: EventCallback) -> Connection {
        LIVE_CONNECTIONS.fetch_add(1, Ordering::Relaxed);
        Connection {
            manager: Manager::new(ManagerConfig::default(), random_seed()),
            caller: Caller::new(on_event),
            now: 0,
            armed: None,
            texts: Vec::new(),
            sending: None,
        }
    }

    /// Runs command `op` at `now` (the driver's monotonic clock, in milliseconds): the
    /// commands, their arguments and results are listed in `src/api/connection.rs`
    /// (`Op`). What the core asks for goes to the callback before it returns.
    #[allow(clippy::too_many_arguments)]
    pub fn run(
        &mut self,
        op: u32,
        key: u32,
        number: f64,
        flags: u32,
        text: Option<String>,
        extra: JsValue,
        now: f64,
    ) -> Result<JsValue, JsValue> {
        let op = *OPS
            .get(op as usize)
            .ok_or_else(|| js_error("InvalidCommand", "unknown command"))?;
        self.now = self.now.max(now as u64);
        if matches!(op, Op::Emit | Op::Ack) {
            self.sending.clone_from(&text);
        }
        let result = self.dispatch(op, key, number, flags, text.unwrap_or_default(), extra);
        self.carry_out(op, key);
        self.sending = None;
        result
    }
}

impl Connection {
    /// Runs a command that answers (a read, or a command with a result), or hands the
    /// others to [`Connection::handle`].
    fn dispatch(
        &mut self,
        op: Op,
        key: u32,
        number: f64,
        flags: u32,
        text: String,
        extra: JsValue,
    ) -> Result<JsValue, JsValue> {
        let (now, manager) = (self.now, &mut self.manager);
        let socket = SocketKey(key as usize);
        match op {
            Op::Configure => {
                let options = manager_options(&text, manager.config().clone())?;
                *manager.config_mut() = options.config;
                if options.packets {
                    manager.report_packets();
                }
            }
            Op::Socket => {
                let (namespace, config) = socket_options(&text)?;
                return Ok((manager.socket(&namespace, config).0 as u32).into());
            }
            Op::Emit => {
                let options = EmitOptions {
                    with_ack: flags & WITH_ACK != 0,
                    timeout: (number >= 0.0).then(|| millis(number)),
                    volatile: flags & VOLATILE != 0,
                    report_sent: flags & REPORT_SENT != 0,
                };
                let data = stringified(text);
                return match manager.emit(now, socket, data, bytes_of(&extra), options) {
                    Ok(id) => Ok(id.map_or(JsValue::UNDEFINED, |id| (id as f64).into())),
                    Err(error) => Err(js_error("EmitError", error.message())),
                };
            }
            Op::AddRejoin => {
                return match manager.add_rejoin(socket, stringified(text), bytes_of(&extra)) {
                    Ok(id) => Ok((id as f64).into()),
                    Err(error) => Err(js_error("EmitError", error.message())),
                };
            }
            Op::RemoveRejoin => return Ok(manager.remove_rejoin(socket, number as u64).into()),
            // One string crosses to JS, not one per emit.
            Op::Queued => {
                let queued: Vec<&str> = manager
                    .queued(socket)
                    .into_iter()
                    .map(JsonText::as_str)
                    .collect();
                return Ok(JsonText::array_from_elements(&queued).into_string().into());
            }
            Op::EngineId => {
                return Ok(manager
                    .handshake()
                    .map(|handshake| handshake.sid.clone())
                    .into())
            }
            Op::Sid => return Ok(manager.sid(socket).map(str::to_owned).into()),
            Op::State => {
                let unacknowledged = manager.unacknowledged_len(socket).min(1 << 27) as u32;
                let state = u32::from(manager.is_connected(socket))
                    | u32::from(manager.is_active(socket)) << 1
                    | u32::from(manager.recovered(socket)) << 2
                    | u32::from(manager.is_opened()) << 3
                    | unacknowledged << 4;
                return Ok(state.into());
            }
            Op::Waiting => {
                let waiting = manager.queued(socket).len() + manager.unacknowledged_len(socket);
                return Ok((waiting as f64).into());
            }
            Op::Session => return Ok(manager.session(socket).map(|session| session.pid).into()),
            Op::Resume => {
                let session = extra
                    .as_string()
                    .map(|offset| Session { pid: text, offset });
                let taken = session.is_some_and(|session| manager.resume(socket, session));
                return Ok(taken.into());
            }
            _ => self.handle(op, key, number, text, extra),
        }
        Ok(JsValue::UNDEFINED)
    }

    /// Runs a command without a result: the app's, or what the browser reports.
    fn handle(&mut self, op: Op, key: u32, number: f64, text: String, extra: JsValue) {
        let (now, manager) = (self.now, &mut self.manager);
        let conn = ConnId(u64::from(key));
        let socket = SocketKey(key as usize);
        match op {
            Op::Open => manager.open(now),
            Op::Close => manager.close(),
            Op::Connect => manager.connect(now, socket),
            Op::Disconnect => manager.disconnect(socket),
            Op::CloseTransport => manager.close_transport(now),
            Op::Ack => manager.ack(socket, number as u64, stringified(text), bytes_of(&extra)),
            Op::Auth => {
                let auth = (!text.is_empty()).then(|| stringified(text));
                manager.handle_auth(socket, number as u64, auth.as_ref());
            }
            Op::AuthFailed => manager.handle_auth_failed(now, socket, number as u64),
            Op::ClearQueue => manager.clear_queue(socket),
            Op::TransportOpen => manager.handle_transport_open(conn),
            Op::TextFrame | Op::Polled => {
                self.texts.retain(|(id, _)| *id != conn);
                self.texts.push((conn, text));
                if let Some((_, text)) = self.texts.last() {
                    if matches!(op, Op::Polled) {
                        manager.handle_polled(now, conn, text);
                    } else {
                        manager.handle_text(now, conn, text);
                    }
                }
            }
            Op::BinaryFrame => {
                let bytes = Uint8Array::new(&extra).to_vec();
                manager.handle_frame(now, conn, Frame::Binary(bytes));
            }
            Op::TransportClosed => manager.handle_transport_closed(now, conn, number == 1.0),
            Op::FrameTooLarge => manager.handle_frame_too_large(now, conn),
            Op::Posted => manager.handle_posted(conn),
            Op::RequestFailed => manager.handle_request_failed(now, conn, number == 1.0),
            Op::Timeout => {
                // The driver's timeout is spent: the same deadline, if still pending (it
                // fired early), is armed again.
                self.armed = None;
                match number as u64 {
                    0 => manager.handle_timeout(now),
                    gap => manager.handle_time_gap(now, gap),
                }
            }
            Op::Network => {
                if let Some(&event) = NETWORK_EVENTS.get(number as usize) {
                    manager.handle_network(now, event);
                }
            }
            Op::TimeGap => manager.handle_time_gap(now, number as u64),
            // The commands with a result are the dispatcher's.
            _ => {}
        }
    }

    /// Hands what the core asks for to the driver: events, transports to open or close,
    /// frames and requests to send; then re-arms the timer. `op` on `key` was the input,
    /// so that an event's payload read from the text the input carried (or the latest
    /// text of its transport) is handed over as a place in that text, not copied.
    fn carry_out(&mut self, op: Op, key: u32) {
        let now = self.now;
        let conn = ConnId(u64::from(key));
        // Taken out while the outputs are carried out, and kept unless its transport
        // closes.
        let mut text = match op {
            Op::TextFrame | Op::Polled | Op::BinaryFrame => self
                .texts
                .iter()
                .position(|(id, _)| *id == conn)
                .map(|index| self.texts.swap_remove(index)),
            _ => None,
        };
        while let Some(output) = self.manager.poll_output() {
            match output {
                Output::Notice(notice) => {
                    let frame = text.as_ref().map(|(_, text)| text.as_str());
                    forward(&self.caller, notice, frame);
                }
                Output::OpenTransport(conn, kind, query) => {
                    let limit = self.manager.config().limits.frame_bytes;
                    self.caller.open_transport(conn, kind, &query, limit);
                }
                Output::CloseTransport(closed) => {
                    self.texts.retain(|(id, _)| *id != closed);
                    text = text.filter(|(id, _)| *id != closed);
                    self.caller.close_transport(closed);
                }
                Output::Transmit(conn, data) => {
                    if !self.caller.transmit(conn, data, self.sending.as_deref()) {
                        self.manager.handle_transport_closed(now, conn, true);
                    }
                }
                Output::Request(conn, request) => {
                    let post = request.body.is_some();
                    if !self.caller.request(conn, request) {
                        self.manager.handle_request_failed(now, conn, post);
                    }
                }
            }
        }
        if matches!(op, Op::TransportClosed | Op::FrameTooLarge) {
            self.texts.retain(|(id, _)| *id != conn);
        }
        self.texts.extend(text);
        self.arm_timer();
    }

    /// Arms the driver's timer for the core's next deadline, and, while a connection is
    /// open, for a look at the wall clock every [`WALL_CHECK_MS`].
    fn arm_timer(&mut self) {
        let now = self.now;
        let check = self
            .manager
            .handshake()
            .map(|_| now.saturating_add(WALL_CHECK_MS));
        let deadline = match (self.manager.poll_timeout(), check) {
            (Some(due), Some(check)) => Some(due.min(check)),
            (due, check) => due.or(check),
        };
        // A timer armed no later than needed stays: one that fires early only re-arms,
        // and cancelling and re-arming on every frame would cost more. A later deadline
        // than setTimeout can wait is re-armed when this one fires early, since the core
        // ignores deadlines not yet due.
        match (self.armed, deadline) {
            (Some(armed), Some(deadline)) if armed <= deadline => {}
            (None, None) => {}
            (_, deadline) => {
                self.armed = deadline;
                let delay =
                    deadline.map(|deadline| deadline.saturating_sub(now).min(i32::MAX as u64));
                self.caller.timer(delay);
            }
        }
    }
}

/// Whole milliseconds; `as` saturates (NaN and negatives become 0, infinity the max).
fn millis(value: f64) -> u64 {
    value as u64
}

/// The bytes of an array of `Uint8Array`s (`undefined`: none).
fn bytes_of(attachments: &JsValue) -> Vec<Vec<u8>> {
    if attachments.is_undefined() {
        return Vec::new();
    }
    Array::from(attachments)
        .iter()
        .map(|buffer| Uint8Array::new(&buffer).to_vec())
        .collect()
}

/// JSON text that the JS wrapper's `JSON.stringify` wrote: valid by construction, so
/// not checked again (the core still checks what it needs: an array, its event name).
fn stringified(text: String) -> JsonText {
    JsonText::from_valid(text)
}

/// A JS `Error` whose `.type` tells what went wrong.
fn js_error(kind: &'static str, message: &'static str) -> JsValue {
    let error: JsValue = js_sys::Error::new(message).into();
    // Setting a property on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(&error, &"type".into(), &kind.into());
    error
}
