//! Connection state recovery for one namespace: the server's private session id, the
//! offset of the last event delivered to the app, and what is needed to cut a replay
//! that overlaps what was already delivered.
//!
//! Owns the recovery rules (what a reconnect CONNECT presents, which events carry an
//! offset, which events are duplicates). It must not deliver events or talk to the
//! transport: the socket does.
//!
//! The server appends an offset to every event it stores for recovery: the events
//! without an ack id that are not volatile. Nothing on the wire marks an event as
//! volatile, so a trailing string of a live event may be app data as well as an
//! offset. Duplicates are therefore looked for only where they can arise and every
//! candidate surely is an offset: a replay (the events the server sends before its
//! CONNECT reply on a recovering connect, all of them from its store) is checked
//! against what was delivered before, and the live events of that connection against
//! the replay. A live event is never compared with earlier live events, so a volatile
//! event sent twice reaches the app twice. Its trailing string argument, though, cannot
//! be told from an offset: the app names such events (`SocketConfig::volatile_events`),
//! and they are never split.

use std::collections::VecDeque;
use std::fmt;

use crate::protocol::{decode_string, JsonText};

/// How many delivered offsets are remembered to recognise a replayed duplicate. A
/// replay starts right after the offset the client presented, so an overlap can only
/// reach back a little; this bounds memory whatever the server does.
const REMEMBERED_OFFSETS: usize = 256;

/// The longest trailing string taken for an offset. The server's offsets are short ids
/// (7 to 24 characters for the in-memory, Redis Streams and MongoDB adapters); a
/// longer string is app data, and no longer string is ever remembered.
pub(crate) const MAX_OFFSET_LEN: usize = 64;

/// The state needed to recover a session, kept once the server has given a pid.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct RecoveryPoint {
    pid: String,
    offset: Option<String>,
    /// The last offsets delivered, oldest first (each at most [`MAX_OFFSET_LEN`]), each
    /// marked when it came in the replay of the current connection.
    delivered: VecDeque<(String, bool)>,
    /// How many of `delivered` are so marked. A live event can only repeat the tail of
    /// the replay, which stays among the last delivered until enough newer events
    /// push it out; then live events are compared with nothing.
    replayed: usize,
}

/// The pid is a credential: it never appears in a debug print.
impl fmt::Debug for RecoveryPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecoveryPoint")
            .field("pid", &"<redacted>")
            .field("offset", &self.offset)
            .field("delivered", &self.delivered.len())
            .field("replayed", &self.replayed)
            .finish()
    }
}

/// A recoverable session, as one client hands it to another (a page taking over the
/// connection a closed page held): the server's private session id, and the offset of
/// the last event the receiving client delivered to its app.
#[derive(Clone, PartialEq, Eq)]
pub struct Session {
    pub pid: String,
    pub offset: String,
}

/// The pid is a credential: it never appears in a debug print.
impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("pid", &"<redacted>")
            .field("offset", &self.offset)
            .finish()
    }
}

/// Where an event reached the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arrival {
    /// Before the CONNECT reply of a connect that presented a recovery point: from the
    /// server's store.
    Replay,
    /// While connected.
    Live,
}

impl RecoveryPoint {
    pub(crate) fn new(pid: String) -> Self {
        Self {
            pid,
            offset: None,
            delivered: VecDeque::new(),
            replayed: 0,
        }
    }

    /// The point another client reached: `offset` is the last event it delivered, so a
    /// replay that brings it again is cut.
    pub(crate) fn handed_over(session: Session) -> Self {
        let mut point = Self::new(session.pid);
        point.delivered.push_back((session.offset.clone(), false));
        point.offset = Some(session.offset);
        point
    }

    pub(crate) fn pid(&self) -> &str {
        &self.pid
    }

    /// What a reconnect would present, once an event has been delivered.
    pub(crate) fn session(&self) -> Option<Session> {
        Some(Session {
            pid: self.pid.clone(),
            offset: self.offset.clone()?,
        })
    }

    /// Whether a reconnect presents this point (the server needs an offset to restore).
    pub(crate) fn can_recover(&self) -> bool {
        self.offset.is_some()
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

    /// A new connection starts: the previous replay can no longer overlap anything.
    pub(crate) fn begin_connection(&mut self) {
        for (_, replayed) in &mut self.delivered {
            *replayed = false;
        }
        self.replayed = 0;
    }

    /// Records the delivery of the event at `offset`. Returns `false` when it is a
    /// duplicate (see the module documentation): skip it.
    pub(crate) fn record_delivery(&mut self, offset: &str, arrival: Arrival) -> bool {
        let duplicate = match arrival {
            Arrival::Replay => self.delivered.iter().any(|(seen, _)| seen == offset),
            Arrival::Live => {
                self.replayed > 0
                    && self
                        .delivered
                        .iter()
                        .any(|(seen, replayed)| *replayed && seen == offset)
            }
        };
        if duplicate {
            return false;
        }
        if self.delivered.len() == REMEMBERED_OFFSETS {
            if let Some((_, true)) = self.delivered.pop_front() {
                self.replayed -= 1;
            }
        }
        let replayed = arrival == Arrival::Replay;
        self.replayed += usize::from(replayed);
        self.delivered.push_back((offset.to_owned(), replayed));
        self.offset = Some(offset.to_owned());
        true
    }
}

/// The offset the server appends to each stored EVENT of a recoverable session: the
/// last element, a string of at most [`MAX_OFFSET_LEN`] bytes, of an event without ack
/// id that has arguments besides it.
pub(crate) fn trailing_offset(data: &JsonText) -> Option<String> {
    match data.trailing_string()? {
        (last, Some(_)) if last.len() <= MAX_OFFSET_LEN + 2 => decode_string(last).map(Into::into),
        _ => None,
    }
}
