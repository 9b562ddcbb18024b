//! Turns what the core asks for (its notices, and the transports, frames, requests and
//! timer it needs) into the records the JS driver reads after each command.
//!
//! The records are a stream of numbers (`f64`s, as JS reads them through a
//! `Float64Array`): one record per output, its kind (the output's number in [`Kind`];
//! the JS side holds the names in the same order), its key (the socket's number, or -1
//! for the connection as a whole), then four arguments. An argument is a tag and what
//! the tag says: [`NONE`] (`undefined`), [`NUMBER`] and the number, [`TRUE`],
//! [`FALSE`], [`TEXT`] or [`BYTES`] and where they are in wasm memory (address,
//! length: JS decodes a string or copies an `ArrayBuffer`), [`BYTES_LIST`], a count and
//! that many (address, length) pairs. Strings and bytes are held until the next
//! command, so JS reads them in place. Payloads stay JSON text for the browser's native
//! `JSON.parse`; an event's payload that ends the text the driver handed in (the frame
//! or polling response, or the latest one of its transport when a binary frame
//! completes the event) is not copied out of wasm memory at all: the text is
//! `undefined`, and the driver takes the payload out of its own string from the place
//! given. Likewise the attachments of an event that a binary frame completes are not
//! copied out: they are the binary frames of its transport since that text, which the
//! driver holds, and the record gives their count. Owns this encoding and nothing else.

use crate::core::{
    AckError, ConnId, ConnectError, DirectEmit, HttpRequest, IncomingEvent, ManagerEvent, Notice,
    Payload, SocketEvent, SocketKey, TransportKind,
};
use crate::protocol::{Frame, JsonText};

/// The outputs, numbered in the order of `KINDS` in `src/api/js/contract.js` (the same
/// names in snake case; `tests/e2e/contract.test.mjs` checks it). The arguments:
/// - `Event`: the text (`undefined`: the driver's), where the payload starts in it
///   (UTF-16), the attachments (a count: the driver's binary frames since the text),
///   and the ack id, or -1 when the payload's last element is the recovery offset;
/// - `Ack`: the id, the text (as for `Event`), the attachments, where the payload
///   starts in the text;
/// - `AckError`: the id, the message, the error type; `Dropped`: the emit's JSON and
///   the reason; `Auth`: the token; `Sent`: the JSON and the attachments;
/// - `ConnectError`: the message, the error type, the server's `data` as JSON;
/// - connection events: what socket.io-client hands their listeners;
/// - for the driver: `OpenTransport` the transport's id, its kind, the query to append
///   and the `frameBytes` limit; `CloseTransport` the id; `Transmit` the id, the
///   frame (a string, or an `ArrayBuffer`), and `true` when that is only the frame's
///   head, to which the driver appends the JSON of the emit or ack it is running;
///   `Request` the id, the query and the POST's
///   body (`undefined`: the GET); `Timer` the delay in milliseconds (`undefined`:
///   disarm); `Direct` (keyed by socket) the WebSocket transport's id, the event head
///   and the largest frame, while the socket's plain emits may go straight to it, or
///   nothing once they may not (see `Manager::direct_emit`).
#[derive(Clone, Copy)]
enum Kind {
    Open,
    Close,
    Error,
    Ping,
    ReconnectAttempt,
    Reconnect,
    ReconnectError,
    ReconnectFailed,
    Connect,
    ConnectError,
    Disconnect,
    Event,
    Ack,
    AckError,
    Dropped,
    Auth,
    Sent,
    Upgrade,
    UpgradeError,
    Packet,
    Drain,
    OpenTransport,
    CloseTransport,
    Transmit,
    Request,
    Timer,
    Direct,
}

const CONNECTION: i32 = -1;

/// The tags of an argument (see the module documentation).
pub const NONE: f64 = 0.0;
pub const NUMBER: f64 = 1.0;
pub const TRUE: f64 = 2.0;
pub const FALSE: f64 = 3.0;
pub const TEXT: f64 = 4.0;
pub const BYTES: f64 = 5.0;
pub const BYTES_LIST: f64 = 6.0;

/// One argument of a record.
pub enum Arg {
    None,
    Number(f64),
    Bool(bool),
    /// The first `len` bytes of this text (a frame's head, say), or all of it.
    Text(String, usize),
    /// A text of the module's own (a name, a reason, an error's message).
    Static(&'static str),
    Bytes(Vec<u8>),
    BytesList(Vec<Vec<u8>>),
}

impl Arg {
    pub fn text(text: impl Into<String>) -> Arg {
        let text = text.into();
        let len = text.len();
        Arg::Text(text, len)
    }

    fn number(value: impl Into<f64>) -> Arg {
        Arg::Number(value.into())
    }
}

/// The records of one command, and the strings and bytes they point to.
#[derive(Default)]
pub struct Records {
    numbers: Vec<f64>,
    held: Vec<Vec<u8>>,
}

impl Records {
    /// Starts the records of a new command: what the last one held is let go. The
    /// first two numbers are left for [`Records::finish`].
    pub fn clear(&mut self) {
        self.numbers.clear();
        self.numbers.extend([0.0, 0.0]);
        self.held.clear();
    }

    /// Ends the records of a command that ended with `status`: the first number is how
    /// many follow it, the second the status. Where they start.
    pub fn finish(&mut self, status: u32) -> *const f64 {
        let count = self.numbers.len().saturating_sub(1);
        if let [count_slot, status_slot, ..] = &mut self.numbers[..] {
            *count_slot = count as f64;
            *status_slot = f64::from(status);
        }
        self.numbers.as_ptr()
    }

    /// Writes `arg` (also the result of a command, which comes first).
    pub fn arg(&mut self, arg: Arg) {
        match arg {
            Arg::None => self.numbers.push(NONE),
            Arg::Number(value) => self.numbers.extend([NUMBER, value]),
            Arg::Bool(value) => self.numbers.push(if value { TRUE } else { FALSE }),
            Arg::Text(text, len) => {
                self.numbers.push(TEXT);
                self.hold(text.into_bytes(), len);
            }
            Arg::Static(text) => {
                let address = text.as_ptr() as usize;
                self.numbers
                    .extend([TEXT, address as f64, text.len() as f64]);
            }
            Arg::Bytes(bytes) => {
                self.numbers.push(BYTES);
                let len = bytes.len();
                self.hold(bytes, len);
            }
            Arg::BytesList(list) => {
                self.numbers.extend([BYTES_LIST, list.len() as f64]);
                for bytes in list {
                    let len = bytes.len();
                    self.hold(bytes, len);
                }
            }
        }
    }

    /// Keeps `bytes` until the next command and writes where the first `len` are.
    fn hold(&mut self, bytes: Vec<u8>, len: usize) {
        // Moving the vector moves only its header: the address stays valid.
        let address = bytes.as_ptr() as usize;
        self.numbers
            .extend([address as f64, len.min(bytes.len()) as f64]);
        self.held.push(bytes);
    }

    fn record(&mut self, kind: Kind, key: i32, args: [Arg; 4]) {
        self.numbers.extend([kind as u32 as f64, f64::from(key)]);
        for arg in args {
            self.arg(arg);
        }
    }

    fn driver_record(&mut self, kind: Kind, conn: ConnId, b: Arg, c: Arg, d: Arg) {
        self.record(kind, CONNECTION, [Arg::Number(conn.0 as f64), b, c, d]);
    }

    pub fn open_transport(
        &mut self,
        conn: ConnId,
        kind: TransportKind,
        query: String,
        limit: usize,
    ) {
        let (kind, query, limit) = (
            Arg::Static(kind.name()),
            Arg::text(query),
            Arg::Number(limit as f64),
        );
        self.driver_record(Kind::OpenTransport, conn, kind, query, limit);
    }

    pub fn close_transport(&mut self, conn: ConnId) {
        self.driver_record(Kind::CloseTransport, conn, Arg::None, Arg::None, Arg::None);
    }

    /// A text frame that ends with `sending` (the JSON of the emit or ack being run,
    /// which the driver holds) crosses as its head.
    pub fn transmit(&mut self, conn: ConnId, frame: Frame, sending: Option<&str>) {
        let (frame, head) = match (frame, sending) {
            (Frame::Text(text), Some(tail)) if text.ends_with(tail) => {
                let len = text.len() - tail.len();
                (Arg::Text(text, len), Arg::Bool(true))
            }
            (frame, _) => (frame_arg(frame), Arg::None),
        };
        self.driver_record(Kind::Transmit, conn, frame, head, Arg::None);
    }

    pub fn request(&mut self, conn: ConnId, HttpRequest { query, body }: HttpRequest) {
        let body = body.map_or(Arg::None, Arg::text);
        self.driver_record(Kind::Request, conn, Arg::text(query), body, Arg::None);
    }

    /// Socket `key`'s plain emits may go straight to the WebSocket of `direct`, as
    /// `head` and their JSON; or, `None`, no longer.
    pub fn direct(&mut self, key: SocketKey, direct: Option<(DirectEmit, String)>) {
        let args = match direct {
            Some((DirectEmit { conn, max_bytes }, head)) => [
                Arg::Number(conn.0 as f64),
                Arg::text(head),
                Arg::Number(max_bytes as f64),
                Arg::None,
            ],
            None => [Arg::None, Arg::None, Arg::None, Arg::None],
        };
        self.record(Kind::Direct, socket_number(key), args);
    }

    /// Arms the timer `delay` milliseconds from now, or disarms it.
    pub fn timer(&mut self, delay: Option<u64>) {
        let delay = delay.map_or(Arg::None, |delay| Arg::Number(delay as f64));
        self.record(
            Kind::Timer,
            CONNECTION,
            [delay, Arg::None, Arg::None, Arg::None],
        );
    }

    /// The record of `notice`, which may point into what the input brought instead of
    /// copying it.
    pub fn notice(&mut self, notice: Notice, received: Received<'_>) {
        let (kind, key, args) = match notice {
            Notice::Manager(event) => {
                let (kind, a, b) = manager_record(event);
                (kind, CONNECTION, [a, b, Arg::None, Arg::None])
            }
            Notice::Socket(key, event) => {
                let (kind, args) = socket_record(event, received);
                (kind, socket_number(key), args)
            }
        };
        self.record(kind, key, args);
    }
}

/// What the input being carried out brought that the driver holds too.
#[derive(Debug, Clone, Copy, Default)]
pub struct Received<'a> {
    /// The text the input carried, or the latest of its transport when it was a binary
    /// frame.
    pub text: Option<&'a str>,
    /// The input was a binary frame of a WebSocket: the attachments of an event or ack
    /// it completes are the transport's binary frames since that text (the protocol
    /// lets nothing come between them).
    pub binary: bool,
}

fn socket_number(key: SocketKey) -> i32 {
    key.0 as i32
}

/// A frame as the browser sends it: a string, or an `ArrayBuffer` of its bytes.
fn frame_arg(frame: Frame) -> Arg {
    match frame {
        Frame::Text(text) => Arg::text(text),
        Frame::Binary(bytes) => Arg::Bytes(bytes),
    }
}

fn manager_record(event: ManagerEvent) -> (Kind, Arg, Arg) {
    match event {
        ManagerEvent::Open(kind) => (Kind::Open, Arg::Static(kind.name()), Arg::None),
        ManagerEvent::Close(reason) => (Kind::Close, Arg::Static(reason.as_str()), Arg::None),
        ManagerEvent::Error(error) => (
            Kind::Error,
            Arg::Static(error.message()),
            Arg::Static(error.code()),
        ),
        ManagerEvent::Ping => (Kind::Ping, Arg::None, Arg::None),
        ManagerEvent::ReconnectAttempt(n) => (Kind::ReconnectAttempt, Arg::number(n), Arg::None),
        ManagerEvent::Reconnect(n) => (Kind::Reconnect, Arg::number(n), Arg::None),
        ManagerEvent::ReconnectError(error) => (
            Kind::ReconnectError,
            Arg::Static(error.message()),
            Arg::Static(error.code()),
        ),
        ManagerEvent::ReconnectFailed => (Kind::ReconnectFailed, Arg::None, Arg::None),
        ManagerEvent::Upgrade(kind) => (Kind::Upgrade, Arg::Static(kind.name()), Arg::None),
        ManagerEvent::UpgradeError(kind) => {
            (Kind::UpgradeError, Arg::Static(kind.name()), Arg::None)
        }
        ManagerEvent::Packet { outgoing, frame } => {
            (Kind::Packet, Arg::Bool(outgoing), frame_arg(frame))
        }
        ManagerEvent::Drain => (Kind::Drain, Arg::None, Arg::None),
    }
}

fn socket_record(event: SocketEvent, received: Received<'_>) -> (Kind, [Arg; 4]) {
    let none = || Arg::None;
    match event {
        SocketEvent::Connect => (Kind::Connect, [none(), none(), none(), none()]),
        SocketEvent::ConnectError(ConnectError::Connection(error)) => (
            Kind::ConnectError,
            [
                Arg::Static(error.message()),
                Arg::Static(error.code()),
                none(),
                none(),
            ],
        ),
        SocketEvent::ConnectError(ConnectError::Refused { message, data }) => (
            Kind::ConnectError,
            [
                Arg::text(message),
                Arg::Static("ServerRefused"),
                data.map_or(none(), |data| Arg::text(data.into_string())),
                none(),
            ],
        ),
        SocketEvent::Disconnect(reason) => (
            Kind::Disconnect,
            [Arg::Static(reason.as_str()), none(), none(), none()],
        ),
        SocketEvent::Event(event) => (Kind::Event, incoming_event(event, received)),
        SocketEvent::Ack(id, Ok(Payload { args, attachments })) => {
            let (text, start) = in_frame(args, received.text);
            (
                Kind::Ack,
                [
                    Arg::Number(id as f64),
                    text,
                    received_attachments(attachments, received),
                    Arg::number(start),
                ],
            )
        }
        SocketEvent::Ack(id, Err(error)) => (
            Kind::AckError,
            [
                Arg::Number(id as f64),
                Arg::Static(error.message()),
                Arg::Static(ack_error_code(error)),
                none(),
            ],
        ),
        SocketEvent::Dropped(data, reason) => (
            Kind::Dropped,
            [
                Arg::text(data.into_string()),
                Arg::Static(reason.as_str()),
                none(),
                none(),
            ],
        ),
        SocketEvent::AuthRequest(token) => (
            Kind::Auth,
            [Arg::Number(token as f64), none(), none(), none()],
        ),
        SocketEvent::Sent(Payload { args, attachments }) => (
            Kind::Sent,
            [
                Arg::text(args.into_string()),
                attachments_arg(attachments),
                none(),
                none(),
            ],
        ),
    }
}

/// `[text, start, attachments, ack id or -1]` (see [`Kind`]).
fn incoming_event(event: IncomingEvent, received: Received<'_>) -> [Arg; 4] {
    let IncomingEvent {
        data,
        ends_with_offset,
        attachments,
        ack_id,
    } = event;
    let (text, start) = in_frame(data, received.text);
    let ack = match (ack_id, ends_with_offset) {
        (Some(id), _) => Arg::Number(id as f64),
        (None, true) => Arg::Number(-1.0),
        (None, false) => Arg::None,
    };
    [
        text,
        Arg::number(start),
        received_attachments(attachments, received),
        ack,
    ]
}

/// The payload as `text` from UTF-16 index `start` on: `text` is `undefined` (the
/// driver's string of `frame`) when the payload ends `frame`, else the payload.
fn in_frame(payload: JsonText, frame: Option<&str>) -> (Arg, u32) {
    match frame.and_then(|frame| start_of_tail(frame, payload.as_str())) {
        Some(start) => (Arg::None, start),
        None => (Arg::text(payload.into_string()), 0),
    }
}

/// Where `tail` starts in `text`, in UTF-16 code units (a JS string's indices), if
/// `text` ends with it.
fn start_of_tail(text: &str, tail: &str) -> Option<u32> {
    let head = text.strip_suffix(tail)?;
    let units = if head.is_ascii() {
        head.len()
    } else {
        head.encode_utf16().count()
    };
    u32::try_from(units).ok()
}

fn ack_error_code(error: AckError) -> &'static str {
    match error {
        AckError::Timeout => "TimeoutError",
        AckError::Disconnected => "DisconnectedError",
        AckError::Dropped => "DroppedError",
    }
}

/// A list of `ArrayBuffer`s, or `undefined` when there are none, so the JS side can
/// skip placeholder reconstruction.
/// The attachments of an incoming event or ack: their count when the driver holds
/// them (see [`Received::binary`]), else their bytes.
fn received_attachments(buffers: Vec<Vec<u8>>, received: Received<'_>) -> Arg {
    match buffers.len() {
        0 => Arg::None,
        count if received.binary => Arg::Number(count as f64),
        _ => Arg::BytesList(buffers),
    }
}

fn attachments_arg(buffers: Vec<Vec<u8>>) -> Arg {
    if buffers.is_empty() {
        Arg::None
    } else {
        Arg::BytesList(buffers)
    }
}
