//! The JavaScript surface (wasm32 only): what the package's JS entry calls.
//!
//! Owns the translation between JS values and the core's types: commands come in as
//! plain numbers, strings and arrays, events go out through one JS callback. The
//! socket.io-client-compatible vocabulary (`io()`, `Socket`, `Manager`, listeners,
//! option validation) is the JS wrapper shipped beside it in `src/api/js/`. It must not
//! hold connection logic: decisions belong to the core, browser objects to the driver.

mod connection;
mod events;
mod options;

pub use connection::Connection;
