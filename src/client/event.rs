//! [`Event`]: what a Rust app hears from its socket, and [`Message`], an event from the
//! server with its arguments and the means to answer it.
//!
//! Owns the Rust-facing vocabulary of events and the reply a message carries. It must
//! not route events (the socket does) nor hold connection logic (the core does).

use std::cell::Cell;
use std::fmt;
use std::rc::Rc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::args::{from_args, to_args};
use super::error::ClientError;
use super::socket::WeakSocket;
use crate::core::{ConnectError, DisconnectReason, DropReason, ManagerEvent};
use crate::protocol::{ProtocolError, Value};

/// What the app hears from its socket, through [`Socket::events`] or
/// [`Socket::on_event`].
///
/// [`Socket::events`]: super::Socket::events
/// [`Socket::on_event`]: super::Socket::on_event
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// Connected; [`Socket::recovered`](super::Socket::recovered) tells whether the
    /// previous session came back with the events missed meanwhile.
    Connect,
    /// This attempt failed; the socket tries again unless the server refused it.
    ConnectError(ConnectError),
    Disconnect(DisconnectReason),
    /// An event from the server.
    Message(Message),
    /// An emit that will never reach the server.
    Dropped {
        name: String,
        args: Vec<Value>,
        reason: DropReason,
    },
    /// The connection's own events, shared by the sockets of one [`Manager`]:
    /// reconnection attempts, `reconnect_failed`, transport upgrades, ...
    ///
    /// [`Manager`]: super::Manager
    Connection(ManagerEvent),
    /// An event from the server whose payload could not be read as values.
    Malformed(ProtocolError),
}

/// An event from the server: its name, its arguments, and the reply the server may
/// wait for.
#[derive(Clone)]
pub struct Message {
    name: String,
    args: Vec<Value>,
    reply: Option<Reply>,
}

impl Message {
    pub(crate) fn new(name: String, args: Vec<Value>, reply: Option<Reply>) -> Self {
        Self { name, args, reply }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn args(&self) -> &[Value] {
        &self.args
    }

    pub fn into_args(self) -> Vec<Value> {
        self.args
    }

    /// Reads the arguments as `T`: a tuple takes one argument per element, any other
    /// type takes the first argument (`Option<T>` is `None` when there is none), `()`
    /// takes nothing. The mirror of how [`Socket::emit`](super::Socket::emit) sends.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, ClientError> {
        Ok(from_args(self.args.clone())?)
    }

    /// Whether the server waits for a reply that was not given yet.
    pub fn wants_reply(&self) -> bool {
        self.reply.as_ref().is_some_and(|reply| !reply.given.get())
    }

    /// Answers the server's acknowledgement request with `payload` (arguments as for
    /// [`Socket::emit`](super::Socket::emit)). Once per event, across the clones of
    /// this message: then [`ClientError::NoReply`].
    pub fn reply<T: Serialize + ?Sized>(&self, payload: &T) -> Result<(), ClientError> {
        let reply = self.reply.as_ref().ok_or(ClientError::NoReply)?;
        if reply.given.get() {
            return Err(ClientError::NoReply);
        }
        let args = to_args(payload)?;
        reply.socket.answer(reply.id, args)?;
        reply.given.set(true);
        Ok(())
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("name", &self.name)
            .field("args", &self.args)
            .field("wants_reply", &self.wants_reply())
            .finish()
    }
}

/// The server's acknowledgement request: answered once, by whichever clone of the
/// message replies first.
#[derive(Clone)]
pub(crate) struct Reply {
    socket: WeakSocket,
    id: u64,
    given: Rc<Cell<bool>>,
}

impl Reply {
    pub(crate) fn new(socket: WeakSocket, id: u64) -> Self {
        Self {
            socket,
            id,
            given: Rc::default(),
        }
    }
}
