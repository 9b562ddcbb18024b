//! The sans-IO client state machine (DESIGN.md §2–3).
//!
//! Owns sessions, reconnection and backoff, heartbeat, timeouts, recovery points,
//! buffered emits and acknowledgements. It never touches web-sys or js-sys, never reads
//! a clock and never draws entropy: time (`now`, in milliseconds on any monotonic
//! clock) and the RNG seed are inputs, so it builds and is tested natively on virtual
//! time.
//!
//! The driving invariant: after every input (`handle_*`) or command (`connect`, `emit`,
//! ...), the shell drains every output ([`Manager::poll_output`]) before the next
//! input, then arms a single timer for [`Manager::poll_timeout`].

mod acks;
mod backoff;
mod config;
mod early;
mod event;
mod manager;
mod outbox;
mod recovery;
mod reliable;
mod rng;
mod socket;
mod wire;

pub use backoff::Backoff;
pub use config::{AuthSource, IncomingLimits, ManagerConfig, ReconnectionAttempts, SocketConfig};
pub use event::{
    AckError, ConnId, ConnectError, ConnectionError, DisconnectReason, HttpRequest, IncomingEvent,
    ManagerEvent, Notice, Output, Payload, SocketEvent, SocketKey, TransportKind,
};
pub use manager::{DirectEmit, Manager, NetworkEvent, WALL_CHECK_MS};
pub use outbox::{DropReason, Overflow, QueueLimits};
pub use recovery::Session;
pub use rng::Rng;
pub use socket::{EmitError, EmitOptions, LIBRARY_EVENTS};
