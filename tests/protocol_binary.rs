//! Binary packets: a header then its attachments, joined by the `Reassembler`, turned
//! into `Value`s with binary leaves and back.
//!
//! Covers `protocol::BinaryMessage`, `Reassembler` and `Value`; the header text format
//! itself is tested in `protocol_packet.rs`.

use resocket::protocol::{
    BinaryMessage, EnginePacket, Frame, JsonText, Number, Packet, PacketType, ProtocolError,
    Reassembler, Value,
};

const HEADER: &str = r#"451-["baz",{"_placeholder":true,"num":0}]"#;

/// What the core does with each frame: Engine.IO decode, then Socket.IO decode or
/// attachment, through one reassembler.
fn feed(
    reassembler: &mut Reassembler,
    frame: Frame,
) -> Result<Option<BinaryMessage>, ProtocolError> {
    match EnginePacket::decode(frame)? {
        EnginePacket::Message(Frame::Text(text)) => {
            reassembler.push_packet(Packet::decode(&text)?, usize::MAX)
        }
        EnginePacket::Message(Frame::Binary(bytes)) => {
            reassembler.push_attachment(bytes, usize::MAX)
        }
        other => panic!("not a message: {other:?}"),
    }
}

fn text(wire: &str) -> Frame {
    Frame::Text(wire.to_owned())
}

fn string(text: &str) -> Value {
    Value::String(text.to_owned())
}

fn number(value: u64) -> Value {
    Value::Number(value.into())
}

#[test]
fn wire_example_round_trips() {
    let mut reassembler = Reassembler::default();
    assert_eq!(feed(&mut reassembler, text(HEADER)), Ok(None));
    assert!(!reassembler.is_idle());
    let message = feed(&mut reassembler, Frame::Binary(vec![1, 2, 3]));
    assert!(reassembler.is_idle());

    let Ok(Some(message)) = message else {
        panic!("{message:?}")
    };
    assert_eq!(
        message.frames(),
        [text(HEADER), Frame::Binary(vec![1, 2, 3])]
    );
    let expected = Value::Array(vec![string("baz"), Value::Binary(vec![1, 2, 3])]);
    assert_eq!(message.reconstruct(), Ok(Some(expected)));
}

#[test]
fn plain_packets_complete_at_once() {
    let mut reassembler = Reassembler::default();
    let message = feed(
        &mut reassembler,
        text(r#"42["foo",{"_placeholder":true,"num":3}]"#),
    );
    let Ok(Some(message)) = message else {
        panic!("{message:?}")
    };
    assert!(reassembler.is_idle());
    assert!(message.attachments.is_empty());
    // Placeholder-like objects in plain packets are data, as in the reference parser.
    let placeholder = Value::Object(vec![
        ("_placeholder".to_owned(), Value::Bool(true)),
        ("num".to_owned(), number(3)),
    ]);
    assert_eq!(
        message.reconstruct(),
        Ok(Some(Value::Array(vec![string("foo"), placeholder])))
    );

    let message = feed(&mut reassembler, text("40"));
    assert_eq!(
        message.map(|message| message.map(|message| message.reconstruct())),
        Ok(Some(Ok(None)))
    );
}

#[test]
fn attachments_fill_placeholders_by_number_not_by_order() {
    let mut reassembler = Reassembler::default();
    let header = r#"463-/admin,7[{"b":{"num":1,"_placeholder":true}},[{"_placeholder":true,"num":0}],{"_placeholder":true,"num":2,"extra":null},{"_placeholder":true,"num":0}]"#;
    assert_eq!(feed(&mut reassembler, text(header)), Ok(None));
    assert_eq!(feed(&mut reassembler, Frame::Binary(vec![0])), Ok(None));
    assert_eq!(feed(&mut reassembler, Frame::Binary(vec![1])), Ok(None));
    let message = feed(&mut reassembler, Frame::Binary(vec![]));
    let Ok(Some(message)) = message else {
        panic!("{message:?}")
    };
    assert_eq!(
        (message.packet.kind, message.packet.id),
        (PacketType::BinaryAck, Some(7))
    );
    let expected = Value::Array(vec![
        Value::Object(vec![("b".to_owned(), Value::Binary(vec![1]))]),
        Value::Array(vec![Value::Binary(vec![0])]),
        Value::Binary(vec![]),
        Value::Binary(vec![0]),
    ]);
    assert_eq!(message.reconstruct(), Ok(Some(expected)));
}

#[test]
fn deconstruct_numbers_binary_leaves_depth_first() {
    let data = Value::Array(vec![
        string("upload"),
        Value::Object(vec![
            ("file".to_owned(), Value::Binary(vec![7])),
            (
                "parts".to_owned(),
                Value::Array(vec![Value::Binary(vec![8]), Value::Null]),
            ),
        ]),
        Value::Binary(vec![9]),
    ]);
    let message = BinaryMessage::deconstruct(PacketType::Event, "/files", Some(3), data.clone());
    let header = r#"453-/files,3["upload",{"file":{"_placeholder":true,"num":0},"parts":[{"_placeholder":true,"num":1},null]},{"_placeholder":true,"num":2}]"#;
    let expected_frames = [
        text(header),
        Frame::Binary(vec![7]),
        Frame::Binary(vec![8]),
        Frame::Binary(vec![9]),
    ];
    assert_eq!(message.frames(), expected_frames);
    assert_eq!(message.reconstruct(), Ok(Some(data)));
}

#[test]
fn deconstruct_without_binary_keeps_the_plain_type() {
    let data = Value::Array(vec![string("a"), Value::Bool(false), number(1)]);
    let message = BinaryMessage::deconstruct(PacketType::Ack, "/", Some(5), data);
    assert_eq!(message.frames(), [text(r#"435["a",false,1]"#)]);
    assert_eq!(message.packet.kind, PacketType::Ack);
    let message = BinaryMessage::deconstruct(
        PacketType::Ack,
        "/",
        Some(5),
        Value::Array(vec![Value::Binary(vec![])]),
    );
    assert_eq!(message.packet.kind, PacketType::BinaryAck);
}

#[test]
fn malformed_sequences_are_rejected() {
    use ProtocolError::*;
    let binary = || Frame::Binary(vec![0]);
    let cases: Vec<(Vec<Frame>, ProtocolError)> = vec![
        (vec![binary()], UnexpectedAttachment),
        (vec![text(r#"42["a"]"#), binary()], UnexpectedAttachment),
        (vec![text(HEADER), binary(), binary()], UnexpectedAttachment),
        (vec![text(HEADER), text(r#"42["a"]"#)], AttachmentExpected),
        (vec![text(HEADER), text(HEADER)], AttachmentExpected),
        (
            vec![text(r#"451-["a",{"_placeholder":true,"num":1}]"#), binary()],
            InvalidPlaceholder,
        ),
        (
            vec![
                text(r#"451-["a",{"_placeholder":true,"num":-1}]"#),
                binary(),
            ],
            InvalidPlaceholder,
        ),
        (
            vec![
                text(r#"451-["a",{"_placeholder":true,"num":0.0}]"#),
                binary(),
            ],
            InvalidPlaceholder,
        ),
        (
            vec![
                text(r#"451-["a",{"_placeholder":true,"num":"0"}]"#),
                binary(),
            ],
            InvalidPlaceholder,
        ),
        (
            vec![text(r#"451-["a",{"_placeholder":true}]"#), binary()],
            InvalidPlaceholder,
        ),
        (
            vec![
                text(r#"451-["a",{"_placeholder":true,"num":0,"num":null}]"#),
                binary(),
            ],
            InvalidPlaceholder,
        ),
        (
            vec![
                text(r#"451-["a",{"_placeholder":true,"num":99999999999999999999}]"#),
                binary(),
            ],
            InvalidPlaceholder,
        ),
        (
            vec![
                text(r#"451-["a",[[{"x":{"_placeholder":true,"num":1}}]]]"#),
                binary(),
            ],
            InvalidPlaceholder,
        ),
    ];
    for (frames, expected) in cases {
        let mut reassembler = Reassembler::default();
        let outcome = frames
            .clone()
            .into_iter()
            .try_for_each(|frame| feed(&mut reassembler, frame).map(drop));
        assert_eq!(outcome, Err(expected), "{frames:?}");
        assert!(
            reassembler.is_idle(),
            "{frames:?}: an error leaves nothing pending"
        );
    }
}

#[test]
fn placeholder_marker_must_be_exactly_true() {
    let mut reassembler = Reassembler::default();
    let header = r#"51-["a",{"_placeholder":1,"num":5},{"_placeholder":"true"},{"_placeholder":true,"num":0}]"#;
    assert_eq!(
        reassembler.push_packet(
            Packet::decode(header).unwrap_or_else(|error| panic!("{error}")),
            usize::MAX
        ),
        Ok(None)
    );
    let message = reassembler.push_attachment(vec![4], usize::MAX);
    let Ok(Some(message)) = message else {
        panic!("{message:?}")
    };
    let reconstructed = message.reconstruct();
    let Ok(Some(Value::Array(items))) = reconstructed else {
        panic!("{reconstructed:?}")
    };
    assert_eq!(items.last(), Some(&Value::Binary(vec![4])));
}

#[test]
fn reset_forgets_the_pending_packet() {
    let mut reassembler = Reassembler::default();
    assert_eq!(feed(&mut reassembler, text(HEADER)), Ok(None));
    reassembler.reset();
    assert!(reassembler.is_idle());
    assert_eq!(
        reassembler.push_attachment(vec![1], usize::MAX),
        Err(ProtocolError::UnexpectedAttachment)
    );
    assert!(feed(&mut reassembler, text(r#"42["a"]"#)).is_ok());
}

#[test]
fn reconstruct_checks_user_built_messages_too() {
    let data = JsonText::parse(r#"["a",{"_placeholder":true,"num":1}]"#).ok();
    let packet = Packet {
        kind: PacketType::BinaryEvent,
        namespace: "/".to_owned(),
        id: None,
        data,
        attachments: 1,
    };
    let message = BinaryMessage {
        packet,
        attachments: vec![vec![1]],
    };
    assert_eq!(
        message.reconstruct(),
        Err(ProtocolError::InvalidPlaceholder)
    );
}

#[test]
fn values_convert_to_and_from_json() {
    let value: Value =
        serde_json::from_str(r#"{"a":[1,-2,2.5,"x",true,null],"a":{}}"#).unwrap_or(Value::Null);
    let expected = Value::Object(vec![
        (
            "a".to_owned(),
            Value::Array(vec![
                number(1),
                Value::Number((-2).into()),
                Value::Number(Number::from_f64(2.5).unwrap_or(0.into())),
                string("x"),
                Value::Bool(true),
                Value::Null,
            ]),
        ),
        ("a".to_owned(), Value::Object(Vec::new())),
    ]);
    assert_eq!(value, expected);
    assert_eq!(
        serde_json::to_string(&Value::Binary(vec![1, 2])).ok(),
        Some("[1,2]".to_owned())
    );
}
