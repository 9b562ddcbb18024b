//! The Engine.IO connection shared by all namespace sockets, and its reconnection
//! (socket.io-client's Manager): handshake, heartbeat, timeouts, backoff, attempt
//! limits, network awareness, the choice of transport and of an upgrade, and routing of
//! packets to namespaces. How each transport carries packets is `wire`'s.
//!
//! Pure state machine: inputs arrive through `handle_*` with the current time, outputs
//! leave through [`Manager::poll_output`] and [`Manager::poll_timeout`]. It never touches a
//! clock, a socket or the platform; per-namespace rules live in `socket`.

use super::config::{ManagerConfig, SocketConfig};
use super::event::{
    ConnId, ConnectError, ConnectionError, DisconnectReason, ManagerEvent, Notice, Output,
    SocketKey, TransportKind,
};
use super::recovery::Session;
use super::rng::Rng;
use super::socket::{Consequence, EmitError, EmitOptions, RetryPolicy, Socket};
use super::wire::Wire;
use crate::protocol::{
    decode_payload, BinaryMessage, EnginePacket, Frame, Handshake, JsonText, Packet, PayloadCheck,
    PayloadPacket, ProtocolError, Reassembler,
};

/// How often, at least, the shell looks at its wall clock while a connection is open
/// (see [`Manager::poll_wakeup`]).
pub const WALL_CHECK_MS: u64 = 5000;

/// What the browser tells about the network and the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkEvent {
    Online,
    Offline,
    /// The page became visible again (`visibilitychange`).
    Visible,
    /// The page was restored from the back/forward cache (`pageshow` with `persisted`).
    PageShow,
}

#[derive(Debug)]
enum Engine {
    Closed,
    /// Backing off before the next reconnection attempt.
    Waiting {
        deadline: u64,
    },
    /// A reconnection is due but the browser is offline: wait for `online`.
    Suspended,
    /// The carrier (see `wire`) is waiting for the handshake.
    Opening {
        deadline: u64,
    },
    Open {
        handshake: Handshake,
        ping_deadline: u64,
    },
}

/// See [`Manager::direct_emit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectEmit {
    pub conn: ConnId,
    pub max_bytes: u64,
}

/// The client state machine for one server: one Engine.IO connection at a time and the
/// namespace sockets multiplexed on it.
///
/// Driving it: after every `handle_*` call (and after every command such as
/// [`Manager::emit`]), drain [`Manager::poll_output`] until it returns `None`, then arm
/// one timer at [`Manager::poll_timeout`] and call [`Manager::handle_timeout`] when it
/// fires. Outputs must be acted upon in order; none may be dropped.
#[derive(Debug)]
pub struct Manager {
    config: ManagerConfig,
    rng: Rng,
    engine: Engine,
    next_conn: u64,
    sockets: Vec<Socket>,
    wire: Wire,
    reassembler: Reassembler,
    payload_check: PayloadCheck,
    /// Reconnection attempts made since the connection was last open.
    attempts: u32,
    /// Whether the current or next opening is a reconnection (not the first connect).
    reconnecting: bool,
    online: bool,
    /// The connection was opened for its own sake (socket.io-client's `Manager.open()`,
    /// which `autoConnect` calls): it is kept, and re-established, without any socket
    /// wanting it, until a socket lets go of it or the app closes it.
    opened: bool,
}

impl Manager {
    /// `seed` feeds the backoff jitter; the shell draws it from the platform.
    pub fn new(config: ManagerConfig, seed: u64) -> Self {
        Self {
            config,
            rng: Rng::new(seed),
            engine: Engine::Closed,
            next_conn: 0,
            sockets: Vec::new(),
            // Its own stream of randomness, so that request parameters do not shift the
            // backoff jitter.
            wire: Wire::new(!seed),
            reassembler: Reassembler::default(),
            payload_check: PayloadCheck::Whole,
            attempts: 0,
            reconnecting: false,
            online: true,
            opened: false,
        }
    }

    /// socket.io-client's `Manager.open()`: connects now, with or without a socket.
    pub fn open(&mut self, now: u64) {
        self.opened = true;
        if let Engine::Closed = self.engine {
            self.attempts = 0;
            self.reconnecting = false;
            self.start_opening(now);
        }
    }

    /// socket.io-client's `Manager.disconnect()` once its sockets are disconnected: the
    /// connection closes and nothing reconnects it.
    pub fn close(&mut self) {
        self.release();
    }

    /// A socket let go of the connection (or the app closed it), as socket.io-client's
    /// Manager sees it: it closes once no socket wants it, opened for its own sake or not.
    fn release(&mut self) {
        self.opened = false;
        self.close_if_unused();
    }

    /// Whether the connection was opened for its own sake ([`Manager::open`]).
    pub fn is_opened(&self) -> bool {
        self.opened
    }

    /// Whether the connection is wanted: by a socket, or opened for its own sake.
    fn is_wanted(&self) -> bool {
        self.opened || self.sockets.iter().any(Socket::is_active)
    }

    pub fn config(&self) -> &ManagerConfig {
        &self.config
    }

    /// Changes take effect at the next decision that reads them.
    pub fn config_mut(&mut self) -> &mut ManagerConfig {
        &mut self.config
    }

    /// Whether an emit of socket `key` without acknowledgement, attachments or report,
    /// made now, would be written at once to WebSocket `conn` as one text frame, the
    /// socket's [`Manager::event_head`] and the emit's JSON, and change nothing else in
    /// the core. Until the next input, a shell may then write such an emit itself, if
    /// its frame has at most `max_bytes` (else the core drops it as too large).
    pub fn direct_emit(&self, key: SocketKey) -> Option<DirectEmit> {
        let conn = self.open_conn()?;
        let websocket = self.wire.carrier_kind() == Some(TransportKind::WebSocket);
        if !websocket || self.wire.report_packets {
            return None;
        }
        let max_bytes = self.sockets.get(key.0)?.sends_at_once()?;
        Some(DirectEmit { conn, max_bytes })
    }

    /// What an event frame of socket `key` starts with, before its JSON (`42`,
    /// `42/chat,`).
    pub fn event_head(&self, key: SocketKey) -> Option<String> {
        self.sockets.get(key.0).map(Socket::event_head)
    }

    /// The socket of `namespace`, created on first use (one per namespace).
    pub fn socket(&mut self, namespace: &str, config: SocketConfig) -> SocketKey {
        if let Some(index) = self.sockets.iter().position(|s| s.namespace() == namespace) {
            return SocketKey(index);
        }
        let key = SocketKey(self.sockets.len());
        // Most connections carry one namespace: a Vec's first growth would make room
        // for four sockets, several hundred bytes each.
        self.sockets.reserve_exact(1);
        self.sockets
            .push(Socket::new(key, namespace.to_owned(), config));
        key
    }

    pub fn namespace(&self, key: SocketKey) -> Option<&str> {
        self.sockets.get(key.0).map(Socket::namespace)
    }

    pub fn is_connected(&self, key: SocketKey) -> bool {
        self.sockets.get(key.0).is_some_and(Socket::is_connected)
    }

    /// Whether the socket wants a connection (and so will reconnect by itself).
    pub fn is_active(&self, key: SocketKey) -> bool {
        self.sockets.get(key.0).is_some_and(Socket::is_active)
    }

    /// The session id the server gave this socket; `None` while not connected.
    pub fn sid(&self, key: SocketKey) -> Option<&str> {
        self.sockets.get(key.0).and_then(Socket::sid)
    }

    /// Whether the last connection of this socket recovered its previous session.
    pub fn recovered(&self, key: SocketKey) -> bool {
        self.sockets.get(key.0).is_some_and(Socket::recovered)
    }

    /// The data of the emits waiting in the offline queue, oldest first.
    pub fn queued(&self, key: SocketKey) -> Vec<&JsonText> {
        self.sockets
            .get(key.0)
            .map_or_else(Vec::new, |socket| socket.queued().collect())
    }

    /// The session socket `key` would recover at its next connect, to hand over to
    /// another client (a page taking over a connection shared by several pages).
    pub fn session(&self, key: SocketKey) -> Option<Session> {
        self.sockets.get(key.0).and_then(Socket::session)
    }

    /// Socket `key` takes over `session` from another client: its next CONNECT presents
    /// it, and the server restores it (the socket id, the rooms, the events missed
    /// since the offset). False, and nothing changes, once a CONNECT of its own is
    /// under way or answered.
    pub fn resume(&mut self, key: SocketKey, session: Session) -> bool {
        self.sockets
            .get_mut(key.0)
            .is_some_and(|socket| socket.resume(session))
    }

    /// At-least-once emits (`retries`) not yet acknowledged by the server.
    pub fn unacknowledged_len(&self, key: SocketKey) -> usize {
        self.sockets
            .get(key.0)
            .map_or(0, Socket::unacknowledged_len)
    }

    /// Drops every emit of the offline queue, each reported as
    /// [`SocketEvent::Dropped`](super::SocketEvent::Dropped).
    pub fn clear_queue(&mut self, key: SocketKey) {
        if let Some(socket) = self.sockets.get_mut(key.0) {
            socket.clear_queue(&mut self.wire);
        }
    }

    /// Declares a state-restoring emit (`[name, ...args]`, e.g. a room join): sent now
    /// if connected, and re-sent after every connection that did not recover the
    /// session, in declaration order, before the offline queue. Returns its id.
    pub fn add_rejoin(
        &mut self,
        key: SocketKey,
        data: JsonText,
        attachments: Vec<Vec<u8>>,
    ) -> Result<u64, EmitError> {
        let conn = self.open_conn();
        match self.sockets.get_mut(key.0) {
            Some(socket) => socket.add_rejoin(data, attachments, conn, &mut self.wire),
            None => Err(EmitError::InvalidData),
        }
    }

    /// Stops re-sending rejoin emit `id`; `false` if it was not declared.
    pub fn remove_rejoin(&mut self, key: SocketKey, id: u64) -> bool {
        self.sockets
            .get_mut(key.0)
            .is_some_and(|socket| socket.remove_rejoin(id))
    }

    /// The Engine.IO handshake of the open connection, if any.
    pub fn handshake(&self) -> Option<&Handshake> {
        match &self.engine {
            Engine::Open { handshake, .. } => Some(handshake),
            _ => None,
        }
    }

    /// The app's `socket.connect()`.
    pub fn connect(&mut self, now: u64, key: SocketKey) {
        let Some(socket) = self.sockets.get_mut(key.0) else {
            return;
        };
        socket.set_active(true);
        match &self.engine {
            Engine::Closed => {
                self.attempts = 0;
                self.reconnecting = false;
                self.start_opening(now);
            }
            Engine::Open { handshake, .. } => {
                let max_payload = handshake.max_payload;
                if let Some(conn) = self.wire.carrier() {
                    socket.begin_handshake(
                        now,
                        self.config.timeout,
                        conn,
                        max_payload,
                        &mut self.wire,
                    );
                }
            }
            // The socket joins in when the connection (re)opens.
            Engine::Opening { .. } | Engine::Waiting { .. } | Engine::Suspended => {}
        }
    }

    /// The app's `socket.disconnect()`: no reconnection follows for this socket, and the
    /// connection closes when no socket wants it any more.
    pub fn disconnect(&mut self, key: SocketKey) {
        let conn = self.open_conn();
        if let Some(socket) = self.sockets.get_mut(key.0) {
            socket.disconnect(conn, &mut self.wire);
            self.release();
        }
    }

    /// The app's `socket.io.engine.close()`: drops the transport as a network failure
    /// would, so the sockets reconnect (and may recover their sessions).
    pub fn close_transport(&mut self, now: u64) {
        self.retire_transport(
            now,
            DisconnectReason::ForcedClose,
            ConnectionError::Transport,
        );
    }

    /// Sends `data` (`[name, ...args]`) now if connected, else queues it (unless volatile).
    /// Returns the acknowledgement id when `options.with_ack`; its outcome comes as
    /// [`SocketEvent::Ack`](super::SocketEvent::Ack).
    pub fn emit(
        &mut self,
        now: u64,
        key: SocketKey,
        data: JsonText,
        attachments: Vec<Vec<u8>>,
        options: EmitOptions,
    ) -> Result<Option<u64>, EmitError> {
        let conn = self.open_conn();
        match self.sockets.get_mut(key.0) {
            Some(socket) => socket.emit(now, data, attachments, options, conn, &mut self.wire),
            None => Err(EmitError::InvalidData),
        }
    }

    /// Answers the server's request for an acknowledgement of event `id`.
    pub fn ack(&mut self, key: SocketKey, id: u64, args: JsonText, attachments: Vec<Vec<u8>>) {
        let conn = self.open_conn();
        if let Some(socket) = self.sockets.get_mut(key.0) {
            socket.ack(id, args, attachments, conn, &mut self.wire);
        }
    }

    /// The shell's answer to [`SocketEvent::AuthRequest`](super::SocketEvent::AuthRequest).
    pub fn handle_auth(&mut self, key: SocketKey, token: u64, auth: Option<&JsonText>) {
        let Some(conn) = self.open_conn() else {
            return;
        };
        if let Some(socket) = self.sockets.get_mut(key.0) {
            socket.handle_auth(token, auth, conn, &mut self.wire);
        }
    }

    /// The shell could not produce the CONNECT payload asked for with `token`: that
    /// namespace's attempt fails now (as its handshake timeout would, without the
    /// wait) and it asks again after its own backoff. The connection and the other
    /// namespaces are not affected.
    pub fn handle_auth_failed(&mut self, now: u64, key: SocketKey, token: u64) {
        let Some(socket) = self.sockets.get_mut(key.0) else {
            return;
        };
        let mut retry = RetryPolicy {
            config: &self.config,
            rng: &mut self.rng,
        };
        if socket.handle_auth_failed(now, token, &mut retry, &mut self.wire)
            == Consequence::Deactivated
        {
            self.release();
        }
    }

    /// A frame arrived on WebSocket transport `conn`.
    pub fn handle_frame(&mut self, now: u64, conn: ConnId, frame: Frame) {
        let probe = self.wire.is_probe(conn);
        match &frame {
            Frame::Text(text) if probe || is_message(text) => {
                return self.handle_text(now, conn, text)
            }
            _ if probe => return self.wire.probe_frame(None),
            _ => {}
        }
        if !self.accepts_frame(now, conn, frame.len()) {
            return;
        }
        self.report_received(|| frame.clone());
        match EnginePacket::decode(frame) {
            Ok(packet) => self.handle_engine_packet(now, conn, packet),
            Err(error) => self.fail_protocol(now, error),
        }
    }

    /// A text frame arrived on transport `conn`, read in place: a Socket.IO packet is
    /// decoded from the shell's own copy of the frame, which it keeps.
    pub fn handle_text(&mut self, now: u64, conn: ConnId, text: &str) {
        if self.wire.is_probe(conn) {
            return self.wire.probe_frame(Some(text));
        }
        if !is_message(text) {
            return self.handle_frame(now, conn, Frame::Text(text.to_owned()));
        }
        // `get`, not indexing: the digit is one byte, and a panicking slice would bring
        // its formatted message (2 KB and more of wasm) along.
        if let (true, Some(packet)) = (self.accepts_frame(now, conn, text.len()), text.get(1..)) {
            self.report_received(|| Frame::Text(text.to_owned()));
            self.handle_message(now, conn, packet);
        }
    }

    /// Reports every Engine.IO packet of the connection, received and written, and
    /// every drain, from now on ([`ManagerEvent::Packet`], [`ManagerEvent::Drain`]).
    pub fn report_packets(&mut self) {
        self.wire.report_packets = true;
    }

    /// How much of each EVENT and ACK payload the core checks from now on: with
    /// [`PayloadCheck::Outline`], the shell parses every one it is handed and reports
    /// one that does not parse with [`Manager::handle_unparsable_payload`].
    pub fn check_payloads(&mut self, check: PayloadCheck) {
        self.payload_check = check;
        self.reassembler.check_payloads(check);
    }

    /// The shell could not parse a payload from transport `conn` that the core passed
    /// on with its outline checked only (see [`Manager::check_payloads`]): `error` is
    /// [`ProtocolError::InvalidJson`], or [`ProtocolError::InvalidPlaceholder`] for a
    /// placeholder that names no attachment. The frame was malformed, and the transport
    /// fails as for any malformed frame. The events already passed on stand; the
    /// recovery point has moved past this one (a replay would bring the same malformed
    /// frame again).
    pub fn handle_unparsable_payload(&mut self, now: u64, conn: ConnId, error: ProtocolError) {
        if self.current_conn() == Some(conn) {
            self.fail_protocol(now, error);
        }
    }

    /// A received packet, reported when asked for.
    fn report_received(&mut self, frame: impl FnOnce() -> Frame) {
        if self.wire.report_packets {
            let frame = frame();
            self.wire
                .push_back(Output::Notice(Notice::Manager(ManagerEvent::Packet {
                    outgoing: false,
                    frame,
                })));
        }
    }

    /// A Socket.IO packet, the text of an Engine.IO message.
    fn handle_message(&mut self, now: u64, conn: ConnId, packet: &str) {
        if matches!(self.engine, Engine::Opening { .. }) {
            // Nothing but the handshake may come first.
            return self.fail_protocol(now, ProtocolError::UnexpectedPacket);
        }
        let limit = self.config.limits.attachments;
        let assembled = Packet::decode_checking(packet, self.payload_check)
            .and_then(|packet| self.reassembler.push_packet(packet, limit));
        self.route(now, conn, assembled);
    }

    /// Whether a frame of `size` bytes on `conn` is to be handled: it belongs to the
    /// current transport and is within the limit (else the transport is failed).
    fn accepts_frame(&mut self, now: u64, conn: ConnId, size: usize) -> bool {
        if self.current_conn() != Some(conn) {
            return false;
        }
        if size > self.config.limits.frame_bytes {
            self.fail_protocol(now, ProtocolError::FrameTooLarge);
            return false;
        }
        true
    }

    /// A frame larger than [`IncomingLimits::frame_bytes`](super::IncomingLimits) arrived
    /// on transport `conn`; the shell did not copy it (see [`Manager::config`]).
    pub fn handle_frame_too_large(&mut self, now: u64, conn: ConnId) {
        if self.current_conn() == Some(conn) {
            self.fail_protocol(now, ProtocolError::FrameTooLarge);
        }
    }

    /// The platform's wall clock advanced `gap` ms more than the monotonic clock the
    /// core runs on, since the previous input: the machine was asleep, or the wall
    /// clock was set forward (the two look alike). Only the heartbeat takes it into
    /// account: the server stopped hearing from a sleeping client, so the time asleep
    /// counts toward the ping deadline and a connection the server has surely closed is
    /// noticed at wake-up. Acknowledgement timeouts, queue ages and backoff keep running
    /// on the monotonic clock, so a clock step fires none of them.
    pub fn handle_time_gap(&mut self, now: u64, gap: u64) {
        if let Engine::Open { ping_deadline, .. } = &mut self.engine {
            *ping_deadline = ping_deadline.saturating_sub(gap);
        }
        self.handle_timeout(now);
    }

    /// WebSocket transport `conn` is open.
    pub fn handle_transport_open(&mut self, conn: ConnId) {
        self.wire.probe_opened(conn);
    }

    /// WebSocket transport `conn` closed (`error`: it failed rather than closed normally).
    pub fn handle_transport_closed(&mut self, now: u64, conn: ConnId, error: bool) {
        if self.wire.is_probe(conn) {
            return self.wire.fail_probe();
        }
        if self.current_conn() != Some(conn) {
            return;
        }
        let reason = if error {
            DisconnectReason::TransportError
        } else {
            DisconnectReason::TransportClose
        };
        self.lose_transport(now, reason, ConnectionError::Transport);
    }

    /// The GET of polling transport `conn` answered `body` (HTTP 200): the server's
    /// packets, read in place.
    pub fn handle_polled(&mut self, now: u64, conn: ConnId, body: &str) {
        if !self.wire.take_polled(conn) {
            return;
        }
        if body.len() > self.config.limits.frame_bytes {
            return self.fail_protocol(now, ProtocolError::FrameTooLarge);
        }
        for packet in decode_payload(body) {
            // A packet may have ended the connection: the rest of the body is stale.
            if self.current_conn() != Some(conn) {
                return;
            }
            match packet {
                Ok(PayloadPacket::Text(text)) => self.handle_text(now, conn, text),
                Ok(PayloadPacket::Binary(bytes)) => {
                    self.handle_frame(now, conn, Frame::Binary(bytes))
                }
                Err(error) => return self.fail_protocol(now, error),
            }
        }
        self.wire.polled(conn);
    }

    /// A POST of polling transport `conn` was accepted (HTTP 200).
    pub fn handle_posted(&mut self, conn: ConnId) {
        self.wire.posted(conn);
    }

    /// A request of polling transport `conn` failed: a network error, an HTTP status
    /// other than 200 (the server forgot the session, say), or the request timeout.
    /// `post`: the POST failed, rather than the GET.
    pub fn handle_request_failed(&mut self, now: u64, conn: ConnId, post: bool) {
        if !self.wire.request_failed(conn, post) {
            return;
        }
        let error = if post {
            ConnectionError::Post
        } else {
            ConnectionError::Poll
        };
        self.lose_transport(now, DisconnectReason::TransportError, error);
    }

    pub fn handle_network(&mut self, now: u64, event: NetworkEvent) {
        match event {
            NetworkEvent::Offline => {
                self.online = false;
                match self.engine {
                    Engine::Opening { .. } | Engine::Open { .. } => self.retire_transport(
                        now,
                        DisconnectReason::TransportClose,
                        ConnectionError::Transport,
                    ),
                    Engine::Waiting { .. } => self.engine = Engine::Suspended,
                    Engine::Closed | Engine::Suspended => {}
                }
            }
            NetworkEvent::Online => {
                self.online = true;
                self.retry_now(now);
            }
            NetworkEvent::Visible | NetworkEvent::PageShow => {
                if self.online {
                    self.retry_now(now);
                }
            }
        }
    }

    /// Handles every deadline that has passed at `now`.
    pub fn handle_timeout(&mut self, now: u64) {
        self.wire.handle_timeout(now);
        match self.engine {
            Engine::Opening { deadline, .. } if deadline <= now => {
                self.retire_transport(
                    now,
                    DisconnectReason::TransportClose,
                    ConnectionError::Timeout,
                );
            }
            Engine::Open { ping_deadline, .. } if ping_deadline <= now => {
                self.retire_transport(now, DisconnectReason::PingTimeout, ConnectionError::Timeout);
            }
            Engine::Waiting { deadline } if deadline <= now => self.reconnect_now(now),
            _ => {}
        }
        let mut deactivated = false;
        let conn = self.open_conn();
        let mut retry = RetryPolicy {
            config: &self.config,
            rng: &mut self.rng,
        };
        for socket in &mut self.sockets {
            deactivated |= socket.handle_timeout(now, conn, &mut retry, &mut self.wire)
                == Consequence::Deactivated;
        }
        if deactivated {
            self.release();
        }
    }

    /// The next output, in the order it must be acted upon.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.wire.pop_front()
    }

    /// When [`Manager::handle_timeout`] is next due, if anything waits on time.
    pub fn poll_timeout(&self) -> Option<u64> {
        let engine = match self.engine {
            Engine::Waiting { deadline } | Engine::Opening { deadline, .. } => Some(deadline),
            Engine::Open { ping_deadline, .. } => Some(ping_deadline),
            Engine::Closed | Engine::Suspended => None,
        };
        self.sockets
            .iter()
            .filter_map(Socket::deadline)
            .chain(engine)
            .chain(self.wire.deadline())
            .min()
    }

    /// When the shell's timer is next due: [`Manager::poll_timeout`], and, while a
    /// connection is open, [`WALL_CHECK_MS`] from `now` at the latest, so that the shell
    /// compares its wall clock with the monotonic one
    /// ([`Manager::handle_time_gap`]) soon after a sleep.
    pub fn poll_wakeup(&self, now: u64) -> Option<u64> {
        let check = self.handshake().map(|_| now.saturating_add(WALL_CHECK_MS));
        match (self.poll_timeout(), check) {
            (Some(due), Some(check)) => Some(due.min(check)),
            (due, check) => due.or(check),
        }
    }

    /// The transport that carries the connection, while one is opening or open.
    fn current_conn(&self) -> Option<ConnId> {
        match self.engine {
            Engine::Opening { .. } | Engine::Open { .. } => self.wire.carrier(),
            _ => None,
        }
    }

    fn open_conn(&self) -> Option<ConnId> {
        match self.engine {
            Engine::Open { .. } => self.wire.carrier(),
            _ => None,
        }
    }

    /// The transport of the open connection (`"polling"`, `"websocket"`), if any.
    pub fn transport(&self) -> Option<TransportKind> {
        self.open_conn().and(self.wire.carrier_kind())
    }

    fn start_opening(&mut self, now: u64) {
        let kind = self.wire.first_transport(&self.config);
        self.open_transport(kind, now.saturating_add(self.config.timeout));
    }

    /// Opens a transport of `kind` for the connection; the handshake is due by `deadline`.
    fn open_transport(&mut self, kind: TransportKind, deadline: u64) {
        self.next_conn += 1;
        self.wire.open(ConnId(self.next_conn), kind, &self.config);
        self.engine = Engine::Opening { deadline };
    }

    /// The transport after the current one in `transports`, when `try_all_transports`
    /// lets a connection that could not open on one try the next.
    fn fallback_transport(&self) -> Option<TransportKind> {
        if !self.config.try_all_transports || !matches!(self.engine, Engine::Opening { .. }) {
            return None;
        }
        let current = self.wire.carrier_kind()?;
        let transports = &self.config.transports;
        let index = transports.iter().position(|kind| *kind == current)?;
        transports.get(index + 1).copied()
    }

    /// The transport failed: a connection still opening tries the next transport when
    /// allowed to, else the connection is lost.
    fn lose_transport(&mut self, now: u64, reason: DisconnectReason, error: ConnectionError) {
        match (self.fallback_transport(), &self.engine) {
            (Some(kind), Engine::Opening { deadline }) => {
                let deadline = *deadline;
                self.wire.close();
                self.open_transport(kind, deadline);
            }
            _ => self.retire_transport(now, reason, error),
        }
    }

    fn handle_engine_packet(&mut self, now: u64, conn: ConnId, packet: EnginePacket) {
        let opening = matches!(self.engine, Engine::Opening { .. });
        match packet {
            EnginePacket::Open(handshake) if opening => self.on_open(now, conn, handshake),
            // Nothing but the handshake may come first, and it comes once.
            _ if opening => self.fail_protocol(now, ProtocolError::UnexpectedPacket),
            EnginePacket::Open(_) => self.fail_protocol(now, ProtocolError::UnexpectedPacket),
            EnginePacket::Ping(data) => {
                if let Engine::Open {
                    handshake,
                    ping_deadline,
                    ..
                } = &mut self.engine
                {
                    *ping_deadline = heartbeat_deadline(now, handshake);
                }
                let pong = EnginePacket::Pong(data).encode();
                self.wire.transmit(conn, pong);
                self.wire
                    .push_back(Output::Notice(Notice::Manager(ManagerEvent::Ping)));
            }
            EnginePacket::Close => {
                self.wire.server_closed();
                self.retire_transport(
                    now,
                    DisconnectReason::TransportClose,
                    ConnectionError::Transport,
                );
            }
            EnginePacket::Message(Frame::Text(text)) => self.handle_message(now, conn, &text),
            EnginePacket::Message(Frame::Binary(bytes)) => {
                let limit = self.config.limits.attachment_bytes;
                let assembled = self.reassembler.push_attachment(bytes, limit);
                self.route(now, conn, assembled);
            }
            // The client never pings; the server sends an upgrade only on a probe, and a
            // noop to end a long poll.
            EnginePacket::Pong(_) | EnginePacket::Upgrade(_) | EnginePacket::Noop(_) => {}
        }
    }

    fn on_open(&mut self, now: u64, conn: ConnId, handshake: Handshake) {
        let ping_deadline = heartbeat_deadline(now, &handshake);
        self.wire.handshake(&handshake.sid, handshake.max_payload);
        let probe = self.config.upgrade
            && self.wire.carrier_kind() == Some(TransportKind::Polling)
            && self.config.transports.contains(&TransportKind::WebSocket)
            && handshake.upgrades.iter().any(|name| name == "websocket");
        self.engine = Engine::Open {
            handshake,
            ping_deadline,
        };
        let transport = self.wire.carrier_kind().unwrap_or(TransportKind::WebSocket);
        self.wire
            .push_back(Output::Notice(Notice::Manager(ManagerEvent::Open(
                transport,
            ))));
        if self.reconnecting {
            self.wire
                .push_back(Output::Notice(Notice::Manager(ManagerEvent::Reconnect(
                    self.attempts,
                ))));
        }
        self.attempts = 0;
        self.reconnecting = false;
        let max_payload = self.handshake().map_or(u64::MAX, |h| h.max_payload);
        for socket in &mut self.sockets {
            socket.begin_handshake(now, self.config.timeout, conn, max_payload, &mut self.wire);
        }
        // As engine.io-client: the namespaces' CONNECTs are on their way before the probe.
        if probe {
            self.next_conn += 1;
            let deadline = now.saturating_add(self.config.timeout);
            self.wire
                .start_probe(ConnId(self.next_conn), deadline, &self.config);
        }
    }

    fn route(
        &mut self,
        now: u64,
        conn: ConnId,
        assembled: Result<Option<BinaryMessage>, ProtocolError>,
    ) {
        let message = match assembled {
            Ok(Some(message)) => message,
            // Waiting for the rest of a binary packet.
            Ok(None) => return,
            Err(error) => return self.fail_protocol(now, error),
        };
        let namespace = message.packet.namespace.as_str();
        // Packets for a namespace this client never opened are not ours to judge.
        let Some(socket) = self.sockets.iter_mut().find(|s| s.namespace() == namespace) else {
            return;
        };
        let limits = &self.config.limits;
        match socket.handle_packet(now, message, conn, limits, &mut self.wire) {
            Ok(Consequence::None) => {}
            Ok(Consequence::Deactivated) => self.release(),
            Err(error) => self.fail_protocol(now, error),
        }
    }

    fn fail_protocol(&mut self, now: u64, error: ProtocolError) {
        self.retire_transport(
            now,
            DisconnectReason::ParseError,
            ConnectionError::Protocol(error),
        );
    }

    /// Ends the current transport for `reason`, settles what waited on it, and decides
    /// about reconnection. `error` describes the failure if the handshake was under way.
    fn retire_transport(&mut self, now: u64, reason: DisconnectReason, error: ConnectionError) {
        let was_open = match self.engine {
            Engine::Opening { .. } => false,
            Engine::Open { .. } => true,
            _ => return,
        };
        self.engine = Engine::Closed;
        self.reassembler.reset();
        self.wire.close();
        // Sockets hear of it first, as in socket.io-client, where each socket's own
        // listener on the Manager was registered before the app's.
        let failure = ConnectError::Connection(error.clone());
        for socket in &mut self.sockets {
            socket.handle_attempt_failed(&failure, &mut self.wire);
            socket.handle_connection_lost(reason, &mut self.wire);
        }
        if was_open {
            self.wire
                .push_back(Output::Notice(Notice::Manager(ManagerEvent::Close(reason))));
        }
        if !was_open || matches!(error, ConnectionError::Protocol(_)) {
            self.wire
                .push_back(Output::Notice(Notice::Manager(ManagerEvent::Error(
                    error.clone(),
                ))));
        }
        if self.reconnecting {
            self.wire.push_back(Output::Notice(Notice::Manager(
                ManagerEvent::ReconnectError(error),
            )));
        }
        self.schedule_reconnect(now);
    }

    fn schedule_reconnect(&mut self, now: u64) {
        if !self.config.reconnection || !self.is_wanted() {
            self.reconnecting = false;
            return;
        }
        if self
            .config
            .reconnection_attempts
            .exhausted_by(self.attempts)
        {
            self.wire.push_back(Output::Notice(Notice::Manager(
                ManagerEvent::ReconnectFailed,
            )));
            self.attempts = 0;
            self.reconnecting = false;
            self.opened = false;
            for socket in &mut self.sockets {
                socket.set_active(false);
            }
            return;
        }
        self.reconnecting = true;
        if !self.online {
            self.engine = Engine::Suspended;
            return;
        }
        self.attempts = self.attempts.saturating_add(1);
        let wait = self.config.backoff.wait(self.attempts, &mut self.rng);
        self.engine = Engine::Waiting {
            deadline: now.saturating_add(wait),
        };
    }

    /// The network or the page came back: try now with a fresh backoff instead of
    /// sleeping out a delay computed for an outage that is over.
    fn retry_now(&mut self, now: u64) {
        if matches!(self.engine, Engine::Waiting { .. } | Engine::Suspended)
            && !self.reconnection_stopped()
        {
            self.attempts = 1;
            self.reconnecting = true;
            self.wire.push_back(Output::Notice(Notice::Manager(
                ManagerEvent::ReconnectAttempt(self.attempts),
            )));
            self.start_opening(now);
        }
    }

    /// The backoff is over: the next attempt starts, unless reconnection was turned off
    /// meanwhile.
    fn reconnect_now(&mut self, now: u64) {
        if self.reconnection_stopped() {
            return;
        }
        self.wire.push_back(Output::Notice(Notice::Manager(
            ManagerEvent::ReconnectAttempt(self.attempts),
        )));
        self.start_opening(now);
    }

    /// `reconnection` was turned off while a reconnection waited (socket.io-client's
    /// `reconnection(false)`, in a `reconnect_error` listener say): the wait ends and
    /// nothing more is tried. Whether it was: the sockets stay active, and an explicit
    /// `connect()` or `open()` starts afresh.
    fn reconnection_stopped(&mut self) -> bool {
        if self.config.reconnection {
            return false;
        }
        self.engine = Engine::Closed;
        self.reconnecting = false;
        self.attempts = 0;
        true
    }

    /// Closes the connection once no socket wants it; nothing reconnects after that.
    fn close_if_unused(&mut self) {
        if self.is_wanted() {
            return;
        }
        self.reconnecting = false;
        self.attempts = 0;
        match std::mem::replace(&mut self.engine, Engine::Closed) {
            Engine::Opening { .. } => self.wire.close(),
            Engine::Open { .. } => {
                self.reassembler.reset();
                self.wire.close();
                self.wire
                    .push_back(Output::Notice(Notice::Manager(ManagerEvent::Close(
                        DisconnectReason::ForcedClose,
                    ))));
            }
            Engine::Closed | Engine::Waiting { .. } | Engine::Suspended => {}
        }
    }
}

/// Whether a text frame is an Engine.IO message (a Socket.IO packet follows its `4`).
fn is_message(text: &str) -> bool {
    text.as_bytes().first() == Some(&b'4')
}

/// No ping for `pingInterval + pingTimeout` means the connection is dead.
fn heartbeat_deadline(now: u64, handshake: &Handshake) -> u64 {
    now.saturating_add(handshake.ping_interval)
        .saturating_add(handshake.ping_timeout)
}
