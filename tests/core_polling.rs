//! HTTP long-polling and the upgrade to WebSocket, on virtual time: the requests the
//! core asks for, the payloads it writes and reads, and every way a transport or the
//! upgrade can fail.

mod fake_server;

use fake_server::{base64, exact_backoff, Harness, HANDSHAKE};
use resocket::core::{EmitOptions, ManagerConfig, SocketConfig, TransportKind};
use resocket::protocol::JsonText;

const UPGRADABLE: &str = r#"0{"sid":"eio-1","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

fn polling_only() -> ManagerConfig {
    ManagerConfig {
        transports: vec![TransportKind::Polling],
        ..exact_backoff()
    }
}

fn client(config: ManagerConfig) -> Harness {
    Harness::with_transports(config, "/", SocketConfig::default())
}

fn emit(h: &mut Harness, data: &str) {
    let data = JsonText::parse(data).expect("valid JSON");
    h.manager
        .emit(h.now, h.socket, data, Vec::new(), EmitOptions::default())
        .expect("emitted");
    h.drain();
}

/// Handshake on polling, CONNECT posted and accepted, CONNECT reply polled.
fn connect_on_polling(h: &mut Harness, handshake: &str) {
    h.connect();
    h.server_poll(handshake);
    assert_eq!(h.server_accept_post(), "40");
    h.server_poll(r#"40{"sid":"s1"}"#);
    assert!(h.manager.is_connected(h.socket));
}

#[test]
fn the_handshake_and_connect_go_over_polling_requests() {
    let mut h = client(polling_only());
    h.connect();
    assert_eq!(h.log, ["open_polling"]);
    let first = h.queries[0].clone();
    assert!(first.starts_with("transport=polling&t="), "{first}");
    assert!(!first.contains("sid="), "{first}");

    h.server_poll(HANDSHAKE);
    assert_eq!(h.sent, ["40"], "the CONNECT is posted");
    assert!(h.pending_get.is_some(), "the next GET waits for the server");
    let next = h.queries.last().unwrap();
    assert!(next.starts_with("transport=polling&sid=eio-1&t="), "{next}");
    assert_ne!(
        h.queries[1], h.queries[2],
        "each request has its own cache-buster"
    );

    h.server_accept_post();
    h.server_poll(r#"40{"sid":"s1"}"#);
    assert_eq!(h.log, ["open_polling", "open", "connect"]);
    assert_eq!(h.manager.transport(), Some(TransportKind::Polling));
}

/// Emits over polling go into the core's POSTs: never straight to a transport.
#[test]
fn no_emit_skips_the_core_over_polling() {
    let mut h = client(polling_only());
    connect_on_polling(&mut h, HANDSHAKE);
    assert_eq!(h.manager.direct_emit(h.socket), None);
}

#[test]
fn packets_written_while_a_post_is_in_flight_go_together_in_the_next() {
    let mut h = client(polling_only());
    connect_on_polling(&mut h, HANDSHAKE);
    emit(&mut h, r#"["a",1]"#);
    emit(&mut h, r#"["b",2]"#);
    emit(&mut h, r#"["c",3]"#);
    assert_eq!(h.server_accept_post(), r#"42["a",1]"#);
    assert_eq!(
        h.server_accept_post(),
        "42[\"b\",2]\u{1e}42[\"c\",3]",
        "one POST at a time, the rest batched"
    );
    assert!(h.pending_post.is_none());
}

#[test]
fn a_post_carries_at_most_max_payload_bytes() {
    let mut h = client(polling_only());
    let handshake = HANDSHAKE.replace("1000000", "20");
    connect_on_polling(&mut h, &handshake);
    emit(&mut h, r#"["first"]"#);
    for name in ["aaaa", "bbbb", "cccc"] {
        emit(&mut h, &format!(r#"["{name}"]"#));
    }
    h.server_accept_post();
    // Each is 10 bytes: two fit in 20 with their separator only if they fit whole.
    assert_eq!(h.server_accept_post(), r#"42["aaaa"]"#);
    assert_eq!(h.server_accept_post(), r#"42["bbbb"]"#);
    assert_eq!(h.server_accept_post(), r#"42["cccc"]"#);
}

#[test]
fn several_packets_of_one_response_are_handled_in_order() {
    let mut h = client(polling_only());
    connect_on_polling(&mut h, HANDSHAKE);
    h.clear();
    h.server_poll("42[\"one\"]\u{1e}2\u{1e}42[\"two\"]");
    assert_eq!(h.log, [r#"event(["one"])"#, "ping", r#"event(["two"])"#]);
    assert_eq!(h.sent, ["3"], "the pong is posted");
    assert!(h.pending_get.is_some());
}

#[test]
fn binary_packets_travel_as_base64_both_ways() {
    let mut h = client(polling_only());
    connect_on_polling(&mut h, HANDSHAKE);
    h.clear();
    let data = JsonText::parse(r#"["file",{"_placeholder":true,"num":0}]"#).unwrap();
    h.manager
        .emit(
            h.now,
            h.socket,
            data,
            vec![vec![0, 1, 2, 255]],
            EmitOptions::default(),
        )
        .unwrap();
    h.drain();
    // As socket.io-client writes them: the packet, then its attachment behind it.
    assert_eq!(
        h.server_accept_post(),
        "451-[\"file\",{\"_placeholder\":true,\"num\":0}]"
    );
    assert_eq!(h.server_accept_post(), "bAAEC/w==");

    let incoming = format!(
        "451-[\"bin\",{{\"_placeholder\":true,\"num\":0}}]\u{1e}b{}",
        base64(&[9, 8, 7])
    );
    let mut events = Vec::new();
    let conn = h.pending_get.take().unwrap();
    h.manager.handle_polled(h.now, conn, &incoming);
    while let Some(output) = h.manager.poll_output() {
        if let resocket::core::Output::Notice(resocket::core::Notice::Socket(
            _,
            resocket::core::SocketEvent::Event(event),
        )) = output
        {
            events.push(event.attachments);
        }
    }
    assert_eq!(events, [vec![vec![9, 8, 7]]]);
}

#[test]
fn malformed_base64_is_a_parse_error() {
    let mut h = client(polling_only());
    connect_on_polling(&mut h, HANDSHAKE);
    h.clear();
    h.server_poll("451-[\"bin\",{\"_placeholder\":true,\"num\":0}]\u{1e}b!!!");
    assert!(
        h.log.contains(&"disconnect(parse error)".to_owned()),
        "{:?}",
        h.log
    );
}

#[test]
fn a_response_beyond_the_frame_limit_is_a_parse_error() {
    let mut config = polling_only();
    config.limits.frame_bytes = 200;
    let mut h = client(config);
    connect_on_polling(&mut h, HANDSHAKE);
    h.clear();
    h.server_poll(&format!(
        "42[\"{}\"]\u{1e}42[\"{}\"]",
        "x".repeat(100),
        "y".repeat(100)
    ));
    assert!(
        h.log.contains(&"disconnect(parse error)".to_owned()),
        "{:?}",
        h.log
    );
}

#[test]
fn a_failed_get_loses_the_connection_and_reconnects() {
    let mut h = client(polling_only());
    connect_on_polling(&mut h, HANDSHAKE);
    h.clear();
    // A 400 "session unknown" looks the same to the core: the GET failed.
    h.request_fails(false);
    assert_eq!(
        h.log,
        ["disconnect(transport error)", "close(transport error)"]
    );
    // As engine.io-client: the close packet, so that a server still holding the session
    // closes it now and keeps it for recovery.
    assert_eq!(h.sent, ["1"]);
    h.server_accept_post();
    assert_eq!(h.log.last().unwrap(), "close_transport");
    assert_eq!(h.advance_to_deadline(), Some(1000));
    assert_eq!(h.log.last().unwrap(), "open_polling");
}

#[test]
fn a_failed_post_loses_the_connection() {
    let mut h = client(polling_only());
    h.connect();
    h.server_poll(HANDSHAKE);
    h.clear();
    h.request_fails(true);
    assert_eq!(
        h.log,
        ["connect_error(xhr post error)", "close(transport error)"]
    );
    assert_eq!(
        h.sent,
        ["1"],
        "the failed POST is done: the close packet may go"
    );
    h.request_fails(true);
    assert_eq!(h.log.last().unwrap(), "close_transport");
}

#[test]
fn a_failed_handshake_get_is_a_poll_error() {
    let mut h = client(polling_only());
    h.connect();
    h.request_fails(false);
    assert_eq!(
        h.log,
        [
            "open_polling",
            "close_transport",
            "connect_error(xhr poll error)",
            "error(xhr poll error)"
        ]
    );
}

#[test]
fn a_clean_close_posts_what_is_held_and_the_close_packet() {
    let mut h = client(polling_only());
    connect_on_polling(&mut h, HANDSHAKE);
    emit(&mut h, r#"["last"]"#);
    h.clear();
    h.manager.disconnect(h.socket);
    h.drain();
    assert!(h.sent.is_empty(), "one POST at a time: {:?}", h.sent);
    assert_eq!(
        h.manager.transport(),
        None,
        "the connection is gone at once"
    );
    assert_eq!(h.server_accept_post(), r#"42["last"]"#);
    assert_eq!(h.sent, ["41", "1"], "one last POST");
    assert!(h.pending_get.is_some(), "the long poll is not cut short");
    assert_eq!(h.server_accept_post(), "41\u{1e}1");
    assert_eq!(h.log.last().unwrap(), "close_transport");
}

#[test]
fn the_close_packet_waits_for_the_post_before_it() {
    let mut h = client(polling_only());
    connect_on_polling(&mut h, HANDSHAKE);
    h.clear();
    h.manager.disconnect(h.socket);
    h.drain();
    assert_eq!(h.sent, ["41"]);
    assert_eq!(
        h.log,
        ["disconnect(io client disconnect)", "close(forced close)"]
    );
    h.server_accept_post();
    assert_eq!(h.sent, ["41", "1"]);
    assert_ne!(h.log.last().unwrap(), "close_transport");
    // A failed last POST ends the closing too.
    h.request_fails(true);
    assert_eq!(h.log.last().unwrap(), "close_transport");
}

/// Polling open with an upgrade offered: the probe is open and has asked.
fn probing(config: ManagerConfig) -> Harness {
    let mut h = client(config);
    connect_on_polling(&mut h, UPGRADABLE);
    assert!(h.probe.is_some(), "{:?}", h.log);
    let query = h
        .queries
        .iter()
        .rev()
        .find(|q| q.starts_with("transport=websocket"));
    assert_eq!(
        query.map(String::as_str),
        Some("transport=websocket&sid=eio-1")
    );
    h.probe_opens();
    assert_eq!(h.probe_sent, ["2probe"]);
    h
}

#[test]
fn the_upgrade_pauses_polling_then_switches_with_what_was_held() {
    let mut h = probing(exact_backoff());
    emit(&mut h, r#"["before"]"#);
    assert_eq!(
        h.sent.last().unwrap(),
        r#"42["before"]"#,
        "still on polling"
    );
    h.probe_receives("3probe");
    emit(&mut h, r#"["during"]"#);
    assert!(
        !h.sent.contains(&r#"42["during"]"#.to_owned()),
        "held while pausing"
    );
    assert_eq!(
        h.probe_sent,
        ["2probe"],
        "no switch while requests are in flight"
    );

    h.server_accept_post();
    // The server ends the long poll with a noop once the probe is answered.
    h.server_poll("6");
    assert_eq!(h.probe_sent, ["2probe", "5", r#"42["during"]"#]);
    assert_eq!(h.log.last().unwrap(), "upgrade(websocket)");
    assert_eq!(h.manager.transport(), Some(TransportKind::WebSocket));
    assert!(h.pending_get.is_none(), "polling stopped");

    h.clear();
    emit(&mut h, r#"["after"]"#);
    assert_eq!(h.sent, [r#"42["after"]"#]);
    h.server_text(r#"42["pushed"]"#);
    assert_eq!(h.log, [r#"event(["pushed"])"#]);
}

#[test]
fn packets_of_the_last_poll_are_delivered_before_the_switch() {
    let mut h = probing(exact_backoff());
    h.probe_receives("3probe");
    h.clear();
    h.server_poll("42[\"late\"]\u{1e}6");
    assert_eq!(
        h.log,
        [
            r#"event(["late"])"#,
            "close_transport",
            "upgrade(websocket)"
        ]
    );
}

#[test]
fn a_refused_probe_leaves_the_connection_on_polling() {
    let mut h = client(exact_backoff());
    connect_on_polling(&mut h, UPGRADABLE);
    h.clear();
    let probe = h.probe.unwrap();
    h.manager.handle_transport_closed(h.now, probe, true);
    h.drain();
    assert_eq!(h.log, ["close_probe", "upgrade_error(websocket)"]);
    assert!(h.manager.is_connected(h.socket));
    emit(&mut h, r#"["still"]"#);
    assert_eq!(h.sent.last().unwrap(), r#"42["still"]"#);
}

#[test]
fn a_wrong_probe_answer_fails_the_upgrade() {
    let mut h = probing(exact_backoff());
    h.clear();
    h.probe_receives("3nope");
    assert_eq!(h.log, ["close_probe", "upgrade_error(websocket)"]);
}

#[test]
fn a_probe_closed_while_polling_pauses_resumes_polling_with_what_was_held() {
    let mut h = probing(exact_backoff());
    h.probe_receives("3probe");
    emit(&mut h, r#"["held"]"#);
    h.clear();
    let probe = h.probe.unwrap();
    h.manager.handle_transport_closed(h.now, probe, false);
    h.drain();
    assert_eq!(h.log, ["close_probe", "upgrade_error(websocket)"]);
    assert_eq!(h.sent, [r#"42["held"]"#], "what was held is posted");
    // The long poll in flight was never answered: it goes on.
    assert!(h.pending_get.is_some(), "polling goes on");
    h.server_poll(r#"42["on polling"]"#);
    assert_eq!(h.log.last().unwrap(), r#"event(["on polling"])"#);
    assert!(h.pending_get.is_some());
}

#[test]
fn a_probe_without_answer_times_out() {
    let mut h = probing(exact_backoff());
    h.clear();
    h.advance(20_000);
    assert_eq!(h.log, ["close_probe", "upgrade_error(websocket)"]);
    assert!(h.manager.is_connected(h.socket));
}

#[test]
fn losing_the_connection_during_the_probe_closes_both() {
    let mut h = probing(exact_backoff());
    h.clear();
    h.request_fails(false);
    assert_eq!(h.log[..2], ["close_probe", "disconnect(transport error)"]);
    assert!(h.probe.is_none());
}

#[test]
fn no_probe_without_upgrade_or_without_websocket() {
    let mut h = client(ManagerConfig {
        upgrade: false,
        ..exact_backoff()
    });
    connect_on_polling(&mut h, UPGRADABLE);
    assert!(h.probe.is_none());

    let mut h = client(polling_only());
    connect_on_polling(&mut h, UPGRADABLE);
    assert!(h.probe.is_none());
}

#[test]
fn remember_upgrade_opens_with_websocket_after_an_upgrade_worked() {
    let mut h = probing(ManagerConfig {
        remember_upgrade: true,
        ..exact_backoff()
    });
    h.probe_receives("3probe");
    h.server_poll("6");
    h.clear();
    h.transport_closed(true);
    h.advance_to_deadline();
    assert_eq!(h.log.last().unwrap(), "open_transport", "{:?}", h.log);
}

#[test]
fn try_all_transports_falls_back_to_polling_when_websocket_fails() {
    let mut h = client(ManagerConfig {
        transports: vec![TransportKind::WebSocket, TransportKind::Polling],
        try_all_transports: true,
        ..exact_backoff()
    });
    h.connect();
    h.transport_closed(true);
    assert_eq!(h.log, ["open_transport", "close_transport", "open_polling"]);
    h.server_poll(HANDSHAKE);
    assert_eq!(h.log.last().unwrap(), "open");

    // Without the option, the failure is the attempt's.
    let mut h = client(ManagerConfig {
        transports: vec![TransportKind::WebSocket, TransportKind::Polling],
        ..exact_backoff()
    });
    h.connect();
    h.transport_closed(true);
    assert_eq!(h.log[2], "connect_error(websocket error)");
}

#[test]
fn timestamps_follow_the_options() {
    let mut h = client(ManagerConfig {
        timestamp_requests: Some(false),
        ..polling_only()
    });
    h.connect();
    assert_eq!(h.queries, ["transport=polling"]);

    let mut h = client(ManagerConfig {
        timestamp_requests: Some(true),
        timestamp_param: "ts".into(),
        transports: vec![TransportKind::WebSocket],
        ..exact_backoff()
    });
    h.connect();
    assert!(
        h.queries[0].starts_with("transport=websocket&ts="),
        "{:?}",
        h.queries
    );
}

#[test]
fn a_session_id_cannot_add_parameters() {
    let mut h = client(polling_only());
    h.connect();
    h.server_poll(&HANDSHAKE.replace("eio-1", "a&b=c d"));
    let query = h.queries.last().unwrap();
    assert!(
        query.starts_with("transport=polling&sid=a%26b%3Dc%20d&t="),
        "{query}"
    );
}

#[test]
fn the_heartbeat_works_over_polling() {
    let mut h = client(polling_only());
    connect_on_polling(&mut h, HANDSHAKE);
    h.clear();
    h.advance(44_000);
    h.server_poll("2");
    assert_eq!(h.sent, ["3"]);
    h.advance(44_999);
    assert!(h.manager.is_connected(h.socket));
    h.advance(1);
    assert!(
        h.log.contains(&"disconnect(ping timeout)".to_owned()),
        "{:?}",
        h.log
    );
}

#[test]
fn packets_and_drains_are_reported_once_asked_for() {
    let mut h = client(polling_only());
    connect_on_polling(&mut h, HANDSHAKE);
    h.clear();
    emit(&mut h, r#"["quiet"]"#);
    assert!(
        !h.log.iter().any(|line| line.starts_with("packet")),
        "{:?}",
        h.log
    );
    h.server_accept_post();

    h.manager.report_packets();
    h.clear();
    emit(&mut h, r#"["a"]"#);
    emit(&mut h, r#"["b"]"#);
    assert_eq!(h.log, [r#"packet_out(42["a"])"#, r#"packet_out(42["b"])"#]);
    h.server_accept_post();
    assert_eq!(
        h.log.last().unwrap(),
        r#"packet_out(42["b"])"#,
        "one still held"
    );
    h.server_accept_post();
    assert_eq!(h.log.last().unwrap(), "drain");
    h.clear();
    h.server_poll("2\u{1e}42[\"x\"]");
    assert_eq!(
        h.log,
        [
            "packet_in(2)",
            "packet_out(3)",
            "ping",
            r#"packet_in(42["x"])"#,
            r#"event(["x"])"#
        ]
    );
}

#[test]
fn a_session_the_server_closed_gets_no_close_packet() {
    let mut h = client(polling_only());
    connect_on_polling(&mut h, HANDSHAKE);
    h.clear();
    h.server_poll("42[\"last\"]\u{1e}1");
    assert_eq!(
        h.log,
        [
            r#"event(["last"])"#,
            "close_transport",
            "disconnect(transport close)",
            "close(transport close)"
        ]
    );
    assert!(h.sent.is_empty(), "{:?}", h.sent);
}
