//! A JSON value that may hold binary leaves.
//!
//! Owns the Rust-side data model used by the Rust API and by binary reconstruction, and
//! its conversions from and to JSON text and serde. It must not know the wire's
//! placeholder convention (that is `reassembly`), and payloads bound for JavaScript must
//! not pass through it: they stay JSON text.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, Serializer};
use std::fmt;

use super::scan::{self, Token};
use super::{write, Number};

/// A JSON value, plus binary leaves. Objects keep their keys in order, duplicates
/// included.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Binary(Vec<u8>),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl Value {
    /// Reads one JSON value (whitespace around it allowed). `None` if `json` is not
    /// valid JSON, or holds what a `Value` cannot: a string escaping a lone surrogate,
    /// a number beyond the range of `f64`.
    pub(crate) fn from_json(json: &str) -> Option<Value> {
        // The containers being filled, each with the key it will have in its parent.
        let mut open: Vec<(Option<String>, Value)> = Vec::new();
        let mut key: Option<String> = None;
        let mut root = None;
        let mut place =
            |open: &mut Vec<(Option<String>, Value)>, key: Option<String>, value| match open
                .last_mut()
            {
                Some((_, Value::Array(items))) => items.push(value),
                Some((_, Value::Object(entries))) => entries.push((key.unwrap_or_default(), value)),
                _ => root = Some(value),
            };
        scan::walk(json, &mut |token| {
            let value = match token {
                Token::Open { object } => {
                    let container = if object {
                        Value::Object(Vec::new())
                    } else {
                        Value::Array(Vec::new())
                    };
                    open.push((key.take(), container));
                    return true;
                }
                Token::Key(raw) => {
                    key = scan::decode_string(raw).map(String::from);
                    return key.is_some();
                }
                Token::Scalar(raw) => match Value::scalar(raw) {
                    Some(value) => value,
                    None => return false,
                },
                Token::Close => match open.pop() {
                    Some((parent_key, container)) => {
                        key = parent_key;
                        container
                    }
                    None => return false,
                },
            };
            place(&mut open, key.take(), value);
            true
        })?;
        root
    }

    fn scalar(raw: &str) -> Option<Value> {
        match raw.as_bytes().first()? {
            b'n' => Some(Value::Null),
            b't' => Some(Value::Bool(true)),
            b'f' => Some(Value::Bool(false)),
            b'"' => scan::decode_string(raw).map(|text| Value::String(text.into())),
            _ => Number::parse(raw).map(Value::Number),
        }
    }

    /// Appends the value as JSON text; binary leaves become arrays of numbers, as with
    /// serde_json.
    pub(crate) fn write_json(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(true) => out.push_str("true"),
            Value::Bool(false) => out.push_str("false"),
            Value::Number(number) => number.write(out),
            Value::String(text) => write::push_string(out, text),
            Value::Binary(bytes) => {
                out.push('[');
                for (index, &byte) in bytes.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    write::push_decimal(out, u64::from(byte));
                }
                out.push(']');
            }
            Value::Array(items) => {
                out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Value::Object(entries) => {
                out.push('{');
                for (index, (key, value)) in entries.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    write::push_string(out, key);
                    out.push(':');
                    value.write_json(out);
                }
                out.push('}');
            }
        }
    }
}

/// Binary leaves serialize as bytes, which serde_json writes as an array of numbers; on
/// the wire they travel as attachments instead (see `BinaryMessage::deconstruct`).
impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(value) => serializer.serialize_bool(*value),
            Value::Number(number) => number.serialize(serializer),
            Value::String(text) => serializer.serialize_str(text),
            Value::Binary(bytes) => serializer.serialize_bytes(bytes),
            Value::Array(items) => serializer.collect_seq(items),
            Value::Object(entries) => {
                serializer.collect_map(entries.iter().map(|(key, value)| (key, value)))
            }
        }
    }
}

/// Bytes (from formats that have them) become binary leaves; a float that is not a
/// JSON number becomes `Null`, as in `serde_json::Value`.
impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value or bytes")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Value::deserialize(deserializer)
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_bytes<E: de::Error>(self, value: &[u8]) -> Result<Value, E> {
        Ok(Value::Binary(value.to_vec()))
    }

    fn visit_byte_buf<E: de::Error>(self, value: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Binary(value))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Value::Object(entries))
    }
}
