//! The acknowledgements one namespace socket waits for, by wire id and by deadline.
//!
//! Owns the bookkeeping only, so that every lookup the socket makes per input is
//! O(log n) however many acknowledgements a server withholds. It must not decide
//! outcomes or produce events: the socket settles what it takes out of here.
//!
//! Ids are handed out in increasing order, so a deque kept in id order answers lookups
//! by binary search; a settled entry is left as a hole until it reaches an end. The
//! deadlines are a min-heap whose entries for settled acks are skipped when they come
//! up, and dropped wholesale once they outnumber the live ones.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PendingAck {
    pub deadline: Option<u64>,
    /// Sent on the current transport (else still in the offline queue).
    pub sent: bool,
    /// Belongs to the in-flight copy of an at-least-once emit.
    pub reliable: bool,
}

#[derive(Debug, Default)]
pub(crate) struct PendingAcks {
    /// In increasing id order; `None`: settled.
    by_id: VecDeque<(u64, Option<PendingAck>)>,
    live: usize,
    /// `(deadline, id)`, earliest first, including entries of settled acks.
    deadlines: BinaryHeap<Reverse<(u64, u64)>>,
}

impl PendingAcks {
    /// Registers `id`, which must be greater than every id registered before.
    pub(crate) fn insert(&mut self, id: u64, ack: PendingAck) {
        if self.by_id.back().is_some_and(|&(last, _)| last >= id) {
            return;
        }
        if let Some(deadline) = ack.deadline {
            self.deadlines.push(Reverse((deadline, id)));
        }
        self.by_id.push_back((id, Some(ack)));
        self.live += 1;
    }

    fn slot(&mut self, id: u64) -> Option<&mut Option<PendingAck>> {
        let index = self.by_id.binary_search_by_key(&id, |&(id, _)| id).ok()?;
        self.by_id.get_mut(index).map(|(_, ack)| ack)
    }

    pub(crate) fn remove(&mut self, id: u64) -> Option<PendingAck> {
        let ack = self.slot(id)?.take()?;
        self.live -= 1;
        while self.by_id.front().is_some_and(|(_, ack)| ack.is_none()) {
            self.by_id.pop_front();
        }
        while self.by_id.back().is_some_and(|(_, ack)| ack.is_none()) {
            self.by_id.pop_back();
        }
        if self.deadlines.len() > 2 * self.live + 64 {
            self.rebuild_deadlines();
        }
        Some(ack)
    }

    /// Keeps the heap within a constant factor of the live acks: entries of settled
    /// acks otherwise stay until their deadline.
    fn rebuild_deadlines(&mut self) {
        self.deadlines = self
            .by_id
            .iter()
            .filter_map(|&(id, ack)| Some(Reverse((ack?.deadline?, id))))
            .collect();
    }

    pub(crate) fn mark_sent(&mut self, id: u64) {
        if let Some(Some(ack)) = self.slot(id) {
            ack.sent = true;
        }
    }

    /// The earliest deadline still to be looked at; it may belong to an ack settled
    /// since (the socket then wakes up for nothing), never to a later one.
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        self.deadlines
            .peek()
            .map(|&Reverse((deadline, _))| deadline)
    }

    /// Takes every deadline at or before `now`; returns the ids still pending among
    /// them, earliest first.
    pub(crate) fn expired(&mut self, now: u64) -> Vec<u64> {
        let mut expired = Vec::new();
        while let Some(&Reverse((deadline, id))) = self.deadlines.peek() {
            if deadline > now {
                break;
            }
            self.deadlines.pop();
            if matches!(self.slot(id), Some(Some(_))) {
                expired.push(id);
            }
        }
        expired
    }

    /// The ids of the acks whose packet went out on the transport, in id order.
    pub(crate) fn sent(&self) -> Vec<u64> {
        self.by_id
            .iter()
            .filter(|(_, ack)| ack.is_some_and(|ack| ack.sent))
            .map(|&(id, _)| id)
            .collect()
    }
}
