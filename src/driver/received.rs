//! A received text frame as both sides hold it: the Rust copy the core reads, and the
//! browser's own string.
//!
//! Owns the mapping of a part of the Rust copy to the same part of the browser's string
//! (UTF-8 bytes to UTF-16 code units). With it, JS takes an event's payload out of the
//! string it already holds, instead of receiving a second copy decoded out of wasm
//! memory (which `JSON.parse` also reads more slowly). Knows nothing of what a frame
//! means.

use js_sys::JsString;

pub struct ReceivedText {
    text: String,
    js: JsString,
}

impl ReceivedText {
    /// `js` must be the browser's string whose UTF-8 copy is `text`.
    pub fn new(text: String, js: JsString) -> Self {
        ReceivedText { text, js }
    }

    /// The Rust copy, which the core reads in place.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The browser's string.
    pub fn js(&self) -> &JsString {
        &self.js
    }

    /// Where `tail` starts in the browser's string, in UTF-16 code units, when the frame
    /// ends with exactly `tail`; `None` otherwise. Comparing the text, not asking where
    /// `tail` came from, keeps this right for any `tail`: equal bytes give an equal slice.
    pub fn start_of_tail(&self, tail: &str) -> Option<u32> {
        if !self.text.ends_with(tail) {
            return None;
        }
        // A suffix of a `str` that is a `str` starts on a character boundary.
        let head = self.text.get(..self.text.len() - tail.len())?;
        let units = if head.is_ascii() {
            head.len()
        } else {
            head.encode_utf16().count()
        };
        u32::try_from(units).ok()
    }
}
