//! Delivery guarantees on virtual time: the bounded offline queue and its reports,
//! state-restoring rejoin emits, and at-least-once emits with retries.

mod fake_server;

use fake_server::Harness;
use resocket::core::{EmitOptions, ManagerConfig, Overflow, QueueLimits, SocketConfig};
use resocket::protocol::JsonText;

fn json(text: &str) -> JsonText {
    JsonText::parse(text).expect("valid JSON in the test")
}

fn harness(socket: SocketConfig) -> Harness {
    Harness::with_socket(ManagerConfig::default(), "/", socket)
}

fn emit(h: &mut Harness, data: &str, with_ack: bool) -> Option<u64> {
    let options = EmitOptions {
        with_ack,
        ..EmitOptions::default()
    };
    let id = h
        .manager
        .emit(h.now, h.socket, json(data), Vec::new(), options)
        .expect("valid emit");
    h.drain();
    id
}

fn limits(max_len: usize, max_age: Option<u64>, overflow: Overflow) -> SocketConfig {
    SocketConfig {
        queue: QueueLimits {
            max_len,
            max_age,
            overflow,
        },
        ..SocketConfig::default()
    }
}

#[test]
fn a_full_queue_drops_the_oldest_and_says_so() {
    let mut h = harness(limits(2, None, Overflow::DropOldest));
    emit(&mut h, r#"["a"]"#, true);
    emit(&mut h, r#"["b"]"#, false);
    emit(&mut h, r#"["c"]"#, false);
    assert_eq!(h.log, [r#"dropped(["a"], overflow)"#, "ack(0, dropped)"]);
    h.establish();
    assert_eq!(h.sent, ["40", r#"42["b"]"#, r#"42["c"]"#]);
}

#[test]
fn a_full_queue_can_refuse_the_newest_instead() {
    let mut h = harness(limits(2, None, Overflow::DropNewest));
    for name in ["a", "b", "c"] {
        emit(&mut h, &format!(r#"["{name}"]"#), false);
    }
    assert_eq!(h.log, [r#"dropped(["c"], overflow)"#]);
    assert_eq!(h.manager.queued(h.socket).len(), 2);
}

#[test]
fn queued_emits_expire_at_their_age_limit() {
    let mut h = harness(limits(100, Some(10_000), Overflow::DropOldest));
    emit(&mut h, r#"["old"]"#, false);
    h.advance(4_000);
    emit(&mut h, r#"["young"]"#, false);
    h.advance(5_999);
    assert!(h.log.is_empty());
    h.advance(1);
    assert_eq!(h.log, [r#"dropped(["old"], expired)"#]);
    h.establish();
    assert_eq!(h.sent, ["40", r#"42["young"]"#]);
}

#[test]
fn the_queue_can_be_inspected_and_cleared() {
    let mut h = harness(SocketConfig::default());
    emit(&mut h, r#"["a",1]"#, false);
    emit(&mut h, r#"["b",2]"#, true);
    let queued: Vec<&str> = h
        .manager
        .queued(h.socket)
        .iter()
        .map(|d| d.as_str())
        .collect();
    assert_eq!(queued, [r#"["a",1]"#, r#"["b",2]"#]);
    h.manager.clear_queue(h.socket);
    h.drain();
    assert_eq!(
        h.log,
        [
            r#"dropped(["a",1], cleared)"#,
            r#"dropped(["b",2], cleared)"#,
            "ack(0, dropped)"
        ]
    );
    h.establish();
    assert_eq!(h.sent, ["40"]);
}

#[test]
fn rejoins_are_resent_before_the_queue_after_a_session_that_was_not_recovered() {
    let mut h = harness(SocketConfig::default());
    h.manager
        .add_rejoin(h.socket, json(r#"["join","room-1"]"#), Vec::new())
        .unwrap();
    let second = h
        .manager
        .add_rejoin(h.socket, json(r#"["subscribe","prices"]"#), Vec::new())
        .unwrap();
    emit(&mut h, r#"["hello"]"#, false);
    h.establish();
    assert_eq!(
        h.sent,
        [
            "40",
            r#"42["join","room-1"]"#,
            r#"42["subscribe","prices"]"#,
            r#"42["hello"]"#
        ]
    );
    // Declared while connected: sent at once, too.
    h.manager
        .add_rejoin(h.socket, json(r#"["join","room-2"]"#), Vec::new())
        .unwrap();
    h.drain();
    assert!(h.manager.remove_rejoin(h.socket, second));
    h.clear();
    h.transport_closed(false);
    h.advance_to_deadline();
    h.server_open();
    h.server_accept("s2");
    assert_eq!(
        h.sent,
        ["40", r#"42["join","room-1"]"#, r#"42["join","room-2"]"#]
    );
}

#[test]
fn rejoins_are_not_resent_after_a_recovered_session() {
    let mut h = harness(SocketConfig::default());
    h.manager
        .add_rejoin(h.socket, json(r#"["join","room-1"]"#), Vec::new())
        .unwrap();
    h.lose_session_after(&[r#"42["tick","off-1"]"#]);
    h.clear();
    h.server_text(r#"40{"sid":"s1","pid":"p1"}"#);
    assert!(h.manager.recovered(h.socket));
    assert!(h.sent.is_empty(), "{:?}", h.sent);
}

/// The handle of a socket's first at-least-once emit (`Number.MAX_SAFE_INTEGER`).
const HANDLE: u64 = (1 << 53) - 1;

fn reliable(retries: u32, ack_timeout: u64) -> SocketConfig {
    SocketConfig {
        retries,
        ack_timeout: Some(ack_timeout),
        ..SocketConfig::default()
    }
}

#[test]
fn at_least_once_emits_go_one_at_a_time_in_order() {
    let mut h = harness(reliable(2, 1000));
    h.establish();
    h.clear();
    let first = emit(&mut h, r#"["a"]"#, true);
    emit(&mut h, r#"["b"]"#, false);
    // A handle of its own, apart from the ids on the wire (which run 0, 1, ...).
    assert_eq!(first, Some(HANDLE));
    // Only the head is in flight, under a wire id of its own.
    assert_eq!(h.sent, [r#"420["a"]"#]);
    h.server_text("430[\"ok\"]");
    assert_eq!(h.sent, [r#"420["a"]"#, r#"421["b"]"#]);
    assert_eq!(h.log, [format!(r#"ack({HANDLE}, ["ok"])"#)]);
    h.server_text("431[]");
    assert_eq!(h.manager.unacknowledged_len(h.socket), 0);
}

#[test]
fn at_least_once_emits_are_retried_then_given_up_with_a_report() {
    let mut h = harness(reliable(2, 1000));
    h.establish();
    h.clear();
    emit(&mut h, r#"["a"]"#, true);
    h.advance(1000);
    h.advance(1000);
    assert_eq!(h.sent, [r#"420["a"]"#, r#"421["a"]"#, r#"422["a"]"#]);
    assert!(h.log.is_empty(), "{:?}", h.log);
    // A late answer to an earlier try settles nothing.
    h.server_text("430[]");
    assert!(h.log.is_empty(), "{:?}", h.log);
    h.advance(1000);
    assert_eq!(
        h.log,
        [
            r#"dropped(["a"], unacknowledged)"#.to_owned(),
            format!("ack({HANDLE}, timeout)")
        ]
    );
}

#[test]
fn at_least_once_emits_in_flight_are_resent_after_a_reconnection() {
    let mut h = harness(reliable(3, 5000));
    h.establish();
    h.clear();
    emit(&mut h, r#"["a"]"#, true);
    emit(&mut h, r#"["b"]"#, true);
    h.transport_closed(false);
    emit(&mut h, r#"["c"]"#, true);
    assert!(!h.log.iter().any(|l| l.starts_with("ack(")), "{:?}", h.log);
    h.advance_to_deadline();
    h.server_open();
    h.server_accept("s2");
    assert_eq!(h.sent, [r#"420["a"]"#, "40", r#"421["a"]"#]);
    h.server_text("431[]");
    h.server_text("432[]");
    h.server_text("433[]");
    assert_eq!(h.sent[3..], [r#"422["b"]"#, r#"423["c"]"#]);
    let acks: Vec<&String> = h.log.iter().filter(|l| l.starts_with("ack(")).collect();
    let handles = [HANDLE, HANDLE - 1, HANDLE - 2].map(|id| format!("ack({id}, [])"));
    assert_eq!(acks, handles.iter().collect::<Vec<_>>());
}

/// A plain emit may go straight to the WebSocket (`Manager::direct_emit`) exactly while
/// the core would write it at once and do nothing else: connected over a WebSocket,
/// nothing queued before it, not at-least-once, no packet reports. The head and the
/// JSON make the very frame the core writes.
#[test]
fn plain_emits_may_skip_the_core_only_while_it_would_write_them_at_once() {
    let mut h = Harness::with_socket(ManagerConfig::default(), "/chat", SocketConfig::default());
    assert_eq!(h.manager.direct_emit(h.socket), None);
    h.connect();
    h.server_open();
    assert_eq!(
        h.manager.direct_emit(h.socket),
        None,
        "CONNECT not answered yet"
    );
    h.server_text(r#"40/chat,{"sid":"s1"}"#);
    let direct = h.manager.direct_emit(h.socket).expect("connected");
    assert_eq!(Some(direct.conn), h.conn);
    assert_eq!(direct.max_bytes, 1_000_000, "the handshake's maxPayload");
    let head = h.manager.event_head(h.socket).expect("a socket");
    assert_eq!(head, "42/chat,");
    emit(&mut h, r#"["a",{"n":1}]"#, false);
    assert_eq!(h.sent.last(), Some(&format!(r#"{head}["a",{{"n":1}}]"#)));
    // Packet reports are the core's to make.
    h.manager.report_packets();
    assert_eq!(h.manager.direct_emit(h.socket), None);

    let mut gone = Harness::new(ManagerConfig::default());
    gone.establish();
    assert!(gone.manager.direct_emit(gone.socket).is_some());
    gone.transport_closed(true);
    assert_eq!(gone.manager.direct_emit(gone.socket), None);

    // At-least-once emits wait for their acks in the core.
    let mut reliable = harness(SocketConfig {
        retries: 3,
        ..SocketConfig::default()
    });
    reliable.establish();
    assert_eq!(reliable.manager.direct_emit(reliable.socket), None);
}
