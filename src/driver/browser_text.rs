//! A text as both sides hold it: the Rust copy the core reads, and the browser's own
//! string.
//!
//! Owns the mapping of a part of the Rust copy to the same part of the browser's string
//! (UTF-8 bytes to UTF-16 code units), both ways across the boundary:
//! - a received frame: JS takes an event's payload out of the string it already holds,
//!   instead of receiving a second copy decoded out of wasm memory (which `JSON.parse`
//!   also reads more slowly);
//! - the JSON of an emit: the frame that carries it is sent as its head plus the
//!   browser's string, instead of a copy of the whole frame decoded out of wasm memory.
//!
//! Knows nothing of what a frame means.

use js_sys::JsString;

pub struct BrowserText {
    text: String,
    js: JsString,
}

impl BrowserText {
    /// `js` must be the browser's string whose UTF-8 copy is `text`.
    pub fn new(text: String, js: JsString) -> Self {
        BrowserText { text, js }
    }

    /// The Rust copy, which the core reads in place.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The browser's string.
    pub fn js(&self) -> &JsString {
        &self.js
    }

    /// Where `tail` starts in the browser's string, in UTF-16 code units, when the text
    /// ends with exactly `tail`; `None` otherwise. Comparing the text, not asking where
    /// `tail` came from, keeps this right for any `tail`: equal bytes give an equal slice.
    pub fn start_of_tail(&self, tail: &str) -> Option<u32> {
        let head = head_before(&self.text, tail)?;
        let units = if head.is_ascii() {
            head.len()
        } else {
            head.encode_utf16().count()
        };
        u32::try_from(units).ok()
    }

    /// The head of `frame` before this text, when `frame` ends with exactly this text.
    pub fn head_of<'a>(&self, frame: &'a str) -> Option<&'a str> {
        head_before(frame, &self.text)
    }
}

/// `whole` without `tail`, when `whole` ends with exactly `tail`.
fn head_before<'a>(whole: &'a str, tail: &str) -> Option<&'a str> {
    if !whole.ends_with(tail) {
        return None;
    }
    // A suffix of a `str` that is a `str` starts on a character boundary.
    whole.get(..whole.len() - tail.len())
}
