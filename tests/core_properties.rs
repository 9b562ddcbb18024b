//! Invariants of the core under arbitrary sequences of inputs: no panic, no deadline in
//! the past, one transport at a time, `connect`/`disconnect` strictly alternating, and
//! no acknowledgement settled twice.

mod fake_server;

use fake_server::{Harness, HANDSHAKE};
use proptest::prelude::*;
use resocket::core::{
    EmitOptions, ManagerConfig, NetworkEvent, Overflow, QueueLimits, ReconnectionAttempts,
    SocketConfig,
};
use resocket::protocol::{Frame, JsonText};

#[derive(Debug, Clone)]
enum Step {
    Connect,
    Disconnect,
    Emit { ack: bool, timeout: Option<u64> },
    ServerText(String),
    ServerBinary(Vec<u8>),
    TransportClosed(bool),
    CloseTransport,
    Network(NetworkEvent),
    Advance(u64),
    Rejoin,
    ClearQueue,
}

fn server_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(HANDSHAKE.to_string()),
        Just(r#"40{"sid":"s","pid":"p"}"#.to_string()),
        Just("2".to_string()),
        Just("41".to_string()),
        Just(r#"42["e",1,"o1"]"#.to_string()),
        Just(r#"430[1]"#.to_string()),
        Just(r#"44{"message":"no"}"#.to_string()),
        Just(r#"451-["b",{"_placeholder":true,"num":0}]"#.to_string()),
        Just("1".to_string()),
        ".{0,40}",
        "4[0-6][/a-z,0-9]{0,6}[\\[\\]{}\"a-z0-9,:]{0,20}",
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        Just(Step::Connect),
        Just(Step::Disconnect),
        (any::<bool>(), proptest::option::of(0u64..5000))
            .prop_map(|(ack, timeout)| Step::Emit { ack, timeout }),
        server_text().prop_map(Step::ServerText),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(Step::ServerBinary),
        any::<bool>().prop_map(Step::TransportClosed),
        Just(Step::CloseTransport),
        prop_oneof![
            Just(NetworkEvent::Online),
            Just(NetworkEvent::Offline),
            Just(NetworkEvent::Visible),
            Just(NetworkEvent::PageShow),
        ]
        .prop_map(Step::Network),
        (0u64..70_000).prop_map(Step::Advance),
        Just(Step::Rejoin),
        Just(Step::ClearQueue),
    ]
}

fn attempts() -> impl Strategy<Value = ReconnectionAttempts> {
    prop_oneof![
        Just(ReconnectionAttempts::Unlimited),
        (0u32..4).prop_map(ReconnectionAttempts::Limited),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_core_keeps_its_invariants(
        attempts in attempts(),
        retries in 0u32..3,
        max_len in 0usize..4,
        steps in proptest::collection::vec(step(), 0..60),
    ) {
        let manager = ManagerConfig {
            reconnection_attempts: attempts,
            timeout: 5000,
            ..ManagerConfig::default()
        };
        let socket = SocketConfig {
            queue: QueueLimits { max_len, max_age: Some(20_000), overflow: Overflow::DropOldest },
            retries,
            ack_timeout: Some(3000),
            ..SocketConfig::default()
        };
        let mut h = Harness::with_socket(manager, "/", socket);
        for step in steps {
            match step {
                Step::Connect => h.connect(),
                Step::Disconnect => {
                    h.manager.disconnect(h.socket);
                    h.drain();
                }
                Step::Emit { ack, timeout } => {
                    let options = EmitOptions { with_ack: ack, timeout, ..EmitOptions::default() };
                    let data = JsonText::parse(r#"["x",1]"#).expect("valid");
                    prop_assert!(h.manager.emit(h.now, h.socket, data, Vec::new(), options).is_ok());
                    h.drain();
                }
                Step::ServerText(text) if h.conn.is_some() => h.server_text(&text),
                Step::ServerBinary(bytes) if h.conn.is_some() => h.server_frame(Frame::Binary(bytes)),
                Step::TransportClosed(error) if h.conn.is_some() => h.transport_closed(error),
                Step::ServerText(_) | Step::ServerBinary(_) | Step::TransportClosed(_) => {}
                Step::CloseTransport => {
                    h.manager.close_transport(h.now);
                    h.drain();
                }
                Step::Network(event) => {
                    h.manager.handle_network(h.now, event);
                    h.drain();
                }
                Step::Advance(ms) => h.advance(ms),
                Step::Rejoin => {
                    let data = JsonText::parse(r#"["join","r"]"#).expect("valid");
                    prop_assert!(h.manager.add_rejoin(h.socket, data, Vec::new()).is_ok());
                    h.drain();
                }
                Step::ClearQueue => {
                    h.manager.clear_queue(h.socket);
                    h.drain();
                }
            }
            if let Some(deadline) = h.manager.poll_timeout() {
                prop_assert!(deadline >= h.now, "deadline {} before now {}", deadline, h.now);
            }
        }
        let mut settled = std::collections::HashSet::new();
        for line in h.log.iter().filter(|l| l.starts_with("ack(")) {
            let id = line.split(',').next().unwrap_or_default();
            prop_assert!(settled.insert(id.to_owned()), "{} settled twice: {:?}", id, h.log);
        }
        let mut open_transports = 0i32;
        let mut connected = false;
        for line in &h.log {
            match line.as_str() {
                "open_transport" => open_transports += 1,
                "close_transport" => open_transports -= 1,
                "connect" => {
                    prop_assert!(!connected, "connect twice: {:?}", h.log);
                    connected = true;
                }
                l if l.starts_with("disconnect(") => {
                    prop_assert!(connected, "disconnect without connect: {:?}", h.log);
                    connected = false;
                }
                _ => {}
            }
            prop_assert!((0..=1).contains(&open_transports), "{:?}", h.log);
        }
        prop_assert_eq!(connected, h.manager.is_connected(h.socket));
    }
}
