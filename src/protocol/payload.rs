//! Engine.IO v4 HTTP long-polling payloads: the packets of one request or response
//! body, separated by the record separator `\x1e`, each written as the WebSocket
//! transport would send it as a text frame, except binary messages, which become `b`
//! followed by their base64.
//!
//! Owns that framing. What each packet means belongs to `engine`; it must not look
//! further into packets than their first character.

use super::{base64, Frame, ProtocolError};

/// Separates the packets of a payload (ASCII record separator).
pub const SEPARATOR: char = '\x1e';

/// One packet of a payload: a text packet read in place, or a binary message.
#[derive(Debug, PartialEq, Eq)]
pub enum PayloadPacket<'a> {
    Text(&'a str),
    Binary(Vec<u8>),
}

/// The packets of `body`, in order. A body always holds at least one packet; an empty
/// packet, or a binary one whose base64 is malformed, is an error in its place.
pub fn decode_payload(
    body: &str,
) -> impl Iterator<Item = Result<PayloadPacket<'_>, ProtocolError>> {
    body.split(SEPARATOR)
        .map(|packet| match packet.strip_prefix('b') {
            Some(encoded) => base64::decode(encoded)
                .map(PayloadPacket::Binary)
                .ok_or(ProtocolError::InvalidBase64),
            None if packet.is_empty() => Err(ProtocolError::EmptyFrame),
            None => Ok(PayloadPacket::Text(packet)),
        })
}

/// The bytes `frame` takes in a payload, separator not counted.
pub fn packet_len(frame: &Frame) -> usize {
    match frame {
        Frame::Text(text) => text.len(),
        Frame::Binary(bytes) => 1 + base64::encoded_len(bytes.len()),
    }
}

/// Appends `frame`, one packet as the WebSocket transport would carry it, to the
/// payload `body`.
pub fn push_packet(body: &mut String, frame: &Frame) {
    if !body.is_empty() {
        body.push(SEPARATOR);
    }
    match frame {
        Frame::Text(text) => body.push_str(text),
        Frame::Binary(bytes) => {
            body.push('b');
            base64::encode_into(body, bytes);
        }
    }
}
