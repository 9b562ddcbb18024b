//! The core against hostile servers, clock jumps and failing namespaces, on virtual
//! time: what a server may not make the client lose, fake or hold, and what one
//! namespace's failure may not do to the others.

mod fake_server;

use fake_server::{exact_backoff, Harness};
use resocket::core::{
    AuthSource, ConnId, EmitOptions, IncomingLimits, ManagerConfig, SocketConfig, LIBRARY_EVENTS,
};
use resocket::protocol::{Frame, JsonText, PayloadCheck, ProtocolError, RESERVED_EVENTS};

fn json(text: &str) -> JsonText {
    JsonText::parse(text).expect("valid JSON in the test")
}

/// Connected with a recovery pid: every event without ack id may carry an offset.
fn recoverable_session() -> Harness {
    let mut h = Harness::new(exact_backoff());
    h.connect();
    h.server_open();
    h.server_text(r#"40{"sid":"s1","pid":"p1"}"#);
    h.clear();
    h
}

#[test]
fn a_volatile_event_sent_twice_is_delivered_twice() {
    let mut h = recoverable_session();
    h.server_text(r#"42["status","online"]"#);
    h.server_text(r#"42["status","online"]"#);
    assert_eq!(h.log.len(), 2, "{:?}", h.log);
    assert_eq!(h.log[0], h.log[1]);
}

#[test]
fn events_declared_volatile_keep_their_trailing_string() {
    let mut h = Harness::with_socket(
        exact_backoff(),
        "/",
        SocketConfig {
            volatile_events: vec!["status".into()],
            ..SocketConfig::default()
        },
    );
    h.connect();
    h.server_open();
    h.server_text(r#"40{"sid":"s1","pid":"p1"}"#);
    h.server_text(r#"42["tick",1,"off-1"]"#);
    h.clear();
    h.server_text(r#"42["status","online"]"#);
    h.server_text(r#"42["status","online"]"#);
    assert_eq!(
        h.log,
        [
            r#"event(["status","online"])"#,
            r#"event(["status","online"])"#
        ]
    );
    // The recovery point is still the last offset.
    h.transport_closed(false);
    h.advance_to_deadline();
    h.server_open();
    assert_eq!(
        h.sent.last().map(String::as_str),
        Some(r#"40{"pid":"p1","offset":"off-1"}"#)
    );
}

#[test]
fn live_events_are_never_dropped_as_duplicates_of_live_events() {
    let mut h = recoverable_session();
    for _ in 0..3 {
        h.server_text(r#"42["tick",1,"off-1"]"#);
    }
    assert_eq!(h.log.len(), 3);
}

#[test]
fn a_live_event_repeating_the_replay_of_its_connection_is_cut() {
    let mut h = Harness::new(exact_backoff());
    h.lose_session_after(&[r#"42["tick",1,"off-1"]"#]);
    h.clear();
    h.server_text(r#"42["tick",2,"off-2"]"#);
    h.server_text(r#"40{"sid":"s1","pid":"p1"}"#);
    // A cluster may send an event of the replay once more, live.
    h.server_text(r#"42["tick",2,"off-2"]"#);
    h.server_text(r#"42["tick",3,"off-3"]"#);
    assert_eq!(
        h.log,
        ["connect", r#"event(["tick",2])"#, r#"event(["tick",3])"#]
    );
}

#[test]
fn a_long_trailing_string_is_app_data_not_an_offset() {
    let mut h = recoverable_session();
    let long = "x".repeat(65);
    h.server_text(&format!(r#"42["note","{long}"]"#));
    assert_eq!(h.log, [format!(r#"event(["note","{long}"])"#)]);
}

/// The offset is read from the end of the array, without scanning the elements before
/// it: quotes and backslashes escaped in it or before it, whitespace, and last elements
/// that are not strings.
#[test]
fn the_offset_is_the_last_string_read_from_the_end() {
    let cases = [
        (
            r#"42["tick","a\"b\\","o\"ff"]"#,
            r#"["tick","a\"b\\"]"#,
            Some(r#"o"ff"#),
        ),
        (
            r#"42[ "tick" , 1 , "off-9" ]"#,
            r#"[ "tick" , 1 ]"#,
            Some("off-9"),
        ),
        (r#"42["tick","x\\"]"#, r#"["tick"]"#, Some(r#"x\"#)),
        (r#"42["tick",{"k":"v"}]"#, r#"["tick",{"k":"v"}]"#, None),
        (r#"42["tick"]"#, r#"["tick"]"#, None),
    ];
    for (frame, args, offset) in cases {
        let mut h = recoverable_session();
        h.server_text(frame);
        assert_eq!(h.log, [format!("event({args})")], "{frame}");
        let session = h.manager.session(h.socket);
        assert_eq!(session.map(|s| s.offset).as_deref(), offset, "{frame}");
    }
}

/// With only their outline checked, the payloads that the shell cannot parse fail the
/// transport when it says so; checked whole, at once.
#[test]
fn a_payload_the_shell_cannot_parse_fails_the_transport() {
    let frame = r#"42["tick",{"n":]"#;
    let mut whole = Harness::new(exact_backoff());
    whole.establish();
    whole.clear();
    whole.server_text(frame);
    assert_eq!(
        whole.log,
        [
            "close_transport",
            "disconnect(parse error)",
            "close(parse error)",
            "error(invalid JSON)"
        ]
    );

    let mut outline = Harness::new(exact_backoff());
    outline.manager.check_payloads(PayloadCheck::Outline);
    outline.establish();
    outline.clear();
    outline.server_text(frame);
    assert_eq!(outline.log, [format!("event({})", &frame[2..])]);
    // An unparsable payload from a transport already gone changes nothing.
    let conn = outline.conn.expect("connected");
    let stale = ConnId(conn.0 + 1);
    outline
        .manager
        .handle_unparsable_payload(outline.now, stale, ProtocolError::InvalidJson);
    outline.drain();
    assert_eq!(outline.log.len(), 1);
    outline
        .manager
        .handle_unparsable_payload(outline.now, conn, ProtocolError::InvalidJson);
    outline.drain();
    assert_eq!(outline.log[1..], whole.log);
    // The name is still checked in the outline.
    let mut named = Harness::new(exact_backoff());
    named.manager.check_payloads(PayloadCheck::Outline);
    named.establish();
    named.clear();
    named.server_text(r#"42["connect",{]"#);
    assert_eq!(named.log[1], "disconnect(parse error)");
}

#[test]
fn server_events_named_like_library_events_are_refused() {
    for name in RESERVED_EVENTS.iter().chain(&LIBRARY_EVENTS) {
        let mut h = Harness::new(exact_backoff());
        h.establish();
        h.clear();
        h.server_text(&format!(r#"42["{name}"]"#));
        assert_eq!(
            h.log,
            [
                "close_transport",
                "disconnect(parse error)",
                "close(parse error)",
                "error(reserved event name)"
            ],
            "{name}"
        );
    }
}

/// Two namespaces on one connection, `/b` connected, `/a` asking the shell for its auth.
fn two_namespaces(config: ManagerConfig) -> (Harness, resocket::core::SocketKey) {
    let mut h = Harness::with_socket(
        config,
        "/a",
        SocketConfig {
            auth: AuthSource::Deferred,
            ..SocketConfig::default()
        },
    );
    let b = h.manager.socket("/b", SocketConfig::default());
    h.manager.connect(h.now, b);
    h.connect();
    h.server_open();
    h.server_text(r#"40/b,{"sid":"b1"}"#);
    h.clear();
    (h, b)
}

#[test]
fn a_failing_auth_on_one_namespace_leaves_the_others_connected() {
    let (mut h, b) = two_namespaces(exact_backoff());
    h.manager.handle_auth_failed(h.now, h.socket, 1);
    h.drain();
    assert_eq!(h.log, ["connect_error(auth failed)"]);
    assert!(h.manager.is_connected(b));
    assert!(h.conn.is_some());
    // `/a` asks again after its own backoff; `/b` hears nothing.
    assert_eq!(h.advance_to_deadline(), Some(1000));
    assert_eq!(h.log.last().map(String::as_str), Some("auth_request(2)"));
    h.manager
        .handle_auth(h.socket, 2, Some(&json(r#"{"t":1}"#)));
    h.drain();
    h.server_text(r#"40/a,{"sid":"a1"}"#);
    assert!(h.manager.is_connected(h.socket));
    assert!(h.manager.is_connected(b));
}

#[test]
fn a_connect_timeout_on_one_namespace_leaves_the_others_connected() {
    let (mut h, b) = two_namespaces(exact_backoff());
    h.manager.handle_auth(h.socket, 1, None);
    h.drain();
    h.advance(20_000);
    assert_eq!(h.log, ["connect_error(timeout)"]);
    assert!(h.manager.is_connected(b));
    // Backoff doubles for the namespace's own failures in a row.
    h.clear();
    assert_eq!(h.advance_to_deadline(), Some(1000));
    h.manager.handle_auth(h.socket, 2, None);
    h.drain();
    assert_eq!(h.advance_to_deadline(), Some(20_000));
    assert_eq!(h.advance_to_deadline(), Some(2000));
    assert!(h.manager.is_connected(b));
}

#[test]
fn a_namespace_that_used_up_its_attempts_stops_and_the_others_stay() {
    let mut config = exact_backoff();
    config.reconnection_attempts = resocket::core::ReconnectionAttempts::Limited(1);
    let (mut h, b) = two_namespaces(config);
    h.manager.handle_auth_failed(h.now, h.socket, 1);
    h.drain();
    h.advance_to_deadline();
    h.manager.handle_auth_failed(h.now, h.socket, 2);
    h.drain();
    assert!(!h.manager.is_active(h.socket));
    assert!(h.manager.is_connected(b));
    assert!(h.conn.is_some());
}

#[test]
fn a_replay_larger_than_the_budget_fails_and_the_next_connect_starts_afresh() {
    let mut h = Harness::new(ManagerConfig {
        limits: IncomingLimits {
            early_events: 3,
            ..IncomingLimits::default()
        },
        ..exact_backoff()
    });
    h.lose_session_after(&[r#"42["tick",0,"off-0"]"#]);
    h.clear();
    for n in 1..=3 {
        h.server_text(&format!(r#"42["tick",{n},"off-{n}"]"#));
    }
    assert!(h.log.is_empty());
    h.server_text(r#"42["tick",4,"off-4"]"#);
    assert_eq!(
        h.log,
        [
            "close_transport",
            "connect_error(more events before the CONNECT reply than the client holds)",
            "close(parse error)",
            "error(more events before the CONNECT reply than the client holds)"
        ]
    );
    h.advance_to_deadline();
    h.server_open();
    assert_eq!(h.sent.last().map(String::as_str), Some("40"));
}

#[test]
fn frames_and_attachments_beyond_the_limits_are_protocol_errors() {
    let limits = IncomingLimits {
        frame_bytes: 100,
        attachments: 2,
        attachment_bytes: 10,
        ..IncomingLimits::default()
    };
    // A connected client gets `frames`, `None` standing for a frame the shell found too
    // large to copy; returns the error the Manager reported.
    let error_after = |frames: &[Option<Frame>]| {
        let mut h = Harness::new(ManagerConfig {
            limits,
            ..exact_backoff()
        });
        h.establish();
        h.clear();
        for frame in frames {
            match frame {
                Some(frame) => h.server_frame(frame.clone()),
                None => {
                    h.manager
                        .handle_frame_too_large(h.now, h.conn.expect("open"));
                    h.drain();
                }
            }
        }
        h.log.iter().find(|l| l.starts_with("error(")).cloned()
    };
    let text = |text: &str| Some(Frame::Text(text.to_owned()));
    let too_large = Some("error(frame larger than the client accepts)".to_owned());
    let too_many = Some("error(more binary attachments than the client accepts)".to_owned());

    let big = format!(r#"42["big","{}"]"#, "x".repeat(100));
    assert_eq!(error_after(&[text(&big)]), too_large);
    assert_eq!(error_after(&[None]), too_large);
    let three = r#"453-["bin",{"_placeholder":true,"num":0}]"#;
    assert_eq!(error_after(&[text(three)]), too_many);
    let two = r#"452-["bin",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;
    let six_bytes = Some(Frame::Binary(vec![0; 6]));
    assert_eq!(error_after(&[text(two), six_bytes.clone()]), None);
    assert_eq!(
        error_after(&[text(two), six_bytes.clone(), six_bytes]),
        too_many
    );
}

#[test]
fn a_clock_jump_moves_the_heartbeat_only() {
    let mut h = Harness::new(exact_backoff());
    h.establish();
    let asked = h
        .manager
        .emit(
            h.now,
            h.socket,
            json(r#"["ask"]"#),
            Vec::new(),
            EmitOptions {
                with_ack: true,
                timeout: Some(60_000),
                ..EmitOptions::default()
            },
        )
        .expect("valid emit");
    assert!(asked.is_some());
    h.clear();
    // A jump shorter than the heartbeat's slack changes nothing.
    h.now += 10;
    h.manager.handle_time_gap(h.now, 30_000);
    h.drain();
    assert!(h.log.is_empty(), "{:?}", h.log);
    // One as long as the heartbeat (a sleep the server surely noticed) ends the
    // connection as a ping timeout; the ack fails with its transport, not by timeout.
    h.now += 10;
    h.manager.handle_time_gap(h.now, 45_000);
    h.drain();
    assert_eq!(
        h.log,
        [
            "close_transport",
            "disconnect(ping timeout)",
            "ack(0, disconnected)",
            "close(ping timeout)"
        ]
    );
}

#[test]
fn emits_asking_to_be_reported_are_reported_when_they_go_on_the_wire() {
    let mut h = Harness::new(ManagerConfig {
        ..ManagerConfig::default()
    });
    let report = EmitOptions {
        report_sent: true,
        ..EmitOptions::default()
    };
    let emit = |h: &mut Harness, data: &str, options| {
        h.manager
            .emit(h.now, h.socket, json(data), Vec::new(), options)
            .expect("valid emit");
        h.drain();
    };
    emit(&mut h, r#"["queued"]"#, report);
    emit(&mut h, r#"["quiet"]"#, EmitOptions::default());
    assert!(h.log.is_empty());
    h.establish();
    emit(&mut h, r#"["now"]"#, report);
    assert_eq!(
        h.log,
        [
            "open_transport",
            "open",
            "connect",
            r#"sent(["queued"])"#,
            r#"sent(["now"])"#
        ]
    );
    assert_eq!(
        h.sent,
        ["40", r#"42["queued"]"#, r#"42["quiet"]"#, r#"42["now"]"#]
    );
}

#[test]
fn a_dropped_emit_is_never_reported_as_sent() {
    let mut h = Harness::with_socket(
        ManagerConfig::default(),
        "/",
        SocketConfig {
            queue: resocket::core::QueueLimits {
                max_len: 1,
                ..resocket::core::QueueLimits::default()
            },
            ..SocketConfig::default()
        },
    );
    let report = EmitOptions {
        report_sent: true,
        ..EmitOptions::default()
    };
    for data in [r#"["first"]"#, r#"["second"]"#] {
        h.manager
            .emit(h.now, h.socket, json(data), Vec::new(), report)
            .expect("valid emit");
        h.drain();
    }
    h.establish();
    assert_eq!(
        h.log,
        [
            r#"dropped(["first"], overflow)"#,
            "open_transport",
            "open",
            "connect",
            r#"sent(["second"])"#
        ]
    );
}

#[test]
fn debug_output_holds_no_credentials() {
    let mut h = Harness::with_socket(
        exact_backoff(),
        "/",
        SocketConfig {
            auth: AuthSource::Static(json(r#"{"token":"secret-token"}"#)),
            ..SocketConfig::default()
        },
    );
    h.connect();
    h.server_open();
    h.server_text(r#"40{"sid":"s1","pid":"secret-pid"}"#);
    h.server_text(r#"42["tick","off-1"]"#);
    // The reconnect CONNECT, carrying both, waits among the outputs.
    let conn = h.conn.expect("open");
    h.manager.handle_transport_closed(h.now, conn, false);
    h.now += 1000;
    h.manager.handle_timeout(h.now);
    while let Some(output) = h.manager.poll_output() {
        if let resocket::core::Output::OpenTransport(conn, ..) = output {
            h.manager
                .handle_frame(h.now, conn, Frame::Text(fake_server::HANDSHAKE.into()));
            break;
        }
    }
    let printed = format!("{:?}", h.manager);
    assert!(printed.contains("Transmit"), "{printed}");
    assert!(!printed.contains("secret-pid"), "{printed}");
    assert!(!printed.contains("secret-token"), "{printed}");
}

/// Connected to a server that accepts frames of at most 64 bytes.
fn small_payload_server(socket: SocketConfig) -> Harness {
    let mut h = Harness::with_socket(exact_backoff(), "/", socket);
    h.connect();
    h.server_text(
        r#"0{"sid":"e","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":64}"#,
    );
    h.server_accept("s1");
    h.clear();
    h
}

#[test]
fn an_emit_larger_than_the_server_accepts_is_dropped_not_sent() {
    let big = format!(r#"["big","{}"]"#, "x".repeat(100));
    let asked = EmitOptions {
        with_ack: true,
        ..EmitOptions::default()
    };
    let mut h = small_payload_server(SocketConfig::default());
    let id = h
        .manager
        .emit(h.now, h.socket, json(&big), Vec::new(), asked)
        .expect("valid emit")
        .expect("an ack id");
    h.drain();
    assert!(h.sent.is_empty(), "{:?}", h.sent);
    assert_eq!(
        h.log,
        [
            format!("dropped({big}, too-large)"),
            format!("ack({id}, dropped)")
        ]
    );
    // Small emits still go, and the connection stays.
    h.manager
        .emit(h.now, h.socket, json(r#"["small"]"#), Vec::new(), asked)
        .expect("valid emit");
    h.drain();
    assert_eq!(h.sent, [r#"421["small"]"#]);
    assert!(h.manager.is_connected(h.socket));
}

#[test]
fn a_too_large_at_least_once_emit_is_given_up_and_the_next_one_goes() {
    let mut h = small_payload_server(SocketConfig {
        retries: 3,
        ..SocketConfig::default()
    });
    let big = format!(r#"["big","{}"]"#, "x".repeat(100));
    for data in [big.as_str(), r#"["next"]"#] {
        h.manager
            .emit(
                h.now,
                h.socket,
                json(data),
                Vec::new(),
                EmitOptions::default(),
            )
            .expect("valid emit");
        h.drain();
    }
    assert_eq!(h.log, [format!("dropped({big}, too-large)")]);
    // Wire id 0 went to the emit given up: the next one has 1.
    assert_eq!(h.sent, [r#"421["next"]"#]);
}
