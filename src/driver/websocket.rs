//! The browser WebSocket as a frame transport.
//!
//! [`WebSocketTransport`] opens a `WebSocket` with `binaryType = "arraybuffer"` (a Blob
//! would need a Promise to read and could reorder frames) and reports what happens to
//! it as [`TransportEvent`]s through one handler. It knows nothing of Engine.IO: frames
//! go in and out as [`Frame`]s, and their meaning is the caller's business.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::rc::Rc;

use js_sys::{ArrayBuffer, JsString, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{BinaryType, CloseEvent, Event, MessageEvent, WebSocket};

use crate::protocol::Frame;

/// What the browser reports about a [`WebSocketTransport`].
#[derive(Debug, Clone, PartialEq)]
pub enum TransportEvent {
    /// The connection is open: frames can be sent.
    Open,
    /// One frame arrived, text or binary, and when: the event's `timeStamp`, on
    /// `performance.now()`'s clock.
    Frame(Frame, f64),
    /// The connection is closed (or could not be opened); no event follows.
    Close {
        /// The close code (1006 when the connection failed or dropped without a close
        /// handshake).
        code: u16,
        /// The reason the peer gave, often empty.
        reason: String,
        /// Whether the closing handshake completed.
        was_clean: bool,
    },
    /// The browser reported an error (it gives no detail); a `Close` follows. Also
    /// reported for a message whose data is neither a string nor an `ArrayBuffer`.
    Error,
    /// A frame larger than the transport's limit arrived; it was not copied.
    FrameTooLarge,
}

/// Why a [`WebSocketTransport`] call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportError {
    /// The browser refused to create the WebSocket (malformed URL, wrong scheme,
    /// blocked port).
    Create,
    /// A frame was sent while the connection was not open.
    NotOpen,
    /// The browser refused to send the frame.
    Send,
    /// The browser refused to close the connection.
    Close,
}

impl TransportError {
    /// A short, static description.
    pub fn message(self) -> &'static str {
        match self {
            TransportError::Create => "the browser refused to create the WebSocket",
            TransportError::NotOpen => "the WebSocket is not open",
            TransportError::Send => "the browser refused to send the frame",
            TransportError::Close => "the browser refused to close the WebSocket",
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for TransportError {}

/// The state of the underlying WebSocket (`WebSocket.readyState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadyState {
    /// Opening.
    Connecting,
    /// Open: frames can be sent.
    Open,
    /// Closing handshake under way.
    Closing,
    /// Closed, or never opened.
    Closed,
}

type Handler = Box<dyn FnMut(TransportEvent)>;

/// Delivers events to the handler, one at a time and in order, even when the handler
/// causes another event to be reported while it runs: that event is queued and
/// delivered when the handler returns. Once detached, it delivers nothing more.
struct Dispatcher {
    handler: RefCell<Handler>,
    queue: RefCell<VecDeque<TransportEvent>>,
    detached: Cell<bool>,
}

impl Dispatcher {
    fn new(handler: Handler) -> Self {
        Dispatcher {
            handler: RefCell::new(handler),
            queue: RefCell::new(VecDeque::new()),
            detached: Cell::new(false),
        }
    }

    fn dispatch(&self, event: TransportEvent) {
        if self.detached.get() {
            return;
        }
        // Already borrowed means the handler is running further up this stack: it will
        // find the event in the queue when it returns. Otherwise the queue is empty
        // (whoever ran the handler last emptied it), and the event goes straight in: the
        // queue holds memory only while events wait.
        // `queue` is only ever borrowed for one push or pop, never across a call, so
        // these borrows cannot fail.
        let Ok(mut handler) = self.handler.try_borrow_mut() else {
            self.queue.borrow_mut().push_back(event);
            return;
        };
        handler(event);
        while !self.detached.get() {
            let next = self.queue.borrow_mut().pop_front();
            match next {
                Some(event) => handler(event),
                None => break,
            }
        }
    }

    fn detach(&self) {
        self.detached.set(true);
        self.queue.borrow_mut().clear();
    }
}

/// A browser WebSocket carrying [`Frame`]s.
///
/// Owns the socket and the one closure registered as its `onopen`, `onmessage`,
/// `onclose` and `onerror` handler (one closure, not four: each costs its connection
/// memory on both sides of the boundary). Dropping it detaches that handler (no event is
/// delivered after the drop), frees the closure, and closes the socket if it is still
/// connecting or open. It may be dropped from inside its own handler.
pub struct WebSocketTransport {
    socket: WebSocket,
    dispatcher: Rc<Dispatcher>,
    _on_event: Closure<dyn FnMut(Event)>,
}

impl WebSocketTransport {
    /// Starts opening a WebSocket to `url` (`ws:` or `wss:`), asking for the subprotocols
    /// `protocols` (none when empty). Events, starting with
    /// [`TransportEvent::Open`] or [`TransportEvent::Error`], go to `handler`, always
    /// from a later turn of the browser's event loop, never from inside this call.
    ///
    /// The transport owns `handler`: a handler that held the transport itself through a
    /// strong reference would make a cycle that is never freed; hold a `Weak` instead.
    ///
    /// A frame of more than `max_frame_bytes` is reported as
    /// [`TransportEvent::FrameTooLarge`] before anything is copied out of it.
    pub fn connect(
        url: &str,
        protocols: &[String],
        max_frame_bytes: usize,
        handler: impl FnMut(TransportEvent) + 'static,
    ) -> Result<Self, TransportError> {
        let socket = if protocols.is_empty() {
            WebSocket::new(url)
        } else {
            let protocols: js_sys::Array = protocols
                .iter()
                .map(|name| JsString::from(name.as_str()))
                .collect();
            WebSocket::new_with_str_sequence(url, &protocols)
        }
        .map_err(|_| TransportError::Create)?;
        socket.set_binary_type(BinaryType::Arraybuffer);
        let dispatcher = Rc::new(Dispatcher::new(Box::new(handler)));

        let d = Rc::clone(&dispatcher);
        let on_event = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            // A message is the only event with data (a string or an ArrayBuffer), and
            // the frequent one: it is told apart without asking the event's type.
            let data = event.unchecked_ref::<MessageEvent>().data();
            let reported = if !data.is_undefined() {
                frame_of(data, event.time_stamp(), max_frame_bytes)
            } else {
                match event.type_().as_str() {
                    "open" => TransportEvent::Open,
                    "close" => {
                        let close = event.unchecked_ref::<CloseEvent>();
                        TransportEvent::Close {
                            code: close.code(),
                            reason: close.reason(),
                            was_clean: close.was_clean(),
                        }
                    }
                    _ => TransportEvent::Error,
                }
            };
            d.dispatch(reported);
        });

        // Events are dispatched from later tasks, so none is missed between the
        // constructor above and these assignments.
        let handler = on_event.as_ref().unchecked_ref();
        socket.set_onopen(Some(handler));
        socket.set_onmessage(Some(handler));
        socket.set_onclose(Some(handler));
        socket.set_onerror(Some(handler));

        Ok(WebSocketTransport {
            socket,
            dispatcher,
            _on_event: on_event,
        })
    }

    /// Sends one frame: a text frame for [`Frame::Text`], a binary one for
    /// [`Frame::Binary`]. Fails with [`TransportError::NotOpen`] unless the connection
    /// is open (the browser would otherwise throw, or drop the frame silently).
    pub fn send(&self, frame: &Frame) -> Result<(), TransportError> {
        if self.ready_state() != ReadyState::Open {
            return Err(TransportError::NotOpen);
        }
        let sent = match frame {
            Frame::Text(text) => self.socket.send_with_str(text),
            Frame::Binary(bytes) => self.socket.send_with_u8_array(bytes),
        };
        sent.map_err(|_| TransportError::Send)
    }

    /// Starts a normal closure (code 1000). The handler still receives the
    /// [`TransportEvent::Close`] that follows. Does nothing if already closing or
    /// closed.
    pub fn close(&self) -> Result<(), TransportError> {
        match self.ready_state() {
            ReadyState::Connecting | ReadyState::Open => self
                .socket
                .close_with_code(1000)
                .map_err(|_| TransportError::Close),
            ReadyState::Closing | ReadyState::Closed => Ok(()),
        }
    }

    /// The state of the underlying WebSocket.
    pub fn ready_state(&self) -> ReadyState {
        match self.socket.ready_state() {
            WebSocket::CONNECTING => ReadyState::Connecting,
            WebSocket::OPEN => ReadyState::Open,
            WebSocket::CLOSING => ReadyState::Closing,
            _ => ReadyState::Closed,
        }
    }
}

impl Drop for WebSocketTransport {
    fn drop(&mut self) {
        // Nothing reaches the handler from now on, even an event already queued or a
        // callback already scheduled by the browser.
        self.dispatcher.detach();
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        self.socket.set_onerror(None);
        // The closures are freed after this body, with the fields; wasm-bindgen defers
        // freeing one that is running (a drop from inside the handler) until it returns.
        if matches!(
            self.ready_state(),
            ReadyState::Connecting | ReadyState::Open
        ) {
            // `close(1000)` throws only for an invalid code or reason; there is nothing
            // left to report the error to in a drop anyway.
            let _ = self.socket.close_with_code(1000);
        }
    }
}

/// The frame carried by a `message` event's data: a string (also returned as it is) or
/// (with `binaryType = "arraybuffer"`) an `ArrayBuffer`, measured before it is copied.
fn frame_of(data: JsValue, time: f64, max_bytes: usize) -> TransportEvent {
    if let Some(js) = data.dyn_ref::<JsString>() {
        // A string's UTF-8 form has at least as many bytes as it has UTF-16 units; the
        // core checks the exact size of what is let through.
        if js.length() as usize > max_bytes {
            return TransportEvent::FrameTooLarge;
        }
        return match js.as_string() {
            Some(text) => TransportEvent::Frame(Frame::Text(text), time),
            None => TransportEvent::Error,
        };
    }
    let Some(buffer) = data.dyn_ref::<ArrayBuffer>() else {
        return TransportEvent::Error;
    };
    if buffer.byte_length() as usize > max_bytes {
        return TransportEvent::FrameTooLarge;
    }
    TransportEvent::Frame(Frame::Binary(Uint8Array::new(buffer).to_vec()), time)
}
