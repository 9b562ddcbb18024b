//! Engine.IO v4 packets over the WebSocket transport: one packet per frame.
//!
//! Owns the frame-level format (a type digit then data in text frames; binary frames
//! are always messages) and the open handshake. It must not look inside message
//! payloads: those are Socket.IO packets, the business of `packet`.

use super::json::{JsonKind, MAX_SAFE_INTEGER};
use super::scan::{self, decode_string, parse_unsigned};
use std::fmt;

use super::{write, ProtocolError};

/// One WebSocket frame.
#[derive(Clone, PartialEq, Eq)]
pub enum Frame {
    Text(String),
    Binary(Vec<u8>),
}

impl Frame {
    /// Its size on the wire, in bytes.
    pub fn len(&self) -> usize {
        match self {
            Frame::Text(text) => text.len(),
            Frame::Binary(bytes) => bytes.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A frame prints its kind and size, never its content: a CONNECT carries the app's
/// credentials and the private session id, and app payloads are the app's business.
impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Frame::Text(text) => write!(f, "Text(<{} bytes>)", text.len()),
            Frame::Binary(bytes) => write!(f, "Binary(<{} bytes>)", bytes.len()),
        }
    }
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

impl Handshake {
    /// Reads the handshake object: a non-empty string `sid`, integer `pingInterval`,
    /// `pingTimeout` and `maxPayload` within `Number.MAX_SAFE_INTEGER`, and optional
    /// string `upgrades`. Other members are ignored; of duplicate members the last
    /// counts, as with `JSON.parse`.
    fn parse(json: &str) -> Result<Handshake, ProtocolError> {
        let object = scan::validate(json)
            .filter(|object| JsonKind::of(object) == JsonKind::Object)
            .ok_or(ProtocolError::InvalidHandshake)?;
        let mut sid = None;
        let mut upgrades = Some(Vec::new());
        let mut numbers = [None; 3];
        for (key, value) in scan::members(object) {
            let key = key
                .and_then(decode_string)
                .ok_or(ProtocolError::InvalidHandshake)?;
            let number = |value| parse_unsigned(value).filter(|&n| n <= MAX_SAFE_INTEGER);
            match &*key {
                "sid" => sid = decode_string(value).filter(|sid| !sid.is_empty()),
                "upgrades" => upgrades = string_list(value),
                "pingInterval" => numbers[0] = number(value),
                "pingTimeout" => numbers[1] = number(value),
                "maxPayload" => numbers[2] = number(value),
                _ => {}
            }
        }
        match (sid, upgrades, numbers) {
            (Some(sid), Some(upgrades), [Some(interval), Some(timeout), Some(max_payload)]) => {
                Ok(Handshake {
                    sid: sid.into_owned(),
                    upgrades,
                    ping_interval: interval,
                    ping_timeout: timeout,
                    max_payload,
                })
            }
            _ => Err(ProtocolError::InvalidHandshake),
        }
    }

    fn to_json(&self) -> String {
        let mut json = String::with_capacity(80 + self.sid.len());
        json.push_str("{\"sid\":");
        write::push_string(&mut json, &self.sid);
        json.push_str(",\"upgrades\":[");
        for (index, upgrade) in self.upgrades.iter().enumerate() {
            if index > 0 {
                json.push(',');
            }
            write::push_string(&mut json, upgrade);
        }
        let numbers = [
            ("],\"pingInterval\":", self.ping_interval),
            (",\"pingTimeout\":", self.ping_timeout),
            (",\"maxPayload\":", self.max_payload),
        ];
        for (name, value) in numbers {
            json.push_str(name);
            write::push_decimal(&mut json, value);
        }
        json.push('}');
        json
    }
}

/// The strings of a JSON array of strings.
fn string_list(json: &str) -> Option<Vec<String>> {
    if JsonKind::of(json) != JsonKind::Array {
        return None;
    }
    scan::members(json)
        .map(|(_, item)| decode_string(item).map(String::from))
        .collect()
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
        text.drain(..1);
    }
    text
}

fn text_frame(kind: char, data: &str) -> Frame {
    let mut text = String::with_capacity(1 + data.len());
    text.push(kind);
    text.push_str(data);
    Frame::Text(text)
}
