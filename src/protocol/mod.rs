//! The wire codec: Engine.IO v4 packets (one per WebSocket frame, or several in an HTTP
//! long-polling payload) and Socket.IO v5 packets, encode and decode.
//!
//! Owns the text and binary formats and every validation rule of the wire. It holds no
//! connection state beyond the reassembly of one binary packet, performs no IO and never
//! panics: malformed input is a [`ProtocolError`].

mod base64;
mod engine;
mod error;
mod json;
mod number;
mod packet;
mod payload;
mod reassembly;
mod scan;
mod value;
mod write;

pub use engine::{EnginePacket, Frame, Handshake};
pub use error::ProtocolError;
pub use json::JsonText;
pub use number::Number;
pub use packet::{ConnectErrorPayload, ConnectReply, Packet, PacketType, RESERVED_EVENTS};
pub use payload::{decode_payload, packet_len, push_packet, PayloadPacket, SEPARATOR};
pub use reassembly::{BinaryMessage, Reassembler};
pub use value::Value;

pub(crate) use json::JsonKind;
pub(crate) use scan::decode_string;
// The JS API reads numeric options with it.
#[cfg(target_arch = "wasm32")]
pub(crate) use scan::parse_unsigned;
