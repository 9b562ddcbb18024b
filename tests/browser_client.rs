//! The Rust front door (`resocket::client`) in a real browser against the real
//! socket.io server of `tests/support/socketio-server.mjs`, started by `npm test`.
#![cfg(target_arch = "wasm32")]

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;

use futures::future::{self, Either};
use futures::StreamExt;
use gloo_timers::future::TimeoutFuture;
use resocket::client::{
    Auth, ClientError, Event, Events, Message, Options, Socket, SocketOptions, UrlError,
};
use resocket::core::{AckError, EmitError, Overflow, TransportKind};
use resocket::protocol::Value;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SERVER: &str = env!("RESOCKET_TEST_SERVER");
const CLOSED_PORT: &str = env!("RESOCKET_TEST_CLOSED_PORT");

async fn within<T>(what: &str, work: impl Future<Output = T>) -> T {
    match future::select(Box::pin(work), TimeoutFuture::new(5_000)).await {
        Either::Left((value, _)) => value,
        Either::Right(_) => panic!("no {what} within 5 s"),
    }
}

/// The next event of the socket itself, past the connection's own events.
async fn next_socket_event(events: &mut Events, what: &str) -> Event {
    within(what, async {
        loop {
            match events.next().await {
                Some(Event::Connection(_)) => continue,
                Some(event) => return event,
                None => panic!("the stream ended while waiting for {what}"),
            }
        }
    })
    .await
}

async fn next_message(events: &mut Events, name: &str) -> Message {
    match next_socket_event(events, name).await {
        Event::Message(message) if message.name() == name => message,
        other => panic!("expected {name}, got {other:?}"),
    }
}

async fn connected(url: &str, options: Options) -> (Socket, Events) {
    let socket = Socket::connect(url, options).expect("a valid URL");
    let mut events = socket.events();
    let event = next_socket_event(&mut events, "connect").await;
    assert!(matches!(event, Event::Connect), "got {event:?}");
    (socket, events)
}

#[wasm_bindgen_test]
async fn sends_typed_and_binary_arguments_and_awaits_the_answer() {
    let (socket, mut events) = connected(&format!("{SERVER}/"), Options::default()).await;
    assert!(socket.connected());
    assert!(socket.id().is_some_and(|id| !id.is_empty()));

    let sent = ("hi".to_owned(), vec![1u8, 2, 3], Some(7u32));
    let answer: (String, Vec<u8>, Option<u32>) =
        within("the answer", socket.emit_with_ack("echo", &sent))
            .await
            .expect("answered");
    assert_eq!(answer, sent);

    // Without an ack the test server emits the arguments back as an event.
    socket.emit("echo", &sent).expect("emit accepted");
    let message = next_message(&mut events, "echo").await;
    assert_eq!(message.args()[1], Value::Binary(vec![1, 2, 3]));
    assert_eq!(
        message
            .decode::<(String, Vec<u8>, Option<u32>)>()
            .expect("typed"),
        sent
    );
    // One argument: the first, whatever follows.
    assert_eq!(
        message.decode::<String>().expect("the first argument"),
        "hi"
    );
    assert!(!message.wants_reply());
    assert!(matches!(
        message.decode::<(u32,)>(),
        Err(ClientError::Payload(_))
    ));

    socket.disconnect().expect("idle");
    assert!(!socket.connected());
}

#[wasm_bindgen_test]
async fn replies_once_to_an_event_that_asks_for_it() {
    let (socket, mut events) = connected(&format!("{SERVER}/"), Options::default()).await;
    socket.emit("ask", "ready?").expect("emit accepted");
    let question = next_message(&mut events, "question").await;
    assert_eq!(question.decode::<String>().expect("a string"), "ready?");
    assert!(question.wants_reply());
    let copy = question.clone();
    question.reply(&("yes",)).expect("the first reply");
    assert!(!copy.wants_reply());
    assert_eq!(copy.reply("again"), Err(ClientError::NoReply));
    let answered = next_message(&mut events, "answered").await;
    assert_eq!(answered.decode::<String>().expect("a string"), "yes");
}

#[wasm_bindgen_test]
async fn refuses_a_bad_url_and_a_reserved_event_name() {
    assert!(matches!(
        Socket::connect("ftp://127.0.0.1/", Options::default()),
        Err(ClientError::Url(_))
    ));
    let socket = Socket::connect(&format!("{SERVER}/"), Options::default()).expect("a valid URL");
    assert_eq!(
        socket.emit("connect", &()),
        Err(ClientError::Emit(EmitError::ReservedName))
    );
    let refused = socket.emit_with_ack::<_, ()>("connect", &()).await;
    assert_eq!(refused, Err(ClientError::Emit(EmitError::ReservedName)));
}

/// What the test server knows of `socket`'s connection.
#[derive(Debug, PartialEq)]
struct Who {
    engine: String,
    token: String,
    header: String,
}

async fn whoami(socket: &Socket) -> Who {
    let answer: Value = within("whoami", socket.emit_with_ack("whoami", &()))
        .await
        .expect("answered");
    let field = |value: &Value, name: &str| match value {
        Value::Object(entries) => entries
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone()),
        _ => None,
    };
    let text = |value: Option<Value>| match value {
        Some(Value::String(text)) => text,
        _ => String::new(),
    };
    Who {
        engine: text(field(&answer, "engine")),
        token: text(field(&answer, "auth").and_then(|auth| field(&auth, "token"))),
        header: text(field(&answer, "header")),
    }
}

#[wasm_bindgen_test]
async fn waits_for_connect_without_auto_connect_and_sends_extra_headers_when_polling() {
    let mut options = Options::default();
    options.manager.transports = vec![TransportKind::Polling];
    options.http.headers = vec![("x-resocket-test".into(), "yes".into())];
    options.socket.auto_connect = false;
    let socket = Socket::connect(&format!("{SERVER}/"), options).expect("a valid URL");
    let mut events = socket.events();
    let idle = future::select(events.next(), TimeoutFuture::new(300)).await;
    assert!(
        matches!(idle, Either::Right(_)),
        "no event before connecting"
    );
    assert!(!socket.active());
    socket.reconnect().expect("idle");
    assert!(matches!(
        next_socket_event(&mut events, "connect").await,
        Event::Connect
    ));
    assert_eq!(socket.io().transport(), Some(TransportKind::Polling));
    assert_eq!(whoami(&socket).await.header, "yes");
}

#[wasm_bindgen_test]
async fn a_failover_list_moves_past_a_server_that_does_not_answer() {
    let down = format!("ws://127.0.0.1:{CLOSED_PORT}/");
    let up = format!("{SERVER}/");
    let mut options = Options::default();
    options.manager.backoff.delay = 100;
    let socket = Socket::connect_failover(&[&down, &up], options).expect("valid URLs");
    assert_eq!(socket.io().uri(), down, "the first URL first");
    let mut events = socket.events();
    let mut failed = 0;
    loop {
        match next_socket_event(&mut events, "connect").await {
            Event::Connect => break,
            Event::ConnectError(_) => failed += 1,
            other => panic!("expected connect, got {other:?}"),
        }
    }
    assert_eq!(failed, 1, "one failed attempt, on the first URL");
    assert_eq!(socket.io().uri(), up, "connected through the second URL");
    assert!(matches!(
        Socket::connect_failover(&[], Options::default()),
        Err(ClientError::Url(UrlError::NoUrl))
    ));
}

#[wasm_bindgen_test]
async fn namespaces_share_one_connection_and_auth_is_asked_at_every_connect() {
    let (first, _first_events) = connected(&format!("{SERVER}/"), Options::default()).await;
    let asked = Rc::new(Cell::new(0u32));
    let counter = Rc::clone(&asked);
    let auth = Auth::from_fn(move || {
        counter.set(counter.get() + 1);
        let attempt = counter.get();
        async move {
            TimeoutFuture::new(10).await;
            Ok::<_, String>(
                [("token", Value::String(format!("t{attempt}")))]
                    .into_iter()
                    .collect::<std::collections::BTreeMap<_, _>>(),
            )
        }
    });
    let options = SocketOptions {
        auth,
        ..SocketOptions::default()
    };
    let second = first.io().socket("/second", options).expect("a namespace");
    let mut events = second.events();
    assert!(matches!(
        next_socket_event(&mut events, "connect").await,
        Event::Connect
    ));

    let (of_first, of_second) = (whoami(&first).await, whoami(&second).await);
    assert_eq!(of_first.engine, of_second.engine, "one Engine.IO session");
    assert_eq!(of_second.token, "t1");

    first.io().close_transport().expect("idle");
    loop {
        if let Event::Connect = next_socket_event(&mut events, "reconnect").await {
            break;
        }
    }
    assert_eq!(whoami(&second).await.token, "t2", "auth asked again");
    assert_eq!(asked.get(), 2);
}

#[wasm_bindgen_test]
async fn recovers_the_events_missed_while_away() {
    let (socket, mut events) = connected(&format!("{SERVER}/"), Options::default()).await;
    let room = format!("room-{}", socket.id().unwrap_or_default());
    let () = within(
        "the ticks' ack",
        socket.emit_with_ack("ticks", &(room, 5, 300)),
    )
    .await
    .expect("answered");
    let first = next_message(&mut events, "tick").await;
    let mut ticks = vec![first.decode::<u32>().expect("a number")];
    // Away before the other ticks are sent; back after (the first reconnection waits
    // about a second).
    socket.io().close_transport().expect("idle");
    let mut reconnected = false;
    while ticks.len() < 5 {
        match next_socket_event(&mut events, "the ticks").await {
            Event::Connect => reconnected = true,
            Event::Message(message) if message.name() == "tick" => {
                ticks.push(message.decode::<u32>().expect("a number"));
            }
            _ => {}
        }
    }
    assert!(reconnected && socket.recovered(), "the session came back");
    assert_eq!(ticks, [0, 1, 2, 3, 4]);
}

#[wasm_bindgen_test]
async fn dropping_the_socket_ends_its_streams_and_settles_its_answers() {
    // Nothing listens there: the socket stays offline and its emits wait in its queue.
    let url = format!("ws://127.0.0.1:{CLOSED_PORT}/");
    let socket = Socket::connect(&url, Options::default()).expect("a valid URL");
    let mut events = socket.events();
    let forgotten = socket.emit_with_ack::<_, ()>("note", &());
    drop(forgotten);
    let answer = socket.emit_with_ack::<_, ()>("note", &());
    drop(socket);
    assert_eq!(
        within("the answer", answer).await,
        Err(ClientError::Ack(AckError::Disconnected))
    );
    within("the end of the stream", async {
        while events.next().await.is_some() {}
    })
    .await;
}

/// An emit made by a listener while another emit is being made (here: from the
/// `Dropped` event the outer emit caused) must not lose the outer emit's outcome.
#[wasm_bindgen_test]
async fn an_emit_from_a_listener_during_an_emit_keeps_every_answer() {
    let mut options = Options::default();
    options.socket.queue.max_len = 1;
    options.socket.queue.overflow = Overflow::DropNewest;
    // Nothing listens there: the socket stays offline and its emits meet the queue.
    let url = format!("ws://127.0.0.1:{CLOSED_PORT}/");
    let socket = Socket::connect(&url, options).expect("a valid URL");
    let weak = socket.downgrade();
    let nested = Rc::new(RefCell::new(None));
    let nested_slot = Rc::clone(&nested);
    let emitted = Cell::new(false);
    let listener = socket.on_event(move |event| {
        if let (Event::Dropped { .. }, Some(socket)) = (event, weak.upgrade()) {
            if !emitted.replace(true) {
                *nested_slot.borrow_mut() = Some(socket.emit_with_ack::<_, ()>("note", &()));
            }
        }
    });
    let kept = socket.emit_with_ack::<_, ()>("note", &());
    let refused = socket.emit_with_ack::<_, ()>("note", &());
    assert_eq!(
        within("the refused answer", refused).await,
        Err(ClientError::Ack(AckError::Dropped))
    );
    let nested = nested.borrow_mut().take().expect("the listener emitted");
    assert_eq!(
        within("the nested answer", nested).await,
        Err(ClientError::Ack(AckError::Dropped))
    );
    // The kept emit waits for a connection.
    let waiting = future::select(Box::pin(kept), TimeoutFuture::new(100)).await;
    assert!(
        matches!(waiting, Either::Right(_)),
        "the kept emit is not settled"
    );
    drop(listener);
}
