//! resocket: a Socket.IO (Engine.IO v4 + Socket.IO v5) client for the browser.
//!
//! The crate is layered as a sans-IO core with thin shells:
//! - [`protocol`]: the wire codec, without state or IO;
//! - [`core`]: the client state machine, driven by `handle_*` inputs carrying the time
//!   and drained through `poll_*` outputs; it never reads a clock or draws entropy;
//! - `driver` (wasm32 only): the browser shell around the core (WebSocket, timer,
//!   network and page-visibility listeners);
//! - `api` (wasm32 only): the socket.io-client-compatible JavaScript surface;
//! - [`client`]: the Rust front door, for Rust front ends in the browser.

pub mod client;
pub mod core;
pub mod protocol;

#[cfg(target_arch = "wasm32")]
pub mod api;
#[cfg(target_arch = "wasm32")]
pub mod driver;

// Takes memory from the wasm instance as it needs it, in place of Rust's default dlmalloc:
// measured 2.5 KB smaller gzipped, and every frame allocates. Single-threaded wasm only
// (no `atomics`), which is what the package is built for.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
