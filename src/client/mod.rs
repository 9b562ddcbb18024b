//! The Rust front door: a Socket.IO client for Rust front ends (Leptos, Yew, Dioxus)
//! running in the browser, on the same core and driver as the JavaScript API.
//!
//! Owns the Rust-facing vocabulary: [`Socket`] and [`Manager`] handles, [`Event`]s as
//! a stream or to listeners, answers as futures ([`Acknowledgement`]), payloads through
//! serde, and URL handling. It must not hold connection logic: that is the core's.
//!
//! ```no_run
//! use resocket::client::{Options, Socket, SocketOptions};
//!
//! # fn run() -> Result<(), resocket::client::ClientError> {
//! let chat = Socket::connect("https://example.com/chat", Options::default())?;
//! // A second namespace on the same connection.
//! let news = chat.io().socket("/news", SocketOptions::default())?;
//! # Ok(()) }
//! ```

mod ack;
mod args;
mod error;
mod event;
mod hub;
mod manager;
mod options;
mod socket;
mod url;

pub use ack::Acknowledgement;
pub use args::{from_args, to_args};
pub use error::ClientError;
pub use event::{Event, Message};
pub use hub::{Events, Listener};
pub use manager::Manager;
pub use options::{Auth, AuthFuture, Options, SocketOptions};
pub use socket::{Emitter, Socket, WeakSocket};
pub use url::{target, targets, Target, UrlError};

// The core's vocabulary that the Rust API's events, errors and options speak.
pub use crate::core::{
    AckError, ConnectError, ConnectionError, DisconnectReason, DropReason, EmitError,
    ManagerConfig, ManagerEvent, Overflow, QueueLimits, ReconnectionAttempts, TransportKind,
};
pub use crate::driver::HttpSettings;
