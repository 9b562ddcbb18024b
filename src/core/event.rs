//! What the core tells its shell: transport commands and user-visible events.
//!
//! Owns the vocabulary of outputs (socket.io-client's event names and disconnect
//! reasons) and their stable codes. It must not decide when anything happens.

use std::borrow::Cow;

use super::outbox::DropReason;
use crate::protocol::{Frame, JsonText, ProtocolError};

/// Identifies one transport (a WebSocket, or an HTTP long-polling session) the core asked
/// the shell to open. Inputs that carry an id the core no longer uses are stale and
/// ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// Identifies one namespace socket of a [`Manager`](super::Manager).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SocketKey(pub(crate) usize);

/// The Engine.IO transports (socket.io-client's `transports` names them `"polling"` and
/// `"websocket"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// HTTP long-polling: a GET always waiting for what the server sends, and POSTs of
    /// what the client sends.
    Polling,
    WebSocket,
}

impl TransportKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Polling => "polling",
            Self::WebSocket => "websocket",
        }
    }
}

/// One HTTP request of a long-polling transport, to the Engine.IO endpoint with `query`
/// appended to its query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub query: String,
    /// The payload of a POST; `None` for the GET that waits for the server's packets.
    /// Answer with [`Manager::handle_polled`](super::Manager::handle_polled),
    /// [`Manager::handle_posted`](super::Manager::handle_posted) or
    /// [`Manager::handle_request_failed`](super::Manager::handle_request_failed).
    pub body: Option<String>,
}

/// One output of the core, drained with [`Manager::poll_output`](super::Manager::poll_output).
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Open transport `conn` to the Engine.IO endpoint with `query` appended to its query
    /// string: a WebSocket, or, for polling, the first GET (the handshake). Report on it
    /// with this id.
    OpenTransport(ConnId, TransportKind, String),
    /// Send this request on polling transport `conn`, which is open already.
    Request(ConnId, HttpRequest),
    /// Close this transport; no further input about it is needed. A polling
    /// transport's GET is aborted; a POST already sent is let finish (it may carry the
    /// client's last packets), its outcome unheard.
    CloseTransport(ConnId),
    /// Send one frame on this WebSocket transport.
    Transmit(ConnId, Frame),
    /// An event for the app.
    Notice(Notice),
}

/// An event for the app: of the connection as a whole, or of one namespace socket.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    Manager(ManagerEvent),
    Socket(SocketKey, SocketEvent),
}

/// Events of the connection as a whole (socket.io-client's `socket.io.on(...)`).
#[derive(Debug, Clone, PartialEq)]
pub enum ManagerEvent {
    /// The Engine.IO handshake completed, on this transport.
    Open(TransportKind),
    /// The Engine.IO connection was lost or closed.
    Close(DisconnectReason),
    /// An attempt to open the connection failed.
    Error(ConnectionError),
    /// The server's heartbeat arrived (and was answered).
    Ping,
    ReconnectAttempt(u32),
    /// A reconnection succeeded after this many attempts.
    Reconnect(u32),
    ReconnectError(ConnectionError),
    /// The attempts allowed by `reconnectionAttempts` are used up; nothing more is tried.
    ReconnectFailed,
    /// The connection moved to a better transport (polling to WebSocket).
    Upgrade(TransportKind),
    /// A probe of a better transport failed; the connection goes on where it was.
    UpgradeError(TransportKind),
    /// An Engine.IO packet of the connection, as its transport carries it, received
    /// (`outgoing: false`) or written: socket.io-client's engine `packet` and
    /// `packetCreate` events. Reported only when asked for
    /// ([`Manager::report_packets`](super::Manager::report_packets)).
    Packet {
        outgoing: bool,
        frame: Frame,
    },
    /// Everything written so far has left: socket.io-client's engine `drain` event
    /// (reported with the packets).
    Drain,
}

/// Events of one namespace socket (socket.io-client's `socket.on(...)`).
#[derive(Debug, Clone, PartialEq)]
pub enum SocketEvent {
    Connect,
    ConnectError(ConnectError),
    Disconnect(DisconnectReason),
    /// An event from the server, for the app's listeners.
    Event(IncomingEvent),
    /// The outcome of an emit that asked for an acknowledgement.
    Ack(u64, Result<Payload, AckError>),
    /// An emit that never reached the server, with its data and the reason. Its
    /// acknowledgement, if asked, is settled with [`AckError::Dropped`].
    Dropped(JsonText, DropReason),
    /// The CONNECT payload is needed: answer with
    /// [`Manager::handle_auth`](super::Manager::handle_auth) and this token.
    AuthRequest(u64),
    /// An emit asked to be reported ([`EmitOptions::report_sent`](super::EmitOptions))
    /// went on the wire: its `[name, ...args]` and attachments.
    Sent(Payload),
}

/// Arguments as received: a JSON array, and the binary attachments its placeholders
/// refer to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    pub args: JsonText,
    pub attachments: Vec<Vec<u8>>,
}

/// An EVENT from the server. `data` is the array as the server sent it, `[name, ...args]`,
/// followed by the recovery offset when `ends_with_offset`: kept whole, so that a shell
/// holding the frame can hand the app the frame's own text (see [`IncomingEvent::args`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingEvent {
    pub data: JsonText,
    /// The last element of `data` is the server's recovery offset, not an argument.
    pub ends_with_offset: bool,
    pub attachments: Vec<Vec<u8>>,
    /// Set when the server waits for an acknowledgement (answer with
    /// [`Manager::ack`](super::Manager::ack)).
    pub ack_id: Option<u64>,
}

impl IncomingEvent {
    /// `[name, ...args]`: `data` without the recovery offset (a copy only when it has one).
    pub fn args(&self) -> Cow<'_, JsonText> {
        if !self.ends_with_offset {
            return Cow::Borrowed(&self.data);
        }
        // The core found the offset there, after at least one other element.
        match self.data.trailing_string() {
            Some((_, Some(args))) => {
                let mut text = String::with_capacity(args.len() + 1);
                text.push_str(args);
                text.push(']');
                Cow::Owned(JsonText::from_valid(text))
            }
            _ => Cow::Borrowed(&self.data),
        }
    }
}

/// Why a socket was disconnected; the strings are socket.io-client's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisconnectReason {
    IoServerDisconnect,
    IoClientDisconnect,
    PingTimeout,
    TransportClose,
    TransportError,
    ParseError,
    /// The app closed the Engine.IO connection itself (`socket.io.engine.close()`).
    ForcedClose,
}

impl DisconnectReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IoServerDisconnect => "io server disconnect",
            Self::IoClientDisconnect => "io client disconnect",
            Self::PingTimeout => "ping timeout",
            Self::TransportClose => "transport close",
            Self::TransportError => "transport error",
            Self::ParseError => "parse error",
            Self::ForcedClose => "forced close",
        }
    }

    /// Whether the client reconnects by itself after this reason.
    pub fn reconnects(self) -> bool {
        !matches!(self, Self::IoServerDisconnect | Self::IoClientDisconnect)
    }
}

/// Why an attempt to open the Engine.IO connection failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionError {
    /// The handshake did not complete within `timeout`.
    Timeout,
    /// The WebSocket failed or closed.
    Transport,
    /// A long-polling GET failed (network error, or an HTTP status other than 200).
    Poll,
    /// A long-polling POST failed.
    Post,
    /// The server's handshake could not be understood.
    Protocol(ProtocolError),
    /// The shell could not produce the CONNECT payload (the app's auth function failed).
    Auth,
}

impl ConnectionError {
    /// socket.io-client's `err.message` for the same failure.
    pub fn message(&self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Transport => "websocket error",
            Self::Poll => "xhr poll error",
            Self::Post => "xhr post error",
            Self::Protocol(error) => error.message(),
            Self::Auth => "auth failed",
        }
    }

    /// A stable code for `err.type`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Timeout => "TimeoutError",
            Self::Transport | Self::Poll | Self::Post => "TransportError",
            Self::Protocol(_) => "ParseError",
            Self::Auth => "AuthError",
        }
    }
}

/// Why a namespace socket could not connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectError {
    Connection(ConnectionError),
    /// The server refused the CONNECT (CONNECT_ERROR, e.g. a middleware's `next(err)`).
    /// No automatic reconnection follows.
    Refused {
        message: String,
        data: Option<JsonText>,
    },
}

/// Why an acknowledgement will never come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckError {
    /// The emit's own timeout elapsed first.
    Timeout,
    /// The connection was lost after the packet was sent; the server's answer, if any,
    /// cannot reach this client any more.
    Disconnected,
    /// The emit was dropped before it was sent (see [`SocketEvent::Dropped`]).
    Dropped,
}

impl AckError {
    pub fn message(self) -> &'static str {
        match self {
            Self::Timeout => "operation has timed out",
            Self::Disconnected => "socket has been disconnected",
            Self::Dropped => "the emit was dropped before it was sent",
        }
    }
}
