//! The core running in the browser: one [`Manager`] fed by its transports (WebSockets
//! and long-polling requests), a timer, a clock and the page's listeners, its events
//! handed to a sink.
//!
//! Owns the transports the core asked for (by [`ConnId`]), the ONE timer armed for the
//! core's next deadline, and the page listeners; all are released on `Drop`. It makes
//! no decision of its own: every input goes to the core, every output comes from it.
//!
//! Delivery rule: the core is borrowed only while an input is handled and its outputs
//! are drained; its events are queued, and delivered to the sink once the borrow is
//! released, so a sink may call back into the driver (emit from a listener,
//! disconnect, ...). What the browser reports is delivered at once. A command's events
//! wait for [`Driver::deliver`], which the caller makes once it has the command's
//! result (an emit's ack id): an ack refused inside the emit then finds its callback.
//! Each delivery takes the queue as it is, so the events of a command made by a
//! listener are delivered by that command's own `deliver`, before the next listener of
//! the outer event runs, as socket.io-client's emitter does: `disconnect()` called in a
//! `connect` listener has fired `disconnect` when it returns. A transport the core asks
//! for is opened once the events produced before it are delivered (so that a listener
//! can still change the URL), by the outermost delivery only.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use super::clock::Clock;
use super::page::PageSubscription;
use super::polling::{HttpSettings, PollEvent, PollingTransport};
use super::timer::Timer;
use super::websocket::{TransportEvent, WebSocketTransport};
use crate::core::{ConnId, HttpRequest, Manager, Notice, Output, TransportKind};

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
    _page: PageSubscription,
}

struct Shared {
    runtime: RefCell<Runtime>,
    sink: Box<dyn Fn(Notice)>,
    /// Events not yet delivered.
    undelivered: RefCell<Vec<Notice>>,
    /// An outer call is delivering events: a nested one opens no transport.
    delivering: Cell<bool>,
}

/// The core with what the driver keeps around it: its clock, its transports, its timer.
struct Runtime {
    manager: Manager,
    clock: Clock,
    /// Transports the core asked for, opened once the events before them are delivered.
    opening: Vec<(ConnId, TransportKind, String)>,
    endpoint: Endpoint,
    transports: Vec<(ConnId, Transport)>,
    timer: Timer,
}

enum Transport {
    WebSocket(WebSocketTransport),
    Polling(PollingTransport),
}

/// Where and how transports connect.
pub struct Endpoint {
    /// The Engine.IO endpoint, `http[s]://host[:port]{path}?EIO=4[&query]`: polling
    /// requests go there, WebSockets to its `ws[s]:` twin; the core's parameters
    /// (transport, session, cache-buster) are appended.
    pub url: String,
    pub http: Rc<HttpSettings>,
    /// The WebSocket subprotocols asked for (socket.io-client's `protocols`).
    pub protocols: Vec<String>,
}

impl Endpoint {
    pub fn new(url: String) -> Self {
        Self {
            url,
            http: Rc::default(),
            protocols: Vec::new(),
        }
    }

    /// The URL of a transport of `kind` with the core's `query` appended.
    fn url(&self, kind: TransportKind, query: &str) -> String {
        let mut url = String::with_capacity(self.url.len() + query.len() + 2);
        if kind == TransportKind::WebSocket {
            // `http` becomes `ws`, `https` becomes `wss`.
            url.push_str("ws");
            url.push_str(self.url.get(4..).unwrap_or_default());
        } else {
            url.push_str(&self.url);
        }
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(query);
        url
    }
}

impl Driver {
    /// Runs `manager` against `endpoint`, handing its events to `sink`.
    pub fn new(manager: Manager, endpoint: Endpoint, sink: impl Fn(Notice) + 'static) -> Self {
        let shared = Rc::new_cyclic(|weak: &Weak<Shared>| {
            let weak = weak.clone();
            let timer = Timer::new(move || {
                // Browsers throttle timers in background tabs: the core reads the wall
                // clock through `run` and handles everything overdue at once.
                let _ = run(&weak, None, |runtime, now| {
                    // This timeout is spent: forget it so that the same deadline, if
                    // still pending (fired early), is armed again.
                    runtime.timer.disarm();
                    runtime.catch_up_wall_clock(now);
                    runtime.manager.handle_timeout(now);
                });
            });
            Shared {
                runtime: RefCell::new(Runtime {
                    manager,
                    clock: Clock::default(),
                    opening: Vec::new(),
                    endpoint,
                    transports: Vec::new(),
                    timer,
                }),
                sink: Box::new(sink),
                undelivered: RefCell::default(),
                delivering: Cell::new(false),
            }
        });
        let weak = Rc::downgrade(&shared);
        let page = PageSubscription::new(move |event| {
            // Failures mean the driver is gone or busy; a page event then has no one to inform.
            let _ = run(&weak, None, |runtime, now| {
                runtime.catch_up_wall_clock(now);
                runtime.manager.handle_network(now, event)
            });
        });
        Self {
            shared,
            _page: page,
        }
    }

    /// Runs a command on the core (connect, emit, ...) and carries out its outputs. Its
    /// events wait for [`Driver::deliver`].
    pub fn command<R>(
        &self,
        command: impl FnOnce(&mut Manager, u64) -> R,
    ) -> Result<R, DriverError> {
        handle_with_result(&self.shared, None, |runtime, now| {
            command(&mut runtime.manager, now)
        })
    }

    /// Delivers the events not yet delivered (those of the commands made since the last
    /// delivery), then, unless a delivery is under way, opens the transports the core
    /// asked for.
    pub fn deliver(&self) {
        deliver(&Rc::downgrade(&self.shared), &self.shared);
    }

    /// Reads the core's state without changing it.
    pub fn inspect<R>(&self, read: impl FnOnce(&Manager) -> R) -> Result<R, DriverError> {
        let runtime = self
            .shared
            .runtime
            .try_borrow()
            .map_err(|_| DriverError::Busy)?;
        Ok(read(&runtime.manager))
    }

    /// Changes the endpoint for the transports opened from now on (the query may
    /// change between attempts).
    pub fn set_endpoint(&self, change: impl FnOnce(&mut Endpoint)) -> Result<(), DriverError> {
        let mut runtime = self
            .shared
            .runtime
            .try_borrow_mut()
            .map_err(|_| DriverError::Busy)?;
        change(&mut runtime.endpoint);
        Ok(())
    }
}

/// Hands one input from the browser to the core (`time`: when the browser stamped the
/// input, if it did), carries out what it asks, then delivers its events.
fn run<R>(
    weak: &Weak<Shared>,
    time: Option<f64>,
    input: impl FnOnce(&mut Runtime, u64) -> R,
) -> Result<R, DriverError> {
    let shared = weak.upgrade().ok_or(DriverError::Gone)?;
    let result = handle_with_result(&shared, time, input)?;
    deliver(weak, &shared);
    Ok(result)
}

/// [`handle`] for an input with a result.
fn handle_with_result<R>(
    shared: &Shared,
    time: Option<f64>,
    input: impl FnOnce(&mut Runtime, u64) -> R,
) -> Result<R, DriverError> {
    let mut input = Some(input);
    let mut result = None;
    handle(shared, time, &mut |runtime, now| {
        result = input.take().map(|input| input(runtime, now));
    })?;
    result.ok_or(DriverError::Busy)
}

/// Hands one input to the core and carries out what it asks; its events join the
/// undelivered ones. Compiled once for every kind of input instead of once per command
/// (each wasm export would otherwise carry a copy).
#[inline(never)]
fn handle(
    shared: &Shared,
    time: Option<f64>,
    input: &mut dyn FnMut(&mut Runtime, u64),
) -> Result<(), DriverError> {
    let mut runtime = shared
        .runtime
        .try_borrow_mut()
        .map_err(|_| DriverError::Busy)?;
    let now = match time {
        Some(time) => runtime.clock.at(time),
        None => runtime.clock.now(),
    };
    input(&mut runtime, now);
    // The queue is not borrowed elsewhere while the core is: delivery takes it whole
    // before calling the sink.
    if let Ok(mut undelivered) = shared.undelivered.try_borrow_mut() {
        runtime.carry_out(now, &mut undelivered);
    }
    Ok(())
}

/// Delivers every undelivered event; the outermost delivery then opens the transports
/// the core asked for.
#[inline(never)]
fn deliver(weak: &Weak<Shared>, shared: &Shared) {
    let outermost = !shared.delivering.replace(true);
    loop {
        let events = match shared.undelivered.try_borrow_mut() {
            Ok(mut undelivered) if !undelivered.is_empty() => std::mem::take(&mut *undelivered),
            _ => break,
        };
        for notice in events {
            (shared.sink)(notice);
        }
    }
    if outermost {
        shared.delivering.set(false);
        open_transports(weak, shared);
    }
}

/// Opens the transports the core asked for, once the events before them are delivered:
/// a `reconnect_attempt` listener may still change the URL (a fresh token in the
/// query), as socket.io-client builds each connection after that event. Only the
/// outermost delivery does it, so that an input made by a listener opens nothing early.
fn open_transports(weak: &Weak<Shared>, shared: &Shared) {
    loop {
        let mut next = match shared.runtime.try_borrow_mut() {
            Ok(mut runtime) if !runtime.opening.is_empty() => {
                let next = runtime.opening.remove(0);
                // Opening is rare: an idle connection keeps no room for it.
                if runtime.opening.is_empty() {
                    runtime.opening = Vec::new();
                }
                Some(next)
            }
            _ => return,
        };
        // Opening is an input like any other: what it causes is carried out and delivered.
        let opened = handle(shared, None, &mut |runtime, now| {
            if let Some((conn, kind, query)) = next.take() {
                runtime.open(weak, conn, kind, &query, now);
            }
        });
        if opened.is_err() {
            return;
        }
        deliver(weak, shared);
    }
}

impl Runtime {
    /// Tells the core how much time the monotonic clock missed (a sleep, or a clock
    /// set forward), if any, since the timer or a page event last asked.
    fn catch_up_wall_clock(&mut self, now: u64) {
        let gap = self.clock.wall_gap(now);
        if gap > 0 {
            self.manager.handle_time_gap(now, gap);
        }
    }

    /// Drains the core's outputs: transport commands are carried out here, events are
    /// queued in `notices` for delivery once the core is released. Re-arms the timer.
    fn carry_out(&mut self, now: u64, notices: &mut Vec<Notice>) {
        while let Some(output) = self.manager.poll_output() {
            match output {
                Output::OpenTransport(conn, kind, query) => self.opening.push((conn, kind, query)),
                Output::CloseTransport(conn) => {
                    self.opening.retain(|(id, ..)| *id != conn);
                    self.transports.retain(|(id, _)| *id != conn);
                }
                Output::Transmit(conn, frame) => {
                    let sent = match self.transport(conn) {
                        Some(Transport::WebSocket(socket)) => socket.send(&frame).is_ok(),
                        _ => true,
                    };
                    if !sent {
                        self.manager.handle_transport_closed(now, conn, true);
                    }
                }
                Output::Request(conn, HttpRequest { query, body }) => {
                    let url = self.endpoint.url(TransportKind::Polling, &query);
                    let sent = match self.transport(conn) {
                        Some(Transport::Polling(polling)) => {
                            polling.send(&url, body.as_deref()).is_ok()
                        }
                        _ => true,
                    };
                    if !sent {
                        self.manager
                            .handle_request_failed(now, conn, body.is_some());
                    }
                }
                Output::Notice(notice) => notices.push(notice),
            }
        }
        self.arm_timer(now);
    }

    fn transport(&self, conn: ConnId) -> Option<&Transport> {
        self.transports
            .iter()
            .find(|(id, _)| *id == conn)
            .map(|(_, transport)| transport)
    }

    /// Opens transport `conn` of `kind`, the core's `query` appended to the endpoint.
    fn open(
        &mut self,
        weak: &Weak<Shared>,
        conn: ConnId,
        kind: TransportKind,
        query: &str,
        now: u64,
    ) {
        let url = self.endpoint.url(kind, query);
        match kind {
            TransportKind::WebSocket => self.open_websocket(weak, conn, &url, now),
            TransportKind::Polling => self.open_polling(weak, conn, &url, now),
        }
    }

    /// Opens a polling transport: its first GET is the handshake.
    fn open_polling(&mut self, weak: &Weak<Shared>, conn: ConnId, url: &str, now: u64) {
        let handler_weak = weak.clone();
        let handler = move |event: PollEvent| {
            // A failure means the driver is gone: nothing is left to inform.
            let _ = run(&handler_weak, None, |runtime, now| match event {
                PollEvent::Polled(body) => runtime.manager.handle_polled(now, conn, &body),
                PollEvent::Posted => runtime.manager.handle_posted(conn),
                PollEvent::Failed { post } => {
                    runtime.manager.handle_request_failed(now, conn, post)
                }
            });
        };
        let max_body = self.manager.config().limits.frame_bytes;
        let polling = PollingTransport::new(Rc::clone(&self.endpoint.http), max_body, handler);
        if polling.send(url, None).is_err() {
            return self.manager.handle_request_failed(now, conn, false);
        }
        self.transports.push((conn, Transport::Polling(polling)));
    }

    fn open_websocket(&mut self, weak: &Weak<Shared>, conn: ConnId, url: &str, now: u64) {
        let handler_weak = weak.clone();
        let handler = move |event: TransportEvent| {
            let time = match event {
                TransportEvent::Frame(_, time) => Some(time),
                _ => None,
            };
            // A failure means the driver is gone: nothing is left to inform.
            let _ = run(&handler_weak, time, |runtime, now| match event {
                TransportEvent::Open => runtime.manager.handle_transport_open(conn),
                TransportEvent::Frame(frame, _) => runtime.manager.handle_frame(now, conn, frame),
                TransportEvent::Error => runtime.manager.handle_transport_closed(now, conn, true),
                TransportEvent::FrameTooLarge => runtime.manager.handle_frame_too_large(now, conn),
                TransportEvent::Close { .. } => {
                    runtime.manager.handle_transport_closed(now, conn, false)
                }
            });
        };
        let max_frame_bytes = self.manager.config().limits.frame_bytes;
        let protocols = &self.endpoint.protocols;
        match WebSocketTransport::connect(url, protocols, max_frame_bytes, handler) {
            Ok(socket) => self.transports.push((conn, Transport::WebSocket(socket))),
            Err(_) => self.manager.handle_transport_closed(now, conn, true),
        }
    }

    fn arm_timer(&mut self, now: u64) {
        let deadline = self.manager.poll_wakeup(now);
        // A timer armed no later than needed stays: one that fires early only re-arms,
        // and cancelling and re-arming on every frame would cost more.
        if let (Some(armed), Some(deadline)) = (self.timer.deadline(), deadline) {
            if armed <= deadline {
                return;
            }
        }
        match deadline {
            // A later deadline than setTimeout can wait is re-armed when this one fires
            // early, since the core ignores deadlines not yet due.
            Some(deadline) => {
                let delay = deadline.saturating_sub(now).min(u64::from(u32::MAX)) as u32;
                self.timer.arm(deadline, delay);
            }
            None => self.timer.disarm(),
        }
    }
}
