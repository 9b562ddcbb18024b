//! JSON text that is known to be exactly one valid JSON value.
//!
//! Owns validation and cheap inspection of payload text (its kind, the elements of an
//! array) without building a tree: payloads stay text so the browser's native
//! `JSON.parse` can build the JavaScript values. It must not know about packets.

use serde::Serialize;
use serde_json::value::RawValue;

use super::ProtocolError;

/// `Number.MAX_SAFE_INTEGER`: the largest integer every JavaScript peer reads exactly.
pub(crate) const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// The text of one valid JSON value, without surrounding whitespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonText(String);

/// The kind of a JSON value, read from its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonKind {
    Object,
    Array,
    String,
    Number,
    Literal,
}

impl JsonKind {
    /// The kind of `json`, which must be valid JSON without leading whitespace.
    pub(crate) fn of(json: &str) -> JsonKind {
        match json.as_bytes().first() {
            Some(b'{') => JsonKind::Object,
            Some(b'[') => JsonKind::Array,
            Some(b'"') => JsonKind::String,
            Some(b'-' | b'0'..=b'9') => JsonKind::Number,
            _ => JsonKind::Literal,
        }
    }
}

impl JsonText {
    /// Validates `text` as exactly one JSON value; surrounding whitespace is dropped.
    pub fn parse(text: impl Into<String>) -> Result<JsonText, ProtocolError> {
        let text = text.into();
        let value: &RawValue =
            serde_json::from_str(&text).map_err(|_| ProtocolError::InvalidJson)?;
        if value.get().len() == text.len() {
            return Ok(JsonText(text));
        }
        Ok(JsonText(value.get().to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// Splits a JSON array into the text of its top-level elements.
    pub fn array_elements(&self) -> Result<Vec<&RawValue>, ProtocolError> {
        serde_json::from_str(&self.0).map_err(|_| ProtocolError::InvalidPayload)
    }

    /// Builds the JSON array `[e1,e2,...]`.
    pub fn array_from_elements(elements: &[&RawValue]) -> JsonText {
        let length = elements.iter().map(|element| element.get().len() + 1);
        let mut text = String::with_capacity(1 + length.sum::<usize>());
        text.push('[');
        for (index, element) in elements.iter().enumerate() {
            if index > 0 {
                text.push(',');
            }
            text.push_str(element.get());
        }
        text.push(']');
        JsonText(text)
    }

    /// Serializes any serde value; fails only for values JSON cannot represent.
    pub fn from_serialize<T: Serialize + ?Sized>(value: &T) -> Result<JsonText, ProtocolError> {
        // serde_json only ever writes valid JSON, so no second validation is needed.
        serde_json::to_string(value)
            .map(JsonText)
            .map_err(|_| ProtocolError::NotSerializable)
    }

    /// Copies a value serde_json already validated; its raw values carry no surrounding
    /// whitespace.
    pub(crate) fn from_raw(value: &RawValue) -> JsonText {
        JsonText(value.get().to_owned())
    }

    pub(crate) fn kind(&self) -> JsonKind {
        JsonKind::of(&self.0)
    }
}
