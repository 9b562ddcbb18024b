//! A chat client with the Rust API, as a Rust front end (Leptos, Yew, Dioxus) would
//! hold it: the socket lives in the app's state, a task reads its events, and an emit
//! with an answer is awaited.
//!
//! Build for the browser: `cargo build --example chat --target wasm32-unknown-unknown`,
//! then `wasm-bindgen --target web` on the output and load it from a page served next
//! to a Socket.IO server (`npm start` runs one: it broadcasts every `message` and
//! acknowledges it). A whole app,
//! with Leptos, is in `examples/leptos-ticker/`.

#[cfg(target_arch = "wasm32")]
mod app {
    use std::cell::RefCell;

    use futures::StreamExt;
    use resocket::client::{ClientError, Event, Options, Socket};
    use serde::Deserialize;

    /// A chat line as the demo server broadcasts it.
    #[derive(Deserialize)]
    struct Chat {
        text: String,
    }

    thread_local! {
        /// The app's state: the messages received so far, and what happened.
        static LINES: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    }

    pub fn start(url: &str) {
        match Socket::connect(url, Options::default()) {
            Ok(socket) => wasm_bindgen_futures::spawn_local(run(socket)),
            Err(error) => note(error.to_string()),
        }
    }

    async fn run(socket: Socket) {
        // Subscribed before the first `.await`: no event is missed.
        let mut events = socket.events();
        while let Some(event) = events.next().await {
            let line = match event {
                Event::Connect => greet(&socket).await,
                Event::Message(message) if message.name() == "message" => {
                    message.decode().map(|chat: Chat| chat.text)
                }
                Event::Disconnect(reason) => Ok(reason.as_str().to_owned()),
                _ => continue,
            };
            note(line.unwrap_or_else(|error| error.to_string()));
        }
    }

    async fn greet(socket: &Socket) -> Result<String, ClientError> {
        let delivered: bool = socket
            .timeout(5000)
            .emit_with_ack("message", "hello from Rust")
            .await?;
        Ok(format!("hello delivered: {delivered}"))
    }

    /// Shows a line in the app (here: keeps it in the app's state).
    fn note(line: String) {
        LINES.with(|lines| lines.borrow_mut().push(line));
    }
}

fn main() {
    #[cfg(target_arch = "wasm32")]
    app::start("http://127.0.0.1:8080/");
}
