//! Fuzz target for the wire codec: arbitrary bytes as WebSocket frames.
//!
//! Owns nothing but this harness; it drives `resocket::protocol` the way the core does
//! (Engine.IO decode, then Socket.IO decode or attachment, through one `Reassembler`)
//! and must not reach into the core. Besides "no panic", it checks that whatever decodes
//! encodes back to the same packet and that no completed binary message has a
//! placeholder without its attachment.

#![no_main]

use libfuzzer_sys::fuzz_target;
use resocket::protocol::{EnginePacket, Frame, Packet, ProtocolError, Reassembler};

/// Separates frames in the input; it never occurs in UTF-8 text.
const FRAME_SEPARATOR: u8 = 0xFF;
/// Marks a frame as binary; it never occurs in UTF-8 text either.
const BINARY_MARKER: u8 = 0xFE;

fuzz_target!(|input: &[u8]| {
    // The whole input as one frame of each kind.
    feed(&mut Reassembler::default(), Frame::Binary(input.to_vec()));
    if let Ok(text) = std::str::from_utf8(input) {
        feed(&mut Reassembler::default(), Frame::Text(text.to_owned()));
        check_packet(text);
    }

    // The input as a conversation, so that binary headers meet their attachments.
    let mut reassembler = Reassembler::default();
    for chunk in input.split(|&byte| byte == FRAME_SEPARATOR) {
        let frame = match chunk.split_first() {
            Some((&BINARY_MARKER, bytes)) => Frame::Binary(bytes.to_vec()),
            _ => Frame::Text(String::from_utf8_lossy(chunk).into_owned()),
        };
        feed(&mut reassembler, frame);
    }
});

fn feed(reassembler: &mut Reassembler, frame: Frame) {
    let Ok(packet) = EnginePacket::decode(frame) else {
        return;
    };
    assert_eq!(EnginePacket::decode(packet.encode()).as_ref(), Ok(&packet));
    let completed = match packet {
        EnginePacket::Message(Frame::Text(text)) => match check_packet(&text) {
            Some(packet) => reassembler.push_packet(packet, usize::MAX),
            None => return,
        },
        EnginePacket::Message(Frame::Binary(bytes)) => {
            reassembler.push_attachment(bytes, usize::MAX)
        }
        _ => return,
    };
    if let Ok(Some(message)) = completed {
        assert!(reassembler.is_idle());
        assert_eq!(message.attachments.len(), message.packet.attachments);
        if message.packet.attachments > 0 {
            // Every placeholder names a received attachment. The data may still hold a
            // number beyond f64 (`JSON.parse` reads it as Infinity), which a `Value`
            // cannot: that is an error value, never a placeholder error.
            let reconstructed = message.reconstruct();
            assert!(
                !matches!(reconstructed, Err(ProtocolError::InvalidPlaceholder)),
                "{message:?}"
            );
        }
        let _ = message.frames();
    }
}

fn check_packet(text: &str) -> Option<Packet> {
    let packet = Packet::decode(text).ok()?;
    assert_eq!(Packet::decode(&packet.encode()).as_ref(), Ok(&packet));
    Some(packet)
}
