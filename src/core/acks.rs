//! The acknowledgements one namespace socket waits for, by wire id and by deadline.
//!
//! Owns the bookkeeping only, so that every lookup the socket makes per input is
//! O(log n) however many acknowledgements a server withholds. It must not decide
//! outcomes or produce events: the socket settles what it takes out of here.

use std::collections::{BTreeMap, BTreeSet};

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
    by_id: BTreeMap<u64, PendingAck>,
    /// `(deadline, id)` of every pending ack that has a deadline.
    deadlines: BTreeSet<(u64, u64)>,
}

impl PendingAcks {
    pub(crate) fn insert(&mut self, id: u64, ack: PendingAck) {
        if let Some(deadline) = ack.deadline {
            self.deadlines.insert((deadline, id));
        }
        if let Some(replaced) = self.by_id.insert(id, ack) {
            self.forget_deadline(id, replaced);
        }
    }

    pub(crate) fn remove(&mut self, id: u64) -> Option<PendingAck> {
        let ack = self.by_id.remove(&id)?;
        self.forget_deadline(id, ack);
        Some(ack)
    }

    fn forget_deadline(&mut self, id: u64, ack: PendingAck) {
        if let Some(deadline) = ack.deadline {
            self.deadlines.remove(&(deadline, id));
        }
    }

    pub(crate) fn mark_sent(&mut self, id: u64) {
        if let Some(ack) = self.by_id.get_mut(&id) {
            ack.sent = true;
        }
    }

    /// The earliest deadline of any pending ack.
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        self.deadlines.first().map(|&(deadline, _)| deadline)
    }

    /// The ids whose deadline is at or before `now`, earliest first.
    pub(crate) fn expired(&self, now: u64) -> Vec<u64> {
        self.deadlines
            .iter()
            .take_while(|&&(deadline, _)| deadline <= now)
            .map(|&(_, id)| id)
            .collect()
    }

    /// The ids of the acks whose packet went out on the transport, in id order.
    pub(crate) fn sent(&self) -> Vec<u64> {
        self.by_id
            .iter()
            .filter(|(_, ack)| ack.sent)
            .map(|(&id, _)| id)
            .collect()
    }
}
