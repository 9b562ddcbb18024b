//! The Rust front door (`resocket::client::Socket`) in a real browser against the real
//! socket.io server of `tests/support/socketio-server.mjs`, started by `npm test`.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;

use futures::channel::mpsc::{self, UnboundedReceiver};
use futures::future::{self, Either};
use futures::StreamExt;
use gloo_timers::future::TimeoutFuture;
use resocket::client::{Event, Options, Socket};
use resocket::core::{AckError, Overflow};
use resocket::protocol::Value;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SERVER: &str = env!("RESOCKET_TEST_SERVER");
const CLOSED_PORT: &str = env!("RESOCKET_TEST_CLOSED_PORT");

async fn next<T>(receiver: &mut UnboundedReceiver<T>, what: &str) -> T {
    match future::select(receiver.next(), TimeoutFuture::new(5_000)).await {
        Either::Left((Some(item), _)) => item,
        Either::Left((None, _)) => panic!("the channel closed while waiting for {what}"),
        Either::Right(_) => panic!("no {what} within 5 s"),
    }
}

/// The next event of the socket itself, past the connection's own events.
async fn next_socket_event(events: &mut UnboundedReceiver<Event>, what: &str) -> Event {
    loop {
        match next(events, what).await {
            Event::Connection(_) => continue,
            other => return other,
        }
    }
}

#[wasm_bindgen_test]
async fn emits_with_binary_and_gets_acks_and_events_back() {
    let (events_tx, mut events) = mpsc::unbounded();
    let socket = Socket::connect(&format!("{SERVER}/"), Options::default(), move |event| {
        let _ = events_tx.unbounded_send(event);
    })
    .expect("a valid URL");
    assert_eq!(
        next_socket_event(&mut events, "connect").await,
        Event::Connect
    );
    assert!(socket.connected());
    assert!(socket.id().is_some_and(|id| !id.is_empty()));

    let args = vec![Value::String("hi".into()), Value::Binary(vec![1, 2, 3])];
    let (ack_tx, mut acks) = mpsc::unbounded();
    socket
        .emit_with_ack("echo", args.clone(), Some(5_000), move |reply| {
            let _ = ack_tx.unbounded_send(reply);
        })
        .expect("emit accepted");
    assert_eq!(next(&mut acks, "the ack").await, Ok(args.clone()));

    // Without an ack the test server emits the arguments back as an event.
    socket.emit("echo", args.clone()).expect("emit accepted");
    let message = next_socket_event(&mut events, "the echo event").await;
    assert_eq!(
        message,
        Event::Message {
            name: "echo".into(),
            args,
            ack: None
        }
    );

    socket.disconnect().expect("idle");
    assert!(!socket.connected());
}

#[wasm_bindgen_test]
async fn refuses_a_reserved_event_name_and_a_bad_url() {
    assert!(Socket::connect("ftp://127.0.0.1/", Options::default(), |_| {}).is_err());
    let socket =
        Socket::connect(&format!("{SERVER}/"), Options::default(), |_| {}).expect("a valid URL");
    assert!(socket.emit("connect", Vec::new()).is_err());
}

/// An emit made by the event handler while another emit is being made (here: from the
/// `Dropped` event the outer emit caused) must not lose the outer emit's outcome.
#[wasm_bindgen_test]
async fn an_emit_from_the_handler_during_an_emit_keeps_every_ack() {
    // The handler reaches the socket through this slot, emptied at the end to drop it.
    let slot: Rc<RefCell<Option<Socket>>> = Rc::default();
    let (ack_tx, mut acks) = mpsc::unbounded();
    let record = |name: &'static str| {
        let ack_tx = ack_tx.clone();
        move |result: Result<Vec<Value>, AckError>| {
            let _ = ack_tx.unbounded_send((name, result));
        }
    };
    let mut options = Options::default();
    options.socket.queue.max_len = 1;
    options.socket.queue.overflow = Overflow::DropNewest;
    let handler_slot = Rc::clone(&slot);
    let mut nested = Some(record("nested"));
    // Nothing listens there: the socket stays offline and its emits meet the queue.
    let url = format!("ws://127.0.0.1:{CLOSED_PORT}/");
    let socket = Socket::connect(&url, options, move |event| {
        if let (Event::Dropped(..), Some(callback)) = (event, nested.take()) {
            let slot = handler_slot.borrow();
            let socket = slot.as_ref().expect("the socket is in its slot");
            socket
                .emit_with_ack("note", Vec::new(), None, callback)
                .expect("emit accepted");
        }
    })
    .expect("a valid URL");
    *slot.borrow_mut() = Some(socket);
    {
        let slot = slot.borrow();
        let socket = slot.as_ref().expect("the socket is in its slot");
        socket
            .emit_with_ack("note", Vec::new(), None, record("kept"))
            .expect("emit accepted");
        socket
            .emit_with_ack("note", Vec::new(), None, record("refused"))
            .expect("emit accepted");
    }
    let mut settled = vec![
        next(&mut acks, "the first ack").await,
        next(&mut acks, "the second ack").await,
    ];
    settled.sort_by_key(|(name, _)| *name);
    assert_eq!(
        settled,
        [
            ("nested", Err(AckError::Dropped)),
            ("refused", Err(AckError::Dropped))
        ]
    );
    // Nothing settles twice, and the kept emit waits for a connection.
    TimeoutFuture::new(100).await;
    assert!(acks.try_recv().is_err(), "no other ack settled");
    slot.borrow_mut().take();
}
