//! Engine.IO v4 frames: the wire examples of PROTOCOL.md round-trip, malformed frames
//! and handshakes are rejected with the right error.
//!
//! Covers `protocol::EnginePacket` and `Handshake` only; Socket.IO packets inside
//! messages are tested in `protocol_packet.rs`.

use resocket::protocol::{EnginePacket, Frame, Handshake, ProtocolError};

const OPEN: &str = r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

fn text(wire: &str) -> Frame {
    Frame::Text(wire.to_owned())
}

fn decode(wire: &str) -> Result<EnginePacket, ProtocolError> {
    EnginePacket::decode(text(wire))
}

#[test]
fn wire_examples_round_trip() {
    for wire in [
        OPEN,
        "1",
        "2",
        "3",
        "2probe",
        "3probe",
        "5",
        "6",
        "4",
        "40",
        r#"42["foo"]"#,
    ] {
        let packet = decode(wire).unwrap_or_else(|error| panic!("{wire}: {error}"));
        assert_eq!(packet.encode(), text(wire), "{wire}");
    }
}

#[test]
fn open_carries_the_handshake() {
    let expected = Handshake {
        sid: "lv_VI97HAXpY6yYWAAAC".to_owned(),
        upgrades: vec!["websocket".to_owned()],
        ping_interval: 25000,
        ping_timeout: 20000,
        max_payload: 1_000_000,
    };
    assert_eq!(decode(OPEN), Ok(EnginePacket::Open(expected)));
}

#[test]
fn handshake_tolerates_missing_upgrades_unknown_fields_and_whitespace() {
    let wire =
        r#"0 { "sid":"a", "pingInterval":1, "pingTimeout":2, "maxPayload":3, "extra":[{}] } "#;
    let expected = Handshake {
        sid: "a".to_owned(),
        upgrades: Vec::new(),
        ping_interval: 1,
        ping_timeout: 2,
        max_payload: 3,
    };
    assert_eq!(decode(wire), Ok(EnginePacket::Open(expected)));
}

#[test]
fn heartbeat_and_messages_keep_their_data() {
    assert_eq!(decode("2"), Ok(EnginePacket::Ping(String::new())));
    assert_eq!(decode("3probe"), Ok(EnginePacket::Pong("probe".to_owned())));
    assert_eq!(decode("5"), Ok(EnginePacket::Upgrade(String::new())));
    assert_eq!(decode("6x"), Ok(EnginePacket::Noop("x".to_owned())));
    assert_eq!(decode("4é"), Ok(EnginePacket::Message(text("é"))));
    assert_eq!(EnginePacket::Pong(String::new()).encode(), text("3"));
}

#[test]
fn close_ignores_trailing_data() {
    assert_eq!(decode("1reason"), Ok(EnginePacket::Close));
}

#[test]
fn binary_frames_are_always_messages() {
    for bytes in [vec![], vec![b'0'], vec![0xff, 0x00, 0x34]] {
        let frame = Frame::Binary(bytes);
        let packet = EnginePacket::decode(frame.clone());
        assert_eq!(packet, Ok(EnginePacket::Message(frame.clone())));
        assert_eq!(packet.map(|packet| packet.encode()), Ok(frame));
    }
}

#[test]
fn malformed_frames_are_rejected() {
    use ProtocolError::*;
    const MAX_SAFE: &str = "9007199254740991";
    let valid_open =
        format!(r#"0{{"sid":"a","pingInterval":{MAX_SAFE},"pingTimeout":0,"maxPayload":1}}"#);
    assert!(
        decode(&valid_open).is_ok(),
        "the boundary value is accepted"
    );

    let cases: &[(&str, ProtocolError)] = &[
        ("", EmptyFrame),
        ("7", UnknownEngineType),
        ("9", UnknownEngineType),
        ("x", UnknownEngineType),
        ("é", UnknownEngineType),
        (" 2", UnknownEngineType),
        ("0", InvalidHandshake),
        ("0{", InvalidHandshake),
        ("0null", InvalidHandshake),
        (r#"0"sid""#, InvalidHandshake),
        (r#"0["a",[],1,2,3]"#, InvalidHandshake),
        (
            r#"0{"sid":"","pingInterval":1,"pingTimeout":2,"maxPayload":3}"#,
            InvalidHandshake,
        ),
        (
            r#"0{"sid":7,"pingInterval":1,"pingTimeout":2,"maxPayload":3}"#,
            InvalidHandshake,
        ),
        (
            r#"0{"pingInterval":1,"pingTimeout":2,"maxPayload":3}"#,
            InvalidHandshake,
        ),
        (
            r#"0{"sid":"a","pingTimeout":2,"maxPayload":3}"#,
            InvalidHandshake,
        ),
        (
            r#"0{"sid":"a","pingInterval":1,"maxPayload":3}"#,
            InvalidHandshake,
        ),
        (
            r#"0{"sid":"a","pingInterval":1,"pingTimeout":2}"#,
            InvalidHandshake,
        ),
        (
            r#"0{"sid":"a","pingInterval":1.5,"pingTimeout":2,"maxPayload":3}"#,
            InvalidHandshake,
        ),
        (
            r#"0{"sid":"a","pingInterval":1e3,"pingTimeout":2,"maxPayload":3}"#,
            InvalidHandshake,
        ),
        (
            r#"0{"sid":"a","pingInterval":-1,"pingTimeout":2,"maxPayload":3}"#,
            InvalidHandshake,
        ),
        (
            r#"0{"sid":"a","pingInterval":"1","pingTimeout":2,"maxPayload":3}"#,
            InvalidHandshake,
        ),
        (
            r#"0{"sid":"a","pingInterval":9007199254740992,"pingTimeout":2,"maxPayload":3}"#,
            InvalidHandshake,
        ),
        (
            r#"0{"sid":"a","pingInterval":1,"pingTimeout":2,"maxPayload":99999999999999999999}"#,
            InvalidHandshake,
        ),
        (
            r#"0{"sid":"a","upgrades":"websocket","pingInterval":1,"pingTimeout":2,"maxPayload":3}"#,
            InvalidHandshake,
        ),
        (
            r#"0{"sid":"a","upgrades":[1],"pingInterval":1,"pingTimeout":2,"maxPayload":3}"#,
            InvalidHandshake,
        ),
        (
            r#"0{"sid":"a","pingInterval":1,"pingTimeout":2,"maxPayload":3}x"#,
            InvalidHandshake,
        ),
    ];
    for (wire, expected) in cases {
        assert_eq!(decode(wire), Err(*expected), "{wire:?}");
    }
}

#[test]
fn errors_have_static_messages() {
    let error = ProtocolError::InvalidHandshake;
    assert_eq!(error.message(), "invalid Engine.IO handshake");
    assert_eq!(error.to_string(), error.message());
    let _: &dyn std::error::Error = &error;
}
