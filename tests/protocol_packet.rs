//! Socket.IO v5 packets: the wire examples of PROTOCOL.md round-trip through the
//! Engine.IO message that carries them, malformed packets are rejected with the right
//! error, and the CONNECT reply / CONNECT_ERROR payloads are read as documented.
//!
//! Covers `protocol::Packet`, `ConnectReply`, `ConnectErrorPayload` and `JsonText`;
//! binary packets are tested in `protocol_binary.rs`.

use resocket::protocol::{
    ConnectErrorPayload, ConnectReply, EnginePacket, Frame, JsonText, Packet, PacketType,
    ProtocolError,
};

fn json(text: &str) -> JsonText {
    JsonText::parse(text).unwrap_or_else(|error| panic!("{text}: {error}"))
}

/// Decodes a whole WebSocket text frame (`4` + packet) down to the Socket.IO packet.
fn decode_frame(wire: &str) -> Packet {
    let Ok(EnginePacket::Message(Frame::Text(text))) =
        EnginePacket::decode(Frame::Text(wire.to_owned()))
    else {
        panic!("{wire}: not an Engine.IO message");
    };
    Packet::decode(&text).unwrap_or_else(|error| panic!("{wire}: {error}"))
}

#[test]
fn wire_examples_round_trip() {
    let examples = [
        "40",
        r#"40/admin,{"token":"123"}"#,
        r#"42["foo"]"#,
        r#"4212["foo"]"#,
        r#"43/admin,13["bar"]"#,
        r#"44{"message":"Not authorized","data":{"reason":"expired"}}"#,
        "41",
        r#"40{"sid":"oSO0OpakMV_3jnilAAAA","pid":"c7sNGX3ydyvD7yJaAAAB"}"#,
        r#"42["foo","MzUPkW0"]"#,
    ];
    for wire in examples {
        let packet = decode_frame(wire);
        assert_eq!(packet.to_frame(), Frame::Text(wire.to_owned()), "{wire}");
        assert_eq!(packet.encode(), wire[1..], "{wire}");
    }
}

#[test]
fn wire_examples_decode_to_their_fields() {
    let packet = decode_frame(r#"43/admin,13["bar"]"#);
    let expected = Packet::ack("/admin", 13, json(r#"["bar"]"#), 0);
    assert_eq!(packet, expected);
    assert_eq!(packet.kind, PacketType::Ack);

    let expected = Packet::event("/", json(r#"["foo"]"#), Some(12), 0);
    assert_eq!(decode_frame(r#"4212["foo"]"#), expected);
    assert_eq!(decode_frame("40"), Packet::connect("/", None));
    assert_eq!(decode_frame("41"), Packet::disconnect("/"));
    let auth = Some(json(r#"{"token":"123"}"#));
    assert_eq!(
        decode_frame(r#"40/admin,{"token":"123"}"#),
        Packet::connect("/admin", auth)
    );
}

#[test]
fn binary_event_header_decodes_with_its_attachment_count() {
    let packet = Packet::decode(r#"51-["baz",{"_placeholder":true,"num":0}]"#);
    let data = json(r#"["baz",{"_placeholder":true,"num":0}]"#);
    assert_eq!(packet, Ok(Packet::event("/", data, None, 1)));
    let packet = Packet::decode(r#"62-/admin,7[{"_placeholder":true,"num":1}]"#);
    assert_eq!(
        packet.as_ref().map(|packet| packet.kind),
        Ok(PacketType::BinaryAck)
    );
    assert_eq!(
        packet.map(|packet| packet.encode()),
        Ok(r#"62-/admin,7[{"_placeholder":true,"num":1}]"#.to_owned())
    );
}

#[test]
fn lenient_forms_of_the_reference_parser_are_accepted() {
    // A namespace without ',' runs to the end; leading zeros in ids; whitespace around JSON.
    assert_eq!(
        Packet::decode("0/admin").map(|packet| packet.namespace),
        Ok("/admin".to_owned())
    );
    assert_eq!(
        Packet::decode("0/,").map(|packet| packet.namespace),
        Ok("/".to_owned())
    );
    assert_eq!(
        Packet::decode(r#"2007["a"]"#).map(|packet| packet.id),
        Ok(Some(7))
    );
    assert_eq!(
        Packet::decode(r#"2 [ "a" ] "#).map(|packet| packet.encode()),
        Ok(r#"2[ "a" ]"#.to_owned())
    );
    assert_eq!(
        Packet::decode(r#"2[1]"#).map(|packet| packet.kind),
        Ok(PacketType::Event)
    );
    assert_eq!(
        Packet::decode(r#"4"refused""#).map(|packet| packet.kind),
        Ok(PacketType::ConnectError)
    );
    assert_eq!(Packet::decode("4").map(|packet| packet.data), Ok(None));
    assert_eq!(
        Packet::decode(r#"29007199254740991["a"]"#).map(|packet| packet.id),
        Ok(Some(9_007_199_254_740_991))
    );
    assert!(Packet::decode(r#"510000-["a"]"#).is_ok());
}

#[test]
fn malformed_packets_are_rejected() {
    use ProtocolError::*;
    let cases: &[(&str, ProtocolError)] = &[
        ("", EmptyPacket),
        ("7", UnknownPacketType),
        ("9[]", UnknownPacketType),
        ("x", UnknownPacketType),
        ("-1", UnknownPacketType),
        (" 2[\"a\"]", UnknownPacketType),
        ("é", UnknownPacketType),
        // Bad namespaces: without '/' the text is read as data; without ',' it eats the data.
        (r#"2admin,["a"]"#, InvalidJson),
        (r#"2/admin["a"]"#, InvalidPayload),
        // Ack ids.
        (r#"29007199254740992["a"]"#, InvalidAckId),
        (r#"218446744073709551616["a"]"#, InvalidAckId),
        (r#"299999999999999999999999999["a"]"#, InvalidAckId),
        (r#"3["a"]"#, InvalidAckId),
        (r#"3/admin,["a"]"#, InvalidAckId),
        (r#"61-[{"_placeholder":true,"num":0}]"#, InvalidAckId),
        (r#"21.5["a"]"#, InvalidJson),
        (r#"2-1["a"]"#, InvalidJson),
        // Attachment counts.
        (r#"5["a"]"#, InvalidAttachmentCount),
        (r#"5-["a"]"#, InvalidAttachmentCount),
        (r#"50-["a"]"#, InvalidAttachmentCount),
        (r#"5x-["a"]"#, InvalidAttachmentCount),
        (r#"5+1-["a"]"#, InvalidAttachmentCount),
        (r#"510001-["a"]"#, InvalidAttachmentCount),
        (r#"599999999999999999999999-["a"]"#, InvalidAttachmentCount),
        (r#"5["a-b"]"#, InvalidAttachmentCount),
        (r#"61"#, InvalidAttachmentCount),
        // Invalid JSON, trailing garbage.
        (r#"2["a""#, InvalidJson),
        (r#"2["a"]x"#, InvalidJson),
        (r#"2["a"]["b"]"#, InvalidJson),
        (r#"0{"a":1}}"#, InvalidJson),
        (r#"2['a']"#, InvalidJson),
        (r#"2 "#, InvalidJson),
        (r#"2[NaN]"#, InvalidJson),
        // Wrong payload shapes per type.
        (r#"0[]"#, InvalidPayload),
        (r#"0"token""#, InvalidPayload),
        (r#"0null"#, InvalidPayload),
        (r#"1{}"#, InvalidPayload),
        (r#"1/admin,[]"#, InvalidPayload),
        (r#"2"#, InvalidPayload),
        (r#"2{}"#, InvalidPayload),
        (r#"2[]"#, InvalidPayload),
        (r#"2[null]"#, InvalidPayload),
        (r#"2[["a"]]"#, InvalidPayload),
        (r#"2[{"a":1}]"#, InvalidPayload),
        (r#"2[true]"#, InvalidPayload),
        (r#"2"a""#, InvalidPayload),
        (r#"31"#, InvalidPayload),
        (r#"31{}"#, InvalidPayload),
        (r#"31"a""#, InvalidPayload),
        (r#"4[]"#, InvalidPayload),
        (r#"4null"#, InvalidPayload),
        (r#"4true"#, InvalidPayload),
        (r#"51-{}"#, InvalidPayload),
        (r#"51-[]"#, InvalidPayload),
        (r#"61-1{}"#, InvalidPayload),
        // Reserved event names, escaped spellings included.
        (r#"2["connect"]"#, ReservedEventName),
        (r#"2["connect_error",1]"#, ReservedEventName),
        (r#"2["disconnect"]"#, ReservedEventName),
        (r#"2/admin,5["disconnecting"]"#, ReservedEventName),
        (r#"2["newListener"]"#, ReservedEventName),
        (r#"2["removeListener"]"#, ReservedEventName),
        (r#"2["\u0063onnect"]"#, ReservedEventName),
        (
            r#"51-["disconnect",{"_placeholder":true,"num":0}]"#,
            ReservedEventName,
        ),
    ];
    assert!(cases.len() >= 30);
    for (wire, expected) in cases {
        assert_eq!(Packet::decode(wire), Err(*expected), "{wire:?}");
    }
}

#[test]
fn constructors_pick_the_binary_types_by_attachment_count() {
    let data = json("[]");
    assert_eq!(
        Packet::event("/", json(r#"["a"]"#), None, 2).kind,
        PacketType::BinaryEvent
    );
    assert_eq!(Packet::ack("/", 1, data.clone(), 0).kind, PacketType::Ack);
    assert_eq!(Packet::ack("/x", 1, data, 3).encode(), "63-/x,1[]");
    assert_eq!(Packet::connect("", None).encode(), "0");
    assert_eq!(
        Packet::disconnect("/chat").to_frame(),
        Frame::Text("41/chat,".to_owned())
    );
}

#[test]
fn connect_reply_needs_a_sid_and_keeps_a_string_pid() {
    let reply = ConnectReply::parse(Some(&json(r#"{"sid":"s","pid":"p"}"#)));
    let expected = ConnectReply {
        sid: "s".to_owned(),
        pid: Some("p".to_owned()),
    };
    assert_eq!(reply, Ok(expected));
    let reply = ConnectReply::parse(Some(&json(r#"{"pid":7,"sid":"s\u0041","x":[]}"#)));
    assert_eq!(
        reply,
        Ok(ConnectReply {
            sid: "sA".to_owned(),
            pid: None
        })
    );

    let reply = ConnectReply::parse(Some(&json(r#"{"sid":"a","pid":"p","sid":"b","pid":null}"#)));
    assert_eq!(
        reply,
        Ok(ConnectReply {
            sid: "b".to_owned(),
            pid: None
        })
    );

    for data in [
        None,
        Some("{}"),
        Some(r#"{"sid":""}"#),
        Some(r#"{"sid":"\udc00"}"#),
        Some(r#"{"sid":"s","sid":1}"#),
        Some(r#"{"sid":1}"#),
        Some(r#"["s"]"#),
        Some(r#""s""#),
    ] {
        let data = data.map(json);
        assert_eq!(
            ConnectReply::parse(data.as_ref()),
            Err(ProtocolError::InvalidConnectReply),
            "{data:?}"
        );
    }
}

#[test]
fn connect_reply_debug_hides_the_private_session_id() {
    let reply = ConnectReply {
        sid: "public".to_owned(),
        pid: Some("secret".to_owned()),
    };
    let debug = format!("{reply:?}");
    assert!(
        debug.contains("public") && !debug.contains("secret"),
        "{debug}"
    );
}

#[test]
fn connect_error_payload_reads_every_shape() {
    let parse = |data: Option<&str>| ConnectErrorPayload::parse(data.map(json).as_ref());
    let refused = |message: &str, data: Option<&str>| ConnectErrorPayload {
        message: message.to_owned(),
        data: data.map(json),
    };
    assert_eq!(
        parse(Some(r#"{"message":"no","data":{"code":4}}"#)),
        refused("no", Some(r#"{"code":4}"#))
    );
    assert_eq!(parse(Some(r#"{"message":"no"}"#)), refused("no", None));
    assert_eq!(parse(Some(r#""v4 style""#)), refused("v4 style", None));
    let generic = "connection refused by the server";
    assert_eq!(
        parse(Some(r#"{"message":5,"data":[1]}"#)),
        refused(generic, Some("[1]"))
    );
    // Of duplicate members the last counts, as with `JSON.parse`.
    assert_eq!(
        parse(Some(
            r#"{"message":"a","message":"b","data":1,"data":null}"#
        )),
        refused("b", None)
    );
    assert_eq!(
        parse(Some(r#"{"message":"\ud800","data":2}"#)),
        refused(generic, Some("2"))
    );
    assert_eq!(parse(Some("[1]")), refused(generic, None));
    assert_eq!(parse(Some("12")), refused(generic, None));
    assert_eq!(parse(None), refused(generic, None));
}

#[test]
fn json_text_validates_trims_and_splits() {
    assert_eq!(
        JsonText::parse(" [1, \"a\"] \n").map(JsonText::into_string),
        Ok("[1, \"a\"]".to_owned())
    );
    for invalid in [
        "",
        " ",
        "[1,]",
        "{'a':1}",
        "1 2",
        "\"a",
        "[1]]",
        "undefined",
    ] {
        assert_eq!(
            JsonText::parse(invalid),
            Err(ProtocolError::InvalidJson),
            "{invalid:?}"
        );
    }

    let array = json(r#"[ "foo" , {"a":[1,2]}, 3 ]"#);
    let elements = array.array_elements().unwrap_or_default();
    assert_eq!(elements, [r#""foo""#, r#"{"a":[1,2]}"#, "3"]);
    let rebuilt = JsonText::array_from_elements(elements.get(1..).unwrap_or_default());
    assert_eq!(rebuilt.as_str(), r#"[{"a":[1,2]},3]"#);
    assert_eq!(JsonText::array_from_elements(&[]).as_str(), "[]");
    assert_eq!(
        json("{}").array_elements().err(),
        Some(ProtocolError::InvalidPayload)
    );
}
