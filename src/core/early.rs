//! Events that reach a namespace before its CONNECT reply (a recovery replay comes
//! first), held in order until `connect` fires, within a count and a byte budget.
//!
//! Owns the holding and the budget only. It must not decide what happens on overflow
//! or deliver anything: the socket does.

use super::event::IncomingEvent;

/// One held event and the recovery offset split off it.
pub(crate) type EarlyEvent = (IncomingEvent, Option<String>);

#[derive(Debug, Default)]
pub(crate) struct EarlyEvents {
    events: Vec<EarlyEvent>,
    bytes: usize,
}

/// The budget is spent: the event was not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Overflowed;

impl EarlyEvents {
    pub(crate) fn push(
        &mut self,
        event: EarlyEvent,
        max_events: usize,
        max_bytes: usize,
    ) -> Result<(), Overflowed> {
        let size = event.0.data.as_str().len()
            + event.0.attachments.iter().map(Vec::len).sum::<usize>()
            + event.1.as_ref().map_or(0, String::len);
        let bytes = self.bytes.saturating_add(size);
        if self.events.len() >= max_events || bytes > max_bytes {
            return Err(Overflowed);
        }
        self.bytes = bytes;
        self.events.push(event);
        Ok(())
    }

    pub(crate) fn take(&mut self) -> Vec<EarlyEvent> {
        self.bytes = 0;
        std::mem::take(&mut self.events)
    }

    pub(crate) fn clear(&mut self) {
        self.take();
    }
}
