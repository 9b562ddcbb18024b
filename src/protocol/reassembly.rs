//! Binary packets: a header packet whose data holds placeholders, then one binary frame
//! per attachment.
//!
//! Owns the placeholder convention `{"_placeholder":true,"num":k}` (binary leaves to
//! placeholders and back, and its validation) and the joining of a header with the
//! frames that follow it. It must not decode text (that is `packet`) and holds nothing
//! but the one packet awaiting its attachments.

use super::scan::{self, decode_string, parse_unsigned, Token};
use super::{Frame, JsonText, Packet, PacketType, PayloadCheck, ProtocolError, Value};

const PLACEHOLDER_MARKER: &str = "_placeholder";
const PLACEHOLDER_INDEX: &str = "num";

/// A packet with the binary attachments that followed it (none for plain packets).
#[derive(Debug, Clone, PartialEq)]
pub struct BinaryMessage {
    pub packet: Packet,
    pub attachments: Vec<Vec<u8>>,
}

impl BinaryMessage {
    /// The header text frame, then one binary frame per attachment.
    pub fn frames(&self) -> Vec<Frame> {
        let mut frames = Vec::with_capacity(1 + self.attachments.len());
        frames.push(self.packet.to_frame());
        frames.extend(self.attachments.iter().cloned().map(Frame::Binary));
        frames
    }

    /// The packet data as a [`Value`], with each placeholder of a binary packet replaced
    /// by its attachment. Placeholder-like objects in plain packets are ordinary data, as
    /// in the reference parser.
    pub fn reconstruct(&self) -> Result<Option<Value>, ProtocolError> {
        let Some(data) = &self.packet.data else {
            return Ok(None);
        };
        let value = Value::from_json(data.as_str()).ok_or(ProtocolError::InvalidJson)?;
        if !self.packet.kind.is_binary() {
            return Ok(Some(value));
        }
        fill_placeholders(value, &self.attachments).map(Some)
    }

    /// Replaces each binary leaf of `data` with a placeholder numbered in depth-first
    /// order. `kind` is [`PacketType::Event`] or [`PacketType::Ack`]; it becomes the
    /// binary variant exactly when there are attachments.
    pub fn deconstruct(
        kind: PacketType,
        namespace: &str,
        id: Option<u64>,
        data: Value,
    ) -> BinaryMessage {
        let mut attachments = Vec::new();
        let data = detach_binaries(data, &mut attachments);
        let mut text = String::new();
        data.write_json(&mut text);
        let data = Some(JsonText::from_valid(text));
        let kind = kind.with_attachments(attachments.len());
        BinaryMessage {
            packet: Packet::new(kind, namespace, id, data, attachments.len()),
            attachments,
        }
    }

    fn validated(self, check: PayloadCheck) -> Result<BinaryMessage, ProtocolError> {
        if let (true, Some(data)) = (self.packet.kind.is_binary(), &self.packet.data) {
            if check == PayloadCheck::Whole {
                check_placeholders(data.as_str(), self.attachments.len())?;
            }
        }
        Ok(self)
    }
}

/// Joins each binary packet with the binary frames that follow it.
#[derive(Debug, Default)]
pub struct Reassembler {
    awaiting: Option<BinaryMessage>,
    /// Bytes of the attachments received for the awaiting packet.
    received_bytes: usize,
    /// Whether the placeholders are checked here (see [`PayloadCheck`]).
    check: PayloadCheck,
}

impl Reassembler {
    /// With [`PayloadCheck::Outline`], the placeholders of the packets joined are left
    /// to the reader of their payload, which must refuse one that names no attachment.
    pub fn check_payloads(&mut self, check: PayloadCheck) {
        self.check = check;
    }

    /// Takes a decoded text packet: complete at once unless it announces attachments.
    /// A packet arriving while attachments are still expected is an error, and the
    /// incomplete packet is dropped; so is a packet announcing more than
    /// `max_attachments`.
    pub fn push_packet(
        &mut self,
        packet: Packet,
        max_attachments: usize,
    ) -> Result<Option<BinaryMessage>, ProtocolError> {
        if self.awaiting.take().is_some() {
            return Err(ProtocolError::AttachmentExpected);
        }
        if packet.attachments > max_attachments {
            return Err(ProtocolError::AttachmentsTooLarge);
        }
        let message = BinaryMessage {
            packet,
            attachments: Vec::new(),
        };
        if message.packet.attachments == 0 {
            return message.validated(self.check).map(Some);
        }
        self.awaiting = Some(message);
        self.received_bytes = 0;
        Ok(None)
    }

    /// Takes the payload of a binary frame. The packet is dropped, with an error, once
    /// its attachments add up to more than `max_bytes`.
    pub fn push_attachment(
        &mut self,
        bytes: Vec<u8>,
        max_bytes: usize,
    ) -> Result<Option<BinaryMessage>, ProtocolError> {
        let mut message = self
            .awaiting
            .take()
            .ok_or(ProtocolError::UnexpectedAttachment)?;
        self.received_bytes = self.received_bytes.saturating_add(bytes.len());
        if self.received_bytes > max_bytes {
            return Err(ProtocolError::AttachmentsTooLarge);
        }
        message.attachments.push(bytes);
        if message.attachments.len() < message.packet.attachments {
            self.awaiting = Some(message);
            return Ok(None);
        }
        message.validated(self.check).map(Some)
    }

    /// Forgets any packet awaiting attachments (the transport closed).
    pub fn reset(&mut self) {
        self.awaiting = None;
    }

    pub fn is_idle(&self) -> bool {
        self.awaiting.is_none()
    }
}

fn placeholder(index: usize) -> Value {
    Value::Object(vec![
        (PLACEHOLDER_MARKER.to_owned(), Value::Bool(true)),
        (PLACEHOLDER_INDEX.to_owned(), Value::Number(index.into())),
    ])
}

fn detach_binaries(value: Value, attachments: &mut Vec<Vec<u8>>) -> Value {
    match value {
        Value::Binary(bytes) => {
            let placeholder = placeholder(attachments.len());
            attachments.push(bytes);
            placeholder
        }
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| detach_binaries(item, attachments))
                .collect(),
        ),
        Value::Object(entries) => Value::Object(
            entries
                .into_iter()
                .map(|(key, value)| (key, detach_binaries(value, attachments)))
                .collect(),
        ),
        scalar => scalar,
    }
}

fn fill_placeholders(value: Value, attachments: &[Vec<u8>]) -> Result<Value, ProtocolError> {
    match value {
        Value::Object(entries) => {
            let mut fields = PlaceholderFields::default();
            for (key, value) in &entries {
                fields.note(FieldName::of(key), FieldValue::of(value));
            }
            match fields.index(attachments.len())? {
                Some(index) => attachments
                    .get(index)
                    .map(|bytes| Value::Binary(bytes.clone()))
                    .ok_or(ProtocolError::InvalidPlaceholder),
                None => entries
                    .into_iter()
                    .map(|(key, value)| Ok((key, fill_placeholders(value, attachments)?)))
                    .collect::<Result<_, _>>()
                    .map(Value::Object),
            }
        }
        Value::Array(items) => items
            .into_iter()
            .map(|item| fill_placeholders(item, attachments))
            .collect::<Result<_, _>>()
            .map(Value::Array),
        scalar => Ok(scalar),
    }
}

/// Checks every placeholder in `json` (valid JSON) against the attachment count without
/// building a tree.
fn check_placeholders(json: &str, attachment_count: usize) -> Result<(), ProtocolError> {
    // One entry per open container: what it says about being a placeholder (`None`
    // for arrays), and the key whose value comes next.
    let mut open: Vec<(Option<PlaceholderFields>, FieldName)> = Vec::new();
    let mut error = ProtocolError::InvalidJson;
    let walked = scan::walk(json, &mut |token| {
        let value = match token {
            Token::Open { object } => {
                open.push((object.then(PlaceholderFields::default), FieldName::Other));
                return true;
            }
            Token::Key(raw) => {
                let Some(key) = decode_string(raw) else {
                    return false;
                };
                if let Some((_, name)) = open.last_mut() {
                    *name = FieldName::of(&key);
                }
                return true;
            }
            Token::Scalar(raw) => FieldValue::of_json(raw),
            Token::Close => {
                if let Some((Some(fields), _)) = open.pop() {
                    if fields.index(attachment_count).is_err() {
                        error = ProtocolError::InvalidPlaceholder;
                        return false;
                    }
                }
                FieldValue::Other
            }
        };
        if let Some((Some(fields), name)) = open.last_mut() {
            fields.note(*name, value);
        }
        true
    });
    walked.map(|_| ()).ok_or(error)
}

/// The keys of an object that matter to the placeholder convention.
#[derive(Clone, Copy)]
enum FieldName {
    Marker,
    Index,
    Other,
}

impl FieldName {
    fn of(key: &str) -> FieldName {
        match key {
            PLACEHOLDER_MARKER => FieldName::Marker,
            PLACEHOLDER_INDEX => FieldName::Index,
            _ => FieldName::Other,
        }
    }
}

/// The values of an object that matter to the placeholder convention.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FieldValue {
    True,
    Unsigned(u64),
    Other,
}

impl FieldValue {
    /// The meaning of the JSON text of a scalar.
    fn of_json(raw: &str) -> FieldValue {
        match raw {
            "true" => FieldValue::True,
            raw => parse_unsigned(raw).map_or(FieldValue::Other, FieldValue::Unsigned),
        }
    }

    fn of(value: &Value) -> FieldValue {
        match value {
            Value::Bool(true) => FieldValue::True,
            Value::Number(number) => number
                .as_u64()
                .map_or(FieldValue::Other, FieldValue::Unsigned),
            _ => FieldValue::Other,
        }
    }
}

/// What an object says about being a placeholder. The last of duplicate keys wins, as
/// with `JSON.parse`.
#[derive(Default)]
struct PlaceholderFields {
    marked: bool,
    index: Option<u64>,
}

impl PlaceholderFields {
    fn note(&mut self, name: FieldName, value: FieldValue) {
        match (name, value) {
            (FieldName::Marker, value) => self.marked = value == FieldValue::True,
            (FieldName::Index, FieldValue::Unsigned(index)) => self.index = Some(index),
            (FieldName::Index, _) => self.index = None,
            (FieldName::Other, _) => {}
        }
    }

    /// `None` for an ordinary object; for a placeholder (`"_placeholder": true`), the
    /// attachment it names, which must exist.
    fn index(&self, attachment_count: usize) -> Result<Option<usize>, ProtocolError> {
        if !self.marked {
            return Ok(None);
        }
        self.index
            .and_then(|index| usize::try_from(index).ok())
            .filter(|&index| index < attachment_count)
            .map(Some)
            .ok_or(ProtocolError::InvalidPlaceholder)
    }
}
