//! Turns the driver's notices into calls of the JS event callback.
//!
//! One call per event, `callback(name, key, a, b, c)`: `key` is the socket's number or
//! -1 for the connection as a whole; payloads stay JSON text (the JS side parses them
//! with the browser's native `JSON.parse`) and binary attachments cross as `Uint8Array`s.
//! Owns this calling convention and nothing else.

use js_sys::{Array, Function, Uint8Array};
use wasm_bindgen::JsValue;

use crate::core::{AckError, ConnectError, ManagerEvent, Payload, SocketEvent, SocketKey};
use crate::driver::Notice;

const CONNECTION: i32 = -1;

/// Calls `callback` for `notice`. A callback that throws is its own business (the JS
/// side catches listener errors); the exception must not unwind into the driver.
pub fn forward(callback: &Function, notice: Notice) {
    let (name, key, a, b, c) = match notice {
        Notice::Manager(event) => manager_call(event),
        Notice::Socket(key, event) => socket_call(key, event),
    };
    let args = Array::of5(&JsValue::from_str(name), &JsValue::from(key), &a, &b, &c);
    let _ = callback.apply(&JsValue::UNDEFINED, &args);
}

type Call = (&'static str, i32, JsValue, JsValue, JsValue);

fn manager_call(event: ManagerEvent) -> Call {
    let none = JsValue::UNDEFINED;
    let (name, a, b) = match event {
        ManagerEvent::Open => ("open", none.clone(), none.clone()),
        ManagerEvent::Close(reason) => ("close", reason.as_str().into(), none.clone()),
        ManagerEvent::Error(error) => ("error", error.message().into(), error.code().into()),
        ManagerEvent::Ping => ("ping", none.clone(), none.clone()),
        ManagerEvent::ReconnectAttempt(n) => ("reconnect_attempt", n.into(), none.clone()),
        ManagerEvent::Reconnect(n) => ("reconnect", n.into(), none.clone()),
        ManagerEvent::ReconnectError(error) => (
            "reconnect_error",
            error.message().into(),
            error.code().into(),
        ),
        ManagerEvent::ReconnectFailed => ("reconnect_failed", none.clone(), none.clone()),
    };
    (name, CONNECTION, a, b, none)
}

fn socket_call(key: SocketKey, event: SocketEvent) -> Call {
    let none = JsValue::UNDEFINED;
    let key = key.0 as i32;
    match event {
        SocketEvent::Connect => ("connect", key, none.clone(), none.clone(), none),
        SocketEvent::ConnectError(ConnectError::Connection(error)) => (
            "connect_error",
            key,
            error.message().into(),
            error.code().into(),
            none,
        ),
        SocketEvent::ConnectError(ConnectError::Refused { message, data }) => (
            "connect_error",
            key,
            message.into(),
            "ServerRefused".into(),
            data.map_or(none, |data| data.into_string().into()),
        ),
        SocketEvent::Disconnect(reason) => (
            "disconnect",
            key,
            reason.as_str().into(),
            none.clone(),
            none,
        ),
        SocketEvent::Event(event) => (
            "event",
            key,
            event.data.into_string().into(),
            attachments(event.attachments),
            event.ack_id.map_or(none, |id| (id as f64).into()),
        ),
        SocketEvent::Ack(
            id,
            Ok(Payload {
                args,
                attachments: bytes,
            }),
        ) => (
            "ack",
            key,
            (id as f64).into(),
            args.into_string().into(),
            attachments(bytes),
        ),
        SocketEvent::Ack(id, Err(error)) => (
            "ack_error",
            key,
            (id as f64).into(),
            error.message().into(),
            ack_error_code(error).into(),
        ),
        SocketEvent::Dropped(data, reason) => (
            "dropped",
            key,
            data.into_string().into(),
            reason.as_str().into(),
            none,
        ),
        SocketEvent::AuthRequest(token) => ("auth", key, (token as f64).into(), none.clone(), none),
    }
}

fn ack_error_code(error: AckError) -> &'static str {
    match error {
        AckError::Timeout => "TimeoutError",
        AckError::Disconnected => "DisconnectedError",
        AckError::Dropped => "DroppedError",
    }
}

/// `undefined` when there are none, so the JS side can skip placeholder reconstruction.
fn attachments(buffers: Vec<Vec<u8>>) -> JsValue {
    if buffers.is_empty() {
        return JsValue::UNDEFINED;
    }
    buffers
        .iter()
        .map(|bytes| Uint8Array::from(bytes.as_slice()))
        .collect::<Array>()
        .into()
}
