//! The app measured by bench/rust-size.mjs: writes a line to the page and the console
//! at start, the same in every variant, so that the baseline carries the glue any
//! browser app has and the deltas are the crate's alone. `unused` links the crate
//! without calling it; `client` uses it as an app would: connect, read the events in a
//! task, decode a message, emit, await an acknowledgement. It is built, never run.

#[cfg(not(any(
    all(feature = "baseline", not(feature = "unused"), not(feature = "client")),
    all(feature = "unused", not(feature = "baseline"), not(feature = "client")),
    all(feature = "client", not(feature = "baseline"), not(feature = "unused")),
)))]
compile_error!("build with exactly one of the features baseline, unused, client");

use wasm_bindgen::prelude::*;

// The crate linked in, and nothing of it called: whatever it brings in unconditionally
// (exports, start functions, statics) shows up here. Without this line rustc would not
// load the crate at all (a dependency that no code names is left out), and the variant
// would measure nothing.
#[cfg(feature = "unused")]
extern crate resocket as _;

#[wasm_bindgen(start)]
pub fn start() {
    let Some(window) = web_sys::window() else {
        return;
    };
    // From the page, not a constant, as an app would: the optimizer cannot fold it.
    let origin = window.location().origin().unwrap_or_default();
    show(&format!("started at {origin}"));
    #[cfg(feature = "client")]
    client::start(&origin);
}

/// Shows a line on the page and in the console.
fn show(line: &str) {
    web_sys::console::log_1(&JsValue::from_str(line));
    let body = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body());
    if let Some(body) = body {
        body.set_text_content(Some(line));
    }
}

#[cfg(feature = "client")]
mod client {
    use futures::StreamExt;
    use resocket::client::{ClientError, Event, Options, Socket};
    use serde::{Deserialize, Serialize};

    #[derive(Deserialize)]
    struct Chat {
        user: String,
        text: String,
    }

    #[derive(Serialize)]
    struct Hello<'a> {
        user: &'a str,
        version: u32,
    }

    pub fn start(origin: &str) {
        match Socket::connect(&format!("{origin}/chat"), Options::default()) {
            Ok(socket) => wasm_bindgen_futures::spawn_local(run(socket)),
            Err(error) => super::show(&error.to_string()),
        }
    }

    async fn run(socket: Socket) {
        // Subscribed before the first `.await`: no event is missed.
        let mut events = socket.events();
        while let Some(event) = events.next().await {
            let line = match event {
                Event::Connect => greet(&socket).await,
                Event::Message(message) if message.name() == "chat" => message
                    .decode::<Chat>()
                    .map(|chat| format!("{}: {}", chat.user, chat.text)),
                _ => continue,
            };
            super::show(&line.unwrap_or_else(|error| error.to_string()));
        }
    }

    async fn greet(socket: &Socket) -> Result<String, ClientError> {
        socket.emit(
            "hello",
            &Hello {
                user: "app",
                version: 1,
            },
        )?;
        let members: u32 = socket.emit_with_ack("join", "lobby").await?;
        Ok(format!("joined the lobby: {members} members"))
    }
}
