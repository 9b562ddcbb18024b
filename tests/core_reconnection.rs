//! Reconnection scenarios on virtual time: attempt limits, exact event sequences,
//! disconnect reasons, heartbeat, handshake timeouts and network awareness.

mod fake_server;

use fake_server::{exact_backoff, Harness};
use resocket::core::{
    Backoff, Manager, ManagerConfig, NetworkEvent, Output, ReconnectionAttempts, TransportKind,
};

fn config(attempts: ReconnectionAttempts) -> ManagerConfig {
    ManagerConfig {
        reconnection_attempts: attempts,
        transports: vec![TransportKind::WebSocket],
        ..exact_backoff()
    }
}

/// Fails the pending transport as a refused connection would.
fn refuse(h: &mut Harness) {
    h.transport_closed(true);
}

#[test]
fn zero_attempts_against_a_dead_server_fails_at_once() {
    let mut h = Harness::new(config(ReconnectionAttempts::Limited(0)));
    h.connect();
    refuse(&mut h);
    assert_eq!(
        h.log,
        [
            "open_transport",
            "close_transport",
            "connect_error(websocket error)",
            "error(websocket error)",
            "reconnect_failed",
        ]
    );
    assert_eq!(h.manager.poll_timeout(), None);
    assert!(!h.manager.is_active(h.socket));
}

#[test]
fn three_attempts_against_a_dead_server_then_reconnect_failed() {
    let mut h = Harness::new(config(ReconnectionAttempts::Limited(3)));
    h.connect();
    refuse(&mut h);
    let mut waits = Vec::new();
    while let Some(wait) = h.advance_to_deadline() {
        waits.push(wait);
        refuse(&mut h);
    }
    assert_eq!(waits, [1000, 2000, 4000]);
    let failed_attempt = [
        "close_transport",
        "connect_error(websocket error)",
        "error(websocket error)",
        "reconnect_error(websocket error)",
    ];
    let mut expected = vec![
        "open_transport",
        "close_transport",
        "connect_error(websocket error)",
        "error(websocket error)",
    ];
    for n in 1..=3 {
        expected.push(
            [
                "reconnect_attempt(1)",
                "reconnect_attempt(2)",
                "reconnect_attempt(3)",
            ][n - 1],
        );
        expected.push("open_transport");
        expected.extend(failed_attempt);
    }
    expected.push("reconnect_failed");
    assert_eq!(h.log, expected);
    assert_eq!(h.manager.poll_timeout(), None);
}

#[test]
fn unlimited_attempts_keep_going_at_the_cap() {
    let mut h = Harness::new(config(ReconnectionAttempts::Unlimited));
    h.connect();
    refuse(&mut h);
    let mut waits = Vec::new();
    for _ in 0..200 {
        waits.push(
            h.advance_to_deadline()
                .expect("a further attempt is scheduled"),
        );
        refuse(&mut h);
    }
    assert_eq!(waits[..4], [1000, 2000, 4000, 5000]);
    assert!(waits[4..].iter().all(|w| *w == 5000));
    assert!(h.log.contains(&"reconnect_attempt(200)".to_string()));
    assert!(!h.log.contains(&"reconnect_failed".to_string()));
}

#[test]
fn a_lost_transport_reconnects_in_the_promised_order() {
    let mut h = Harness::new(config(ReconnectionAttempts::Unlimited));
    h.establish();
    assert_eq!(h.log, ["open_transport", "open", "connect"]);
    h.clear();
    h.transport_closed(false);
    assert_eq!(h.advance_to_deadline(), Some(1000));
    refuse(&mut h);
    assert_eq!(h.advance_to_deadline(), Some(2000));
    h.server_open();
    h.server_accept("s2");
    assert_eq!(
        h.log,
        [
            "close_transport",
            "disconnect(transport close)",
            "close(transport close)",
            "reconnect_attempt(1)",
            "open_transport",
            "close_transport",
            "connect_error(websocket error)",
            "error(websocket error)",
            "reconnect_error(websocket error)",
            "reconnect_attempt(2)",
            "open_transport",
            "open",
            "reconnect(2)",
            "connect",
        ]
    );
    assert_eq!(h.manager.sid(h.socket), Some("s2"));
}

/// The reasons after which the client reconnects by itself.
#[test]
fn reconnecting_disconnect_reasons() {
    type Cut = fn(&mut Harness);
    let cases: [(&str, Cut); 5] = [
        ("transport close", |h| h.transport_closed(false)),
        ("transport error", |h| h.transport_closed(true)),
        ("parse error", |h| h.server_text("9nonsense")),
        ("forced close", |h| {
            h.manager.close_transport(h.now);
            h.drain();
        }),
        ("transport close", |h| h.server_text("1")),
    ];
    for (reason, cut) in cases {
        let mut h = Harness::new(config(ReconnectionAttempts::Unlimited));
        h.establish();
        h.clear();
        cut(&mut h);
        let disconnect = format!("disconnect({reason})");
        assert!(h.log.contains(&disconnect), "{reason}: {:?}", h.log);
        assert_eq!(h.advance_to_deadline(), Some(1000), "{reason}");
        assert!(
            h.log.contains(&"reconnect_attempt(1)".to_string()),
            "{reason}"
        );
    }
}

#[test]
fn a_parse_error_is_reported_with_its_cause() {
    let mut h = Harness::new(config(ReconnectionAttempts::Unlimited));
    h.establish();
    h.clear();
    h.server_text("42not json");
    assert_eq!(h.log[0], "close_transport");
    assert_eq!(h.log[1], "disconnect(parse error)");
    assert_eq!(h.log[2], "close(parse error)");
    assert!(h.log[3].starts_with("error("), "{:?}", h.log);
}

#[test]
fn a_server_disconnect_does_not_reconnect() {
    let mut h = Harness::new(config(ReconnectionAttempts::Unlimited));
    h.establish();
    h.clear();
    h.server_text("41");
    assert_eq!(
        h.log,
        [
            "disconnect(io server disconnect)",
            "close_transport",
            "close(forced close)"
        ]
    );
    assert_eq!(h.manager.poll_timeout(), None);
    assert!(!h.manager.is_active(h.socket));
}

#[test]
fn a_client_disconnect_does_not_reconnect_and_tells_the_server() {
    let mut h = Harness::new(config(ReconnectionAttempts::Unlimited));
    h.establish();
    h.clear();
    h.manager.disconnect(h.socket);
    h.drain();
    assert_eq!(h.sent, ["41"]);
    assert_eq!(
        h.log,
        [
            "disconnect(io client disconnect)",
            "close_transport",
            "close(forced close)"
        ]
    );
    assert_eq!(h.manager.poll_timeout(), None);
}

#[test]
fn a_client_disconnect_during_backoff_cancels_the_reconnection() {
    let mut h = Harness::new(config(ReconnectionAttempts::Unlimited));
    h.establish();
    h.transport_closed(false);
    h.clear();
    h.manager.disconnect(h.socket);
    h.drain();
    assert_eq!(h.manager.poll_timeout(), None);
    assert!(h.log.is_empty(), "{:?}", h.log);
}

#[test]
fn a_refused_connect_does_not_reconnect() {
    let mut h = Harness::new(config(ReconnectionAttempts::Unlimited));
    h.connect();
    h.server_open();
    h.clear();
    h.server_text(r#"44{"message":"not authorized","data":{"code":401}}"#);
    assert_eq!(
        h.log,
        [
            "connect_error(refused: not authorized)",
            "close_transport",
            "close(forced close)"
        ]
    );
    assert_eq!(h.manager.poll_timeout(), None);
    assert!(!h.manager.is_active(h.socket));
}

#[test]
fn pings_are_answered_and_silence_is_a_ping_timeout() {
    let mut h = Harness::new(config(ReconnectionAttempts::Unlimited));
    h.establish();
    h.clear();
    h.advance(25_000);
    h.server_text("2");
    assert_eq!(h.sent, ["3"]);
    assert_eq!(h.log, ["ping"]);
    // pingInterval + pingTimeout after the last ping, and not a millisecond earlier.
    h.advance(44_999);
    assert_eq!(h.log, ["ping"]);
    h.advance(1);
    assert_eq!(
        h.log,
        [
            "ping",
            "close_transport",
            "disconnect(ping timeout)",
            "close(ping timeout)"
        ]
    );
    assert_eq!(h.advance_to_deadline(), Some(1000));
}

#[test]
fn a_server_that_never_opens_times_out() {
    let mut h = Harness::new(ManagerConfig {
        timeout: 3000,
        ..config(ReconnectionAttempts::Unlimited)
    });
    h.connect();
    assert_eq!(h.advance_to_deadline(), Some(3000));
    assert_eq!(
        h.log,
        [
            "open_transport",
            "close_transport",
            "connect_error(timeout)",
            "error(timeout)"
        ]
    );
    assert_eq!(h.advance_to_deadline(), Some(1000));
    assert_eq!(h.log.last().map(String::as_str), Some("open_transport"));
}

#[test]
fn a_connect_reply_that_never_comes_times_out() {
    let mut h = Harness::new(ManagerConfig {
        timeout: 3000,
        ..config(ReconnectionAttempts::Unlimited)
    });
    h.connect();
    h.advance(500);
    h.server_open();
    h.clear();
    assert_eq!(h.advance_to_deadline(), Some(3000));
    // The namespace's failure is its own: the connection stays, the CONNECT is retried
    // after the socket's backoff.
    assert_eq!(h.log, ["connect_error(timeout)"]);
    assert_eq!(h.advance_to_deadline(), Some(1000));
    assert_eq!(h.sent, ["40"]);
    assert!(h.conn.is_some());
}

#[test]
fn online_during_a_long_backoff_attempts_at_once() {
    let mut h = Harness::new(ManagerConfig {
        backoff: Backoff {
            delay: 5000,
            delay_max: 60_000,
            randomization_factor: 0.0,
        },
        ..ManagerConfig::default()
    });
    h.establish();
    h.transport_closed(false);
    h.advance(100);
    h.clear();
    h.manager.handle_network(h.now, NetworkEvent::Online);
    h.drain();
    assert_eq!(h.log, ["reconnect_attempt(1)", "open_transport"]);
    h.server_open();
    h.server_accept("s2");
    assert_eq!(h.now, 100);
    assert!(h.manager.is_connected(h.socket));
}

#[test]
fn offline_closes_the_transport_and_waits_for_online() {
    let mut h = Harness::new(config(ReconnectionAttempts::Unlimited));
    h.establish();
    h.clear();
    h.manager.handle_network(h.now, NetworkEvent::Offline);
    h.drain();
    assert_eq!(
        h.log,
        [
            "close_transport",
            "disconnect(transport close)",
            "close(transport close)"
        ]
    );
    assert_eq!(h.manager.poll_timeout(), None, "no attempts while offline");
    // Visibility alone does not retry while the browser says it is offline.
    h.manager.handle_network(h.now, NetworkEvent::Visible);
    assert_eq!(h.manager.poll_output(), None);
    h.advance(60_000);
    h.manager.handle_network(h.now, NetworkEvent::Online);
    h.drain();
    assert_eq!(h.log[3..], ["reconnect_attempt(1)", "open_transport"]);
}

#[test]
fn visible_and_pageshow_retry_now_with_the_backoff_reset() {
    for event in [NetworkEvent::Visible, NetworkEvent::PageShow] {
        let mut h = Harness::new(config(ReconnectionAttempts::Unlimited));
        h.connect();
        refuse(&mut h);
        for _ in 0..5 {
            h.advance_to_deadline();
            refuse(&mut h);
        }
        h.clear();
        h.manager.handle_network(h.now, event);
        h.drain();
        assert_eq!(
            h.log,
            ["reconnect_attempt(1)", "open_transport"],
            "{event:?}"
        );
        refuse(&mut h);
        assert_eq!(
            h.advance_to_deadline(),
            Some(2000),
            "{event:?}: backoff restarted"
        );
    }
}

#[test]
fn visible_while_connected_changes_nothing() {
    let mut h = Harness::new(config(ReconnectionAttempts::Unlimited));
    h.establish();
    h.clear();
    h.manager.handle_network(h.now, NetworkEvent::Visible);
    assert_eq!(h.drain(), Vec::<String>::new());
}

#[test]
fn reconnection_disabled_stays_down() {
    let mut h = Harness::new(ManagerConfig {
        reconnection: false,
        ..ManagerConfig::default()
    });
    h.establish();
    h.clear();
    h.transport_closed(false);
    assert_eq!(
        h.log,
        [
            "close_transport",
            "disconnect(transport close)",
            "close(transport close)"
        ]
    );
    assert_eq!(h.manager.poll_timeout(), None);
}

#[test]
fn frames_from_a_retired_transport_are_ignored() {
    let mut h = Harness::new(config(ReconnectionAttempts::Unlimited));
    h.establish();
    let old = h.conn.expect("open");
    h.transport_closed(false);
    h.advance_to_deadline();
    h.clear();
    h.manager
        .handle_frame(h.now, old, resocket::protocol::Frame::Text("41".into()));
    h.manager.handle_transport_closed(h.now, old, true);
    assert_eq!(h.drain(), Vec::<String>::new());
    h.server_open();
    h.server_accept("s2");
    assert!(h.manager.is_connected(h.socket));
}

#[test]
fn an_opened_manager_connects_and_reconnects_without_a_socket_until_closed() {
    let mut manager = Manager::new(config(ReconnectionAttempts::Unlimited), 1);
    let drain = |manager: &mut Manager| -> Vec<Output> {
        std::iter::from_fn(|| manager.poll_output()).collect()
    };
    let opened = |outputs: &[Output]| {
        outputs.iter().find_map(|output| match output {
            Output::OpenTransport(conn, ..) => Some(*conn),
            _ => None,
        })
    };
    manager.open(0);
    let conn = opened(&drain(&mut manager)).expect("a transport, without any socket");
    manager.handle_transport_closed(0, conn, true);
    let now = manager.poll_timeout().expect("a reconnection is scheduled");
    manager.handle_timeout(now);
    let outputs = drain(&mut manager);
    assert!(opened(&outputs).is_some(), "reconnects: {outputs:?}");
    manager.close();
    let outputs = drain(&mut manager);
    assert!(
        outputs
            .iter()
            .any(|output| matches!(output, Output::CloseTransport(_))),
        "{outputs:?}"
    );
    assert_eq!(manager.poll_timeout(), None, "nothing reconnects it");
}

#[test]
fn turning_reconnection_off_during_the_wait_stops_the_loop() {
    let mut h = Harness::new(config(ReconnectionAttempts::Unlimited));
    h.connect();
    refuse(&mut h);
    // socket.io-client's `reconnection(false)` in a `reconnect_error` listener.
    h.manager.config_mut().reconnection = false;
    h.clear();
    h.advance(60_000);
    assert!(h.log.is_empty(), "{:?}", h.log);
    assert_eq!(h.manager.poll_timeout(), None);
    // An explicit connect starts afresh.
    h.manager.config_mut().reconnection = true;
    h.connect();
    assert_eq!(h.log, ["open_transport"]);
}
