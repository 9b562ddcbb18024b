//! How a Rust app connects: [`Options`] for `Socket::connect`, [`SocketOptions`] per
//! namespace, and [`Auth`], the CONNECT payload, fixed or produced before every attempt.
//!
//! Owns the Rust-facing settings and their translation into the core's configuration.
//! It must not hold connection logic: the settings' meaning is the core's.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use serde::Serialize;

use super::error::ClientError;
use crate::core::{AuthSource, ManagerConfig, QueueLimits, SocketConfig};
use crate::driver::HttpSettings;
use crate::protocol::{to_value, JsonText, Value, ValueError};

/// The settings of a connection and of its first socket: socket.io-client's options and
/// defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Reconnection, timeouts, transports, limits: shared by the connection's sockets.
    pub manager: ManagerConfig,
    /// socket.io-client's `path`: where the server's Engine.IO endpoint is.
    pub path: String,
    /// How the long-polling requests are made: socket.io-client's `extraHeaders`,
    /// `withCredentials` and `requestTimeout`. Browsers let no header be set on a
    /// WebSocket.
    pub http: HttpSettings,
    /// The WebSocket subprotocols asked for (socket.io-client's `protocols`).
    pub protocols: Vec<String>,
    pub socket: SocketOptions,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            manager: ManagerConfig::default(),
            path: "/socket.io".into(),
            http: HttpSettings::default(),
            protocols: Vec::new(),
            socket: SocketOptions::default(),
        }
    }
}

/// The settings of one namespace's socket.
#[derive(Debug, Clone, PartialEq)]
pub struct SocketOptions {
    /// socket.io-client's `autoConnect`: connect when the socket is made (else at
    /// [`Socket::reconnect`](super::Socket::reconnect)).
    pub auto_connect: bool,
    pub auth: Auth,
    /// Bounds of the queue of emits made while disconnected; what they push out is
    /// reported as [`Event::Dropped`](super::Event::Dropped).
    pub queue: QueueLimits,
    /// socket.io-client's `retries`: above 0, every emit is sent at least once, one at a
    /// time in order, and re-sent up to this many times until acknowledged.
    pub retries: u32,
    /// socket.io-client's `ackTimeout` for those emits, in milliseconds.
    pub ack_timeout: Option<u64>,
    /// Events the server sends with `volatile` while connection state recovery is on
    /// (see [`SocketConfig::volatile_events`]).
    pub volatile_events: Vec<String>,
}

impl Default for SocketOptions {
    fn default() -> Self {
        Self {
            auto_connect: true,
            auth: Auth::None,
            queue: QueueLimits::default(),
            retries: 0,
            ack_timeout: None,
            volatile_events: Vec::new(),
        }
    }
}

impl SocketOptions {
    pub(crate) fn config(&self) -> Result<SocketConfig, ClientError> {
        Ok(SocketConfig {
            auth: self.auth.source()?,
            queue: self.queue,
            retries: self.retries,
            ack_timeout: self.ack_timeout,
            volatile_events: self.volatile_events.clone(),
        })
    }
}

/// What [`Auth::from_fn`]'s provider returns: the payload, or why there is none.
pub type AuthFuture = Pin<Box<dyn Future<Output = Result<Value, String>>>>;

/// The CONNECT payload of a namespace (socket.io-client's `auth`): the server reads it
/// in `socket.handshake.auth`. An object, or nothing.
#[derive(Clone, Default)]
pub enum Auth {
    #[default]
    None,
    Fixed(Value),
    /// Asked for before every connection attempt (a token that expires, say). A
    /// provider that fails fails that attempt, and the socket tries again after its
    /// backoff.
    Provider(Rc<dyn Fn() -> AuthFuture>),
}

impl Auth {
    /// A fixed payload: `payload` must serialize as a map or a struct.
    pub fn fixed<T: Serialize + ?Sized>(payload: &T) -> Result<Auth, ClientError> {
        Ok(Auth::Fixed(to_value(payload)?))
    }

    /// A payload produced by `provider` before every connection attempt.
    pub fn from_fn<F, Fut, T, E>(provider: F) -> Auth
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = Result<T, E>> + 'static,
        T: Serialize,
        E: fmt::Display,
    {
        Auth::Provider(Rc::new(move || {
            let payload = provider();
            Box::pin(async move {
                let payload = payload.await.map_err(|error| error.to_string())?;
                to_value(&payload).map_err(|error| error.to_string())
            })
        }))
    }

    fn source(&self) -> Result<AuthSource, ClientError> {
        Ok(match self {
            Auth::None => AuthSource::None,
            Auth::Fixed(payload) => AuthSource::Static(auth_text(payload)?),
            Auth::Provider(_) => AuthSource::Deferred,
        })
    }
}

/// The JSON text of an auth payload, which the protocol wants to be an object.
pub(crate) fn auth_text(payload: &Value) -> Result<JsonText, ValueError> {
    if !matches!(payload, Value::Object(_)) {
        return Err(serde::ser::Error::custom("auth must be a map or a struct"));
    }
    let mut text = String::new();
    payload.write_json(&mut text);
    Ok(JsonText::from_valid(text))
}

/// Credentials never appear in a debug print.
impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::None => "None",
            Self::Fixed(_) => "Fixed(<redacted>)",
            Self::Provider(_) => "Provider",
        })
    }
}

/// Providers are equal when they are the same closure.
impl PartialEq for Auth {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::None, Self::None) => true,
            (Self::Fixed(a), Self::Fixed(b)) => a == b,
            (Self::Provider(a), Self::Provider(b)) => Rc::ptr_eq(a, b),
            _ => false,
        }
    }
}
