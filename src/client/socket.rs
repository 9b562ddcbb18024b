//! [`Socket`]: one namespace of a Socket.IO server, for Rust front ends (Leptos, Yew,
//! Dioxus) in the browser, on the same core and driver as the JavaScript API.
//!
//! Owns a socket's Rust side: the translation between Rust values and the core's JSON
//! text and attachments, its answers awaited, its subscribers, and its auth provider.
//! It must not decide anything about the connection: that is the core's job.

use std::rc::{Rc, Weak};

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::ack::{AckTable, Acknowledgement};
use super::args::to_args;
use super::error::ClientError;
use super::event::{Event, Message, Reply};
use super::hub::{Events, Hub, Listener};
use super::manager::Manager;
use super::options::{auth_text, Auth, Options};
use super::url::{target, targets};
use crate::core::{AckError, EmitOptions, SocketEvent, SocketKey};
use crate::protocol::{BinaryMessage, JsonText, Packet, PacketType, ProtocolError, Value};

/// One namespace of a server, connected from the browser: a cheap handle, cloned
/// freely. Dropping its last handle disconnects it and frees everything it holds; the
/// connection closes with its last socket.
///
/// ```no_run
/// use futures::StreamExt;
/// use resocket::client::{Event, Options, Socket};
///
/// # async fn run() -> Result<(), resocket::client::ClientError> {
/// let socket = Socket::connect("https://example.com/chat", Options::default())?;
/// let mut events = socket.events();
/// socket.emit("join", &("lobby", 42))?;
/// let greeting: String = socket.emit_with_ack("hello", &"Ada").await?;
/// while let Some(event) = events.next().await {
///     match event {
///         Event::Connect => println!("connected, recovered: {}", socket.recovered()),
///         Event::Message(message) if message.name() == "price" => {
///             let (symbol, price): (String, f64) = message.decode()?;
///             message.reply(&"seen")?;
///         }
///         _ => {}
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Socket {
    shared: Rc<SocketShared>,
}

/// A handle that does not keep the socket alive (for closures the socket itself holds).
#[derive(Clone)]
pub struct WeakSocket(Weak<SocketShared>);

pub(crate) struct SocketShared {
    manager: Manager,
    key: SocketKey,
    namespace: String,
    hub: Hub,
    acks: Rc<AckTable>,
    auth: Auth,
}

/// One emit about to be made: [`Socket::timeout`] and [`Socket::volatile`] set its
/// options (socket.io-client's `socket.timeout(ms).emit(...)`).
#[must_use = "nothing is sent until `emit` or `emit_with_ack` is called"]
pub struct Emitter<'a> {
    socket: &'a Socket,
    options: EmitOptions,
}

impl Socket {
    /// Connects to `url`, whose path is the namespace (`"https://example.com/chat"`),
    /// on a connection of its own (socket.io-client's `io(url, options)` with
    /// `forceNew`); more namespaces on the same connection come from
    /// [`Manager::socket`] through [`Socket::io`].
    pub fn connect(url: &str, options: Options) -> Result<Socket, ClientError> {
        let namespace = target(url, &options.path)
            .map_err(ClientError::Url)?
            .namespace;
        Manager::new(url, &options)?.socket(&namespace, options.socket)
    }

    /// [`Socket::connect`] to the first of `urls` that answers, on a
    /// [`Manager::failover`] connection.
    pub fn connect_failover(urls: &[&str], options: Options) -> Result<Socket, ClientError> {
        let namespace = targets(urls, &options.path)
            .map_err(ClientError::Url)?
            .swap_remove(0)
            .namespace;
        Manager::failover(urls, &options)?.socket(&namespace, options.socket)
    }

    pub(crate) fn new(manager: Manager, key: SocketKey, namespace: String, auth: Auth) -> Socket {
        Socket {
            shared: Rc::new(SocketShared {
                manager,
                key,
                namespace,
                hub: Hub::default(),
                acks: Rc::default(),
                auth,
            }),
        }
    }

    pub(crate) fn from_shared(shared: Rc<SocketShared>) -> Socket {
        Socket { shared }
    }

    /// The socket's connection (socket.io-client's `socket.io`).
    pub fn io(&self) -> &Manager {
        &self.shared.manager
    }

    pub fn namespace(&self) -> &str {
        &self.shared.namespace
    }

    /// The socket's events from now on, as a `Stream` that ends when the socket is
    /// dropped.
    pub fn events(&self) -> Events {
        self.shared.hub.subscribe()
    }

    /// Calls `handler` with every event from now on, until the returned guard is
    /// dropped. A handler that holds the socket should hold a [`WeakSocket`]: the
    /// socket holds its handlers.
    pub fn on_event(&self, handler: impl FnMut(&Event) + 'static) -> Listener {
        self.shared.hub.listen(handler)
    }

    /// Sends event `name` with `payload` as its arguments: one argument, or a tuple of
    /// them (`&("room", 42)`), or `&()` for none. Sent now if connected, else queued
    /// until connected. Byte sequences (`Vec<u8>`, `&[u8]`) travel as binary.
    pub fn emit<T: Serialize + ?Sized>(&self, name: &str, payload: &T) -> Result<(), ClientError> {
        self.emitter().emit(name, payload)
    }

    /// Sends event `name` and resolves to the server's answer, read as `R`. No timeout
    /// unless [`Socket::timeout`] sets one: a lost connection still settles it.
    pub fn emit_with_ack<T, R>(&self, name: &str, payload: &T) -> Acknowledgement<R>
    where
        T: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        self.emitter().emit_with_ack(name, payload)
    }

    /// An emit whose answer is given up after `milliseconds`.
    pub fn timeout(&self, milliseconds: u64) -> Emitter<'_> {
        self.emitter().timeout(milliseconds)
    }

    /// An emit sent only if connected now, never queued.
    pub fn volatile(&self) -> Emitter<'_> {
        self.emitter().volatile()
    }

    fn emitter(&self) -> Emitter<'_> {
        Emitter {
            socket: self,
            options: EmitOptions::default(),
        }
    }

    /// Declares a state-restoring emit (a room join): sent now if connected, and after
    /// every connection that did not recover the session. Returns its id, for
    /// [`Socket::remove_rejoin`].
    pub fn rejoin<T: Serialize + ?Sized>(
        &self,
        name: &str,
        payload: &T,
    ) -> Result<u64, ClientError> {
        let (data, attachments) = event_parts(&self.shared.namespace, name, to_args(payload)?);
        let key = self.shared.key;
        self.shared
            .manager
            .command(|core, _| core.add_rejoin(key, data, attachments))?
            .map_err(ClientError::Emit)
    }

    /// Stops re-sending rejoin emit `id`; false if there was none.
    pub fn remove_rejoin(&self, id: u64) -> Result<bool, ClientError> {
        let key = self.shared.key;
        self.shared
            .manager
            .command(|core, _| core.remove_rejoin(key, id))
    }

    /// Disconnects this namespace; no reconnection follows until [`Socket::reconnect`].
    pub fn disconnect(&self) -> Result<(), ClientError> {
        let key = self.shared.key;
        self.shared.manager.command(|core, _| core.disconnect(key))
    }

    /// Connects (socket.io-client's `socket.connect()`): again after
    /// [`Socket::disconnect`] or `reconnect_failed`, or the first time when
    /// [`SocketOptions::auto_connect`](super::SocketOptions::auto_connect) is off.
    pub fn reconnect(&self) -> Result<(), ClientError> {
        let key = self.shared.key;
        self.shared
            .manager
            .command(|core, now| core.connect(now, key))
    }

    /// Drops the emits queued while offline, unsent.
    pub fn clear_queue(&self) -> Result<(), ClientError> {
        let key = self.shared.key;
        self.shared.manager.command(|core, _| core.clear_queue(key))
    }

    /// The session id, while connected.
    pub fn id(&self) -> Option<String> {
        let key = self.shared.key;
        self.inspect(|core| core.sid(key).map(str::to_owned))
            .flatten()
    }

    pub fn connected(&self) -> bool {
        let key = self.shared.key;
        self.inspect(|core| core.is_connected(key)).unwrap_or(false)
    }

    /// Whether the socket wants to be connected (it reconnects on its own).
    pub fn active(&self) -> bool {
        let key = self.shared.key;
        self.inspect(|core| core.is_active(key)).unwrap_or(false)
    }

    /// Whether the last connection recovered the previous session, with the events
    /// missed meanwhile (Socket.IO's connection state recovery).
    pub fn recovered(&self) -> bool {
        let key = self.shared.key;
        self.inspect(|core| core.recovered(key)).unwrap_or(false)
    }

    pub fn downgrade(&self) -> WeakSocket {
        WeakSocket(Rc::downgrade(&self.shared))
    }

    fn inspect<R>(&self, read: impl FnOnce(&crate::core::Manager) -> R) -> Option<R> {
        self.shared.manager.inspect(read).ok()
    }
}

impl<'a> Emitter<'a> {
    pub fn timeout(mut self, milliseconds: u64) -> Self {
        self.options.timeout = Some(milliseconds);
        self
    }

    pub fn volatile(mut self) -> Self {
        self.options.volatile = true;
        self
    }

    /// See [`Socket::emit`].
    pub fn emit<T: Serialize + ?Sized>(self, name: &str, payload: &T) -> Result<(), ClientError> {
        let socket = &self.socket.shared;
        let sent = self.send(name, payload);
        socket.manager.deliver();
        sent.map(drop)
    }

    /// See [`Socket::emit_with_ack`].
    pub fn emit_with_ack<T, R>(mut self, name: &str, payload: &T) -> Acknowledgement<R>
    where
        T: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        self.options.with_ack = true;
        let socket = &self.socket.shared;
        // The emit's events (an answer refused at once) wait until its future is
        // registered to receive them.
        let acknowledgement = match self.send(name, payload) {
            Ok(Some(id)) => socket.acks.wait(id),
            Ok(None) => Acknowledgement::failed(ClientError::NoReply),
            Err(error) => Acknowledgement::failed(error),
        };
        socket.manager.deliver();
        acknowledgement
    }

    fn send<T: Serialize + ?Sized>(
        &self,
        name: &str,
        payload: &T,
    ) -> Result<Option<u64>, ClientError> {
        let socket = &self.socket.shared;
        let (data, attachments) = event_parts(&socket.namespace, name, to_args(payload)?);
        let (key, options) = (socket.key, self.options);
        socket
            .manager
            .command_undelivered(|core, now| core.emit(now, key, data, attachments, options))?
            .map_err(ClientError::Emit)
    }
}

impl WeakSocket {
    pub fn upgrade(&self) -> Option<Socket> {
        self.0.upgrade().map(Socket::from_shared)
    }

    pub(crate) fn into_weak(self) -> Weak<SocketShared> {
        self.0
    }

    /// Answers the server's acknowledgement request `id` with `args`.
    pub(crate) fn answer(&self, id: u64, args: Vec<Value>) -> Result<(), ClientError> {
        let socket = self
            .0
            .upgrade()
            .ok_or(ClientError::Driver(crate::driver::DriverError::Gone))?;
        let message = to_message(PacketType::Ack, &socket.namespace, Value::Array(args));
        let (data, attachments) = split(message);
        let key = socket.key;
        socket
            .manager
            .command(|core, _| core.ack(key, id, data, attachments))
    }
}

impl SocketShared {
    /// Takes in one of the core's events for this socket.
    pub(crate) fn handle(self: &Rc<Self>, event: SocketEvent) {
        let event = match event {
            SocketEvent::Connect => Event::Connect,
            SocketEvent::ConnectError(error) => Event::ConnectError(error),
            SocketEvent::Disconnect(reason) => Event::Disconnect(reason),
            SocketEvent::Event(event) => {
                let ack = event.ack_id;
                match values(&self.namespace, event.data, event.attachments) {
                    Ok(args) => match message(args, event.ends_with_offset) {
                        Some((name, args)) => {
                            let reply =
                                ack.map(|id| Reply::new(WeakSocket(Rc::downgrade(self)), id));
                            Event::Message(Message::new(name, args, reply))
                        }
                        None => Event::Malformed(ProtocolError::InvalidPayload),
                    },
                    Err(error) => Event::Malformed(error),
                }
            }
            SocketEvent::Ack(id, outcome) => {
                let answer = match outcome {
                    Ok(payload) => values(&self.namespace, payload.args, payload.attachments)
                        .map_err(ClientError::Malformed),
                    Err(error) => Err(ClientError::Ack(error)),
                };
                self.acks.settle(id, answer);
                return;
            }
            SocketEvent::Dropped(data, reason) => {
                let mut args = values(&self.namespace, data, Vec::new()).unwrap_or_default();
                let name = match args.is_empty() {
                    true => String::new(),
                    false => name_of(args.remove(0)).unwrap_or_default(),
                };
                Event::Dropped { name, args, reason }
            }
            SocketEvent::AuthRequest(token) => {
                self.authenticate(token);
                return;
            }
            // No emit of the Rust API asks to be reported as sent.
            SocketEvent::Sent(_) => return,
        };
        self.publish(&event);
    }

    pub(crate) fn publish(&self, event: &Event) {
        self.hub.publish(event);
    }

    /// Asks the auth provider for the CONNECT payload, and hands its answer to the core.
    fn authenticate(self: &Rc<Self>, token: u64) {
        let Auth::Provider(provider) = &self.auth else {
            return;
        };
        let payload = provider();
        let socket = Rc::downgrade(self);
        wasm_bindgen_futures::spawn_local(async move {
            let payload = payload.await;
            let Some(socket) = socket.upgrade() else {
                return;
            };
            let text = payload.ok().and_then(|payload| auth_text(&payload).ok());
            let key = socket.key;
            // A socket gone meanwhile has nothing to connect.
            let _ = socket.manager.command(|core, now| match text {
                Some(text) => core.handle_auth(key, token, Some(&text)),
                None => core.handle_auth_failed(now, key, token),
            });
        });
    }
}

impl Drop for SocketShared {
    fn drop(&mut self) {
        let key = self.key;
        // A connection already gone has nothing to disconnect.
        let _ = self.manager.command(|core, _| core.disconnect(key));
        self.acks
            .settle_all(&ClientError::Ack(AckError::Disconnected));
        self.hub.close();
    }
}

/// The name and the arguments of an event received as `[name, ...args]`, without the
/// recovery offset that may end it.
fn message(mut args: Vec<Value>, ends_with_offset: bool) -> Option<(String, Vec<Value>)> {
    if ends_with_offset {
        args.pop()?;
    }
    if args.is_empty() {
        return None;
    }
    let name = name_of(args.remove(0))?;
    Some((name, args))
}

/// An event's name: servers may name events with numbers, as socket.io-client
/// tolerates.
fn name_of(name: Value) -> Option<String> {
    match name {
        Value::String(name) => Some(name),
        Value::Number(number) => number.as_u64().map(|number| number.to_string()),
        _ => None,
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
