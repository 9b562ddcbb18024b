//! The offline queue of one namespace: emits made while disconnected, kept in order
//! until the next connection, bounded by count and by age.
//!
//! Owns the limits, the overflow policy and the reasons an emit is dropped.
//! It must not send anything or settle acknowledgements: the socket does, with what
//! this queue returns.

use std::collections::VecDeque;

use crate::protocol::BinaryMessage;

/// What happens to an emit that finds the queue full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overflow {
    /// Drop the oldest queued emit to make room (the newest state wins).
    #[default]
    DropOldest,
    /// Keep the queue as it is and drop the new emit.
    DropNewest,
}

/// The bounds of the offline queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueLimits {
    /// Most emits kept; 0 keeps none (every emit made offline is dropped).
    pub max_len: usize,
    /// Oldest an emit may get in the queue, in milliseconds; `None`: no age limit.
    pub max_age: Option<u64>,
    pub overflow: Overflow,
}

impl Default for QueueLimits {
    fn default() -> Self {
        Self {
            max_len: 1000,
            max_age: Some(300_000),
            overflow: Overflow::DropOldest,
        }
    }
}

/// Why an emit never left the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// The offline queue was full (see [`QueueLimits::max_len`]).
    Overflow,
    /// It waited longer than [`QueueLimits::max_age`].
    Expired,
    /// The app cleared the queue.
    Cleared,
    /// An at-least-once emit used up its `retries` without an acknowledgement.
    Unacknowledged,
    /// A frame of it is larger than the server accepts (the `maxPayload` of its
    /// handshake): sending it would make the server close the connection.
    TooLarge,
}

impl DropReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Overflow => "overflow",
            Self::Expired => "expired",
            Self::Cleared => "cleared",
            Self::Unacknowledged => "unacknowledged",
            Self::TooLarge => "too-large",
        }
    }
}

/// An emit waiting for a connection, with the binary frames that follow it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Queued {
    pub message: BinaryMessage,
    pub ack_id: Option<u64>,
    pub queued_at: u64,
    /// Reported to the app when it is finally sent.
    pub report_sent: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Outbox {
    limits: QueueLimits,
    queue: VecDeque<Queued>,
}

impl Outbox {
    pub(crate) fn new(limits: QueueLimits) -> Self {
        Self {
            limits,
            queue: VecDeque::new(),
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Queued> {
        self.queue.iter()
    }

    /// Queues `emit`; returns what the limits made it drop (the new emit itself, or
    /// the oldest one).
    pub(crate) fn push(&mut self, emit: Queued) -> Option<Queued> {
        if self.limits.max_len == 0 {
            return Some(emit);
        }
        if self.queue.len() < self.limits.max_len {
            self.queue.push_back(emit);
            return None;
        }
        match self.limits.overflow {
            Overflow::DropNewest => Some(emit),
            Overflow::DropOldest => {
                let oldest = self.queue.pop_front();
                self.queue.push_back(emit);
                oldest
            }
        }
    }

    /// Removes the emits older than the age limit at `now`.
    pub(crate) fn expire(&mut self, now: u64) -> Vec<Queued> {
        let Some(max_age) = self.limits.max_age else {
            return Vec::new();
        };
        // Emits are queued in time order: the expired ones are at the front.
        let expired = self
            .queue
            .iter()
            .take_while(|emit| emit.queued_at.saturating_add(max_age) <= now)
            .count();
        self.queue.drain(..expired).collect()
    }

    /// When the oldest emit expires.
    pub(crate) fn deadline(&self) -> Option<u64> {
        let max_age = self.limits.max_age?;
        self.queue
            .front()
            .map(|emit| emit.queued_at.saturating_add(max_age))
    }

    /// Takes everything, oldest first (to send it, or to drop it on `clear`).
    pub(crate) fn take_all(&mut self) -> VecDeque<Queued> {
        std::mem::take(&mut self.queue)
    }

    /// Removes the emit waiting for acknowledgement `ack_id` (its ack timed out).
    pub(crate) fn remove_ack(&mut self, ack_id: u64) {
        self.queue.retain(|emit| emit.ack_id != Some(ack_id));
    }
}
