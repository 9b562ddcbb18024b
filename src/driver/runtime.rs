//! The core running in the browser: one [`Manager`] fed by a WebSocket, a timer, a
//! clock and the page's listeners, its events handed to a sink.
//!
//! Owns the transports the core asked for (by [`ConnId`]), the ONE timer armed for the
//! core's next deadline, and the page listeners; all are released on `Drop`. It makes
//! no decision of its own: every input goes to the core, every output comes from it.
//!
//! Re-entrancy rule: the core is borrowed only while an input is handled and its
//! outputs are drained; events reach the sink after the borrow is released, so a sink
//! may call back into the driver (emit from a listener, disconnect, ...). Events raised
//! by such a nested call are queued behind the ones being delivered, so every sink
//! sees events in the order the core produced them. A transport the core asks for is
//! opened once the events produced before it are delivered (so that a listener can still
//! change the URL), by the outermost call only.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use gloo_timers::callback::Timeout;

use super::clock::Clock;
use super::page::PageListeners;
use super::received::ReceivedText;
use super::websocket::{TransportEvent, WebSocketTransport};
use crate::core::{ConnId, Manager, ManagerEvent, Output, SocketEvent, SocketKey};
use crate::protocol::Frame;

/// An event for the layer above the driver.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    Manager(ManagerEvent),
    Socket(SocketKey, SocketEvent),
}

/// Why a command could not reach the core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverError {
    /// Called from inside the core's own processing; cannot happen through the public
    /// API, reported instead of panicking should a future change make it possible.
    Busy,
    /// The driver was dropped.
    Gone,
}

/// The browser shell of one [`Manager`].
pub struct Driver {
    shared: Rc<Shared>,
    _page: PageListeners,
}

/// How often the timer fires at least while a connection is open, to compare the wall
/// clock with the monotonic one.
const WALL_CHECK_MS: u64 = 5000;

/// What the sink is given: a notice, and the latest text frame of the transport whose
/// frame the core was handling when it produced the notice (if it was handling one).
type Sink = dyn Fn(Notice, Option<&ReceivedText>);

struct Shared {
    core: RefCell<Core>,
    sink: Box<Sink>,
    undelivered: RefCell<VecDeque<(Notice, Option<Rc<ReceivedText>>)>>,
    delivering: Cell<bool>,
}

struct Core {
    manager: Manager,
    clock: Clock,
    /// Transports the core asked for, opened once the events before them are delivered.
    opening: Vec<ConnId>,
    url: String,
    transports: Vec<(ConnId, WebSocketTransport)>,
    timer: Option<(u64, Timeout)>,
}

impl Driver {
    /// Runs `manager` against the Engine.IO endpoint `url` (a complete `ws:`/`wss:` URL
    /// with the Engine.IO query), handing its events to `sink`, each with the latest
    /// text frame when a frame's handling produced it.
    pub fn new(
        manager: Manager,
        url: String,
        sink: impl Fn(Notice, Option<&ReceivedText>) + 'static,
    ) -> Self {
        let shared = Rc::new(Shared {
            core: RefCell::new(Core {
                manager,
                clock: Clock::default(),
                opening: Vec::new(),
                url,
                transports: Vec::new(),
                timer: None,
            }),
            sink: Box::new(sink),
            undelivered: RefCell::new(VecDeque::new()),
            delivering: Cell::new(false),
        });
        let weak = Rc::downgrade(&shared);
        let page = PageListeners::new(move |event| {
            // Failures mean the driver is gone or busy; a page event then has no one to inform.
            let _ = run(&weak, None, |core, now| {
                core.catch_up_wall_clock(now);
                core.manager.handle_network(now, event)
            });
        });
        Self {
            shared,
            _page: page,
        }
    }

    /// Runs a command on the core (connect, emit, ...) and carries out its outputs.
    pub fn command<R>(
        &self,
        command: impl FnOnce(&mut Manager, u64) -> R,
    ) -> Result<R, DriverError> {
        run(&Rc::downgrade(&self.shared), None, |core, now| {
            command(&mut core.manager, now)
        })
    }

    /// Reads the core's state without changing it.
    pub fn inspect<R>(&self, read: impl FnOnce(&Manager) -> R) -> Result<R, DriverError> {
        let core = self
            .shared
            .core
            .try_borrow()
            .map_err(|_| DriverError::Busy)?;
        Ok(read(&core.manager))
    }

    /// The Engine.IO endpoint used for the next connection.
    pub fn set_url(&self, url: String) -> Result<(), DriverError> {
        let mut core = self
            .shared
            .core
            .try_borrow_mut()
            .map_err(|_| DriverError::Busy)?;
        core.url = url;
        Ok(())
    }
}

/// Hands one input to the core (`frame`: the latest text frame, if the input is a frame),
/// carries out what it asks, then delivers its events.
fn run<R>(
    weak: &Weak<Shared>,
    frame: Option<Rc<ReceivedText>>,
    input: impl FnOnce(&mut Core, u64) -> R,
) -> Result<R, DriverError> {
    let mut input = Some(input);
    let mut result = None;
    run_once(weak, frame, &mut |core, now| {
        result = input.take().map(|input| input(core, now));
    })?;
    result.ok_or(DriverError::Busy)
}

/// [`run`]'s work, compiled once for every kind of input instead of once per command
/// (each wasm export would otherwise carry a copy).
#[inline(never)]
fn run_once(
    weak: &Weak<Shared>,
    frame: Option<Rc<ReceivedText>>,
    input: &mut dyn FnMut(&mut Core, u64),
) -> Result<(), DriverError> {
    let shared = weak.upgrade().ok_or(DriverError::Gone)?;
    {
        let mut core = shared
            .core
            .try_borrow_mut()
            .map_err(|_| DriverError::Busy)?;
        let now = core.clock.now();
        input(&mut core, now);
        // The core never calls out, so `undelivered` is free while it runs.
        core.carry_out(weak, now, &frame, &mut shared.undelivered.borrow_mut());
    }
    if deliver(&shared) {
        open_transports(weak, &shared);
    }
    Ok(())
}

/// Opens the transports the core asked for, once the events before them are delivered:
/// a `reconnect_attempt` listener may still change the URL (a fresh token in the
/// query), as socket.io-client builds each connection after that event. Only the
/// outermost call does it, so that an input made by a listener opens nothing early.
fn open_transports(weak: &Weak<Shared>, shared: &Shared) {
    loop {
        let conn = match shared.core.try_borrow_mut() {
            Ok(mut core) if !core.opening.is_empty() => core.opening.remove(0),
            _ => return,
        };
        // Opening is an input like any other: what it causes is carried out and delivered.
        if run_once(weak, None, &mut |core, now| core.open(weak, conn, now)).is_err() {
            return;
        }
    }
}

/// Delivers the queued events; `false` when an outer call further up the stack is
/// delivering (it will get these).
fn deliver(shared: &Shared) -> bool {
    if shared.delivering.replace(true) {
        return false;
    }
    loop {
        let next = shared.undelivered.borrow_mut().pop_front();
        let Some((notice, frame)) = next else { break };
        (shared.sink)(notice, frame.as_deref());
    }
    shared.delivering.set(false);
    true
}

impl Core {
    /// Tells the core how much time the monotonic clock missed (a sleep, or a clock
    /// set forward), if any, since the timer or a page event last asked.
    fn catch_up_wall_clock(&mut self, now: u64) {
        let gap = self.clock.wall_gap(now);
        if gap > 0 {
            self.manager.handle_time_gap(now, gap);
        }
    }

    /// Drains the core's outputs: transport commands are carried out here, events are
    /// queued in `notices` (with `frame`) for delivery once the core is released.
    /// Re-arms the timer.
    fn carry_out(
        &mut self,
        weak: &Weak<Shared>,
        now: u64,
        frame: &Option<Rc<ReceivedText>>,
        notices: &mut VecDeque<(Notice, Option<Rc<ReceivedText>>)>,
    ) {
        while let Some(output) = self.manager.poll_output() {
            match output {
                Output::OpenTransport(conn) => self.opening.push(conn),
                Output::CloseTransport(conn) => {
                    self.opening.retain(|id| *id != conn);
                    self.transports.retain(|(id, _)| *id != conn);
                }
                Output::Transmit(conn, frame) => {
                    let sent = self
                        .transports
                        .iter()
                        .find(|(id, _)| *id == conn)
                        .map(|(_, transport)| transport.send(&frame));
                    if let Some(Err(_)) = sent {
                        self.manager.handle_transport_closed(now, conn, true);
                    }
                }
                Output::Manager(event) => {
                    notices.push_back((Notice::Manager(event), frame.clone()))
                }
                Output::Socket(key, event) => {
                    notices.push_back((Notice::Socket(key, event), frame.clone()))
                }
            }
        }
        self.arm_timer(weak, now);
    }

    fn open(&mut self, weak: &Weak<Shared>, conn: ConnId, now: u64) {
        let handler_weak = weak.clone();
        // The latest text frame of this transport goes with the notices of the frames
        // after it too: a binary event completes on its last attachment, a binary frame.
        let mut latest_text: Option<Rc<ReceivedText>> = None;
        let handler = move |event: TransportEvent| {
            // A text frame is kept once, here: the core reads it in place.
            let event = match event {
                TransportEvent::Frame(Frame::Text(text), Some(js)) => {
                    latest_text = Some(Rc::new(ReceivedText::new(text, js)));
                    None
                }
                TransportEvent::Frame(..) => Some(event),
                TransportEvent::Open
                | TransportEvent::Error
                | TransportEvent::FrameTooLarge
                | TransportEvent::Close { .. } => {
                    latest_text = None;
                    Some(event)
                }
            };
            let frame = latest_text.clone();
            // A failure means the driver is gone: nothing is left to inform.
            let _ = run(&handler_weak, frame.clone(), |core, now| match event {
                None => {
                    if let Some(frame) = &frame {
                        core.manager.handle_text(now, conn, frame.text());
                    }
                }
                Some(TransportEvent::Open) => {}
                Some(TransportEvent::Frame(frame, _)) => {
                    core.manager.handle_frame(now, conn, frame)
                }
                Some(TransportEvent::Error) => {
                    core.manager.handle_transport_closed(now, conn, true)
                }
                Some(TransportEvent::FrameTooLarge) => {
                    core.manager.handle_frame_too_large(now, conn)
                }
                Some(TransportEvent::Close { .. }) => {
                    core.manager.handle_transport_closed(now, conn, false)
                }
            });
        };
        let max_frame_bytes = self.manager.config().limits.frame_bytes;
        match WebSocketTransport::connect(&self.url, max_frame_bytes, handler) {
            Ok(transport) => self.transports.push((conn, transport)),
            Err(_) => self.manager.handle_transport_closed(now, conn, true),
        }
    }

    fn arm_timer(&mut self, weak: &Weak<Shared>, now: u64) {
        // While a connection is open, the timer also fires every WALL_CHECK_MS so that a
        // sleep is noticed soon after wake-up (see the clock module).
        let check = self
            .manager
            .handshake()
            .map(|_| now.saturating_add(WALL_CHECK_MS));
        let deadline = match (self.manager.poll_timeout(), check) {
            (Some(due), Some(check)) => Some(due.min(check)),
            (due, check) => due.or(check),
        };
        // A timer armed no later than needed stays: one that fires early only re-arms,
        // and cancelling and re-arming on every frame would cost more.
        if let (Some((armed, _)), Some(deadline)) = (&self.timer, deadline) {
            if *armed <= deadline {
                return;
            }
        }
        // Dropping the previous timer cancels it (also from inside its own callback:
        // wasm-bindgen frees a running closure only once it returns).
        self.timer = deadline.map(|deadline| {
            // setTimeout takes a signed 32-bit delay; a later deadline is re-armed when
            // this one fires early, since the core ignores deadlines not yet due.
            let delay = deadline.saturating_sub(now).min(i32::MAX as u64) as u32;
            let weak = weak.clone();
            let timer = Timeout::new(delay, move || {
                // Browsers throttle timers in background tabs: the core reads the wall
                // clock through `run` and handles everything overdue at once.
                let _ = run(&weak, None, |core, now| {
                    // This timer is spent: forget it so that the same deadline, if
                    // still pending (fired early), is armed again.
                    core.timer = None;
                    core.catch_up_wall_clock(now);
                    core.manager.handle_timeout(now);
                });
            });
            (deadline, timer)
        });
    }
}
