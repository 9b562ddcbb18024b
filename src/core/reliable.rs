//! At-least-once emits (socket.io-client's `retries` with `ackTimeout`): a FIFO of
//! emits of which only the head is in flight, resent until the server acknowledges it
//! or the tries are used up, and resent after a reconnection.
//!
//! Owns the order and the try count. It must not send, time or settle anything itself:
//! the socket transmits what [`ReliableQueue::send_head`] hands out and reports every
//! outcome of the in-flight packet back through [`ReliableQueue::settle`].

use std::collections::VecDeque;

use crate::protocol::{BinaryMessage, JsonText, Packet};

#[derive(Debug)]
struct Reliable {
    /// The id the app knows this emit by (its acknowledgement id when it asked for one).
    handle: u64,
    data: JsonText,
    attachments: Vec<Vec<u8>>,
    with_ack: bool,
    /// Each copy sent is reported to the app (its outgoing-packet listeners).
    report_sent: bool,
    tries: u32,
    /// The wire ack id of the copy in flight.
    in_flight: Option<u64>,
}

/// The end of an emit that left the queue.
#[derive(Debug)]
pub(crate) struct Finished {
    pub handle: u64,
    pub with_ack: bool,
    /// The emit's data, for the report of an emit given up on.
    pub data: JsonText,
}

/// What an outcome of the in-flight copy means.
#[derive(Debug)]
pub(crate) enum Settled {
    /// Acknowledged: the emit is done.
    Delivered(Finished),
    /// Failed after its last try: the emit is given up on.
    GaveUp(Finished),
    /// Failed with tries left: it is sent again when connected.
    WillRetry,
    /// Not the copy in flight (a late answer to an earlier try).
    Stale,
}

#[derive(Debug, Default)]
pub(crate) struct ReliableQueue {
    queue: VecDeque<Reliable>,
}

impl ReliableQueue {
    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    pub(crate) fn push(
        &mut self,
        handle: u64,
        data: JsonText,
        attachments: Vec<Vec<u8>>,
        with_ack: bool,
        report_sent: bool,
    ) {
        self.queue.push_back(Reliable {
            handle,
            data,
            attachments,
            with_ack,
            report_sent,
            tries: 0,
            in_flight: None,
        });
    }

    /// The packet to send for the head, under wire ack id `wire_id`, and whether to
    /// report it sent, unless a copy of it is already in flight (or the queue is empty).
    pub(crate) fn send_head(
        &mut self,
        namespace: &str,
        wire_id: u64,
    ) -> Option<(BinaryMessage, bool)> {
        let head = self
            .queue
            .front_mut()
            .filter(|head| head.in_flight.is_none())?;
        head.tries = head.tries.saturating_add(1);
        head.in_flight = Some(wire_id);
        let message = BinaryMessage {
            packet: Packet::event(
                namespace,
                head.data.clone(),
                Some(wire_id),
                head.attachments.len(),
            ),
            attachments: head.attachments.clone(),
        };
        Some((message, head.report_sent))
    }

    /// Reports the outcome of the copy sent under `wire_id`: `delivered`, or failed
    /// (timed out, or lost with its transport). `retries` tries follow the first.
    pub(crate) fn settle(&mut self, wire_id: u64, delivered: bool, retries: u32) -> Settled {
        let Some(head) = self.queue.front_mut() else {
            return Settled::Stale;
        };
        if head.in_flight != Some(wire_id) {
            return Settled::Stale;
        }
        head.in_flight = None;
        if !delivered && head.tries <= retries {
            return Settled::WillRetry;
        }
        let Some(done) = self.queue.pop_front() else {
            return Settled::Stale;
        };
        let finished = Finished {
            handle: done.handle,
            with_ack: done.with_ack,
            data: done.data,
        };
        if delivered {
            Settled::Delivered(finished)
        } else {
            Settled::GaveUp(finished)
        }
    }
}
