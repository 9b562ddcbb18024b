//! Writing JSON text by hand: string literals and unsigned integers.
//!
//! Owns the escaping of strings, the same as `JSON.stringify` (and serde_json) for
//! Rust strings: `"`, `\` and control characters only, the latter as their short escape
//! or `\u00xx`. It must not read JSON (that is `scan`) and never uses `core::fmt`.

/// Appends `text` as a JSON string literal.
pub(crate) fn push_string(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut plain_start = 0;
    for (index, byte) in text.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0C => "\\f",
            0..=0x1F => "",
            _ => continue,
        };
        out.push_str(text.get(plain_start..index).unwrap_or_default());
        plain_start = index + 1;
        if escape.is_empty() {
            out.push_str("\\u00");
            for nibble in [byte >> 4, byte & 0xF] {
                out.push(char::from(
                    HEX.get(usize::from(nibble)).copied().unwrap_or(b'0'),
                ));
            }
        } else {
            out.push_str(escape);
        }
    }
    out.push_str(text.get(plain_start..).unwrap_or_default());
    out.push('"');
}

/// Appends `value` in decimal.
pub(crate) fn push_decimal(out: &mut String, value: u64) {
    let mut unit = 1;
    while unit <= value / 10 {
        unit *= 10;
    }
    while unit > 0 {
        let digit = (value / unit % 10) as u8;
        out.push(char::from(b'0' + digit));
        unit /= 10;
    }
}
