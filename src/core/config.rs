//! The core's settings: reconnection policy, timeouts and per-namespace authentication.
//!
//! Plain data with socket.io-client's defaults. Validation of user-supplied options
//! (types, ranges, error messages) belongs to the API layer that builds these values.

use super::backoff::Backoff;
use super::event::TransportKind;
use super::outbox::QueueLimits;
use crate::protocol::JsonText;

/// How many failed reconnection attempts are made before giving up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReconnectionAttempts {
    /// `Infinity` or `-1` in the JS options.
    Unlimited,
    /// `0` means no automatic reconnection at all.
    Limited(u32),
}

impl ReconnectionAttempts {
    /// Whether `made` failed attempts have used up the allowance.
    pub fn exhausted_by(self, made: u32) -> bool {
        match self {
            Self::Unlimited => false,
            Self::Limited(limit) => made >= limit,
        }
    }
}

/// Settings of one Engine.IO connection and its reconnection (socket.io-client's Manager).
#[derive(Debug, Clone, PartialEq)]
pub struct ManagerConfig {
    pub reconnection: bool,
    pub reconnection_attempts: ReconnectionAttempts,
    pub backoff: Backoff,
    /// Milliseconds allowed for a handshake: the Engine.IO open, and each CONNECT reply.
    pub timeout: u64,
    /// What the client accepts from the server.
    pub limits: IncomingLimits,
    /// The transports to use, in order of preference: a connection opens with the first
    /// (see `try_all_transports`, `remember_upgrade`) and may upgrade to a later one.
    /// Never empty.
    pub transports: Vec<TransportKind>,
    /// Whether a connection opened with polling probes WebSocket and moves to it.
    pub upgrade: bool,
    /// After a WebSocket connection worked, open the next ones with WebSocket directly.
    pub remember_upgrade: bool,
    /// When the first transport cannot open, try the next ones before giving up.
    pub try_all_transports: bool,
    /// Whether requests carry a unique parameter that defeats HTTP caches: `None` is
    /// socket.io-client's default (polling requests do, WebSocket handshakes do not).
    pub timestamp_requests: Option<bool>,
    /// That parameter's name.
    pub timestamp_param: String,
}

impl Default for ManagerConfig {
    fn default() -> Self {
        Self {
            reconnection: true,
            reconnection_attempts: ReconnectionAttempts::Unlimited,
            backoff: Backoff::default(),
            timeout: 20_000,
            limits: IncomingLimits::default(),
            transports: vec![TransportKind::Polling, TransportKind::WebSocket],
            upgrade: true,
            remember_upgrade: false,
            try_all_transports: false,
            timestamp_requests: None,
            timestamp_param: "t".to_owned(),
        }
    }
}

/// Bounds on what a server can make the client hold, so that a hostile or buggy server
/// cannot exhaust the page's memory. Input beyond them is a protocol error: the
/// transport is dropped and the client reconnects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncomingLimits {
    /// Largest frame, text or binary, or long-polling response, in bytes.
    pub frame_bytes: usize,
    /// Most binary attachments one packet may announce.
    pub attachments: usize,
    /// Largest total size of one packet's attachments, in bytes.
    pub attachment_bytes: usize,
    /// Most events one namespace holds while it waits for its CONNECT reply (a
    /// recovery replay).
    pub early_events: usize,
    /// Largest total size of those events, in bytes.
    pub early_bytes: usize,
}

impl Default for IncomingLimits {
    fn default() -> Self {
        const MIB: usize = 1 << 20;
        Self {
            frame_bytes: 32 * MIB,
            attachments: 1000,
            attachment_bytes: 64 * MIB,
            early_events: 10_000,
            early_bytes: 64 * MIB,
        }
    }
}

/// Where the CONNECT payload of a namespace comes from.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum AuthSource {
    /// A fixed payload (an object), or none.
    #[default]
    None,
    Static(JsonText),
    /// Asked of the shell before every CONNECT through
    /// [`SocketEvent::AuthRequest`](super::SocketEvent::AuthRequest); the answer comes
    /// back through [`Manager::handle_auth`](super::Manager::handle_auth).
    Deferred,
}

/// Credentials never appear in a debug print.
impl std::fmt::Debug for AuthSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::None => "None",
            Self::Static(_) => "Static(<redacted>)",
            Self::Deferred => "Deferred",
        })
    }
}

/// Settings of one namespace socket.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SocketConfig {
    pub auth: AuthSource,
    /// Bounds of the queue of emits made while disconnected.
    pub queue: QueueLimits,
    /// socket.io-client's `retries`: when above 0, every emit is sent at least once,
    /// one at a time in order, and re-sent up to this many times until acknowledged.
    pub retries: u32,
    /// socket.io-client's `ackTimeout` for those emits, in milliseconds.
    pub ack_timeout: Option<u64>,
    /// Events the server sends with `volatile`. With connection state recovery, the
    /// server appends an offset to every other event without an ack id, and nothing on
    /// the wire tells a volatile event apart: without this, the trailing string
    /// argument of a volatile event would be taken for an offset and removed.
    pub volatile_events: Vec<String>,
}
