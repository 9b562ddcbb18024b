//! Engine.IO v4 packets over the WebSocket transport: one packet per frame.
//!
//! Owns the frame-level format (a type digit then data in text frames; binary frames
//! are always messages) and the open handshake. It must not look inside message
//! payloads: those are Socket.IO packets, the business of `packet`.

use serde::{Deserialize, Serialize};

use super::json::{JsonKind, MAX_SAFE_INTEGER};
use super::ProtocolError;

/// One WebSocket frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Text(String),
    Binary(Vec<u8>),
}

/// The session parameters the server sends in its open packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    pub sid: String,
    pub upgrades: Vec<String>,
    pub ping_interval: u64,
    pub ping_timeout: u64,
    pub max_payload: u64,
}

/// One Engine.IO packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnginePacket {
    Open(Handshake),
    Close,
    Ping(String),
    Pong(String),
    /// A Socket.IO packet (text) or one of its binary attachments.
    Message(Frame),
    Upgrade(String),
    Noop(String),
}

/// The wire shape of [`Handshake`]; generic so that decoding owns its strings and
/// encoding borrows them from the handshake.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HandshakeJson<Text, List> {
    sid: Text,
    #[serde(default)]
    upgrades: List,
    ping_interval: u64,
    ping_timeout: u64,
    max_payload: u64,
}

impl Handshake {
    fn parse(json: &str) -> Result<Handshake, ProtocolError> {
        // serde would also accept a struct written as a JSON array.
        let json_start = json.trim_start_matches([' ', '\t', '\n', '\r']);
        if JsonKind::of(json_start) != JsonKind::Object {
            return Err(ProtocolError::InvalidHandshake);
        }
        let wire: HandshakeJson<String, Vec<String>> =
            serde_json::from_str(json).map_err(|_| ProtocolError::InvalidHandshake)?;
        let numbers = [wire.ping_interval, wire.ping_timeout, wire.max_payload];
        if wire.sid.is_empty() || numbers.iter().any(|&value| value > MAX_SAFE_INTEGER) {
            return Err(ProtocolError::InvalidHandshake);
        }
        Ok(Handshake {
            sid: wire.sid,
            upgrades: wire.upgrades,
            ping_interval: wire.ping_interval,
            ping_timeout: wire.ping_timeout,
            max_payload: wire.max_payload,
        })
    }

    fn to_json(&self) -> String {
        let wire = HandshakeJson {
            sid: self.sid.as_str(),
            upgrades: self.upgrades.as_slice(),
            ping_interval: self.ping_interval,
            ping_timeout: self.ping_timeout,
            max_payload: self.max_payload,
        };
        // Cannot fail: strings, a list of strings and integers always serialize.
        serde_json::to_string(&wire).unwrap_or_default()
    }
}

impl EnginePacket {
    /// Decodes one WebSocket frame. A binary frame is always a message.
    pub fn decode(frame: Frame) -> Result<EnginePacket, ProtocolError> {
        let text = match frame {
            Frame::Binary(bytes) => return Ok(EnginePacket::Message(Frame::Binary(bytes))),
            Frame::Text(text) => text,
        };
        let kind = *text.as_bytes().first().ok_or(ProtocolError::EmptyFrame)?;
        match kind {
            b'0' => Handshake::parse(text.get(1..).unwrap_or_default()).map(EnginePacket::Open),
            // Close carries no data; anything after the digit is ignored, as the server does.
            b'1' => Ok(EnginePacket::Close),
            b'2' => Ok(EnginePacket::Ping(data_after_type(text))),
            b'3' => Ok(EnginePacket::Pong(data_after_type(text))),
            b'4' => Ok(EnginePacket::Message(Frame::Text(data_after_type(text)))),
            b'5' => Ok(EnginePacket::Upgrade(data_after_type(text))),
            b'6' => Ok(EnginePacket::Noop(data_after_type(text))),
            _ => Err(ProtocolError::UnknownEngineType),
        }
    }

    /// Encodes the packet as the one frame that carries it.
    pub fn encode(&self) -> Frame {
        match self {
            EnginePacket::Open(handshake) => text_frame('0', &handshake.to_json()),
            EnginePacket::Close => text_frame('1', ""),
            EnginePacket::Ping(data) => text_frame('2', data),
            EnginePacket::Pong(data) => text_frame('3', data),
            EnginePacket::Message(Frame::Text(text)) => text_frame('4', text),
            EnginePacket::Message(Frame::Binary(bytes)) => Frame::Binary(bytes.clone()),
            EnginePacket::Upgrade(data) => text_frame('5', data),
            EnginePacket::Noop(data) => text_frame('6', data),
        }
    }
}

/// Drops the leading ASCII type digit in place: the data moves, it is not copied.
fn data_after_type(mut text: String) -> String {
    if text.is_char_boundary(1) {
        text.replace_range(..1, "");
    }
    text
}

fn text_frame(kind: char, data: &str) -> Frame {
    let mut text = String::with_capacity(1 + data.len());
    text.push(kind);
    text.push_str(data);
    Frame::Text(text)
}
