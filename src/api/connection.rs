//! `Connection`: one Engine.IO connection with its namespace sockets, for JS.
//!
//! The core, driven through one entry point, [`Connection::run`], by the package's JS
//! driver (`src/api/js/driver.js`), which owns everything of the browser: WebSockets,
//! polling requests, the timer, the clock and the page's listeners. Both the app's
//! commands and what the browser reports arrive here as numbered commands; everything
//! the core asks for (events, transports to open, frames to send, the timer) is written
//! as records (the events module) for the driver to read once the command returns.
//!
//! Arguments arrive already validated by the JS wrapper (types and ranges of options,
//! JSON written by `JSON.stringify`); what can still be wrong (an emit that is not an
//! array, a reserved event name, an unknown option) is returned as an [`ApiError`],
//! never a panic.

use crate::core::{
    ConnId, DirectEmit, EmitOptions, Manager, ManagerConfig, NetworkEvent, Output, Session,
    SocketKey,
};
use crate::protocol::{Frame, JsonText, PayloadCheck, ProtocolError};

use super::events::{Arg, Received, Records};
use super::options::{manager_options, socket_options};

pub struct Connection {
    manager: Manager,
    /// The latest reading of the driver's clock: readings never go back (a frame stamped
    /// before it counts as at it).
    now: u64,
    /// The deadline the driver's timer is armed for, if it is.
    armed: Option<u64>,
    /// The latest text received on each open transport (a frame, or a polling
    /// response): an event completed by a later binary frame ends it too.
    texts: Vec<(ConnId, String)>,
    /// The bytes given for the next command (its attachments, a binary frame, an
    /// offset), by [`Op::Bytes`] commands just before it.
    bytes: Vec<Vec<u8>>,
    /// What the driver was last told of each socket's plain emits (see
    /// [`Connection::report_direct`]).
    direct: Vec<Option<DirectEmit>>,
}

/// Why a command failed, as JS reports it: the kind (see `src/api/js/driver.js`) and a
/// message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// An emit the core refused (`.type` "EmitError").
    Emit = 1,
    /// An option the core cannot take (a `TypeError`).
    Option = 2,
    /// A command number that is not one.
    Command = 3,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            message: message.into(),
        }
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
    /// The driver could not parse the payload of an event or an acknowledgement that
    /// came from transport `key` (`number` 0: not JSON; 1: a placeholder that names no
    /// attachment): the core checks only their outline (the driver's `JSON.parse` runs
    /// anyway), so this is how a malformed one fails the transport.
    UnparsablePayload,
    /// `text` (its bytes) is one more of the bytes of the next command: an attachment of
    /// an emit, an ack or a rejoin emit, a binary frame, the offset of a `resume`.
    Bytes,
}

const OPS: [Op; 34] = [
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
    Op::UnparsablePayload,
    Op::Bytes,
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

impl Connection {
    /// A connection with socket.io-client's settings until the `configure` command (the
    /// JS Manager sends it right away, before any socket connects); `seed`: the backoff
    /// jitter's.
    pub fn new(seed: u64) -> Connection {
        let mut manager = Manager::new(ManagerConfig::default(), seed);
        manager.check_payloads(PayloadCheck::Outline);
        Connection {
            manager,
            now: 0,
            armed: None,
            texts: Vec::new(),
            bytes: Vec::new(),
            direct: Vec::new(),
        }
    }

    /// Runs command `op` at `now` (the driver's monotonic clock, in milliseconds): the
    /// commands, their arguments and results are listed in `Op`. What the core asks for
    /// is written to `records` after the result.
    #[allow(clippy::too_many_arguments)]
    pub fn run(
        &mut self,
        op: u32,
        key: u32,
        number: f64,
        flags: u32,
        text: &[u8],
        now: f64,
        records: &mut Records,
    ) -> Result<(), ApiError> {
        let op = *OPS
            .get(op as usize)
            .ok_or_else(|| ApiError::new(ErrorKind::Command, "unknown command"))?;
        if let Op::Bytes = op {
            self.bytes.push(text.to_vec());
            records.arg(Arg::None);
            return Ok(());
        }
        // What JS writes is valid UTF-8 (TextEncoder's); anything else is no text.
        let text = std::str::from_utf8(text).unwrap_or_default();
        self.now = self.now.max(now as u64);
        let (answer, result) = match self.dispatch(op, key, number, flags, text.to_owned()) {
            Ok(answer) => (answer, Ok(())),
            Err(error) => (Arg::text(error.message.as_str()), Err(error)),
        };
        records.arg(answer);
        let sending = matches!(op, Op::Emit | Op::Ack).then_some(text);
        self.carry_out(op, key, sending, records);
        self.report_direct(records);
        result
    }

    /// Tells the driver, for each socket whose answer changed with this command,
    /// whether its plain emits may go straight to the WebSocket (an emit loop then costs
    /// no call into wasm) or must come here again.
    fn report_direct(&mut self, records: &mut Records) {
        let manager = &self.manager;
        let keys = (0..)
            .map(SocketKey)
            .take_while(|&key| manager.namespace(key).is_some());
        for key in keys {
            let direct = manager.direct_emit(key);
            if self.direct.len() <= key.0 {
                self.direct.resize(key.0 + 1, None);
            }
            if self.direct[key.0] == direct {
                continue;
            }
            self.direct[key.0] = direct;
            let told = direct.and_then(|direct| Some((direct, manager.event_head(key)?)));
            records.direct(key, told);
        }
    }

    /// Runs a command that answers (a read, or a command with a result), or hands the
    /// others to [`Connection::handle`].
    fn dispatch(
        &mut self,
        op: Op,
        key: u32,
        number: f64,
        flags: u32,
        text: String,
    ) -> Result<Arg, ApiError> {
        let (now, manager) = (self.now, &mut self.manager);
        let socket = SocketKey(key as usize);
        let mut bytes = std::mem::take(&mut self.bytes);
        Ok(match op {
            Op::Configure => {
                let options = manager_options(&text, manager.config().clone())?;
                *manager.config_mut() = options.config;
                if options.packets {
                    manager.report_packets();
                }
                Arg::None
            }
            Op::Socket => {
                let (namespace, config) = socket_options(&text)?;
                Arg::Number(manager.socket(&namespace, config).0 as f64)
            }
            Op::Emit => {
                let options = EmitOptions {
                    with_ack: flags & WITH_ACK != 0,
                    timeout: (number >= 0.0).then(|| millis(number)),
                    volatile: flags & VOLATILE != 0,
                    report_sent: flags & REPORT_SENT != 0,
                };
                let data = stringified(text);
                match manager.emit(now, socket, data, bytes, options) {
                    Ok(id) => id.map_or(Arg::None, |id| Arg::Number(id as f64)),
                    Err(error) => return Err(ApiError::new(ErrorKind::Emit, error.message())),
                }
            }
            Op::AddRejoin => match manager.add_rejoin(socket, stringified(text), bytes) {
                Ok(id) => Arg::Number(id as f64),
                Err(error) => return Err(ApiError::new(ErrorKind::Emit, error.message())),
            },
            Op::RemoveRejoin => Arg::Bool(manager.remove_rejoin(socket, number as u64)),
            // One string crosses to JS, not one per emit.
            Op::Queued => {
                let queued: Vec<&str> = manager
                    .queued(socket)
                    .into_iter()
                    .map(JsonText::as_str)
                    .collect();
                Arg::text(JsonText::array_from_elements(&queued).into_string())
            }
            Op::EngineId => manager
                .handshake()
                .map_or(Arg::None, |handshake| Arg::text(handshake.sid.as_str())),
            Op::Sid => manager.sid(socket).map_or(Arg::None, Arg::text),
            Op::State => {
                let unacknowledged = manager.unacknowledged_len(socket).min(1 << 27) as u32;
                let state = u32::from(manager.is_connected(socket))
                    | u32::from(manager.is_active(socket)) << 1
                    | u32::from(manager.recovered(socket)) << 2
                    | u32::from(manager.is_opened()) << 3
                    | unacknowledged << 4;
                Arg::Number(f64::from(state))
            }
            Op::Waiting => {
                let waiting = manager.queued(socket).len() + manager.unacknowledged_len(socket);
                Arg::Number(waiting as f64)
            }
            Op::Session => manager
                .session(socket)
                .map_or(Arg::None, |session| Arg::text(session.pid)),
            Op::Resume => {
                let offset = bytes
                    .pop()
                    .and_then(|offset| String::from_utf8(offset).ok());
                let session = offset.map(|offset| Session { pid: text, offset });
                Arg::Bool(session.is_some_and(|session| manager.resume(socket, session)))
            }
            _ => {
                self.handle(op, key, number, text, bytes);
                Arg::None
            }
        })
    }

    /// Runs a command without a result: the app's, or what the browser reports.
    fn handle(&mut self, op: Op, key: u32, number: f64, text: String, bytes: Vec<Vec<u8>>) {
        let (now, manager) = (self.now, &mut self.manager);
        let conn = ConnId(u64::from(key));
        let socket = SocketKey(key as usize);
        match op {
            Op::Open => manager.open(now),
            Op::Close => manager.close(),
            Op::Connect => manager.connect(now, socket),
            Op::Disconnect => manager.disconnect(socket),
            Op::CloseTransport => manager.close_transport(now),
            Op::Ack => manager.ack(socket, number as u64, stringified(text), bytes),
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
                for frame in bytes {
                    manager.handle_frame(now, conn, Frame::Binary(frame));
                }
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
            Op::UnparsablePayload => {
                let error = match number as u32 {
                    1 => ProtocolError::InvalidPlaceholder,
                    _ => ProtocolError::InvalidJson,
                };
                manager.handle_unparsable_payload(now, conn, error);
            }
            // The commands with a result are the dispatcher's.
            _ => {}
        }
    }

    /// Writes what the core asks for, for the driver: events, transports to open or
    /// close, frames and requests to send; then re-arms the timer. `op` on `key` was the
    /// input, so that an event's payload read from the text the input carried (or the
    /// latest text of its transport) is handed over as a place in that text, not
    /// copied; `sending`: the JSON of the emit or ack being run.
    fn carry_out(&mut self, op: Op, key: u32, sending: Option<&str>, records: &mut Records) {
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
                    let received = Received {
                        text: text.as_ref().map(|(_, text)| text.as_str()),
                        binary: matches!(op, Op::BinaryFrame),
                    };
                    records.notice(notice, received);
                }
                Output::OpenTransport(conn, kind, query) => {
                    let limit = self.manager.config().limits.frame_bytes;
                    records.open_transport(conn, kind, query, limit);
                }
                Output::CloseTransport(closed) => {
                    self.texts.retain(|(id, _)| *id != closed);
                    text = text.filter(|(id, _)| *id != closed);
                    records.close_transport(closed);
                }
                Output::Transmit(conn, data) => records.transmit(conn, data, sending),
                Output::Request(conn, request) => records.request(conn, request),
            }
        }
        if matches!(op, Op::TransportClosed | Op::FrameTooLarge) {
            self.texts.retain(|(id, _)| *id != conn);
        }
        self.texts.extend(text);
        self.arm_timer(records);
    }

    /// Arms the driver's timer for the core's next wake-up.
    fn arm_timer(&mut self, records: &mut Records) {
        let now = self.now;
        let deadline = self.manager.poll_wakeup(now);
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
                records.timer(delay);
            }
        }
    }
}

/// Whole milliseconds; `as` saturates (NaN and negatives become 0, infinity the max).
fn millis(value: f64) -> u64 {
    value as u64
}

/// JSON text that the JS wrapper's `JSON.stringify` wrote: valid by construction, so
/// not checked again (the core still checks what it needs: an array, its event name).
fn stringified(text: String) -> JsonText {
    JsonText::from_valid(text)
}
