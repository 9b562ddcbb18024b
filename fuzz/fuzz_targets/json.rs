//! Differential fuzz target for the JSON scanner: arbitrary text through the codec's
//! JSON handling and through serde_json, the reference.
//!
//! Owns nothing but this harness; it uses `resocket::protocol`'s public API only. The
//! deliberate differences (see `tests/protocol_json.rs`) are allowed for: nesting
//! beyond 1024 levels is rejected by the codec only, and serde_json's `Deserializer`
//! stops reading values at 128 levels.

#![no_main]

use libfuzzer_sys::fuzz_target;
use resocket::protocol::{BinaryMessage, ConnectErrorPayload, JsonText, Packet, Value};
use serde_json::value::RawValue;

const GENERIC_MESSAGE: &str = "connection refused by the server";

fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let containers = text.bytes().filter(|&byte| byte == b'[' || byte == b'{').count();
    let ours = JsonText::parse(text);
    let reference = serde_json::from_str::<&RawValue>(text);
    let json = match (ours, reference) {
        (Ok(ours), Ok(raw)) => {
            assert_eq!(ours.as_str(), raw.get());
            ours
        }
        (Err(_), Err(_)) => return,
        (Err(_), Ok(_)) => {
            assert!(containers > 1024, "rejected valid JSON {text:?}");
            return;
        }
        (Ok(_), Err(error)) => panic!("accepted invalid JSON {text:?}: {error}"),
    };

    match (json.array_elements(), serde_json::from_str::<Vec<&RawValue>>(text)) {
        (Ok(ours), Ok(reference)) => {
            let reference: Vec<&str> = reference.iter().map(|raw| raw.get()).collect();
            assert_eq!(ours, reference);
        }
        (Err(_), Err(_)) => assert!(!json.as_str().starts_with('[')),
        (ours, reference) => panic!("{text:?}: {ours:?} / {reference:?}"),
    }

    if json.as_str().starts_with('"') {
        let message = ConnectErrorPayload::parse(Some(&json)).message;
        match serde_json::from_str::<String>(text) {
            Ok(reference) => assert_eq!(message, reference),
            Err(_) => assert_eq!(message, GENERIC_MESSAGE),
        }
    }

    let ours = BinaryMessage {
        packet: Packet::event("/", json, None, 0),
        attachments: Vec::new(),
    }
    .reconstruct();
    match (ours, serde_json::from_str::<Value>(text)) {
        (Ok(ours), Ok(reference)) => assert_eq!(ours, Some(reference)),
        (Err(_), Err(_)) => {}
        (Ok(_), Err(_)) => assert!(containers >= 127, "{text:?}"),
        (Err(error), Ok(_)) => panic!("{text:?}: {error}"),
    }
});
