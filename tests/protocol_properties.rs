//! Properties of the whole codec: decoding never panics, whatever arrives; valid
//! packets survive encode then decode; values with binary leaves survive deconstruction,
//! the wire and reconstruction.
//!
//! Covers `protocol` as a black box through its public API only.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use resocket::protocol::{
    BinaryMessage, EnginePacket, Frame, Handshake, JsonText, Number, Packet, PacketType,
    ProtocolError, Reassembler, Value, RESERVED_EVENTS,
};
use serde_json::Value as Json;

const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

const ALL_TYPES: [PacketType; 7] = [
    PacketType::Connect,
    PacketType::Disconnect,
    PacketType::Event,
    PacketType::Ack,
    PacketType::ConnectError,
    PacketType::BinaryEvent,
    PacketType::BinaryAck,
];

/// Floats with few significant digits, which JSON text carries exactly.
fn float() -> impl Strategy<Value = serde_json::Number> {
    any::<i32>().prop_filter_map("finite", |n| {
        serde_json::Number::from_f64(f64::from(n) / 8.0)
    })
}

fn json_value() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::from),
        float().prop_map(Json::Number),
        any::<String>().prop_map(Json::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Json::Array),
            vec((any::<String>(), inner), 0..4)
                .prop_map(|entries| Json::Object(entries.into_iter().collect())),
        ]
    })
}

fn json_text(value: &Json) -> JsonText {
    JsonText::parse(value.to_string()).expect("serde_json writes valid JSON")
}

fn object() -> impl Strategy<Value = JsonText> {
    vec((any::<String>(), json_value()), 0..4)
        .prop_map(|entries| json_text(&Json::Object(entries.into_iter().collect())))
}

fn array() -> impl Strategy<Value = JsonText> {
    vec(json_value(), 0..4).prop_map(|items| json_text(&Json::Array(items)))
}

fn event_name() -> impl Strategy<Value = String> {
    any::<String>().prop_filter("not reserved", |name| {
        !RESERVED_EVENTS.contains(&name.as_str())
    })
}

fn event_data() -> impl Strategy<Value = JsonText> {
    let name = prop_oneof![
        event_name().prop_map(Json::String),
        any::<i64>().prop_map(Json::from)
    ];
    (name, vec(json_value(), 0..4)).prop_map(|(name, mut arguments)| {
        arguments.insert(0, name);
        json_text(&Json::Array(arguments))
    })
}

fn data_for(kind: PacketType) -> BoxedStrategy<Option<JsonText>> {
    match kind {
        PacketType::Connect => proptest::option::of(object()).boxed(),
        PacketType::Disconnect => Just(None).boxed(),
        PacketType::Event | PacketType::BinaryEvent => event_data().prop_map(Some).boxed(),
        PacketType::Ack | PacketType::BinaryAck => array().prop_map(Some).boxed(),
        PacketType::ConnectError => prop_oneof![
            Just(None),
            any::<String>().prop_map(|message| Some(json_text(&Json::String(message)))),
            object().prop_map(Some),
        ]
        .boxed(),
    }
}

fn namespace() -> impl Strategy<Value = String> {
    prop_oneof![Just("/".to_owned()), "/[^,]{0,12}"]
}

fn valid_packet() -> impl Strategy<Value = Packet> {
    let id = proptest::option::of(0..=MAX_SAFE_INTEGER);
    (select(ALL_TYPES.to_vec()), namespace(), id, 1usize..=10_000).prop_flat_map(
        |(kind, namespace, id, attachments)| {
            let is_ack = matches!(kind, PacketType::Ack | PacketType::BinaryAck);
            let is_binary = matches!(kind, PacketType::BinaryEvent | PacketType::BinaryAck);
            data_for(kind).prop_map(move |data| Packet {
                kind,
                namespace: namespace.clone(),
                id: if is_ack {
                    Some(id.unwrap_or_default())
                } else {
                    id
                },
                data,
                attachments: if is_binary { attachments } else { 0 },
            })
        },
    )
}

fn handshake() -> impl Strategy<Value = Handshake> {
    let number = || 0..=MAX_SAFE_INTEGER;
    let sid = any::<String>().prop_filter("non-empty", |sid| !sid.is_empty());
    (
        sid,
        vec(any::<String>(), 0..3),
        number(),
        number(),
        number(),
    )
        .prop_map(
            |(sid, upgrades, ping_interval, ping_timeout, max_payload)| Handshake {
                sid,
                upgrades,
                ping_interval,
                ping_timeout,
                max_payload,
            },
        )
}

fn engine_packet() -> impl Strategy<Value = EnginePacket> {
    prop_oneof![
        handshake().prop_map(EnginePacket::Open),
        Just(EnginePacket::Close),
        any::<String>().prop_map(EnginePacket::Ping),
        any::<String>().prop_map(EnginePacket::Pong),
        any::<String>().prop_map(|text| EnginePacket::Message(Frame::Text(text))),
        any::<Vec<u8>>().prop_map(|bytes| EnginePacket::Message(Frame::Binary(bytes))),
        any::<String>().prop_map(EnginePacket::Upgrade),
        any::<String>().prop_map(EnginePacket::Noop),
    ]
}

fn placeholders(count: usize) -> impl Strategy<Value = String> {
    let placeholder = (any::<bool>(), 0u8..4)
        .prop_map(|(marked, num)| format!(r#"{{"_placeholder":{marked},"num":{num}}}"#));
    vec(placeholder, 0..count).prop_map(|items| format!(r#"["e",{}]"#, items.join(",")))
}

/// Text shaped like Socket.IO packets, sometimes cut short, so that decoding gets past
/// the type digit and exercises every later rule.
fn packet_like_text() -> impl Strategy<Value = String> {
    let prefix = prop_oneof![
        "[0-7]([0-9]{0,2}-)?(/[a-z0-9,]{0,4},)?[0-9]{0,4}",
        "[23](/[a-z0-9]{0,4},)?[0-9]{1,4}",
        "[56][1-3]-(/[a-z0-9]{0,4},)?[0-9]{0,4}",
    ];
    let body = prop_oneof![
        json_value().prop_map(|value| value.to_string()),
        placeholders(4)
    ];
    let cut = proptest::option::of(any::<prop::sample::Index>());
    (prefix, body, cut).prop_map(|(prefix, body, cut)| {
        let cut = cut.map_or(body.len(), |cut| cut.index(body.len() + 1));
        format!("{prefix}{}", body.get(..cut).unwrap_or(&body))
    })
}

/// What the core does with each frame.
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
        _ => Ok(None),
    }
}

fn binary(bytes: Vec<u8>) -> Frame {
    Frame::Binary(bytes)
}

/// A binary event header followed by about as many attachments as it announces.
fn binary_group() -> impl Strategy<Value = Vec<Frame>> {
    (1usize..4).prop_flat_map(|count| {
        let header =
            placeholders(count + 1).prop_map(move |data| Frame::Text(format!("45{count}-{data}")));
        (
            header,
            vec(vec(any::<u8>(), 0..4).prop_map(binary), 0..=count + 1),
        )
            .prop_map(|(header, mut frames)| {
                frames.insert(0, header);
                frames
            })
    })
}

fn frames() -> impl Strategy<Value = Vec<Frame>> {
    let single = prop_oneof![
        packet_like_text().prop_map(|text| Frame::Text(format!("4{text}"))),
        any::<String>().prop_map(Frame::Text),
        vec(any::<u8>(), 0..8).prop_map(binary),
    ];
    let group = prop_oneof![single.prop_map(|frame| vec![frame]), binary_group()];
    vec(group, 0..8).prop_map(|groups| groups.concat())
}

fn value_key() -> impl Strategy<Value = String> {
    any::<String>().prop_filter("not the placeholder marker", |key| key != "_placeholder")
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| Value::Number(n.into())),
        any::<u64>().prop_map(|n| Value::Number(n.into())),
        float().prop_filter_map("finite", |n| Number::from_f64(n.as_f64()?)
            .map(Value::Number)),
        any::<String>().prop_map(Value::String),
        vec(any::<u8>(), 0..16).prop_map(Value::Binary),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            vec((value_key(), inner), 0..4).prop_map(Value::Object),
        ]
    })
}

fn has_binary(value: &Value) -> bool {
    match value {
        Value::Binary(_) => true,
        Value::Array(items) => items.iter().any(has_binary),
        Value::Object(entries) => entries.iter().any(|(_, value)| has_binary(value)),
        _ => false,
    }
}

proptest! {
    #[test]
    fn engine_decode_never_panics_on_text(text in any::<String>()) {
        let _ = EnginePacket::decode(Frame::Text(text));
    }

    #[test]
    fn engine_decode_never_panics_on_bytes(bytes in any::<Vec<u8>>()) {
        let _ = EnginePacket::decode(Frame::Text(String::from_utf8_lossy(&bytes).into_owned()));
        let decoded = EnginePacket::decode(Frame::Binary(bytes.clone()));
        prop_assert_eq!(decoded, Ok(EnginePacket::Message(Frame::Binary(bytes))));
    }

    #[test]
    fn packet_decode_never_panics(text in any::<String>()) {
        let _ = Packet::decode(&text);
    }

    #[test]
    fn packet_decode_of_packet_like_text_is_stable(text in packet_like_text()) {
        // Whatever decodes must encode to text that decodes to the same packet.
        if let Ok(packet) = Packet::decode(&text) {
            prop_assert_eq!(Packet::decode(&packet.encode()), Ok(packet));
        }
    }

    #[test]
    fn reassembler_never_panics_and_completes_consistently(frames in frames()) {
        let mut reassembler = Reassembler::default();
        for frame in frames {
            if let Ok(Some(message)) = feed(&mut reassembler, frame) {
                prop_assert!(reassembler.is_idle());
                prop_assert_eq!(message.attachments.len(), message.packet.attachments);
                if message.packet.attachments > 0 {
                    prop_assert!(message.reconstruct().is_ok(), "{:?}", message);
                }
            }
        }
    }

    #[test]
    fn packets_round_trip(packet in valid_packet()) {
        prop_assert_eq!(Packet::decode(&packet.encode()), Ok(packet.clone()));
        let Frame::Text(frame) = packet.to_frame() else { panic!("a packet is a text frame") };
        prop_assert_eq!(EnginePacket::decode(Frame::Text(frame)), Ok(EnginePacket::Message(Frame::Text(packet.encode()))));
    }

    #[test]
    fn engine_packets_round_trip(packet in engine_packet()) {
        prop_assert_eq!(EnginePacket::decode(packet.encode()), Ok(packet));
    }

    #[test]
    fn values_survive_deconstruction(value in value()) {
        let message = BinaryMessage::deconstruct(PacketType::Event, "/", None, value.clone());
        prop_assert_eq!(message.packet.kind == PacketType::BinaryEvent, has_binary(&value));
        prop_assert_eq!(message.reconstruct(), Ok(Some(value)));
    }

    #[test]
    fn values_survive_the_wire(
        name in event_name(),
        arguments in vec(value(), 0..3),
        is_ack in any::<bool>(),
        namespace in namespace(),
        id in 0..=MAX_SAFE_INTEGER,
    ) {
        let mut items = vec![Value::String(name)];
        items.extend(arguments);
        let data = Value::Array(items);
        let (kind, id) = if is_ack { (PacketType::Ack, Some(id)) } else { (PacketType::Event, None) };
        let sent = BinaryMessage::deconstruct(kind, &namespace, id, data.clone());

        let mut reassembler = Reassembler::default();
        let mut received = None;
        for frame in sent.frames() {
            prop_assert!(received.is_none(), "complete before its last frame");
            received = feed(&mut reassembler, frame)?;
        }
        prop_assert_eq!(received.as_ref(), Some(&sent));
        prop_assert_eq!(sent.reconstruct(), Ok(Some(data)));
    }
}
