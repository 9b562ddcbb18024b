//! The driver's WebSocket transport in a real browser, against the real socket.io
//! server of `tests/support/socketio-server.mjs` (started by `npm test`, which passes
//! its address at compile time).
#![cfg(target_arch = "wasm32")]

use std::cell::{Cell, OnceCell};
use std::rc::{Rc, Weak};

use futures::channel::mpsc::{self, UnboundedReceiver};
use futures::future::{self, Either};
use futures::StreamExt;
use gloo_timers::future::TimeoutFuture;
use resocket::driver::{ReadyState, TransportError, TransportEvent, WebSocketTransport};
use resocket::protocol::{EnginePacket, Frame, Handshake};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// `ws://127.0.0.1:<port>` of the test server.
const SERVER: &str = env!("RESOCKET_TEST_SERVER");
/// A loopback port on which nothing listens.
const CLOSED_PORT: &str = env!("RESOCKET_TEST_CLOSED_PORT");
/// The test server's heartbeat settings, in milliseconds.
const PING_INTERVAL: u64 = 300;
const PING_TIMEOUT: u64 = 200;
/// The largest frame the transports of these tests accept (the core's default).
const MAX_FRAME: usize = 32 << 20;

fn engine_url(base: &str) -> String {
    format!("{base}/socket.io/?EIO=4&transport=websocket")
}

/// What waiting for the next transport event gave.
#[derive(Debug, PartialEq)]
enum Next {
    Event(TransportEvent),
    /// The handler was dropped: no event can come any more.
    Ended,
    TimedOut,
}

struct Client {
    transport: Rc<WebSocketTransport>,
    events: UnboundedReceiver<TransportEvent>,
    /// Pongs sent by the handler, and those the transport refused.
    pongs: Rc<Cell<(u32, u32)>>,
}

impl Client {
    /// A client whose handler answers each server ping at once, from inside the
    /// handler (as the driver does), so that the 200 ms ping timeout of the test
    /// server holds even on a loaded machine. Every event still reaches `events`.
    fn connect(url: &str) -> Result<Client, TransportError> {
        Client::open(url, true)
    }

    /// A client that never answers pings.
    fn connect_silent(url: &str) -> Result<Client, TransportError> {
        Client::open(url, false)
    }

    fn open(url: &str, answer_pings: bool) -> Result<Client, TransportError> {
        let (tx, events) = mpsc::unbounded();
        let myself: Rc<OnceCell<Weak<WebSocketTransport>>> = Rc::default();
        let pongs = Rc::new(Cell::new((0, 0)));
        let (handler_self, handler_pongs) = (Rc::clone(&myself), Rc::clone(&pongs));
        let transport = Rc::new(WebSocketTransport::connect(
            url,
            &[],
            MAX_FRAME,
            move |event| {
                if let (true, TransportEvent::Frame(frame, ..)) = (answer_pings, &event) {
                    if let Ok(EnginePacket::Ping(data)) = EnginePacket::decode(frame.clone()) {
                        let (sent, refused) = handler_pongs.get();
                        let transport = handler_self.get().and_then(Weak::upgrade);
                        let pong = EnginePacket::Pong(data).encode();
                        match transport.map(|transport| transport.send(&pong)) {
                            Some(Ok(())) => handler_pongs.set((sent + 1, refused)),
                            _ => handler_pongs.set((sent, refused + 1)),
                        }
                    }
                }
                // The receiver may be gone at the end of a test; nothing to do then.
                let _ = tx.unbounded_send(event);
            },
        )?);
        let _ = myself.set(Rc::downgrade(&transport));
        Ok(Client {
            transport,
            events,
            pongs,
        })
    }

    async fn next(&mut self, within_ms: u32) -> Next {
        next_event(&mut self.events, within_ms).await
    }

    /// Expects `Open` then the Engine.IO open packet, and returns its handshake.
    async fn handshake(&mut self) -> Handshake {
        assert_eq!(self.next(5_000).await, Next::Event(TransportEvent::Open));
        let frame = match self.next(5_000).await {
            Next::Event(TransportEvent::Frame(frame, ..)) => frame,
            other => panic!("expected the open packet, got {other:?}"),
        };
        match EnginePacket::decode(frame) {
            Ok(EnginePacket::Open(handshake)) => handshake,
            other => panic!("expected an Engine.IO open packet, got {other:?}"),
        }
    }

    /// The next event that is not a server ping (the handler answers those).
    async fn next_skipping_pings(&mut self, within_ms: u32) -> Next {
        let deadline = now() + f64::from(within_ms);
        loop {
            let left = deadline - now();
            if left <= 0.0 {
                return Next::TimedOut;
            }
            match self.next(left as u32).await {
                Next::Event(TransportEvent::Frame(frame, ..)) if is_ping(&frame) => continue,
                other => return other,
            }
        }
    }

    fn send_text(&self, text: &str) {
        self.transport
            .send(&Frame::Text(text.into()))
            .expect("sending a text frame");
    }
}

fn is_ping(frame: &Frame) -> bool {
    matches!(
        EnginePacket::decode(frame.clone()),
        Ok(EnginePacket::Ping(_))
    )
}

async fn next_event(events: &mut UnboundedReceiver<TransportEvent>, within_ms: u32) -> Next {
    match future::select(events.next(), TimeoutFuture::new(within_ms)).await {
        Either::Left((Some(event), _)) => Next::Event(event),
        Either::Left((None, _)) => Next::Ended,
        Either::Right(_) => Next::TimedOut,
    }
}

fn now() -> f64 {
    js_sys::Date::now()
}

/// Asks the test server about the Engine.IO session `sid`: `None` while it is open,
/// then why the server closed it.
async fn server_close_reason(sid: &str) -> Option<String> {
    let http = SERVER.replacen("ws://", "http://", 1);
    let window = web_sys::window().expect("a window");
    let response = JsFuture::from(window.fetch_with_str(&format!("{http}/test/engine/{sid}")))
        .await
        .expect("fetching the session state");
    let response: web_sys::Response = response.dyn_into().expect("a Response");
    assert_eq!(response.status(), 200);
    let body = JsFuture::from(response.text().expect("reading the body"))
        .await
        .expect("the body")
        .as_string()
        .expect("a text body");
    let state: serde_json::Value = serde_json::from_str(&body).expect("JSON from the test server");
    match (&state["open"], &state["reason"]) {
        (serde_json::Value::Bool(true), _) => None,
        (serde_json::Value::Bool(false), serde_json::Value::String(reason)) => Some(reason.clone()),
        _ => panic!("unexpected answer from the test server: {body}"),
    }
}

async fn server_has_session(sid: &str) -> bool {
    server_close_reason(sid).await.is_none()
}

/// Polls the test server until it has closed the session, and returns why; panics if
/// the session is still open after `within_ms`.
async fn server_closes_session(sid: &str, within_ms: u32) -> String {
    let deadline = now() + f64::from(within_ms);
    loop {
        if let Some(reason) = server_close_reason(sid).await {
            return reason;
        }
        assert!(
            now() < deadline,
            "the server still has session {sid} after {within_ms} ms"
        );
        TimeoutFuture::new(50).await;
    }
}

#[wasm_bindgen_test]
async fn receives_the_engine_io_handshake() {
    let mut client = Client::connect(&engine_url(SERVER)).expect("connect");
    let handshake = client.handshake().await;
    assert!(!handshake.sid.is_empty());
    assert_eq!(handshake.ping_interval, PING_INTERVAL);
    assert_eq!(handshake.ping_timeout, PING_TIMEOUT);
    assert_eq!(handshake.max_payload, 1_000_000);
    assert_eq!(client.transport.ready_state(), ReadyState::Open);
    assert!(server_has_session(&handshake.sid).await);
}

#[wasm_bindgen_test]
async fn answering_pings_keeps_the_session_open() {
    let mut client = Client::connect(&engine_url(SERVER)).expect("connect");
    let sid = client.handshake().await.sid;
    // Long enough for the server to give up several times over if pongs were missing.
    let until = now() + 1_200.0;
    let mut pings = 0;
    loop {
        let left = until - now();
        if left <= 0.0 {
            break;
        }
        match client.next(left as u32).await {
            Next::TimedOut => break,
            Next::Event(TransportEvent::Frame(frame, ..)) if is_ping(&frame) => pings += 1,
            other => panic!("expected only pings, got {other:?}"),
        }
    }
    assert!(
        pings >= 3,
        "expected a ping every {PING_INTERVAL} ms, got {pings} in 1.2 s"
    );
    assert_eq!(
        client.pongs.get(),
        (pings, 0),
        "one pong per ping, none refused"
    );
    assert_eq!(client.transport.ready_state(), ReadyState::Open);
    assert!(server_has_session(&sid).await);
}

#[wasm_bindgen_test]
async fn a_silent_client_is_dropped_by_the_server() {
    // The control for the test above: without pongs the server closes the session
    // pingTimeout after its first ping, so no sooner than this after the connection.
    let started = now();
    let mut client = Client::connect_silent(&engine_url(SERVER)).expect("connect");
    let sid = client.handshake().await.sid;
    let limit = (PING_INTERVAL + PING_TIMEOUT + 2_000) as u32;
    let close = loop {
        match client.next(limit).await {
            Next::Event(TransportEvent::Frame(frame, ..)) if is_ping(&frame) => continue,
            Next::Event(close @ TransportEvent::Close { .. }) => break close,
            other => panic!("expected the server to close the connection, got {other:?}"),
        }
    };
    let elapsed = now() - started;
    assert!(
        elapsed >= (PING_INTERVAL + PING_TIMEOUT) as f64,
        "closed after {elapsed} ms, before the ping timeout: {close:?}"
    );
    assert_eq!(client.pongs.get(), (0, 0));
    assert_eq!(client.transport.ready_state(), ReadyState::Closed);
    assert_eq!(server_closes_session(&sid, 2_000).await, "ping timeout");
    // Sending on a closed transport is an error, not a silent loss.
    assert_eq!(
        client.transport.send(&Frame::Text("3".into())),
        Err(TransportError::NotOpen)
    );
}

#[wasm_bindgen_test]
async fn carries_binary_frames_both_ways() {
    let mut client = Client::connect(&engine_url(SERVER)).expect("connect");
    client.handshake().await;
    // Socket.IO CONNECT to "/", then an "echo" event with one binary attachment and
    // ack id 7: the server acknowledges with the same bytes.
    client.send_text("40");
    match client.next_skipping_pings(5_000).await {
        Next::Event(TransportEvent::Frame(Frame::Text(text), ..)) => {
            assert!(
                text.starts_with("40{"),
                "expected the CONNECT reply, got {text:?}"
            )
        }
        other => panic!("expected the CONNECT reply, got {other:?}"),
    }
    let bytes: Vec<u8> = (0..=255).chain([0, 255, 0]).collect();
    client.send_text(r#"451-7["echo",{"_placeholder":true,"num":0}]"#);
    client
        .transport
        .send(&Frame::Binary(bytes.clone()))
        .expect("sending a binary frame");
    match client.next_skipping_pings(5_000).await {
        Next::Event(TransportEvent::Frame(Frame::Text(text), _)) => {
            assert_eq!(text, r#"461-7[{"_placeholder":true,"num":0}]"#);
        }
        other => panic!("expected the binary ACK header, got {other:?}"),
    }
    match client.next_skipping_pings(5_000).await {
        Next::Event(TransportEvent::Frame(Frame::Binary(received), _)) => {
            assert_eq!(received, bytes)
        }
        other => panic!("expected the attachment, got {other:?}"),
    }
}

#[wasm_bindgen_test]
async fn close_delivers_a_clean_close() {
    let mut client = Client::connect(&engine_url(SERVER)).expect("connect");
    let sid = client.handshake().await.sid;
    client.transport.close().expect("close");
    assert_eq!(client.transport.ready_state(), ReadyState::Closing);
    let close = loop {
        match client.next_skipping_pings(5_000).await {
            Next::Event(TransportEvent::Frame(..)) => continue,
            other => break other,
        }
    };
    assert_eq!(
        close,
        Next::Event(TransportEvent::Close {
            code: 1000,
            reason: String::new(),
            was_clean: true
        })
    );
    // Closing again is a no-op.
    assert_eq!(client.transport.close(), Ok(()));
    assert_eq!(server_closes_session(&sid, 5_000).await, "transport close");
}

#[wasm_bindgen_test]
async fn drop_closes_the_socket_and_frees_the_handler() {
    let mut client = Client::connect(&engine_url(SERVER)).expect("connect");
    let sid = client.handshake().await.sid;
    assert!(server_has_session(&sid).await);
    let Client {
        transport,
        mut events,
        ..
    } = client;
    drop(transport);
    // The handler (which owns the sender) was freed with the closures: the stream
    // ends at once, with no event delivered after the drop.
    assert_eq!(next_event(&mut events, 1_000).await, Next::Ended);
    // And the server saw the socket close (not merely stop answering pings).
    assert_eq!(server_closes_session(&sid, 5_000).await, "transport close");
}

#[wasm_bindgen_test]
async fn drop_while_connecting_is_silent() {
    let (tx, mut events) = mpsc::unbounded();
    let transport =
        WebSocketTransport::connect(&engine_url(SERVER), &[], MAX_FRAME, move |event| {
            let _ = tx.unbounded_send(event);
        })
        .expect("connect");
    assert_eq!(transport.ready_state(), ReadyState::Connecting);
    drop(transport);
    assert_eq!(next_event(&mut events, 1_000).await, Next::Ended);
}

#[wasm_bindgen_test]
async fn sending_before_open_is_an_error() {
    let mut client = Client::connect(&engine_url(SERVER)).expect("connect");
    assert_eq!(
        client.transport.send(&Frame::Text("40".into())),
        Err(TransportError::NotOpen)
    );
    // The transport is still usable afterwards.
    client.handshake().await;
}

#[wasm_bindgen_test]
async fn a_closed_port_reports_error_then_close() {
    let url = engine_url(&format!("ws://127.0.0.1:{CLOSED_PORT}"));
    let mut client = Client::connect(&url).expect("connect starts without error");
    assert_eq!(client.next(5_000).await, Next::Event(TransportEvent::Error));
    match client.next(5_000).await {
        Next::Event(TransportEvent::Close {
            code, was_clean, ..
        }) => {
            assert_eq!(code, 1006);
            assert!(!was_clean);
        }
        other => panic!("expected Close after Error, got {other:?}"),
    }
    assert_eq!(client.transport.ready_state(), ReadyState::Closed);
    assert_eq!(client.next(300).await, Next::TimedOut);
}

#[wasm_bindgen_test]
fn a_malformed_url_is_an_error() {
    let result = WebSocketTransport::connect("ws://[::1", &[], MAX_FRAME, |_| {});
    assert_eq!(result.err(), Some(TransportError::Create));
}

#[wasm_bindgen_test]
async fn a_frame_over_the_limit_is_reported_without_its_content() {
    let (tx, mut events) = mpsc::unbounded();
    // The Engine.IO open packet is longer than 16 bytes.
    let _transport = WebSocketTransport::connect(&engine_url(SERVER), &[], 16, move |event| {
        let _ = tx.unbounded_send(event);
    })
    .expect("connect");
    assert_eq!(
        next_event(&mut events, 5_000).await,
        Next::Event(TransportEvent::Open)
    );
    assert_eq!(
        next_event(&mut events, 5_000).await,
        Next::Event(TransportEvent::FrameTooLarge)
    );
}
