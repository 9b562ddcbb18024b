//! The wire codec: Engine.IO v4 packets (one per WebSocket frame, or several in an HTTP
//! long-polling payload) and Socket.IO v5 packets, encode and decode.
//!
//! Owns the text and binary formats and every validation rule of the wire. It holds no
//! connection state beyond the reassembly of one binary packet, performs no IO and never
//! panics: malformed input is a [`ProtocolError`].

mod base64;
mod engine;
mod error;
mod from_value;
mod json;
mod number;
mod packet;
mod payload;
mod reassembly;
mod scan;
mod to_value;
mod value;
mod value_error;
mod write;

pub use engine::{EnginePacket, Frame, Handshake};
pub use error::ProtocolError;
pub use from_value::from_value;
pub use json::JsonText;
pub use number::Number;
pub use packet::{
    ConnectErrorPayload, ConnectReply, Packet, PacketType, PayloadCheck, RESERVED_EVENTS,
};
pub use payload::{decode_payload, packet_len, push_packet, PayloadPacket, SEPARATOR};
pub use reassembly::{BinaryMessage, Reassembler};
pub use to_value::to_value;
pub use value::Value;
pub use value_error::ValueError;

pub(crate) use json::JsonKind;
pub(crate) use scan::decode_string;
// The JS API reads numeric options with it.
#[cfg(all(target_arch = "wasm32", feature = "js-api"))]
pub(crate) use scan::parse_unsigned;
