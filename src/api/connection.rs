//! `Connection`: one Engine.IO connection with its namespace sockets, exported to JS.
//!
//! The JS `Manager` owns one of these and drives it through one entry point,
//! [`Connection::run`]. Arguments arrive already validated by the JS wrapper (types and
//! ranges of options, JSON written by `JSON.stringify`); what can still be wrong (an
//! emit that is not an array, a reserved event name, an unknown option) is returned as
//! a JS `Error` with a stable `.type`, never a panic.

use std::sync::atomic::{AtomicU32, Ordering};

use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;

use std::rc::Rc;

use crate::core::{EmitOptions, Manager, ManagerConfig, Session, SocketKey};
use crate::driver::{random_seed, Driver, Endpoint};
use crate::protocol::JsonText;

use super::events::{forward, EventCallback};
use super::options::{manager_options, socket_options};
#[wasm_bindgen]
pub struct Connection {
    driver: Driver,
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
/// checks it). Arguments: `key` the socket, `number`, `flags`, `text`, `extra` as each
/// says.
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
    /// `text`: the Engine.IO URL of the next transport (the query may change between
    /// attempts).
    SetUrl,
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
    /// Arms timers with the `setTimeout` and `clearTimeout` in `extra` (an array of the
    /// two): socket.io-client's `useNativeTimers`, the page's own functions from before
    /// any fake clock was installed.
    UseTimers,
    /// Nothing: with [`DELIVER`], delivers the events of the commands run before.
    Deliver,
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
}

const OPS: [Op; 24] = [
    Op::Configure,
    Op::Socket,
    Op::Open,
    Op::Close,
    Op::SetUrl,
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
    Op::UseTimers,
    Op::Deliver,
    Op::Waiting,
    Op::Session,
    Op::Resume,
];

/// Flags of [`Connection::run`]: the emit asks for an acknowledgement.
const WITH_ACK: u32 = 1;
/// The emit is dropped unless it can go on the wire at once.
const VOLATILE: u32 = 2;
/// Every copy of the emit that goes on the wire comes back as a "sent" event.
const REPORT_SENT: u32 = 4;
/// The command's events are delivered before `run` returns; without it they wait for the
/// next delivery, which the caller asks for once it has handled the result.
const DELIVER: u32 = 256;

#[wasm_bindgen]
impl Connection {
    /// `engine_url`: the Engine.IO endpoint, `http[s]://host{path}?EIO=4[&query]`.
    /// `on_event`: see the events module. The settings are socket.io-client's defaults
    /// until the `configure` command (the JS Manager sends it right away, before any socket
    /// connects).
    #[wasm_bindgen(constructor)]
    pub fn new(engine_url: String, on_event: EventCallback) -> Connection {
        let manager = Manager::new(ManagerConfig::default(), random_seed());
        let driver = Driver::new(manager, Endpoint::new(engine_url), move |notice, frame| {
            forward(&on_event, notice, frame)
        });
        LIVE_CONNECTIONS.fetch_add(1, Ordering::Relaxed);
        Connection { driver }
    }

    /// Runs command `op`: the commands, their arguments and results are listed in
    /// `src/api/connection.rs` (`Op`).
    pub fn run(
        &self,
        op: u32,
        key: u32,
        number: f64,
        flags: u32,
        text: Option<String>,
        extra: JsValue,
    ) -> Result<JsValue, JsValue> {
        let op = *OPS
            .get(op as usize)
            .ok_or_else(|| js_error("InvalidCommand", "unknown command"))?;
        let result = self.dispatch(op, socket_key(key), number, flags, text, extra);
        if flags & DELIVER != 0 {
            self.driver.deliver();
        }
        result
    }
}

impl Connection {
    fn dispatch(
        &self,
        op: Op,
        key: SocketKey,
        number: f64,
        flags: u32,
        text: Option<String>,
        extra: JsValue,
    ) -> Result<JsValue, JsValue> {
        let text = text.unwrap_or_default();
        let none = Ok(JsValue::UNDEFINED);
        match op {
            Op::Configure => {
                let config = self.inspect(|manager| manager.config().clone());
                let options = manager_options(&text, config.unwrap_or_default())?;
                if options.http.is_some() || options.protocols.is_some() {
                    self.driver
                        .set_endpoint(|endpoint| {
                            if let Some(http) = options.http {
                                endpoint.http = Rc::new(http);
                            }
                            if let Some(protocols) = options.protocols {
                                endpoint.protocols = protocols;
                            }
                        })
                        .map_err(|_| busy())?;
                }
                let (config, packets) = (options.config, options.packets);
                self.command(|manager, _| {
                    *manager.config_mut() = config;
                    if packets {
                        manager.report_packets();
                    }
                })?;
                none
            }
            Op::Socket => {
                let (namespace, config) = socket_options(&text)?;
                let key = self.command(|manager, _| manager.socket(&namespace, config).0)?;
                Ok((key as u32).into())
            }
            Op::Open => self.command(|manager, now| manager.open(now)).and(none),
            Op::Close => self.command(|manager, _| manager.close()).and(none),
            Op::SetUrl => {
                self.driver
                    .set_endpoint(|endpoint| endpoint.url = text)
                    .map_err(|_| busy())?;
                none
            }
            Op::Connect => self
                .command(|manager, now| manager.connect(now, key))
                .and(none),
            Op::Disconnect => self.command(|manager, _| manager.disconnect(key)).and(none),
            Op::CloseTransport => self
                .command(|manager, now| manager.close_transport(now))
                .and(none),
            Op::Emit => {
                let data = stringified(text);
                let options = EmitOptions {
                    with_ack: flags & WITH_ACK != 0,
                    timeout: (number >= 0.0).then(|| millis(number)),
                    volatile: flags & VOLATILE != 0,
                    report_sent: flags & REPORT_SENT != 0,
                };
                let buffers = bytes_of(&extra);
                let sent =
                    self.command(|manager, now| manager.emit(now, key, data, buffers, options))?;
                match sent {
                    Ok(id) => Ok(id.map_or(JsValue::UNDEFINED, |id| (id as f64).into())),
                    Err(error) => Err(js_error("EmitError", error.message())),
                }
            }
            Op::Ack => {
                let data = stringified(text);
                let buffers = bytes_of(&extra);
                let id = number as u64;
                self.command(|manager, _| manager.ack(key, id, data, buffers))
                    .and(none)
            }
            Op::Auth => {
                let auth = (!text.is_empty()).then(|| stringified(text));
                let token = number as u64;
                self.command(|manager, _| manager.handle_auth(key, token, auth.as_ref()))
                    .and(none)
            }
            Op::AuthFailed => {
                let token = number as u64;
                self.command(|manager, now| manager.handle_auth_failed(now, key, token))
                    .and(none)
            }
            Op::AddRejoin => {
                let data = stringified(text);
                let buffers = bytes_of(&extra);
                match self.command(|manager, _| manager.add_rejoin(key, data, buffers))? {
                    Ok(id) => Ok((id as f64).into()),
                    Err(error) => Err(js_error("EmitError", error.message())),
                }
            }
            Op::RemoveRejoin => {
                let id = number as u64;
                let removed = self.command(|manager, _| manager.remove_rejoin(key, id))?;
                Ok(removed.into())
            }
            Op::ClearQueue => self
                .command(|manager, _| manager.clear_queue(key))
                .and(none),
            // One string crosses to JS, not one per emit.
            Op::Queued => Ok(self
                .inspect(|manager| {
                    let queued: Vec<&str> = manager
                        .queued(key)
                        .into_iter()
                        .map(JsonText::as_str)
                        .collect();
                    JsonText::array_from_elements(&queued).into_string()
                })
                .unwrap_or_else(|| "[]".to_owned())
                .into()),
            Op::EngineId => Ok(self
                .inspect(|manager| manager.handshake().map(|handshake| handshake.sid.clone()))
                .flatten()
                .into()),
            Op::Sid => Ok(self
                .inspect(|manager| manager.sid(key).map(str::to_owned))
                .flatten()
                .into()),
            Op::State => Ok(self
                .inspect(|manager| {
                    let unacknowledged = manager.unacknowledged_len(key).min(1 << 27) as u32;
                    u32::from(manager.is_connected(key))
                        | u32::from(manager.is_active(key)) << 1
                        | u32::from(manager.recovered(key)) << 2
                        | u32::from(manager.is_opened()) << 3
                        | unacknowledged << 4
                })
                .unwrap_or(0)
                .into()),
            Op::Waiting => Ok(self
                .inspect(|manager| {
                    (manager.queued(key).len() + manager.unacknowledged_len(key)) as f64
                })
                .unwrap_or(0.0)
                .into()),
            Op::Session => Ok(self
                .inspect(|manager| manager.session(key).map(|session| session.pid))
                .flatten()
                .into()),
            Op::Resume => {
                let session = extra
                    .as_string()
                    .map(|offset| Session { pid: text, offset });
                let taken = match session {
                    Some(session) => self.command(|manager, _| manager.resume(key, session))?,
                    None => false,
                };
                Ok(taken.into())
            }
            Op::UseTimers => {
                let functions = Array::from(&extra);
                self.driver
                    .use_timer_functions(functions.get(0).into(), functions.get(1).into());
                none
            }
            Op::Deliver => none,
        }
    }

    fn command<R>(&self, command: impl FnOnce(&mut Manager, u64) -> R) -> Result<R, JsValue> {
        self.driver.command(command).map_err(|_| busy())
    }

    fn inspect<R>(&self, read: impl FnOnce(&Manager) -> R) -> Option<R> {
        self.driver.inspect(read).ok()
    }
}

fn socket_key(key: u32) -> SocketKey {
    SocketKey(key as usize)
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

fn busy() -> JsValue {
    js_error("Busy", "the connection is busy or closed")
}

/// A JS `Error` whose `.type` tells what went wrong.
fn js_error(kind: &'static str, message: &'static str) -> JsValue {
    let error: JsValue = js_sys::Error::new(message).into();
    // Setting a property on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(&error, &"type".into(), &kind.into());
    error
}
