//! Connection state recovery for one namespace: the server's private session id, the
//! offset of the last event delivered to the app, and the recently delivered offsets
//! that let a replay overlapping what was already delivered be cut.
//!
//! Owns the recovery rules of PROTOCOL.md (what a reconnect CONNECT presents, which
//! events carry an offset, when a session counts as recovered). It must not deliver
//! events or talk to the transport: the socket does.

use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

use crate::protocol::{decode_string, JsonText, ProtocolError};

/// How many delivered offsets are remembered to recognise a replayed duplicate. A
/// replay starts right after the offset the client presented, so an overlap can only
/// reach back a little; this bounds memory whatever the server does.
const REMEMBERED_OFFSETS: usize = 1024;

/// The state needed to recover a session, kept once the server has given a pid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RecoveryPoint {
    pid: String,
    offset: Option<String>,
    delivered: HashSet<String, BuildHasherDefault<Fnv1a>>,
    delivery_order: VecDeque<String>,
}

/// FNV-1a: the set of delivered offsets needs no protection against chosen collisions
/// (at most 1024 entries, from the server the client chose to trust), and std's default
/// hasher would draw randomness inside the core and weigh 1 KB in the wasm module.
#[derive(Debug, Clone, Copy)]
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl RecoveryPoint {
    pub(crate) fn new(pid: String) -> Self {
        Self {
            pid,
            offset: None,
            delivered: HashSet::default(),
            delivery_order: VecDeque::new(),
        }
    }

    pub(crate) fn pid(&self) -> &str {
        &self.pid
    }

    /// The CONNECT payload of a reconnect: `{...auth, pid, offset}`, or the auth alone
    /// while no event has been delivered (the server needs both to restore).
    pub(crate) fn connect_payload(&self, auth: Option<&JsonText>) -> Option<JsonText> {
        let Some(offset) = &self.offset else {
            return auth.cloned();
        };
        let fields = [("pid", self.pid.as_str()), ("offset", offset.as_str())];
        Some(JsonText::extend_object(auth, &fields))
    }

    /// Records the delivery of the event at `offset`. Returns `false` when it was
    /// already delivered in this session (a replay overlapping the past): skip it.
    pub(crate) fn record_delivery(&mut self, offset: &str) -> bool {
        if self.delivered.contains(offset) {
            return false;
        }
        if self.delivery_order.len() == REMEMBERED_OFFSETS {
            if let Some(oldest) = self.delivery_order.pop_front() {
                self.delivered.remove(&oldest);
            }
        }
        self.delivered.insert(offset.to_owned());
        self.delivery_order.push_back(offset.to_owned());
        self.offset = Some(offset.to_owned());
        true
    }
}

/// Splits the offset the server appends to each EVENT of a recoverable session: the
/// last element, a string, of an event without ack id. Returns the data without it.
/// Volatile events carry no offset and cannot be told apart when their own last
/// argument is a string: recovery and volatile emits do not mix on the server either.
pub(crate) fn split_offset(data: &JsonText) -> Result<Option<(JsonText, String)>, ProtocolError> {
    let elements = data.array_elements()?;
    let Some((last, rest)) = elements.split_last() else {
        return Ok(None);
    };
    if rest.is_empty() {
        return Ok(None);
    }
    Ok(decode_string(last).map(|offset| (JsonText::array_from_elements(rest), offset.into())))
}
