//! [`Socket`]: the Rust front door, for Rust front ends (Leptos, Yew, Dioxus) in the
//! browser, on the same core and driver as the JavaScript API.
//!
//! Owns the translation between Rust values ([`Value`], with binary leaves) and the
//! core's JSON text, the acknowledgement callbacks, and the app's event handler. It
//! must not decide anything about the connection: that is the core's job.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use super::url::{target, UrlError};
use crate::core::{
    AckError, ConnectError, DisconnectReason, DropReason, EmitError, EmitOptions, Manager,
    ManagerConfig, ManagerEvent, Notice, SocketConfig, SocketEvent, SocketKey,
};
use crate::driver::{random_seed, Driver, Endpoint};
use crate::protocol::{BinaryMessage, JsonText, Packet, PacketType, ProtocolError, Value};

/// How to connect: the core's settings (socket.io-client's options and defaults) and
/// the Engine.IO path.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub manager: ManagerConfig,
    /// Authentication (`auth`), at-least-once emits (`retries`, `ack_timeout`) and the
    /// offline queue's bounds.
    pub socket: SocketConfig,
    /// socket.io-client's `path`.
    pub path: String,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            manager: ManagerConfig::default(),
            socket: SocketConfig::default(),
            path: "/socket.io".into(),
        }
    }
}

/// What the app hears from its socket.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Connected; [`Socket::recovered`] tells whether the previous session came back.
    Connect,
    ConnectError(ConnectError),
    Disconnect(DisconnectReason),
    /// An event from the server. Answer `ack` with [`Socket::ack`] when it is set.
    Message {
        name: String,
        args: Vec<Value>,
        ack: Option<u64>,
    },
    /// An emit that never reached the server, as `[name, ...args]`.
    Dropped(Vec<Value>, DropReason),
    /// The connection's own events: reconnect attempts, `reconnect_failed`, ...
    Connection(ManagerEvent),
    /// A payload from the server that could not be read as values.
    Malformed(ProtocolError),
}

/// Why a call on a [`Socket`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientError {
    Url(UrlError),
    Emit(EmitError),
    /// Called from inside the client's own processing, or after it was dropped.
    Busy,
}

impl ClientError {
    pub fn message(self) -> &'static str {
        match self {
            Self::Url(error) => error.message(),
            Self::Emit(error) => error.message(),
            Self::Busy => "the socket is busy or closed",
        }
    }
}

type AckCallback = Box<dyn FnOnce(Result<Vec<Value>, AckError>)>;

/// The callbacks of the emits waiting for their acknowledgement, by ack id.
type Acks = HashMap<u64, AckCallback>;

/// One namespace of a Socket.IO server, connected from the browser.
pub struct Socket {
    driver: Driver,
    key: SocketKey,
    namespace: String,
    acks: Rc<RefCell<Acks>>,
}

impl Socket {
    /// Connects to `url` (its path is the namespace) and hands every event to
    /// `on_event`. The handler may call back into the socket.
    pub fn connect(
        url: &str,
        options: Options,
        on_event: impl FnMut(Event) + 'static,
    ) -> Result<Socket, ClientError> {
        let target = target(url, &options.path).map_err(ClientError::Url)?;
        let mut manager = Manager::new(options.manager, random_seed());
        let key = manager.socket(&target.namespace, options.socket);
        let acks = Rc::new(RefCell::new(Acks::default()));
        let sink_acks = Rc::clone(&acks);
        let namespace = target.namespace.clone();
        let handler = RefCell::new(on_event);
        let pending = RefCell::new(VecDeque::new());
        let driver = Driver::new(
            manager,
            Endpoint::new(target.engine_url),
            move |notice, _| {
                let Some(event) = translate(&namespace, &sink_acks, notice) else {
                    return;
                };
                pending.borrow_mut().push_back(event);
                // The driver delivers the events of a call made by the handler before that
                // call returns; a Rust handler cannot run inside itself, so those wait
                // until it returns, and come in order.
                let Ok(mut handler) = handler.try_borrow_mut() else {
                    return;
                };
                loop {
                    let next = pending.borrow_mut().pop_front();
                    match next {
                        Some(event) => handler(event),
                        None => break,
                    }
                }
            },
        );
        let socket = Socket {
            driver,
            key,
            namespace: target.namespace,
            acks,
        };
        socket.command(|manager, now| manager.connect(now, key))?;
        Ok(socket)
    }

    /// Sends event `name` with `args` (sent now, or queued until connected).
    pub fn emit(&self, name: &str, args: Vec<Value>) -> Result<(), ClientError> {
        let sent = self.send(name, args, EmitOptions::default());
        self.driver.deliver();
        sent.map(drop)
    }

    /// Sends event `name` and calls `callback` with the server's answer, or with the
    /// reason no answer will come (`timeout` in milliseconds, if any).
    pub fn emit_with_ack(
        &self,
        name: &str,
        args: Vec<Value>,
        timeout: Option<u64>,
        callback: impl FnOnce(Result<Vec<Value>, AckError>) + 'static,
    ) -> Result<(), ClientError> {
        let options = EmitOptions {
            with_ack: true,
            timeout,
            ..EmitOptions::default()
        };
        // The emit's events (an ack refused at once) wait until its callback is
        // registered.
        let sent = self.send(name, args, options);
        if let Ok(Some(id)) = sent {
            self.acks.borrow_mut().insert(id, Box::new(callback));
        }
        self.driver.deliver();
        sent.map(drop)
    }

    /// Answers the server's acknowledgement request `id` (from [`Event::Message`]).
    pub fn ack(&self, id: u64, args: Vec<Value>) -> Result<(), ClientError> {
        let message = to_message(PacketType::Ack, &self.namespace, Value::Array(args));
        let (data, attachments) = split(message);
        let key = self.key;
        self.command(|manager, _| manager.ack(key, id, data, attachments))
    }

    pub fn disconnect(&self) -> Result<(), ClientError> {
        let key = self.key;
        self.command(|manager, _| manager.disconnect(key))
    }

    /// Connects again after [`Socket::disconnect`] or `reconnect_failed`.
    pub fn reconnect(&self) -> Result<(), ClientError> {
        let key = self.key;
        self.command(|manager, now| manager.connect(now, key))
    }

    /// Drops the transport as a network failure would (socket.io-client's
    /// `socket.io.engine.close()`): the socket reconnects and may recover its session.
    pub fn close_transport(&self) -> Result<(), ClientError> {
        self.command(|manager, now| manager.close_transport(now))
    }

    /// Declares a state-restoring emit (a room join): sent now if connected, and after
    /// every connection that did not recover the session. Returns its id.
    pub fn rejoin(&self, name: &str, args: Vec<Value>) -> Result<u64, ClientError> {
        let (data, attachments) = event_parts(&self.namespace, name, args);
        let key = self.key;
        self.command(|manager, _| manager.add_rejoin(key, data, attachments))?
            .map_err(ClientError::Emit)
    }

    pub fn id(&self) -> Option<String> {
        let key = self.key;
        self.driver
            .inspect(|manager| manager.sid(key).map(str::to_owned))
            .ok()
            .flatten()
    }

    pub fn connected(&self) -> bool {
        let key = self.key;
        self.driver
            .inspect(|manager| manager.is_connected(key))
            .unwrap_or(false)
    }

    pub fn recovered(&self) -> bool {
        let key = self.key;
        self.driver
            .inspect(|manager| manager.recovered(key))
            .unwrap_or(false)
    }

    /// Makes the emit; its events wait for the driver's next delivery.
    fn send(
        &self,
        name: &str,
        args: Vec<Value>,
        options: EmitOptions,
    ) -> Result<Option<u64>, ClientError> {
        let (data, attachments) = event_parts(&self.namespace, name, args);
        let key = self.key;
        self.driver
            .command(|manager, now| manager.emit(now, key, data, attachments, options))
            .map_err(|_| ClientError::Busy)?
            .map_err(ClientError::Emit)
    }

    /// Runs `command`, then delivers its events.
    fn command<R>(&self, command: impl FnOnce(&mut Manager, u64) -> R) -> Result<R, ClientError> {
        let result = self.driver.command(command).map_err(|_| ClientError::Busy);
        self.driver.deliver();
        result
    }
}

/// The core's JSON text and attachments for `[name, ...args]`.
fn event_parts(namespace: &str, name: &str, mut args: Vec<Value>) -> (JsonText, Vec<Vec<u8>>) {
    args.insert(0, Value::String(name.to_owned()));
    split(to_message(PacketType::Event, namespace, Value::Array(args)))
}

fn to_message(kind: PacketType, namespace: &str, data: Value) -> BinaryMessage {
    BinaryMessage::deconstruct(kind, namespace, None, data)
}

fn split(message: BinaryMessage) -> (JsonText, Vec<Vec<u8>>) {
    let BinaryMessage {
        packet,
        attachments,
    } = message;
    // `deconstruct` always writes the data it was given.
    let data = packet
        .data
        .unwrap_or_else(|| JsonText::array_from_elements(&[]));
    (data, attachments)
}

/// The values of a JSON array received with its attachments.
fn values(
    namespace: &str,
    data: JsonText,
    attachments: Vec<Vec<u8>>,
) -> Result<Vec<Value>, ProtocolError> {
    let message = BinaryMessage {
        packet: Packet::event(namespace, data, None, attachments.len()),
        attachments,
    };
    match message.reconstruct()? {
        Some(Value::Array(values)) => Ok(values),
        _ => Err(ProtocolError::InvalidPayload),
    }
}

fn translate(namespace: &str, acks: &RefCell<Acks>, notice: Notice) -> Option<Event> {
    let event = match notice {
        Notice::Manager(event) => return Some(Event::Connection(event)),
        Notice::Socket(_, event) => event,
    };
    Some(match event {
        SocketEvent::Connect => Event::Connect,
        SocketEvent::ConnectError(error) => Event::ConnectError(error),
        SocketEvent::Disconnect(reason) => Event::Disconnect(reason),
        SocketEvent::Event(event) => match values(namespace, event.data, event.attachments) {
            Ok(mut args) if args.len() > usize::from(event.ends_with_offset) => {
                if event.ends_with_offset {
                    args.pop();
                }
                // Servers may name events with numbers, as socket.io-client tolerates.
                let name = match args.remove(0) {
                    Value::String(name) => name,
                    Value::Number(number) => match number.as_u64() {
                        Some(number) => number.to_string(),
                        None => return Some(Event::Malformed(ProtocolError::InvalidPayload)),
                    },
                    _ => return Some(Event::Malformed(ProtocolError::InvalidPayload)),
                };
                Event::Message {
                    name,
                    args,
                    ack: event.ack_id,
                }
            }
            Ok(_) => Event::Malformed(ProtocolError::InvalidPayload),
            Err(error) => Event::Malformed(error),
        },
        SocketEvent::Ack(id, outcome) => {
            let result = outcome.map(|payload| {
                values(namespace, payload.args, payload.attachments).unwrap_or_default()
            });
            settle(acks, id, result);
            return None;
        }
        SocketEvent::Dropped(data, reason) => Event::Dropped(
            values(namespace, data, Vec::new()).unwrap_or_default(),
            reason,
        ),
        // Authentication is static in the Rust API (`SocketConfig::auth`), and no emit
        // asks to be reported as sent.
        SocketEvent::AuthRequest(_) | SocketEvent::Sent(_) => return None,
    })
}

fn settle(acks: &RefCell<Acks>, id: u64, result: Result<Vec<Value>, AckError>) {
    // Bound first: the callback may emit, which registers another.
    let callback = acks.borrow_mut().remove(&id);
    if let Some(callback) = callback {
        callback(result);
    }
}
