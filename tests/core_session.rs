//! Namespace sessions on virtual time: buffered emits, acknowledgements, authentication
//! and the recovery point (pid and offset).

mod fake_server;

use fake_server::Harness;
use resocket::core::{
    AuthSource, EmitError, EmitOptions, ManagerConfig, Notice, Output, SocketConfig, SocketEvent,
};
use resocket::protocol::{Frame, JsonText};

fn json(text: &str) -> JsonText {
    JsonText::parse(text).expect("valid JSON in the test")
}

fn emit(h: &mut Harness, data: &str, options: EmitOptions) -> Result<Option<u64>, EmitError> {
    let result = h
        .manager
        .emit(h.now, h.socket, json(data), Vec::new(), options);
    h.drain();
    result
}

fn with_ack(timeout: Option<u64>) -> EmitOptions {
    EmitOptions {
        with_ack: true,
        timeout,
        volatile: false,
        report_sent: false,
    }
}

#[test]
fn emits_while_disconnected_are_sent_in_order_after_connect() {
    let mut h = Harness::new(ManagerConfig::default());
    emit(&mut h, r#"["a",1]"#, EmitOptions::default()).unwrap();
    h.connect();
    emit(&mut h, r#"["b",2]"#, EmitOptions::default()).unwrap();
    h.server_open();
    emit(&mut h, r#"["c",3]"#, EmitOptions::default()).unwrap();
    assert_eq!(h.manager.queued(h.socket).len(), 3);
    assert_eq!(h.sent, ["40"]);
    h.server_accept("s1");
    assert_eq!(
        h.sent,
        ["40", r#"42["a",1]"#, r#"42["b",2]"#, r#"42["c",3]"#]
    );
    assert_eq!(h.manager.queued(h.socket).len(), 0);
    emit(&mut h, r#"["d"]"#, EmitOptions::default()).unwrap();
    assert_eq!(h.sent.last().map(String::as_str), Some(r#"42["d"]"#));
}

#[test]
fn volatile_emits_are_never_queued() {
    let mut h = Harness::new(ManagerConfig::default());
    let volatile = EmitOptions {
        volatile: true,
        ..EmitOptions::default()
    };
    emit(&mut h, r#"["lost"]"#, volatile).unwrap();
    h.establish();
    assert_eq!(h.sent, ["40"]);
    emit(&mut h, r#"["kept"]"#, volatile).unwrap();
    assert_eq!(h.sent, ["40", r#"42["kept"]"#]);
}

#[test]
fn invalid_and_reserved_emits_are_refused() {
    let mut h = Harness::new(ManagerConfig::default());
    h.establish();
    for (data, error) in [
        ("[]", EmitError::InvalidData),
        (r#"{"a":1}"#, EmitError::InvalidData),
        ("[null]", EmitError::InvalidData),
        (r#"["connect"]"#, EmitError::ReservedName),
        (r#"["disconnecting",1]"#, EmitError::ReservedName),
        (r#"["removeListener"]"#, EmitError::ReservedName),
    ] {
        assert_eq!(
            emit(&mut h, data, EmitOptions::default()),
            Err(error),
            "{data}"
        );
    }
    assert_eq!(emit(&mut h, "[7]", EmitOptions::default()), Ok(None));
    assert_eq!(h.sent, ["40", "42[7]"]);
}

#[test]
fn acks_get_ids_and_are_settled_by_ack_packets() {
    let mut h = Harness::new(ManagerConfig::default());
    h.establish();
    h.clear();
    assert_eq!(emit(&mut h, r#"["echo",1]"#, with_ack(None)), Ok(Some(0)));
    assert_eq!(emit(&mut h, r#"["echo",2]"#, with_ack(None)), Ok(Some(1)));
    assert_eq!(h.sent, [r#"420["echo",1]"#, r#"421["echo",2]"#]);
    h.server_text(r#"431[2]"#);
    h.server_text(r#"430[1]"#);
    h.server_text(r#"437["unknown id"]"#);
    assert_eq!(h.log, ["ack(1, [2])", "ack(0, [1])"]);
}

#[test]
fn ack_timeouts_fire_from_the_core_deadline() {
    let mut h = Harness::new(ManagerConfig::default());
    h.establish();
    h.clear();
    emit(&mut h, r#"["slow"]"#, with_ack(Some(2000))).unwrap();
    h.advance(1999);
    assert!(h.log.is_empty());
    h.advance(1);
    assert_eq!(h.log, ["ack(0, timeout)"]);
    // A late answer finds nothing to settle.
    h.server_text("430[]");
    assert_eq!(h.log, ["ack(0, timeout)"]);
}

#[test]
fn a_queued_emit_whose_ack_timed_out_is_never_sent() {
    let mut h = Harness::new(ManagerConfig::default());
    emit(&mut h, r#"["late"]"#, with_ack(Some(1000))).unwrap();
    emit(&mut h, r#"["other"]"#, EmitOptions::default()).unwrap();
    h.advance(1000);
    assert_eq!(h.log, ["ack(0, timeout)"]);
    h.establish();
    assert_eq!(h.sent, ["40", r#"42["other"]"#]);
}

#[test]
fn acks_in_flight_are_settled_when_the_transport_dies() {
    let mut h = Harness::new(ManagerConfig::default());
    h.establish();
    h.clear();
    emit(&mut h, r#"["a"]"#, with_ack(None)).unwrap();
    h.transport_closed(false);
    // Queued while disconnected: still waits for the next connection.
    emit(&mut h, r#"["b"]"#, with_ack(None)).unwrap();
    assert_eq!(
        h.log,
        [
            "close_transport",
            "disconnect(transport close)",
            "ack(0, disconnected)",
            "close(transport close)",
        ]
    );
    h.advance_to_deadline();
    h.server_open();
    h.server_accept("s2");
    assert_eq!(h.sent.last().map(String::as_str), Some(r#"421["b"]"#));
}

#[test]
fn server_requests_for_acks_are_answered() {
    let mut h = Harness::new(ManagerConfig::default());
    h.establish();
    h.clear();
    h.server_text(r#"4215["question",1]"#);
    assert_eq!(h.log, [r#"event(["question",1])"#]);
    h.manager
        .ack(h.socket, 15, json(r#"["answer"]"#), Vec::new());
    h.drain();
    assert_eq!(h.sent, [r#"4315["answer"]"#]);
}

#[test]
fn binary_events_arrive_whole_and_binary_emits_are_sent_with_their_frames() {
    let mut h = Harness::new(ManagerConfig::default());
    h.establish();
    h.clear();
    h.server_text(r#"451-["file",{"_placeholder":true,"num":0}]"#);
    assert!(h.log.is_empty(), "waits for the attachment");
    h.server_frame(Frame::Binary(vec![1, 2, 3]));
    assert_eq!(h.log, [r#"event(["file",{"_placeholder":true,"num":0}])"#]);
    h.manager
        .emit(
            h.now,
            h.socket,
            json(r#"["up",{"_placeholder":true,"num":0}]"#),
            vec![vec![9; 4]],
            EmitOptions::default(),
        )
        .unwrap();
    h.drain();
    assert_eq!(
        h.sent,
        [
            r#"451-["up",{"_placeholder":true,"num":0}]"#,
            "<bin:4 bytes>"
        ]
    );
}

#[test]
fn static_auth_goes_in_the_connect_packet() {
    let mut h = Harness::with_socket(
        ManagerConfig::default(),
        "/admin",
        SocketConfig {
            auth: AuthSource::Static(json(r#"{"token":"123"}"#)),
            ..SocketConfig::default()
        },
    );
    h.connect();
    h.server_open();
    assert_eq!(h.sent, [r#"40/admin,{"token":"123"}"#]);
    h.server_text(r#"40/admin,{"sid":"a1"}"#);
    assert!(h.manager.is_connected(h.socket));
    assert_eq!(h.manager.sid(h.socket), Some("a1"));
}

#[test]
fn deferred_auth_is_asked_on_every_connect_and_stale_answers_are_ignored() {
    let mut h = deferred_auth();
    h.connect();
    h.server_open();
    assert_eq!(h.log.last().map(String::as_str), Some("auth_request(1)"));
    assert!(h.sent.is_empty());
    h.manager
        .handle_auth(h.socket, 1, Some(&json(r#"{"token":"first"}"#)));
    h.drain();
    h.server_accept("s1");
    h.transport_closed(false);
    h.advance_to_deadline();
    h.server_open();
    assert_eq!(h.log.last().map(String::as_str), Some("auth_request(2)"));
    // The answer to the first request comes back late: not used.
    h.manager
        .handle_auth(h.socket, 1, Some(&json(r#"{"token":"stale"}"#)));
    h.manager
        .handle_auth(h.socket, 2, Some(&json(r#"{"token":"second"}"#)));
    h.drain();
    assert_eq!(
        h.sent,
        [r#"40{"token":"first"}"#, r#"40{"token":"second"}"#]
    );
}

#[test]
fn events_before_the_connect_reply_are_delivered_after_connect_and_offsets_are_hidden() {
    let mut h = Harness::with_socket(
        ManagerConfig::default(),
        "/",
        SocketConfig {
            auth: AuthSource::Static(json(r#"{"token":"t"}"#)),
            ..SocketConfig::default()
        },
    );
    h.connect();
    h.server_open();
    h.server_text(r#"40{"sid":"s1","pid":"p1"}"#);
    h.server_text(r#"42["tick",1,"off-1"]"#);
    h.server_text(r#"42["tick",2,"off-2"]"#);
    h.transport_closed(false);
    h.advance_to_deadline();
    h.server_open();
    assert_eq!(
        h.sent.last().map(String::as_str),
        Some(r#"40{"token":"t","pid":"p1","offset":"off-2"}"#)
    );
    h.clear();
    // The replay comes before the CONNECT reply.
    h.server_text(r#"42["tick",3,"off-3"]"#);
    assert!(h.log.is_empty());
    h.server_text(r#"40{"sid":"s1","pid":"p1"}"#);
    h.server_text(r#"42["tick",4,"off-4"]"#);
    assert_eq!(
        h.log,
        ["connect", r#"event(["tick",3])"#, r#"event(["tick",4])"#]
    );
    assert!(h.manager.recovered(h.socket));
    assert_eq!(h.manager.sid(h.socket), Some("s1"));
}

#[test]
fn an_event_keeps_its_text_as_received_with_the_offset_marked() {
    let mut h = Harness::new(ManagerConfig::default());
    h.connect();
    h.server_open();
    h.server_text(r#"40{"sid":"s1","pid":"p1"}"#);
    let conn = h.conn.expect("connected");
    let now = h.now;
    h.manager
        .handle_text(now, conn, r#"42["tick",{"n":1},"off-1"]"#);
    let event = std::iter::from_fn(|| h.manager.poll_output())
        .find_map(|output| match output {
            Output::Notice(Notice::Socket(_, SocketEvent::Event(event))) => Some(event),
            _ => None,
        })
        .expect("the event is delivered");
    // The frame's own text, which a shell holding the frame can hand over as it is.
    assert_eq!(event.data.as_str(), r#"["tick",{"n":1},"off-1"]"#);
    assert!(event.ends_with_offset);
    assert_eq!(event.args().as_str(), r#"["tick",{"n":1}]"#);
}

#[test]
fn a_new_session_is_not_recovered() {
    let mut h = session_with_events(&[r#"42["tick","off-1"]"#]);
    h.server_text(r#"40{"sid":"s2","pid":"p2"}"#);
    assert!(!h.manager.recovered(h.socket));
    assert_eq!(h.manager.sid(h.socket), Some("s2"));
}

fn session_with_events(events: &[&str]) -> Harness {
    let mut h = Harness::new(ManagerConfig::default());
    h.lose_session_after(events);
    h
}

/// A socket whose CONNECT payload is asked of the shell before every connect.
fn deferred_auth() -> Harness {
    Harness::with_socket(
        ManagerConfig::default(),
        "/",
        SocketConfig {
            auth: AuthSource::Deferred,
            ..SocketConfig::default()
        },
    )
}

#[test]
fn a_replay_lost_before_the_connect_reply_is_asked_for_again() {
    let mut h = session_with_events(&[r#"42["tick",1,"off-1"]"#]);
    h.server_text(r#"42["tick",2,"off-2"]"#);
    // The transport dies before the CONNECT reply: "off-2" never reached the app.
    h.transport_closed(false);
    h.advance_to_deadline();
    h.server_open();
    assert_eq!(
        h.sent.last().map(String::as_str),
        Some(r#"40{"pid":"p1","offset":"off-1"}"#)
    );
}

#[test]
fn a_replay_overlapping_delivered_events_is_not_delivered_twice() {
    let mut h = session_with_events(&[r#"42["tick",1,"off-1"]"#, r#"42["tick",2,"off-2"]"#]);
    h.clear();
    h.server_text(r#"42["tick",1,"off-1"]"#);
    h.server_text(r#"42["tick",2,"off-2"]"#);
    h.server_text(r#"42["tick",3,"off-3"]"#);
    h.server_text(r#"40{"sid":"s1","pid":"p1"}"#);
    h.server_text(r#"42["tick",3,"off-3"]"#);
    h.server_text(r#"42["tick",4,"off-4"]"#);
    assert_eq!(
        h.log,
        ["connect", r#"event(["tick",3])"#, r#"event(["tick",4])"#]
    );
}

#[test]
fn events_with_an_ack_id_carry_no_offset() {
    let mut h = Harness::new(ManagerConfig::default());
    h.connect();
    h.server_open();
    h.server_text(r#"40{"sid":"s1","pid":"p1"}"#);
    h.clear();
    h.server_text(r#"423["ask","kept"]"#);
    assert_eq!(h.log, [r#"event(["ask","kept"])"#]);
}

#[test]
fn a_failed_auth_fails_the_attempt_at_once_and_is_asked_again() {
    let mut h = deferred_auth();
    h.connect();
    h.server_open();
    h.clear();
    // A stale token changes nothing.
    h.manager.handle_auth_failed(h.now, h.socket, 7);
    assert!(h.drain().is_empty());
    h.manager.handle_auth_failed(h.now, h.socket, 1);
    h.drain();
    // The failure is the namespace's: the connection stays open.
    assert_eq!(h.log, ["connect_error(auth failed)"]);
    assert!(h.sent.is_empty(), "no CONNECT without credentials");
    assert!(h.conn.is_some());
    // Asked again after the socket's own backoff (jittered below 1 s).
    assert!(h.advance_to_deadline().is_some_and(|wait| wait <= 1000));
    assert_eq!(h.log.last().map(String::as_str), Some("auth_request(2)"));
}

/// A session handed from one client to another (a page taking over the connection a
/// closed page held): the second presents the first's pid and the offset of the last
/// event the second delivered, and the server's replay is cut at what it already had.
#[test]
fn a_session_handed_over_is_presented_at_the_next_connect_and_recovered() {
    let mut first = Harness::new(ManagerConfig::default());
    assert_eq!(
        first.manager.session(first.socket),
        None,
        "no session before a connect"
    );
    first.connect();
    first.server_open();
    first.server_text(r#"40{"sid":"s1","pid":"p1"}"#);
    assert_eq!(
        first.manager.session(first.socket),
        None,
        "no event delivered yet"
    );
    first.server_text(r#"42["tick",1,"off-1"]"#);
    first.server_text(r#"42["tick",2,"off-2"]"#);
    let session = first
        .manager
        .session(first.socket)
        .expect("a session to hand over");
    assert_eq!(session.offset, "off-2");
    assert!(
        !format!("{session:?}").contains("p1"),
        "the pid is not printed"
    );

    // The second client had delivered the events up to off-1 when the first went away.
    let mut second = Harness::new(ManagerConfig::default());
    let handed = resocket::core::Session {
        pid: session.pid,
        offset: "off-1".into(),
    };
    assert!(second.manager.resume(second.socket, handed.clone()));
    second.connect();
    second.server_open();
    assert_eq!(
        second.sent.last().map(String::as_str),
        Some(r#"40{"pid":"p1","offset":"off-1"}"#)
    );
    second.clear();
    // The server replays from off-1 on; a copy of off-1 itself is cut.
    second.server_text(r#"42["tick",1,"off-1"]"#);
    second.server_text(r#"42["tick",2,"off-2"]"#);
    second.server_text(r#"40{"sid":"s1","pid":"p1"}"#);
    second.server_text(r#"42["tick",3,"off-3"]"#);
    assert_eq!(
        second.log,
        ["connect", r#"event(["tick",2])"#, r#"event(["tick",3])"#]
    );
    assert!(second.manager.recovered(second.socket));
    assert_eq!(second.manager.sid(second.socket), Some("s1"));
    // Its own connection has its own session now: no second hand-over.
    assert!(!second.manager.resume(second.socket, handed));
}
