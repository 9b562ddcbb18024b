//! A chat client with the Rust API, as a Rust front end (Leptos, Yew, Dioxus) would
//! hold it: the socket lives in the app's state, and its events update that state.
//!
//! Build for the browser: `cargo build --example chat --target wasm32-unknown-unknown`,
//! then `wasm-bindgen --target web` on the output and load it from a page served next
//! to a Socket.IO server (`npm start` runs one with a `message` event).

#[cfg(target_arch = "wasm32")]
mod app {
    use std::cell::RefCell;

    use resocket::client::{Event, Options, Socket};
    use resocket::protocol::Value;

    thread_local! {
        /// The app's state: the socket, and the messages received so far.
        static SOCKET: RefCell<Option<Socket>> = const { RefCell::new(None) };
        static MESSAGES: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    }

    pub fn start(url: &str) {
        let socket = Socket::connect(url, Options::default(), |event| match event {
            Event::Connect => send("hello from Rust"),
            Event::Message { name, args, .. } if name == "message" => {
                let text = args.iter().find_map(|arg| match arg {
                    Value::String(text) => Some(text.clone()),
                    _ => None,
                });
                MESSAGES.with(|messages| messages.borrow_mut().extend(text));
            }
            Event::Disconnect(reason) => note(reason.as_str()),
            _ => {}
        });
        match socket {
            Ok(socket) => SOCKET.with(|slot| *slot.borrow_mut() = Some(socket)),
            Err(error) => note(error.message()),
        }
    }

    fn send(text: &str) {
        SOCKET.with(|slot| {
            if let Some(socket) = slot.borrow().as_ref() {
                let sent = socket.emit("message", vec![Value::String(text.into())]);
                if let Err(error) = sent {
                    note(error.message());
                }
            }
        });
    }

    /// Shows a line in the app (here: appends it to the messages).
    fn note(line: &str) {
        MESSAGES.with(|messages| messages.borrow_mut().push(line.into()));
    }
}

fn main() {
    #[cfg(target_arch = "wasm32")]
    app::start("http://127.0.0.1:8080/");
}
