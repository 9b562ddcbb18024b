//! The one error type of the wire codec.
//!
//! Owns the list of ways wire input can be malformed and their fixed messages. It must
//! not carry input text or formatted detail: messages are `&'static str` so that
//! reporting an error never pulls formatting machinery into the wasm build.

use std::fmt;

/// Why a frame, packet or payload was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolError {
    /// A WebSocket text frame without even an Engine.IO type digit.
    EmptyFrame,
    /// An Engine.IO text frame whose first character is not a type digit 0..=6.
    UnknownEngineType,
    /// The Engine.IO open packet does not carry a valid handshake object.
    InvalidHandshake,
    /// An Engine.IO message carrying no Socket.IO packet type.
    EmptyPacket,
    /// A Socket.IO packet whose first character is not a type digit 0..=6.
    UnknownPacketType,
    /// The ack id is not a run of digits fitting in a JavaScript safe integer, or an
    /// acknowledgement arrived without one.
    InvalidAckId,
    /// The `<n>-` attachment count is missing, zero, malformed or too large.
    InvalidAttachmentCount,
    /// The packet data is not exactly one JSON value.
    InvalidJson,
    /// The packet data is valid JSON of the wrong shape for the packet type.
    InvalidPayload,
    /// An event carries a name reserved by Socket.IO.
    ReservedEventName,
    /// A binary frame arrived while no binary packet was awaiting attachments.
    UnexpectedAttachment,
    /// A text packet arrived while a binary packet was still awaiting attachments.
    AttachmentExpected,
    /// A `{"_placeholder":true,"num":k}` object does not name a received attachment.
    InvalidPlaceholder,
    /// The CONNECT reply is not an object holding a non-empty string `sid`.
    InvalidConnectReply,
    /// A well-formed packet that the session's state does not allow (a second handshake,
    /// a second CONNECT reply, anything before the handshake).
    UnexpectedPacket,
    /// A value could not be serialized to JSON (for example a map with non-string keys).
    NotSerializable,
    /// A frame larger than the client accepts.
    FrameTooLarge,
    /// A binary packet announcing more attachments, or more attachment bytes, than the
    /// client accepts.
    AttachmentsTooLarge,
    /// More events before a CONNECT reply (a recovery replay) than the client holds.
    TooManyEarlyEvents,
    /// A binary packet of a long-polling payload whose base64 is malformed.
    InvalidBase64,
}

impl ProtocolError {
    /// A fixed, human-readable description of the error.
    pub fn message(&self) -> &'static str {
        match self {
            Self::EmptyFrame => "empty frame",
            Self::UnknownEngineType => "unknown Engine.IO packet type",
            Self::InvalidHandshake => "invalid Engine.IO handshake",
            Self::EmptyPacket => "empty Socket.IO packet",
            Self::UnknownPacketType => "unknown Socket.IO packet type",
            Self::InvalidAckId => "invalid ack id",
            Self::InvalidAttachmentCount => "invalid attachment count",
            Self::InvalidJson => "invalid JSON",
            Self::InvalidPayload => "invalid payload for the packet type",
            Self::ReservedEventName => "reserved event name",
            Self::UnexpectedAttachment => "binary frame while no attachment was expected",
            Self::AttachmentExpected => "text packet while binary attachments were expected",
            Self::InvalidPlaceholder => "attachment placeholder out of range",
            Self::InvalidConnectReply => "invalid CONNECT reply",
            Self::UnexpectedPacket => "packet not allowed at this point of the session",
            Self::NotSerializable => "value cannot be serialized to JSON",
            Self::FrameTooLarge => "frame larger than the client accepts",
            Self::AttachmentsTooLarge => "more binary attachments than the client accepts",
            Self::TooManyEarlyEvents => {
                "more events before the CONNECT reply than the client holds"
            }
            Self::InvalidBase64 => "invalid base64 in a long-polling payload",
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for ProtocolError {}
