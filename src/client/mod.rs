//! The Rust front door: a Socket.IO client for Rust front ends (Leptos, Yew, Dioxus)
//! running in the browser, on the same core and driver as the JavaScript API.
//!
//! Owns URL handling and the Rust-facing vocabulary; the socket itself exists on wasm32
//! only, since it drives the browser's WebSocket. It must not hold connection logic.

mod url;

pub use url::{target, Target, UrlError};

#[cfg(target_arch = "wasm32")]
mod socket;

#[cfg(target_arch = "wasm32")]
pub use socket::{ClientError, Event, Options, Socket};
