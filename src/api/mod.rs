//! The JavaScript surface (wasm32 only): what the package's JS entry calls, through
//! plain exported functions (no generated glue).
//!
//! Owns the translation between JS values and the core's types: commands and what the
//! browser reports come in as plain numbers, strings and arrays, and what the core asks
//! for goes out through one JS callback. The browser's objects (WebSocket, requests,
//! timer, page listeners) and the socket.io-client-compatible vocabulary (`io()`,
//! `Socket`, `Manager`, listeners, option validation) are the JS shipped beside it in
//! `src/api/js/`. It must not hold connection logic: decisions belong to the core.

mod abi;
mod connection;
mod events;
mod options;

pub use abi::{resocket_free, resocket_input, resocket_live, resocket_new, resocket_run};
