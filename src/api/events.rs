//! Turns the driver's notices into calls of the JS event callback.
//!
//! One call per event, `callback(kind, key, a, b, c, d)`: `kind` is the event's number in
//! [`Kind`] (the JS side holds the names in the same order), `key` the socket's number
//! or -1 for the connection as a whole. Payloads stay JSON text for the browser's native
//! `JSON.parse`; an event's payload that ends the text frame it came in (the latest one
//! when the event completes) is not copied out of wasm memory at all: the JS side gets
//! the browser's own string of the frame and where the payload starts in it. Binary
//! attachments cross as `ArrayBuffer`s of their exact bytes, what the app receives.
//! Owns this calling convention and nothing else.

use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::core::{
    AckError, ConnectError, IncomingEvent, ManagerEvent, Notice, Payload, SocketEvent, SocketKey,
};
use crate::driver::ReceivedText;
use crate::protocol::{Frame, JsonText};

#[wasm_bindgen]
extern "C" {
    /// The JS function that receives every event (see the module documentation).
    #[wasm_bindgen(js_name = Function)]
    pub type EventCallback;

    /// `catch`: an exception must not unwind into the driver (the JS side catches
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
    ) -> Result<(), JsValue>;
}

/// The events, numbered in the order of `KINDS` in `src/api/js/contract.js` (the same
/// names in snake case; `tests/e2e/contract.test.mjs` checks it). The arguments:
/// - `Event`: the text, where the payload starts in it (UTF-16), the attachments, and
///   the ack id, or -1 when the payload's last element is the recovery offset;
/// - `Ack`: the id, the text, the attachments, where the payload starts in the text;
/// - `AckError`: the id, the message, the error type; `Dropped`: the emit's JSON and
///   the reason; `Auth`: the token; `Sent`: the JSON and the attachments;
/// - `ConnectError`: the message, the error type, the server's `data` as JSON;
/// - connection events: what socket.io-client hands their listeners.
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

/// Calls `callback` for `notice`; `frame`: the latest text frame, when the handling of
/// a frame produced it.
pub fn forward(callback: &EventCallback, notice: Notice, frame: Option<&ReceivedText>) {
    let Call { kind, key, args } = match notice {
        Notice::Manager(event) => manager_call(event),
        Notice::Socket(key, event) => socket_call(key, event, frame),
    };
    let [a, b, c, d] = &args;
    let _ = callback.call6(&JsValue::UNDEFINED, kind as u32, key, a, b, c, d);
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
            let data = match frame {
                Frame::Text(text) => JsValue::from(text),
                Frame::Binary(bytes) => Uint8Array::from(bytes.as_slice()).buffer().into(),
            };
            (Kind::Packet, outgoing.into(), data)
        }
        ManagerEvent::Drain => (Kind::Drain, none(), none()),
    };
    Call::new(kind, CONNECTION, [a, b, none(), none()])
}

fn socket_call(key: SocketKey, event: SocketEvent, frame: Option<&ReceivedText>) -> Call {
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
fn incoming_event(event: IncomingEvent, frame: Option<&ReceivedText>) -> [JsValue; 4] {
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

/// The payload as `text` from UTF-16 index `start` on: `text` is the frame's own string
/// when the payload ends it, else the payload.
fn in_frame(payload: JsonText, frame: Option<&ReceivedText>) -> (JsValue, u32) {
    match frame.and_then(|frame| Some((frame, frame.start_of_tail(payload.as_str())?))) {
        Some((frame, start)) => (frame.js().into(), start),
        None => (payload.into_string().into(), 0),
    }
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
