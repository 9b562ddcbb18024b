//! JSON text that is known to be exactly one valid JSON value.
//!
//! Owns validation and cheap inspection of payload text (its kind, the elements of an
//! array) without building a tree: payloads stay text so the browser's native
//! `JSON.parse` can build the JavaScript values. It must not know about packets.

#[cfg(all(target_arch = "wasm32", feature = "js-api"))]
use std::borrow::Cow;

use super::{scan, write, ProtocolError};

/// What JSON counts as whitespace around its tokens.
const WHITESPACE: [char; 4] = [' ', '\t', '\n', '\r'];

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
    ///
    /// Accepts what `JSON.parse` accepts (escaped lone surrogates and numbers beyond
    /// the range of `f64` included), up to a nesting depth of 1024 arrays and objects.
    pub fn parse(text: impl Into<String>) -> Result<JsonText, ProtocolError> {
        let text = text.into();
        let value = scan::validate(&text).ok_or(ProtocolError::InvalidJson)?;
        if value.len() == text.len() {
            return Ok(JsonText(text));
        }
        Ok(JsonText(value.to_owned()))
    }

    /// Takes `text`, trimmed, as a JSON value without validating it: for a payload its
    /// reader parses anyway and fails on (see `PayloadCheck::Outline`). Only what the
    /// core reads of it is checked, as it reads it; nothing it does with an invalid
    /// text can go wrong beyond a wrong answer, which the reader's failure then voids.
    pub(crate) fn outlined(text: &str) -> Result<JsonText, ProtocolError> {
        match text.trim_matches(WHITESPACE) {
            "" => Err(ProtocolError::InvalidJson),
            value => Ok(JsonText(value.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// Splits a JSON array into the text of its top-level elements.
    pub fn array_elements(&self) -> Result<Vec<&str>, ProtocolError> {
        Ok(self.elements()?.collect())
    }

    /// The text of each top-level element of a JSON array, without collecting them.
    pub(crate) fn elements(&self) -> Result<impl Iterator<Item = &str>, ProtocolError> {
        if self.kind() != JsonKind::Array {
            return Err(ProtocolError::InvalidPayload);
        }
        Ok(scan::members(&self.0).map(|(_, element)| element))
    }

    /// The decoded key and the value text of each member of a JSON object (the JS API
    /// reads object options with it).
    #[cfg(all(target_arch = "wasm32", feature = "js-api"))]
    pub(crate) fn members(
        &self,
    ) -> Result<impl Iterator<Item = (Option<Cow<'_, str>>, &str)>, ProtocolError> {
        if self.kind() != JsonKind::Object {
            return Err(ProtocolError::InvalidPayload);
        }
        Ok(scan::members(&self.0).map(|(key, value)| (key.and_then(scan::decode_string), value)))
    }

    /// Builds the JSON array `[e1,e2,...]` from elements taken from valid JSON text
    /// (such as those of [`JsonText::array_elements`]).
    pub fn array_from_elements(elements: &[&str]) -> JsonText {
        let length = elements.iter().map(|element| element.len() + 1);
        let mut text = String::with_capacity(1 + length.sum::<usize>());
        text.push('[');
        for (index, element) in elements.iter().enumerate() {
            if index > 0 {
                text.push(',');
            }
            text.push_str(element);
        }
        text.push(']');
        JsonText(text)
    }

    /// The object `base` (nothing unless it is an object) with `fields` appended as
    /// string members. The appended members come last, so they win over same-named
    /// members of `base` for `JSON.parse`, which keeps the last of duplicate keys.
    pub(crate) fn extend_object(base: Option<&JsonText>, fields: &[(&str, &str)]) -> JsonText {
        let members = base
            .filter(|base| base.kind() == JsonKind::Object)
            .and_then(|base| base.0.get(1..base.0.len().saturating_sub(1)))
            .unwrap_or_default()
            .trim_matches(WHITESPACE);
        let length = fields
            .iter()
            .map(|(key, value)| key.len() + value.len() + 6);
        let mut text = String::with_capacity(2 + members.len() + length.sum::<usize>());
        text.push('{');
        text.push_str(members);
        for (index, (key, value)) in fields.iter().enumerate() {
            if index > 0 || !members.is_empty() {
                text.push(',');
            }
            write::push_string(&mut text, key);
            text.push(':');
            write::push_string(&mut text, value);
        }
        text.push('}');
        JsonText(text)
    }

    /// Takes text the caller knows to be one valid JSON value without surrounding
    /// whitespace (a slice of a validated text, or text written by hand).
    pub(crate) fn from_valid(text: impl Into<String>) -> JsonText {
        JsonText(text.into())
    }

    /// The last element of this array when it is a string, as its JSON literal, and
    /// the array's text up to that element's comma (`None` when it is the only
    /// element). Read from the end: the elements before it are not scanned. Within a
    /// string every quote is escaped, so the first quote before the closing one that
    /// follows an even run of backslashes opens it.
    pub(crate) fn trailing_string(&self) -> Option<(&str, Option<&str>)> {
        let body = self.0.strip_suffix(']')?.trim_end_matches(WHITESPACE);
        let mut head = body.strip_suffix('"')?;
        let start = loop {
            let quote = head.rfind('"')?;
            head = head.get(..quote)?;
            let backslashes = head.bytes().rev().take_while(|&b| b == b'\\').count();
            if backslashes % 2 == 0 {
                break quote;
            }
        };
        let literal = body.get(start..)?;
        let before = head.trim_end_matches(WHITESPACE);
        match before.strip_suffix(',') {
            Some(rest) => Some((literal, Some(rest))),
            None if before == "[" => Some((literal, None)),
            None => None,
        }
    }

    pub(crate) fn kind(&self) -> JsonKind {
        JsonKind::of(&self.0)
    }
}
