//! The core's settings: reconnection policy, timeouts and per-namespace authentication.
//!
//! Plain data with socket.io-client's defaults. Validation of user-supplied options
//! (types, ranges, error messages) belongs to the API layer that builds these values.

use super::backoff::Backoff;
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
}

impl Default for ManagerConfig {
    fn default() -> Self {
        Self {
            reconnection: true,
            reconnection_attempts: ReconnectionAttempts::Unlimited,
            backoff: Backoff::default(),
            timeout: 20_000,
        }
    }
}

/// Where the CONNECT payload of a namespace comes from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
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
}
