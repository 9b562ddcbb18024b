//! The Engine.IO connection shared by all namespace sockets, and its reconnection
//! (socket.io-client's Manager): handshake, heartbeat, timeouts, backoff, attempt
//! limits, network awareness, and routing of packets to namespaces.
//!
//! Pure state machine: inputs arrive through `handle_*` with the current time, outputs
//! leave through [`Manager::poll_output`] and [`Manager::poll_timeout`]. It never touches a
//! clock, a socket or the platform; per-namespace rules live in `socket`.

use std::collections::VecDeque;

use super::config::{ManagerConfig, SocketConfig};
use super::event::{
    ConnId, ConnectError, ConnectionError, DisconnectReason, ManagerEvent, Output, SocketKey,
};
use super::rng::Rng;
use super::socket::{Consequence, EmitError, EmitOptions, RetryPolicy, Socket};
use crate::protocol::{
    BinaryMessage, EnginePacket, Frame, Handshake, JsonText, Packet, ProtocolError, Reassembler,
};

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
    Opening {
        conn: ConnId,
        deadline: u64,
    },
    Open {
        conn: ConnId,
        handshake: Handshake,
        ping_deadline: u64,
    },
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
    out: VecDeque<Output>,
    reassembler: Reassembler,
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
            out: VecDeque::new(),
            reassembler: Reassembler::default(),
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

    /// The socket of `namespace`, created on first use (one per namespace).
    pub fn socket(&mut self, namespace: &str, config: SocketConfig) -> SocketKey {
        if let Some(index) = self.sockets.iter().position(|s| s.namespace() == namespace) {
            return SocketKey(index);
        }
        let key = SocketKey(self.sockets.len());
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
            socket.clear_queue(&mut self.out);
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
            Some(socket) => socket.add_rejoin(data, attachments, conn, &mut self.out),
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
            Engine::Open {
                conn, handshake, ..
            } => {
                let (conn, max_payload) = (*conn, handshake.max_payload);
                socket.begin_handshake(now, self.config.timeout, conn, max_payload, &mut self.out);
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
            socket.disconnect(conn, &mut self.out);
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
            Some(socket) => socket.emit(now, data, attachments, options, conn, &mut self.out),
            None => Err(EmitError::InvalidData),
        }
    }

    /// Answers the server's request for an acknowledgement of event `id`.
    pub fn ack(&mut self, key: SocketKey, id: u64, args: JsonText, attachments: Vec<Vec<u8>>) {
        let conn = self.open_conn();
        if let Some(socket) = self.sockets.get_mut(key.0) {
            socket.ack(id, args, attachments, conn, &mut self.out);
        }
    }

    /// The shell's answer to [`SocketEvent::AuthRequest`](super::SocketEvent::AuthRequest).
    pub fn handle_auth(&mut self, key: SocketKey, token: u64, auth: Option<&JsonText>) {
        let Some(conn) = self.open_conn() else {
            return;
        };
        if let Some(socket) = self.sockets.get_mut(key.0) {
            socket.handle_auth(token, auth, conn, &mut self.out);
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
        if socket.handle_auth_failed(now, token, &mut retry, &mut self.out)
            == Consequence::Deactivated
        {
            self.release();
        }
    }

    /// A frame arrived on transport `conn`.
    pub fn handle_frame(&mut self, now: u64, conn: ConnId, frame: Frame) {
        if let Frame::Text(text) = &frame {
            if is_message(text) {
                return self.handle_text(now, conn, text);
            }
        }
        if !self.accepts_frame(now, conn, frame.len()) {
            return;
        }
        match EnginePacket::decode(frame) {
            Ok(packet) => self.handle_engine_packet(now, conn, packet),
            Err(error) => self.fail_protocol(now, error),
        }
    }

    /// A text frame arrived on transport `conn`, read in place: a Socket.IO packet is
    /// decoded from the shell's own copy of the frame, which it keeps.
    pub fn handle_text(&mut self, now: u64, conn: ConnId, text: &str) {
        if !is_message(text) {
            return self.handle_frame(now, conn, Frame::Text(text.to_owned()));
        }
        // `get`, not indexing: the digit is one byte, and a panicking slice would bring
        // its formatted message (2 KB and more of wasm) along.
        if let (true, Some(packet)) = (self.accepts_frame(now, conn, text.len()), text.get(1..)) {
            self.handle_message(now, conn, packet);
        }
    }

    /// A Socket.IO packet, the text of an Engine.IO message.
    fn handle_message(&mut self, now: u64, conn: ConnId, packet: &str) {
        if matches!(self.engine, Engine::Opening { .. }) {
            // Nothing but the handshake may come first.
            return self.fail_protocol(now, ProtocolError::UnexpectedPacket);
        }
        let limit = self.config.limits.attachments;
        let assembled =
            Packet::decode(packet).and_then(|packet| self.reassembler.push_packet(packet, limit));
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

    /// Transport `conn` closed (`error`: it failed rather than closed normally).
    pub fn handle_transport_closed(&mut self, now: u64, conn: ConnId, error: bool) {
        if self.current_conn() != Some(conn) {
            return;
        }
        let reason = if error {
            DisconnectReason::TransportError
        } else {
            DisconnectReason::TransportClose
        };
        self.retire_transport(now, reason, ConnectionError::Transport);
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
            Engine::Waiting { deadline } if deadline <= now => {
                self.out
                    .push_back(Output::Manager(ManagerEvent::ReconnectAttempt(
                        self.attempts,
                    )));
                self.start_opening(now);
            }
            _ => {}
        }
        let mut deactivated = false;
        let conn = self.open_conn();
        let mut retry = RetryPolicy {
            config: &self.config,
            rng: &mut self.rng,
        };
        for socket in &mut self.sockets {
            deactivated |= socket.handle_timeout(now, conn, &mut retry, &mut self.out)
                == Consequence::Deactivated;
        }
        if deactivated {
            self.release();
        }
    }

    /// The next output, in the order it must be acted upon.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
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
            .min()
    }

    fn current_conn(&self) -> Option<ConnId> {
        match self.engine {
            Engine::Opening { conn, .. } | Engine::Open { conn, .. } => Some(conn),
            _ => None,
        }
    }

    fn open_conn(&self) -> Option<ConnId> {
        match self.engine {
            Engine::Open { conn, .. } => Some(conn),
            _ => None,
        }
    }

    fn start_opening(&mut self, now: u64) {
        self.next_conn += 1;
        let conn = ConnId(self.next_conn);
        self.out.push_back(Output::OpenTransport(conn));
        self.engine = Engine::Opening {
            conn,
            deadline: now.saturating_add(self.config.timeout),
        };
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
                self.out.push_back(Output::Transmit(conn, pong));
                self.out.push_back(Output::Manager(ManagerEvent::Ping));
            }
            EnginePacket::Close => self.retire_transport(
                now,
                DisconnectReason::TransportClose,
                ConnectionError::Transport,
            ),
            EnginePacket::Message(Frame::Text(text)) => self.handle_message(now, conn, &text),
            EnginePacket::Message(Frame::Binary(bytes)) => {
                let limit = self.config.limits.attachment_bytes;
                let assembled = self.reassembler.push_attachment(bytes, limit);
                self.route(now, conn, assembled);
            }
            // The client never pings; upgrades do not apply to a WebSocket-only client.
            EnginePacket::Pong(_) | EnginePacket::Upgrade(_) | EnginePacket::Noop(_) => {}
        }
    }

    fn on_open(&mut self, now: u64, conn: ConnId, handshake: Handshake) {
        let ping_deadline = heartbeat_deadline(now, &handshake);
        self.engine = Engine::Open {
            conn,
            handshake,
            ping_deadline,
        };
        self.out.push_back(Output::Manager(ManagerEvent::Open));
        if self.reconnecting {
            self.out
                .push_back(Output::Manager(ManagerEvent::Reconnect(self.attempts)));
        }
        self.attempts = 0;
        self.reconnecting = false;
        let max_payload = self.handshake().map_or(u64::MAX, |h| h.max_payload);
        for socket in &mut self.sockets {
            socket.begin_handshake(now, self.config.timeout, conn, max_payload, &mut self.out);
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
        match socket.handle_packet(now, message, conn, limits, &mut self.out) {
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
        let (conn, was_open) = match self.engine {
            Engine::Opening { conn, .. } => (conn, false),
            Engine::Open { conn, .. } => (conn, true),
            _ => return,
        };
        self.engine = Engine::Closed;
        self.reassembler.reset();
        self.out.push_back(Output::CloseTransport(conn));
        // Sockets hear of it first, as in socket.io-client, where each socket's own
        // listener on the Manager was registered before the app's.
        let failure = ConnectError::Connection(error.clone());
        for socket in &mut self.sockets {
            socket.handle_attempt_failed(&failure, &mut self.out);
            socket.handle_connection_lost(reason, &mut self.out);
        }
        if was_open {
            self.out
                .push_back(Output::Manager(ManagerEvent::Close(reason)));
        }
        if !was_open || matches!(error, ConnectionError::Protocol(_)) {
            self.out
                .push_back(Output::Manager(ManagerEvent::Error(error.clone())));
        }
        if self.reconnecting {
            self.out
                .push_back(Output::Manager(ManagerEvent::ReconnectError(error)));
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
            self.out
                .push_back(Output::Manager(ManagerEvent::ReconnectFailed));
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
        if matches!(self.engine, Engine::Waiting { .. } | Engine::Suspended) {
            self.attempts = 1;
            self.reconnecting = true;
            self.out
                .push_back(Output::Manager(ManagerEvent::ReconnectAttempt(
                    self.attempts,
                )));
            self.start_opening(now);
        }
    }

    /// Closes the connection once no socket wants it; nothing reconnects after that.
    fn close_if_unused(&mut self) {
        if self.is_wanted() {
            return;
        }
        self.reconnecting = false;
        self.attempts = 0;
        match std::mem::replace(&mut self.engine, Engine::Closed) {
            Engine::Opening { conn, .. } => self.out.push_back(Output::CloseTransport(conn)),
            Engine::Open { conn, .. } => {
                self.reassembler.reset();
                self.out.push_back(Output::CloseTransport(conn));
                self.out.push_back(Output::Manager(ManagerEvent::Close(
                    DisconnectReason::ForcedClose,
                )));
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
