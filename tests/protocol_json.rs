//! Differential tests of the hand-written JSON scanner against serde_json, the reference
//! (a dev-dependency only: the library no longer links it).
//!
//! Covers, through `protocol`'s public API: validation (`JsonText::parse`), the split
//! of an array into its elements, the decoding of string literals (a CONNECT_ERROR's
//! message), the reading and writing of whole values (`BinaryMessage::reconstruct` and
//! `deconstruct`) and the placeholder check of binary packets.
//!
//! The scanner follows `JSON.parse`, since the peer is a JavaScript server. Where that
//! and serde_json differ, these are the deliberate differences (each checked below):
//! - Nesting: arrays and objects nest at most 1024 deep (`JSON.parse` has no practical
//!   bound; serde_json's `RawValue` has none, its `Deserializer` stops at 128). Deeper
//!   text is rejected, so that nothing recursive ever walks it.
//! - Escaped lone surrogates (`"\ud800"`): valid JSON for `JSON.parse`, `RawValue` and
//!   the scanner alike. A Rust string cannot hold one, so decoding such a literal fails,
//!   as with serde_json (`JSON.parse` would keep the lone surrogate).
//! - Numbers beyond `f64` (`1e400`): valid for all three (`JSON.parse` reads
//!   `Infinity`); reading one into a `Value` fails, as with serde_json.
//! - Duplicate keys: text is kept as it is; where the codec reads members (handshake,
//!   CONNECT reply, CONNECT_ERROR) the last one counts, as with `JSON.parse` (serde's
//!   derived structs rejected duplicates). See `protocol_packet.rs`.
//!
//! Whitespace, literals, number syntax, escapes and control characters: no difference
//! (RFC 8259, which both follow exactly).

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use resocket::protocol::{
    BinaryMessage, ConnectErrorPayload, JsonText, Packet, PacketType, ProtocolError, Reassembler,
    Value,
};
use serde_json::value::RawValue;

const GENERIC_MESSAGE: &str = "connection refused by the server";
const MAX_DEPTH: usize = 1024;

/// JSON-like text: mostly valid, with near misses of every token.
fn json_like() -> impl Strategy<Value = String> {
    let whitespace = prop_oneof![
        8 => Just(String::new()),
        4 => "[ \t\n\r]{1,2}",
        1 => select(vec!["\u{a0}", "\u{feff}", "\u{b}", "\u{c}"]).prop_map(str::to_owned),
    ];
    let literal = prop_oneof![
        8 => select(vec!["true", "false", "null"]),
        1 => select(vec!["tru", "nul", "True", "NaN", "Infinity", "undefined", "falsey"]),
    ]
    .prop_map(str::to_owned);
    let number = prop_oneof![
        8 => "-?(0|[1-9][0-9]{0,20})(\\.[0-9]{1,4})?([eE][+-]?[0-9]{1,3})?",
        1 => "[-+]?[0-9]{0,3}\\.?[0-9]{0,2}([eE][+-]?[0-9]{0,2})?",
    ];
    let string = vec(string_piece(), 0..6).prop_map(|pieces| format!("\"{}\"", pieces.concat()));
    let leaf = prop_oneof![
        6 => literal,
        6 => number,
        6 => string,
        1 => Just("\"unterminated".to_owned()),
    ];
    let leaf = (whitespace.clone(), leaf, whitespace.clone())
        .prop_map(|(before, leaf, after)| format!("{before}{leaf}{after}"));
    leaf.prop_recursive(5, 48, 5, move |inner| {
        let key = vec(string_piece(), 0..3).prop_map(|pieces| format!("\"{}\"", pieces.concat()));
        let separator = prop_oneof![12 => Just(","), 1 => Just(""), 1 => Just(",,")];
        let colon = prop_oneof![12 => Just(":"), 1 => Just(""), 1 => Just("=")];
        let close_array = prop_oneof![12 => Just("]"), 1 => Just(",]"), 1 => Just("")];
        let close_object = prop_oneof![12 => Just("}"), 1 => Just(",}"), 1 => Just("]")];
        prop_oneof![
            (vec(inner.clone(), 0..5), separator.clone(), close_array)
                .prop_map(|(items, separator, close)| format!("[{}{close}", items.join(separator))),
            (vec((key, colon, inner), 0..5), separator, close_object).prop_map(
                |(members, separator, close)| {
                    let members: Vec<String> = members
                        .into_iter()
                        .map(|(key, colon, value)| format!("{key}{colon}{value}"))
                        .collect();
                    format!("{{{}{close}", members.join(separator))
                }
            ),
        ]
    })
}

/// A piece of the inside of a string literal: plain text, valid and invalid escapes,
/// surrogate escapes (paired, lone, reversed), raw control characters.
fn string_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "[a-z \u{e9}\u{2028}\u{1f600}/']{1,4}",
        // Long enough for the eight-bytes-at-a-time skip.
        2 => "[a-z0-9 \u{e9}]{8,20}",
        4 => select(vec![
            "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u0041", "\\u00e9",
            "\\u0000", "\\u001f", "\\uFFFF", "\\ud83d\\ude00", "\\uD83D\\uDE00",
        ])
        .prop_map(str::to_owned),
        2 => "\\\\u[0-9a-fA-F]{4}",
        // Around the surrogate ranges D800-DBFF, DC00-DFFF, so that pairs of every kind
        // (and their edges: DBFF, DC00, DFFF, E000) come up.
        3 => "\\\\u[dDeE][789a-fA-F][0-9a-fA-F]{2}",
        1 => "\\\\u[dD][bBcC][fF0][fF0]",
        2 => select(vec![
            "\\ud800", "\\udfff", "\\ude00\\ud83d", "\\ud83d\\u0041", "\\ud83dx", "\\ud83d\\",
            "\\ud83d\\n",
        ])
        .prop_map(str::to_owned),
        1 => select(vec![
            "\\", "\\x", "\\'", "\\U0041", "\\u12", "\\u12g4", "\\0", "\u{0}", "\u{1f}", "\t",
            "\n", "\u{7f}", "\"",
        ])
        .prop_map(str::to_owned),
    ]
}

/// One random edit of `text`: a character deleted, inserted or replaced.
fn mutated(text: String) -> impl Strategy<Value = String> {
    let length = text.chars().count();
    let replacement = select(vec![
        "", "[", "]", "{", "}", ",", ":", "\"", "\\", "0", "-", ".", "e", " ", "\n", "x", "\u{0}",
    ]);
    (0..=length, 0..2usize, replacement).prop_map(move |(at, removed, inserted)| {
        let mut chars: Vec<char> = text.chars().collect();
        let end = (at + removed).min(chars.len());
        chars.splice(at..end, inserted.chars());
        chars.into_iter().collect()
    })
}

/// Accepts exactly what serde_json's `RawValue` accepts, keeps the same text, and
/// splits arrays the same way.
fn check_validation(text: &str) -> Result<(), TestCaseError> {
    let ours = JsonText::parse(text);
    let reference = serde_json::from_str::<&RawValue>(text);
    match (&ours, &reference) {
        (Ok(ours), Ok(raw)) => prop_assert_eq!(ours.as_str(), raw.get()),
        (Err(error), Err(_)) => prop_assert_eq!(*error, ProtocolError::InvalidJson),
        _ => prop_assert!(
            false,
            "{text:?}: ours {ours:?}, serde_json {:?}",
            reference.map(RawValue::get)
        ),
    }
    if let Ok(json) = ours {
        let ours = json.array_elements();
        let reference = serde_json::from_str::<Vec<&RawValue>>(text);
        match (ours, reference) {
            (Ok(ours), Ok(reference)) => {
                let reference: Vec<&str> = reference.iter().map(|raw| raw.get()).collect();
                prop_assert_eq!(ours, reference);
            }
            (Err(error), Err(_)) => {
                prop_assert_eq!(error, ProtocolError::InvalidPayload);
                prop_assert!(!json.as_str().starts_with('['));
            }
            (ours, reference) => prop_assert!(
                false,
                "{text:?}: ours {ours:?}, serde_json {:?}",
                reference.map(|items| items.len())
            ),
        }
    }
    Ok(())
}

/// The data of a plain packet as a `Value`, as `reconstruct` reads it.
fn value_of(json: JsonText) -> Result<Option<Value>, ProtocolError> {
    BinaryMessage {
        packet: Packet::event("/", json, None, 0),
        attachments: Vec::new(),
    }
    .reconstruct()
}

/// Reads values as serde_json does (through `Value`'s `Deserialize`): same tree, same
/// failures.
fn check_value(text: &str) -> Result<(), TestCaseError> {
    let Ok(json) = JsonText::parse(text) else {
        return Ok(());
    };
    let ours = value_of(json);
    match (ours, serde_json::from_str::<Value>(text)) {
        (Ok(ours), Ok(reference)) => prop_assert_eq!(ours, Some(reference)),
        (Err(error), Err(_)) => prop_assert_eq!(error, ProtocolError::InvalidJson),
        (ours, reference) => prop_assert!(false, "{text:?}: ours {ours:?}, serde {reference:?}"),
    }
    Ok(())
}

/// Decodes string literals as serde_json does.
fn check_string(literal: &str) -> Result<(), TestCaseError> {
    let Ok(json) = JsonText::parse(literal) else {
        prop_assert!(serde_json::from_str::<&RawValue>(literal).is_err());
        return Ok(());
    };
    let message = ConnectErrorPayload::parse(Some(&json)).message;
    match serde_json::from_str::<String>(literal) {
        Ok(reference) => prop_assert_eq!(message, reference),
        Err(_) => prop_assert_eq!(message, GENERIC_MESSAGE),
    }
    Ok(())
}

fn serde_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value as Json;
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::from),
        any::<u64>().prop_map(Json::from),
        any::<f64>().prop_filter_map("finite", |n| serde_json::Number::from_f64(n)
            .map(Json::Number)),
        any::<String>().prop_map(Json::String),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Json::Array),
            vec((any::<String>(), inner), 0..4)
                .prop_map(|entries| Json::Object(entries.into_iter().collect())),
        ]
    })
}

/// Values of integers, strings and containers: what serde_json and the codec write
/// identically (floats are written differently but read back the same).
fn exact_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| Value::Number(n.into())),
        any::<u64>().prop_map(|n| Value::Number(n.into())),
        any::<String>().prop_map(Value::String),
        "[\u{0}-\u{1f}\"\\\\/a\u{7f}\u{2028}]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            vec((any::<String>(), inner), 0..4).prop_map(Value::Object),
        ]
    })
}

/// Values with objects that look more or less like placeholders.
fn placeholder_value() -> impl Strategy<Value = Value> {
    let scalar = select(vec![
        Value::Bool(true),
        Value::Bool(false),
        Value::Null,
        Value::Number(0u64.into()),
        Value::Number(1u64.into()),
        Value::Number(2u64.into()),
        Value::Number(7u64.into()),
        Value::Number((-1i64).into()),
        Value::Number(u64::MAX.into()),
        Value::String("1".to_owned()),
    ]);
    let key =
        select(vec!["_placeholder", "_placeholder", "num", "num", "x"]).prop_map(str::to_owned);
    scalar.prop_recursive(4, 24, 4, move |inner| {
        prop_oneof![
            vec(inner.clone(), 0..3).prop_map(Value::Array),
            vec((key.clone(), inner), 0..4).prop_map(Value::Object),
        ]
    })
}

/// The placeholder rule on a tree: an object whose last `_placeholder` is `true` names,
/// by its last `num`, an attachment that exists.
fn placeholders_are_valid(value: &Value, attachments: u64) -> bool {
    match value {
        Value::Array(items) => items
            .iter()
            .all(|item| placeholders_are_valid(item, attachments)),
        Value::Object(entries) => {
            let last = |name: &str| entries.iter().rev().find(|(key, _)| key == name);
            let marked = matches!(last("_placeholder"), Some((_, Value::Bool(true))));
            let index = match last("num") {
                Some((_, Value::Number(number))) => number.as_u64(),
                _ => None,
            };
            let named = !marked || index.is_some_and(|index| index < attachments);
            named
                && entries
                    .iter()
                    .all(|(_, value)| placeholders_are_valid(value, attachments))
        }
        _ => true,
    }
}

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn validation_agrees_on_json_like_text(text in json_like()) {
        check_validation(&text)?;
        check_value(&text)?;
    }

    #[test]
    fn validation_agrees_on_edited_json(text in json_like().prop_flat_map(mutated)) {
        check_validation(&text)?;
        check_value(&text)?;
    }

    #[test]
    fn validation_agrees_on_arbitrary_text(
        text in prop_oneof![any::<String>(), "[\\[\\]{}\",:0-9eE.+\\-tfnrulas \\\\/u]{0,24}"],
    ) {
        check_validation(&text)?;
    }

    #[test]
    fn string_decoding_agrees(pieces in vec(string_piece(), 0..8)) {
        check_string(&format!("\"{}\"", pieces.concat()))?;
    }

    #[test]
    fn serde_json_output_is_valid_and_reads_back(value in serde_value()) {
        for text in [value.to_string(), serde_json::to_string_pretty(&value).unwrap_or_default()] {
            check_validation(&text)?;
            check_value(&text)?;
        }
        if let serde_json::Value::String(text) = &value {
            check_string(&serde_json::to_string(text).unwrap_or_default())?;
        }
    }

    #[test]
    fn values_are_written_as_serde_json_writes_them(value in exact_value()) {
        let message = BinaryMessage::deconstruct(PacketType::Event, "/", None, value.clone());
        let written = message.packet.data.map(JsonText::into_string);
        prop_assert_eq!(written, serde_json::to_string(&value).ok());
    }

    #[test]
    fn floats_are_written_as_json_that_reads_back(value in any::<f64>()) {
        let Some(number) = resocket::protocol::Number::from_f64(value) else {
            return Ok(());
        };
        let message = BinaryMessage::deconstruct(PacketType::Event, "/", None, Value::Number(number));
        let text = message.packet.data.map(JsonText::into_string).unwrap_or_default();
        prop_assert_eq!(serde_json::from_str::<f64>(&text).ok(), Some(value), "{}", text);
    }

    #[test]
    fn placeholders_are_checked_as_on_the_tree(value in placeholder_value(), attachments in 1u64..4) {
        let text = serde_json::to_string(&value).unwrap_or_default();
        let data = JsonText::parse(text).map_err(|error| TestCaseError::fail(error.message()))?;
        let mut reassembler = Reassembler::default();
        let mut completed = reassembler.push_packet(Packet::ack("/", 1, data, attachments as usize), usize::MAX);
        for index in 0..attachments {
            prop_assert_eq!(completed, Ok(None));
            completed = reassembler.push_attachment(vec![index as u8], usize::MAX);
        }
        let expected = placeholders_are_valid(&value, attachments);
        prop_assert_eq!(completed.is_ok(), expected, "{:?}", completed);
        if !expected {
            prop_assert_eq!(completed.err(), Some(ProtocolError::InvalidPlaceholder));
        }
    }
}

#[test]
fn lone_surrogates_are_valid_json_but_not_rust_strings() {
    for literal in [r#""\ud800""#, r#""\udfff""#, r#""a\ude00\ud83d""#] {
        assert!(JsonText::parse(literal).is_ok(), "{literal}");
        assert!(
            serde_json::from_str::<&RawValue>(literal).is_ok(),
            "{literal}"
        );
        assert!(
            serde_json::from_str::<String>(literal).is_err(),
            "{literal}"
        );
        check_string(literal).unwrap_or_else(|error| panic!("{error}"));
    }
    check_string(r#""\ud83d\ude00""#).unwrap_or_else(|error| panic!("{error}"));
}

#[test]
fn special_bytes_are_found_at_every_offset_of_long_strings() {
    for special in [
        "\u{0}", "\u{1f}", "\t", "\n", "\"", "\\", "\\n", "\u{7f}", "\u{e9}",
    ] {
        for offset in 0..20 {
            for length in [offset, offset + 1, offset + 9, 24] {
                let before = "a".repeat(offset);
                let after = "b".repeat(length - offset);
                let literal = format!("\"{before}{special}{after}\"");
                check_validation(&literal).unwrap_or_else(|error| panic!("{error}"));
                check_string(&literal).unwrap_or_else(|error| panic!("{error}"));
            }
        }
    }
}

#[test]
fn surrogate_edges_decode_as_with_serde_json() {
    let edges = ["d7ff", "D800", "dbff", "DC00", "dfff", "e000", "0041"];
    for first in edges {
        check_string(&format!(r#""\u{first}""#)).unwrap_or_else(|error| panic!("{error}"));
        for second in edges {
            for between in ["", "x", "\\n"] {
                let literal = format!(r#""\u{first}{between}\u{second}""#);
                check_string(&literal).unwrap_or_else(|error| panic!("{error}"));
            }
        }
    }
}

#[test]
fn numbers_beyond_f64_are_valid_text_but_not_values() {
    for text in ["1e400", "-1e400", "[1e999]"] {
        let json = JsonText::parse(text).unwrap_or_else(|error| panic!("{text}: {error}"));
        assert!(serde_json::from_str::<&RawValue>(text).is_ok());
        assert_eq!(value_of(json), Err(ProtocolError::InvalidJson), "{text}");
        assert!(serde_json::from_str::<Value>(text).is_err());
    }
    // Underflow is zero, for both.
    let tiny = JsonText::parse("1e-400").unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(
        value_of(tiny).ok().flatten(),
        serde_json::from_str("1e-400").ok()
    );
}

#[test]
fn nesting_is_bounded_at_1024_levels() {
    assert!(JsonText::parse(nested(MAX_DEPTH)).is_ok());
    assert_eq!(
        JsonText::parse(nested(MAX_DEPTH + 1)),
        Err(ProtocolError::InvalidJson)
    );
    let deep_object = format!(
        "{}1{}",
        r#"{"a":"#.repeat(MAX_DEPTH + 1),
        "}".repeat(MAX_DEPTH + 1)
    );
    assert_eq!(
        JsonText::parse(deep_object),
        Err(ProtocolError::InvalidJson)
    );
    // serde_json's RawValue has no bound.
    assert!(serde_json::from_str::<&RawValue>(&nested(100_000)).is_ok());
    // Far deeper text is rejected without exhausting the stack.
    assert_eq!(
        JsonText::parse(nested(1_000_000)),
        Err(ProtocolError::InvalidJson)
    );
    // Values read at the bound are fine, then dropped without exhausting the stack.
    let deepest = JsonText::parse(nested(MAX_DEPTH)).unwrap_or_else(|error| panic!("{error}"));
    assert!(matches!(value_of(deepest), Ok(Some(Value::Array(_)))));
}

#[test]
fn whitespace_is_only_the_four_json_characters() {
    for text in [" 1", "\t1", "\n1", "\r1", "1 \t\n\r"] {
        assert!(JsonText::parse(text).is_ok(), "{text:?}");
    }
    for text in ["\u{a0}1", "\u{feff}1", "\u{b}1", "\u{c}1", "1\u{2028}"] {
        assert_eq!(
            JsonText::parse(text),
            Err(ProtocolError::InvalidJson),
            "{text:?}"
        );
    }
}
