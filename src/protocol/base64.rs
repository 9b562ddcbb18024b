//! Base64 (RFC 4648, standard alphabet, `=` padding): how HTTP long-polling payloads
//! carry binary packets.
//!
//! Owns the encoding and a strict decoding (what Node's `Buffer.toString("base64")`
//! produces, padding optional). It knows nothing of packets or payloads.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// How many characters the base64 form of `len` bytes takes.
pub(crate) fn encoded_len(len: usize) -> usize {
    len.div_ceil(3) * 4
}

/// Appends the base64 form of `bytes`.
pub(crate) fn encode_into(out: &mut String, bytes: &[u8]) {
    out.reserve(encoded_len(bytes.len()));
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let group = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for index in 0..4 {
            if index <= chunk.len() {
                let sextet = (group >> (18 - 6 * index)) & 63;
                out.push(char::from(ALPHABET[sextet as usize]));
            } else {
                out.push('=');
            }
        }
    }
}

/// The bytes `text` encodes; `None` for a character outside the alphabet, misplaced
/// padding, or a length no encoder produces.
pub(crate) fn decode(text: &str) -> Option<Vec<u8>> {
    let data = text.as_bytes();
    let unpadded = match data {
        [rest @ .., b'=', b'='] | [rest @ .., b'='] if data.len() % 4 == 0 => rest,
        _ => data,
    };
    if unpadded.len() % 4 == 1 {
        return None;
    }
    let mut bytes = Vec::with_capacity(unpadded.len() / 4 * 3 + 2);
    for chunk in unpadded.chunks(4) {
        let mut group = 0u32;
        for &symbol in chunk {
            group = group << 6 | u32::from(sextet(symbol)?);
        }
        // A short last chunk: its sextets are left-aligned in a 24-bit group.
        group <<= 6 * (4 - chunk.len() as u32);
        let decoded = [(group >> 16) as u8, (group >> 8) as u8, group as u8];
        bytes.extend_from_slice(decoded.get(..chunk.len() - 1)?);
    }
    Some(bytes)
}

fn sextet(symbol: u8) -> Option<u8> {
    match symbol {
        b'A'..=b'Z' => Some(symbol - b'A'),
        b'a'..=b'z' => Some(symbol - b'a' + 26),
        b'0'..=b'9' => Some(symbol - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}
