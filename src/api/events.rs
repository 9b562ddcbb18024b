//! Turns what the core asks for (its notices, and the transports, frames, requests and
//! timer it needs) into calls of the JS driver's callback.
//!
//! One call per output, `callback(kind, key, a, b, c, d)`: `kind` is the output's number
//! in [`Kind`] (the JS side holds the names in the same order), `key` the socket's
//! number or -1 for the connection as a whole. Payloads stay JSON text for the browser's
//! native `JSON.parse`; an event's payload that ends the text the driver handed in (the
//! frame or polling response, or the latest one of its transport when a binary frame
//! completes the event) is not copied out of wasm memory at all: the text is
//! `undefined`, and the driver takes the payload out of its own string from the place
//! given. Binary attachments cross as `ArrayBuffer`s of their exact bytes, what the app
//! receives. Owns this calling convention and nothing else.

use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::core::{
    AckError, ConnId, ConnectError, HttpRequest, IncomingEvent, ManagerEvent, Notice, Payload,
    SocketEvent, SocketKey, TransportKind,
};
use crate::protocol::{Frame, JsonText};

#[wasm_bindgen]
extern "C" {
    /// The JS function that receives every event (see the module documentation).
    #[wasm_bindgen(js_name = Function)]
    pub type EventCallback;

    /// `catch`: an exception must not unwind through the core (the driver catches
    /// listener errors itself, so one is only reported here as a failed call).
    #[allow(clippy::too_many_arguments)]
    #[wasm_bindgen(method, catch, js_name = call)]
    fn call6(
        this: &EventCallback,
        context: &JsValue,
        kind: u32,
        key: i32,
        a: &JsValue,
        b: &JsValue,
        c: &JsValue,
        d: &JsValue,
    ) -> Result<JsValue, JsValue>;
}

/// The outputs, numbered in the order of `KINDS` in `src/api/js/contract.js` (the same
/// names in snake case; `tests/e2e/contract.test.mjs` checks it). The arguments:
/// - `Event`: the text (`undefined`: the driver's), where the payload starts in it
///   (UTF-16), the attachments, and the ack id, or -1 when the payload's last element
///   is the recovery offset;
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
///   disarm). `Transmit` and `Request` answer `false` when the browser refused.
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
}

const CONNECTION: i32 = -1;

struct Call {
    kind: Kind,
    key: i32,
    args: [JsValue; 4],
}

impl Call {
    fn new(kind: Kind, key: i32, args: [JsValue; 4]) -> Self {
        Call { kind, key, args }
    }
}

/// The driver's callback.
pub struct Caller {
    callback: EventCallback,
}

impl Caller {
    pub fn new(callback: EventCallback) -> Self {
        Caller { callback }
    }

    /// Calls the callback; its answer, `undefined` when it threw.
    fn call(&self, kind: Kind, key: i32, args: [JsValue; 4]) -> JsValue {
        let [a, b, c, d] = &args;
        let context = &JsValue::UNDEFINED;
        let answer = self.callback.call6(context, kind as u32, key, a, b, c, d);
        answer.unwrap_or_default()
    }

    fn driver_call(&self, kind: Kind, conn: ConnId, b: JsValue, c: JsValue, d: JsValue) -> bool {
        let answer = self.call(kind, CONNECTION, [(conn.0 as f64).into(), b, c, d]);
        answer.as_bool() != Some(false)
    }

    pub fn open_transport(&self, conn: ConnId, kind: TransportKind, query: &str, limit: usize) {
        let (kind, query, limit) = (kind.name().into(), query.into(), (limit as f64).into());
        self.driver_call(Kind::OpenTransport, conn, kind, query, limit);
    }

    pub fn close_transport(&self, conn: ConnId) {
        let none = JsValue::UNDEFINED;
        self.driver_call(Kind::CloseTransport, conn, none.clone(), none.clone(), none);
    }

    /// Whether the browser took the frame. A text frame that ends with `sending` (the
    /// JSON of the emit or ack being run, which the driver holds) crosses as its head.
    pub fn transmit(&self, conn: ConnId, frame: Frame, sending: Option<&str>) -> bool {
        let none = JsValue::UNDEFINED;
        let (frame, head) = match (frame, sending) {
            (Frame::Text(text), Some(tail)) if text.ends_with(tail) => {
                let head = &text[..text.len() - tail.len()];
                (JsValue::from(head), JsValue::TRUE)
            }
            (frame, _) => (frame_value(frame), none.clone()),
        };
        self.driver_call(Kind::Transmit, conn, frame, head, none)
    }

    /// Whether the browser took the request.
    pub fn request(&self, conn: ConnId, HttpRequest { query, body }: HttpRequest) -> bool {
        let (query, body) = (query.into(), body.map_or(JsValue::UNDEFINED, JsValue::from));
        self.driver_call(Kind::Request, conn, query, body, JsValue::UNDEFINED)
    }

    /// Arms the timer `delay` milliseconds from now, or disarms it.
    pub fn timer(&self, delay: Option<u64>) {
        let none = || JsValue::UNDEFINED;
        let delay = delay.map_or(none(), |delay| (delay as f64).into());
        self.call(Kind::Timer, CONNECTION, [delay, none(), none(), none()]);
    }
}

/// Calls the driver's callback for `notice`; `frame`: the text the input carried (or
/// the latest of its transport), when the handling of a frame produced the notice.
pub fn forward(caller: &Caller, notice: Notice, frame: Option<&str>) {
    let Call { kind, key, args } = match notice {
        Notice::Manager(event) => manager_call(event),
        Notice::Socket(key, event) => socket_call(key, event, frame),
    };
    caller.call(kind, key, args);
}

/// A frame as the browser sends it: a string, or an `ArrayBuffer` of its bytes.
fn frame_value(frame: Frame) -> JsValue {
    match frame {
        Frame::Text(text) => JsValue::from(text),
        Frame::Binary(bytes) => Uint8Array::from(bytes.as_slice()).buffer().into(),
    }
}

fn manager_call(event: ManagerEvent) -> Call {
    let none = || JsValue::UNDEFINED;
    let (kind, a, b) = match event {
        ManagerEvent::Open(kind) => (Kind::Open, kind.name().into(), none()),
        ManagerEvent::Close(reason) => (Kind::Close, reason.as_str().into(), none()),
        ManagerEvent::Error(error) => (Kind::Error, error.message().into(), error.code().into()),
        ManagerEvent::Ping => (Kind::Ping, none(), none()),
        ManagerEvent::ReconnectAttempt(n) => (Kind::ReconnectAttempt, n.into(), none()),
        ManagerEvent::Reconnect(n) => (Kind::Reconnect, n.into(), none()),
        ManagerEvent::ReconnectError(error) => (
            Kind::ReconnectError,
            error.message().into(),
            error.code().into(),
        ),
        ManagerEvent::ReconnectFailed => (Kind::ReconnectFailed, none(), none()),
        ManagerEvent::Upgrade(kind) => (Kind::Upgrade, kind.name().into(), none()),
        ManagerEvent::UpgradeError(kind) => (Kind::UpgradeError, kind.name().into(), none()),
        ManagerEvent::Packet { outgoing, frame } => {
            (Kind::Packet, outgoing.into(), frame_value(frame))
        }
        ManagerEvent::Drain => (Kind::Drain, none(), none()),
    };
    Call::new(kind, CONNECTION, [a, b, none(), none()])
}

fn socket_call(key: SocketKey, event: SocketEvent, frame: Option<&str>) -> Call {
    let none = || JsValue::UNDEFINED;
    let key = key.0 as i32;
    let (kind, args) = match event {
        SocketEvent::Connect => (Kind::Connect, [none(), none(), none(), none()]),
        SocketEvent::ConnectError(ConnectError::Connection(error)) => (
            Kind::ConnectError,
            [error.message().into(), error.code().into(), none(), none()],
        ),
        SocketEvent::ConnectError(ConnectError::Refused { message, data }) => (
            Kind::ConnectError,
            [
                message.into(),
                "ServerRefused".into(),
                data.map_or(none(), |data| data.into_string().into()),
                none(),
            ],
        ),
        SocketEvent::Disconnect(reason) => (
            Kind::Disconnect,
            [reason.as_str().into(), none(), none(), none()],
        ),
        SocketEvent::Event(event) => (Kind::Event, incoming_event(event, frame)),
        SocketEvent::Ack(
            id,
            Ok(Payload {
                args,
                attachments: bytes,
            }),
        ) => {
            let (text, start) = in_frame(args, frame);
            (
                Kind::Ack,
                [(id as f64).into(), text, attachments(bytes), start.into()],
            )
        }
        SocketEvent::Ack(id, Err(error)) => (
            Kind::AckError,
            [
                (id as f64).into(),
                error.message().into(),
                ack_error_code(error).into(),
                none(),
            ],
        ),
        SocketEvent::Dropped(data, reason) => (
            Kind::Dropped,
            [
                data.into_string().into(),
                reason.as_str().into(),
                none(),
                none(),
            ],
        ),
        SocketEvent::AuthRequest(token) => {
            (Kind::Auth, [(token as f64).into(), none(), none(), none()])
        }
        SocketEvent::Sent(Payload {
            args,
            attachments: bytes,
        }) => (
            Kind::Sent,
            [
                args.into_string().into(),
                attachments(bytes),
                none(),
                none(),
            ],
        ),
    };
    Call::new(kind, key, args)
}

/// `[text, start, attachments, ack id or -1]` (see [`Kind`]).
fn incoming_event(event: IncomingEvent, frame: Option<&str>) -> [JsValue; 4] {
    let IncomingEvent {
        data,
        ends_with_offset,
        attachments: bytes,
        ack_id,
    } = event;
    let (text, start) = in_frame(data, frame);
    let ack = match (ack_id, ends_with_offset) {
        (Some(id), _) => (id as f64).into(),
        (None, true) => (-1).into(),
        (None, false) => JsValue::UNDEFINED,
    };
    [text, start.into(), attachments(bytes), ack]
}

/// The payload as `text` from UTF-16 index `start` on: `text` is `undefined` (the
/// driver's string of `frame`) when the payload ends `frame`, else the payload.
fn in_frame(payload: JsonText, frame: Option<&str>) -> (JsValue, u32) {
    match frame.and_then(|frame| start_of_tail(frame, payload.as_str())) {
        Some(start) => (JsValue::UNDEFINED, start),
        None => (payload.into_string().into(), 0),
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

/// An array of `ArrayBuffer`s, or `undefined` when there are none, so the JS side can
/// skip placeholder reconstruction.
fn attachments(buffers: Vec<Vec<u8>>) -> JsValue {
    if buffers.is_empty() {
        return JsValue::UNDEFINED;
    }
    buffers
        .iter()
        .map(|bytes| Uint8Array::from(bytes.as_slice()).buffer())
        .collect::<Array>()
        .into()
}
