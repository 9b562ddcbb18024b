//! Socket.IO v5 packets: the payload of an Engine.IO message.
//!
//! Owns the packet text format `<type>[<n>-][<nsp>,][<id>][<json>]`, the per-type
//! payload rules of the reference socket.io-parser, and the shapes of the CONNECT reply
//! and CONNECT_ERROR payloads. It must not hold state nor join binary attachments to
//! their packet: that is `reassembly`'s job.

use std::fmt;

use super::json::{JsonKind, MAX_SAFE_INTEGER};
use super::scan::{decode_string, members};
use super::write::push_decimal;
use super::{Frame, JsonText, ProtocolError};

/// Event names with a special meaning to Socket.IO, which applications cannot emit.
pub const RESERVED_EVENTS: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// The most attachments a binary packet may announce, to bound what a lying server can
/// make us wait for. The reference parser allows 10 by default.
const MAX_ATTACHMENTS: u64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketType {
    Connect,
    Disconnect,
    Event,
    Ack,
    ConnectError,
    BinaryEvent,
    BinaryAck,
}

impl PacketType {
    fn from_digit(digit: char) -> Option<PacketType> {
        match digit {
            '0' => Some(PacketType::Connect),
            '1' => Some(PacketType::Disconnect),
            '2' => Some(PacketType::Event),
            '3' => Some(PacketType::Ack),
            '4' => Some(PacketType::ConnectError),
            '5' => Some(PacketType::BinaryEvent),
            '6' => Some(PacketType::BinaryAck),
            _ => None,
        }
    }

    fn digit(self) -> char {
        match self {
            PacketType::Connect => '0',
            PacketType::Disconnect => '1',
            PacketType::Event => '2',
            PacketType::Ack => '3',
            PacketType::ConnectError => '4',
            PacketType::BinaryEvent => '5',
            PacketType::BinaryAck => '6',
        }
    }

    /// Whether packets of this type announce attachments (`<n>-`).
    pub(crate) fn is_binary(self) -> bool {
        matches!(self, PacketType::BinaryEvent | PacketType::BinaryAck)
    }

    /// The event or ack type matching whether `attachments` follow; other types are
    /// returned unchanged.
    pub(crate) fn with_attachments(self, attachments: usize) -> PacketType {
        match (self, attachments) {
            (PacketType::Event | PacketType::BinaryEvent, 0) => PacketType::Event,
            (PacketType::Event | PacketType::BinaryEvent, _) => PacketType::BinaryEvent,
            (PacketType::Ack | PacketType::BinaryAck, 0) => PacketType::Ack,
            (PacketType::Ack | PacketType::BinaryAck, _) => PacketType::BinaryAck,
            (other, _) => other,
        }
    }
}

/// One Socket.IO packet. `attachments` is the number of binary frames that follow it
/// (non-zero only for the binary types).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub kind: PacketType,
    pub namespace: String,
    pub id: Option<u64>,
    pub data: Option<JsonText>,
    pub attachments: usize,
}

/// How much of a packet's JSON the decoder checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PayloadCheck {
    /// All of it: the payload is valid JSON of the packet's shape.
    #[default]
    Whole,
    /// For EVENT and ACK packets, only the outline the core reads (an array; the event
    /// name); for BINARY_EVENT and BINARY_ACK packets, the JSON whole but not their
    /// attachment placeholders (see `Reassembler::check_payloads`). Their caller parses
    /// every such payload itself and treats one that does not parse, or whose
    /// placeholders name no attachment, as a protocol error (the JS API, whose
    /// `JSON.parse` runs anyway). The other packets are checked whole.
    Outline,
}

impl Packet {
    /// Decodes a packet from the text of an Engine.IO message (without its `4`).
    pub fn decode(text: &str) -> Result<Packet, ProtocolError> {
        Packet::decode_checking(text, PayloadCheck::Whole)
    }

    /// [`Packet::decode`], checking as much of the payload as `check` says.
    pub fn decode_checking(text: &str, check: PayloadCheck) -> Result<Packet, ProtocolError> {
        let mut chars = text.chars();
        let kind = chars.next().ok_or(ProtocolError::EmptyPacket)?;
        let kind = PacketType::from_digit(kind).ok_or(ProtocolError::UnknownPacketType)?;
        let mut rest = chars.as_str();

        let mut attachments = 0;
        if kind.is_binary() {
            let (count, after) = rest
                .split_once('-')
                .ok_or(ProtocolError::InvalidAttachmentCount)?;
            attachments = parse_attachment_count(count)?;
            rest = after;
        }

        let mut namespace = "/";
        if rest.starts_with('/') {
            // As in the reference parser, a namespace without ',' runs to the end.
            (namespace, rest) = rest.split_once(',').unwrap_or((rest, ""));
        }

        let digit_count = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (digits, json) = rest.split_at_checked(digit_count).unwrap_or((rest, ""));
        let id = match digits {
            "" => None,
            digits => {
                Some(parse_decimal(digits, MAX_SAFE_INTEGER).ok_or(ProtocolError::InvalidAckId)?)
            }
        };

        let outline =
            check == PayloadCheck::Outline && matches!(kind, PacketType::Event | PacketType::Ack);
        let data = match json {
            "" => None,
            json if outline => Some(JsonText::outlined(json)?),
            json => Some(JsonText::parse(json)?),
        };
        validate(kind, id, data.as_ref())?;
        Ok(Packet::new(kind, namespace, id, data, attachments))
    }

    /// Encodes the packet as the text of an Engine.IO message (without its `4`).
    pub fn encode(&self) -> String {
        let mut text = String::with_capacity(self.encoded_len_estimate());
        self.encode_into(&mut text);
        text
    }

    /// The Engine.IO message frame carrying this packet.
    pub fn to_frame(&self) -> Frame {
        let mut text = String::with_capacity(1 + self.encoded_len_estimate());
        text.push('4');
        self.encode_into(&mut text);
        Frame::Text(text)
    }

    pub fn connect(namespace: &str, auth: Option<JsonText>) -> Packet {
        Packet::new(PacketType::Connect, namespace, None, auth, 0)
    }

    pub fn disconnect(namespace: &str) -> Packet {
        Packet::new(PacketType::Disconnect, namespace, None, None, 0)
    }

    /// An EVENT, or a BINARY_EVENT when `attachments > 0`.
    pub fn event(namespace: &str, data: JsonText, id: Option<u64>, attachments: usize) -> Packet {
        let kind = PacketType::Event.with_attachments(attachments);
        Packet::new(kind, namespace, id, Some(data), attachments)
    }

    /// An ACK, or a BINARY_ACK when `attachments > 0`.
    pub fn ack(namespace: &str, id: u64, data: JsonText, attachments: usize) -> Packet {
        let kind = PacketType::Ack.with_attachments(attachments);
        Packet::new(kind, namespace, Some(id), Some(data), attachments)
    }

    pub(crate) fn new(
        kind: PacketType,
        namespace: &str,
        id: Option<u64>,
        data: Option<JsonText>,
        attachments: usize,
    ) -> Packet {
        Packet {
            kind,
            namespace: namespace.to_owned(),
            id,
            data,
            attachments,
        }
    }

    fn encode_into(&self, text: &mut String) {
        text.push(self.kind.digit());
        if self.kind.is_binary() {
            push_decimal(text, self.attachments as u64);
            text.push('-');
        }
        if !self.namespace.is_empty() && self.namespace != "/" {
            text.push_str(&self.namespace);
            text.push(',');
        }
        if let Some(id) = self.id {
            push_decimal(text, id);
        }
        if let Some(data) = &self.data {
            text.push_str(data.as_str());
        }
    }

    fn encoded_len_estimate(&self) -> usize {
        const TYPE_COUNT_AND_ID: usize = 1 + 6 + 20;
        let data = self.data.as_ref().map_or(0, |data| data.as_str().len());
        TYPE_COUNT_AND_ID + self.namespace.len() + 1 + data
    }
}

/// The payload rules of the reference parser's `isPayloadValid`, plus a required ack id
/// on acknowledgements, which are meaningless without one.
fn validate(
    kind: PacketType,
    id: Option<u64>,
    data: Option<&JsonText>,
) -> Result<(), ProtocolError> {
    if matches!(kind, PacketType::Ack | PacketType::BinaryAck) && id.is_none() {
        return Err(ProtocolError::InvalidAckId);
    }
    let shape_is_valid = match (kind, data) {
        (PacketType::Connect | PacketType::ConnectError | PacketType::Disconnect, None) => true,
        (PacketType::Connect, Some(data)) => data.kind() == JsonKind::Object,
        (PacketType::ConnectError, Some(data)) => {
            matches!(data.kind(), JsonKind::String | JsonKind::Object)
        }
        (PacketType::Event | PacketType::BinaryEvent, Some(data)) => return validate_event(data),
        (PacketType::Ack | PacketType::BinaryAck, Some(data)) => data.kind() == JsonKind::Array,
        _ => false,
    };
    if shape_is_valid {
        Ok(())
    } else {
        Err(ProtocolError::InvalidPayload)
    }
}

/// Event data is a non-empty array whose first element, the event name, is a number or
/// a string not in [`RESERVED_EVENTS`]. Escaped spellings such as `"\u0063onnect"` are
/// caught as well.
fn validate_event(data: &JsonText) -> Result<(), ProtocolError> {
    let name = data
        .elements()?
        .next()
        .ok_or(ProtocolError::InvalidPayload)?;
    match JsonKind::of(name) {
        JsonKind::Number => Ok(()),
        JsonKind::String if is_reserved_event_name(name) => Err(ProtocolError::ReservedEventName),
        JsonKind::String => Ok(()),
        _ => Err(ProtocolError::InvalidPayload),
    }
}

/// Whether the string literal `name` spells a reserved event name; it is decoded
/// without allocating unless it holds escapes.
fn is_reserved_event_name(name: &str) -> bool {
    decode_string(name).is_some_and(|name| RESERVED_EVENTS.contains(&&*name))
}

fn parse_attachment_count(digits: &str) -> Result<usize, ProtocolError> {
    parse_decimal(digits, MAX_ATTACHMENTS)
        .filter(|&count| count >= 1)
        .and_then(|count| usize::try_from(count).ok())
        .ok_or(ProtocolError::InvalidAttachmentCount)
}

/// A non-empty run of ASCII digits whose value is at most `max`.
fn parse_decimal(digits: &str, max: u64) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits
        .bytes()
        .try_fold(0u64, |value, byte| {
            let digit = byte.checked_sub(b'0').filter(|&digit| digit <= 9)?;
            value.checked_mul(10)?.checked_add(u64::from(digit))
        })
        .filter(|&value| value <= max)
}

/// The server's reply to our CONNECT: `{"sid":"…"}`, plus `"pid"` when connection state
/// recovery is on.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectReply {
    pub sid: String,
    /// The private session id: a secret, kept out of `Debug` output.
    pub pid: Option<String>,
}

impl fmt::Debug for ConnectReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectReply")
            .field("sid", &self.sid)
            .field("pid", &self.pid.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl ConnectReply {
    /// Reads the data of a CONNECT packet from the server. A `pid` that is not a string
    /// is ignored, as the server would not accept it back. Of duplicate members the
    /// last counts, as with `JSON.parse`.
    pub fn parse(data: Option<&JsonText>) -> Result<ConnectReply, ProtocolError> {
        let mut sid = None;
        let mut pid = None;
        for (key, value) in object_members(data).ok_or(ProtocolError::InvalidConnectReply)? {
            match key.as_deref().ok_or(ProtocolError::InvalidConnectReply)? {
                "sid" => sid = Some(decode_string(value)),
                "pid" => pid = decode_string(value),
                _ => {}
            }
        }
        match sid.flatten() {
            Some(sid) if !sid.is_empty() => Ok(ConnectReply {
                sid: sid.into_owned(),
                pid: pid.map(String::from),
            }),
            _ => Err(ProtocolError::InvalidConnectReply),
        }
    }
}

/// Why the server refused a CONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectErrorPayload {
    pub message: String,
    pub data: Option<JsonText>,
}

impl ConnectErrorPayload {
    /// Reads `{"message":…,"data":…}` (v5 servers) or a bare string (v4 servers). Any
    /// other shape still yields a refusal, with a generic message.
    pub fn parse(data: Option<&JsonText>) -> ConnectErrorPayload {
        const GENERIC_MESSAGE: &str = "connection refused by the server";

        let bare_message = data
            .filter(|data| data.kind() == JsonKind::String)
            .and_then(|data| decode_string(data.as_str()));
        if let Some(message) = bare_message {
            return ConnectErrorPayload {
                message: message.into_owned(),
                data: None,
            };
        }
        let mut message = None;
        let mut details = None;
        for (key, value) in object_members(data).into_iter().flatten() {
            let Some(key) = key else {
                // A key escaping a lone surrogate: not a payload we can read.
                (message, details) = (None, None);
                break;
            };
            match &*key {
                "message" => message = decode_string(value),
                // `"data": null` is no data, as an absent member.
                "data" => details = (value != "null").then_some(value),
                _ => {}
            }
        }
        ConnectErrorPayload {
            message: message.map_or_else(|| GENERIC_MESSAGE.to_owned(), String::from),
            data: details.map(JsonText::from_valid),
        }
    }
}

/// The members of `data` if it is a JSON object, keys decoded (`None` for a key
/// escaping a lone surrogate).
fn object_members(
    data: Option<&JsonText>,
) -> Option<impl Iterator<Item = (Option<std::borrow::Cow<'_, str>>, &str)>> {
    let object = data.filter(|data| data.kind() == JsonKind::Object)?;
    Some(members(object.as_str()).map(|(key, value)| (key.and_then(decode_string), value)))
}
