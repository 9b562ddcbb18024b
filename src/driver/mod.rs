//! The browser shell around the core for the Rust client (`crate::client`). It builds
//! for every target, so that the Rust API's documentation examples compile anywhere,
//! but runs only in a browser. (The npm package's shell is JavaScript,
//! `src/api/js/driver.js`, which carries out the same rules without crossing into wasm
//! for each browser object.)
//!
//! The driver owns every web-sys object: the WebSocket (see [`WebSocketTransport`]) and
//! the long-polling requests (see [`PollingTransport`]),
//! and, as they arrive, the one timer armed for the core's next deadline and the
//! network and page-visibility listeners. It turns what the browser reports into the
//! core's `handle_*` inputs, stamped with the current time, and carries out what the
//! core asks for through its `poll_*` outputs.
//!
//! It must not hold protocol or state-machine logic: what a frame means belongs to
//! [`crate::protocol`], and every decision (when to reconnect, when a connection is
//! dead, what to send) belongs to the core. The driver only moves bytes and events.
//!
//! Ownership rule: every `Closure` and event listener has exactly one owner, which
//! removes it on `Drop`; nothing here uses `Closure::forget`, so reconnecting any
//! number of times does not grow memory. Nothing here panics: every fallible web-sys
//! call is handled.

mod clock;
mod entropy;
mod listener;
mod page;
mod polling;
mod runtime;
mod timer;
mod websocket;

pub use entropy::random_seed;
pub use polling::{HttpSettings, PollEvent, PollingTransport};
pub use runtime::{Driver, DriverError, Endpoint};
pub use websocket::{ReadyState, TransportError, TransportEvent, WebSocketTransport};
