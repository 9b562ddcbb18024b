//! One namespace socket: its CONNECT handshake, its emits (sent, queued offline, sent
//! at least once, re-sent after a lost session), the acknowledgements it waits for,
//! and its recovery point.
//!
//! Driven by the manager, which owns the Engine.IO connection and decides about
//! reconnection; a socket never opens or closes a transport itself.

use super::acks::{PendingAck, PendingAcks};
use super::config::{AuthSource, IncomingLimits, ManagerConfig, SocketConfig};
use super::early::EarlyEvents;
use super::event::{
    AckError, ConnId, ConnectError, ConnectionError, DisconnectReason, IncomingEvent, Notice,
    Output, Payload, SocketEvent, SocketKey,
};
use super::outbox::{DropReason, Outbox, Queued};
use super::recovery::{trailing_offset, Arrival, RecoveryPoint, Session};
use super::reliable::{Finished, ReliableQueue, Settled};
use super::rng::Rng;
use super::wire::Wire;

/// `Number.MAX_SAFE_INTEGER`.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;
use crate::protocol::{
    decode_string, BinaryMessage, ConnectErrorPayload, ConnectReply, JsonKind, JsonText, Packet,
    PacketType, ProtocolError, RESERVED_EVENTS,
};

/// The events the client itself fires on a socket besides Socket.IO's reserved ones
/// ([`RESERVED_EVENTS`], which the codec already refuses): the reconnection events every
/// socket repeats, and `emit_dropped`. A server event with one of these names could
/// pass for the library's own event, so it is refused as a protocol error: an app's
/// listener for them only ever hears the library. Apps may still emit them.
pub const LIBRARY_EVENTS: [&str; 5] = [
    "reconnect_attempt",
    "reconnect",
    "reconnect_error",
    "reconnect_failed",
    "emit_dropped",
];

/// How an emit is sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EmitOptions {
    /// Ask the server for an acknowledgement.
    pub with_ack: bool,
    /// Settle the acknowledgement with [`AckError::Timeout`] after this many ms.
    pub timeout: Option<u64>,
    /// Send only if connected now; never queued.
    pub volatile: bool,
    /// Report every copy of this emit that goes on the wire with [`SocketEvent::Sent`]
    /// (for socket.io-client's `onAnyOutgoing` listeners).
    pub report_sent: bool,
}

/// Why an emit was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmitError {
    /// The data is not an array starting with an event name (a string or a number).
    InvalidData,
    /// The event name is reserved by Socket.IO (`connect`, `disconnect`, ...).
    ReservedName,
}

impl EmitError {
    pub fn message(self) -> &'static str {
        match self {
            Self::InvalidData => "emit needs an event name (a string) and JSON arguments",
            Self::ReservedName => "this event name is reserved by Socket.IO",
        }
    }
}

/// What the manager must do after a socket handled something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Consequence {
    None,
    /// The socket no longer wants a connection (server disconnect or refusal).
    Deactivated,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Idle,
    AwaitingAuth {
        token: u64,
        deadline: u64,
    },
    Connecting {
        deadline: u64,
    },
    Connected,
    /// This namespace's handshake failed on a connection that stays open (its auth
    /// function failed, or no CONNECT reply came in time): it tries again at `deadline`.
    Retrying {
        deadline: u64,
    },
}

#[derive(Debug)]
pub(crate) struct Socket {
    key: SocketKey,
    namespace: String,
    config: SocketConfig,
    active: bool,
    state: State,
    sid: Option<String>,
    recovered: bool,
    recovery: Option<RecoveryPoint>,
    next_ack_id: u64,
    /// The handle of the next at-least-once emit. Handles count down from the largest
    /// integer JS holds exactly while ack ids count up from 0, so that the two never
    /// meet (both name acknowledgements to the shell) and the ids on the wire run 0, 1,
    /// 2, ... as socket.io-client's do.
    next_handle: u64,
    next_auth_token: u64,
    outbox: Outbox,
    reliable: ReliableQueue,
    /// Emits that restore server-side state (room joins...), re-sent after every
    /// connection that did not recover its session.
    rejoins: Vec<(u64, BinaryMessage)>,
    next_rejoin_id: u64,
    pending_acks: PendingAcks,
    /// Events that arrived before the CONNECT reply (a recovery replay), with their
    /// offsets, delivered after `connect`.
    receive_buffer: EarlyEvents,
    /// Whether the CONNECT under way presented a recovery point (what arrives before
    /// its reply is then a replay).
    recovering: bool,
    /// This namespace's failed handshakes in a row on open connections.
    failures: u32,
    /// The largest frame the server accepts (its handshake's `maxPayload`).
    max_payload: u64,
}

impl Socket {
    pub(crate) fn new(key: SocketKey, namespace: String, config: SocketConfig) -> Self {
        let outbox = Outbox::new(config.queue);
        Self {
            key,
            namespace,
            config,
            active: false,
            state: State::Idle,
            sid: None,
            recovered: false,
            recovery: None,
            next_ack_id: 0,
            next_handle: MAX_SAFE_INTEGER,
            next_auth_token: 0,
            outbox,
            reliable: ReliableQueue::default(),
            rejoins: Vec::new(),
            next_rejoin_id: 0,
            pending_acks: PendingAcks::default(),
            receive_buffer: EarlyEvents::default(),
            recovering: false,
            failures: 0,
            max_payload: u64::MAX,
        }
    }

    pub(crate) fn namespace(&self) -> &str {
        &self.namespace
    }

    pub(crate) fn is_active(&self) -> bool {
        self.active
    }

    pub(crate) fn is_connected(&self) -> bool {
        self.state == State::Connected
    }

    /// Whether an emit without acknowledgement made now is written at once, as its
    /// event packet alone and with no other effect (connected, nothing queued before
    /// it, not at-least-once): then the largest frame it may make (the server's
    /// `maxPayload`; a larger one is dropped).
    pub(crate) fn sends_at_once(&self) -> Option<u64> {
        let queued = self.outbox.iter().next().is_some() || self.reliable.len() > 0;
        (self.is_connected() && self.config.retries == 0 && !queued).then_some(self.max_payload)
    }

    /// The text of an event frame of this namespace before its JSON: `42`, `42/chat,`.
    pub(crate) fn event_head(&self) -> String {
        let mut head = String::from("4");
        head.push_str(&Packet::new(PacketType::Event, &self.namespace, None, None, 0).encode());
        head
    }

    pub(crate) fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    pub(crate) fn recovered(&self) -> bool {
        self.recovered
    }

    /// The data of the emits in the offline queue, oldest first.
    pub(crate) fn queued(&self) -> impl Iterator<Item = &JsonText> {
        self.outbox
            .iter()
            .filter_map(|emit| emit.message.packet.data.as_ref())
    }

    /// At-least-once emits not yet acknowledged.
    pub(crate) fn unacknowledged_len(&self) -> usize {
        self.reliable.len()
    }

    pub(crate) fn set_active(&mut self, active: bool) {
        self.active = active;
    }

    /// Starts the namespace handshake on an open Engine.IO connection.
    pub(crate) fn begin_handshake(
        &mut self,
        now: u64,
        timeout: u64,
        conn: ConnId,
        max_payload: u64,
        out: &mut Wire,
    ) {
        self.max_payload = max_payload;
        if !self.active || self.state != State::Idle {
            return;
        }
        let deadline = now.saturating_add(timeout);
        match &self.config.auth {
            AuthSource::Deferred => {
                self.next_auth_token += 1;
                let token = self.next_auth_token;
                self.state = State::AwaitingAuth { token, deadline };
                out.push_back(self.event(SocketEvent::AuthRequest(token)));
            }
            AuthSource::None => self.send_connect(None, deadline, conn, out),
            AuthSource::Static(auth) => {
                let auth = Some(auth.clone());
                self.send_connect(auth.as_ref(), deadline, conn, out)
            }
        }
    }

    /// The shell's answer to an [`SocketEvent::AuthRequest`]; stale tokens are ignored.
    pub(crate) fn handle_auth(
        &mut self,
        token: u64,
        auth: Option<&JsonText>,
        conn: ConnId,
        out: &mut Wire,
    ) {
        if let State::AwaitingAuth {
            token: expected,
            deadline,
        } = self.state
        {
            if token == expected {
                self.send_connect(auth, deadline, conn, out);
            }
        }
    }

    fn send_connect(
        &mut self,
        auth: Option<&JsonText>,
        deadline: u64,
        conn: ConnId,
        out: &mut Wire,
    ) {
        let payload = self.connect_payload(auth);
        self.recovering = self
            .recovery
            .as_ref()
            .is_some_and(RecoveryPoint::can_recover);
        out.transmit(conn, Packet::connect(&self.namespace, payload).to_frame());
        self.state = State::Connecting { deadline };
    }

    /// The session a reconnect would recover, if the server gave one and an event came.
    pub(crate) fn session(&self) -> Option<Session> {
        self.recovery.as_ref().and_then(RecoveryPoint::session)
    }

    /// Takes over `session` from another client: the next CONNECT presents it. Refused
    /// (false) once a CONNECT is under way or answered: that has its own session.
    pub(crate) fn resume(&mut self, session: Session) -> bool {
        if !matches!(self.state, State::Idle | State::Retrying { .. }) {
            return false;
        }
        self.recovery = Some(RecoveryPoint::handed_over(session));
        true
    }

    fn connect_payload(&self, auth: Option<&JsonText>) -> Option<JsonText> {
        match &self.recovery {
            Some(point) => point.connect_payload(auth),
            None => auth.cloned(),
        }
    }

    /// Validates and sends (or queues) an emit. Returns the acknowledgement id, if asked.
    pub(crate) fn emit(
        &mut self,
        now: u64,
        data: JsonText,
        attachments: Vec<Vec<u8>>,
        options: EmitOptions,
        conn: Option<ConnId>,
        out: &mut Wire,
    ) -> Result<Option<u64>, EmitError> {
        validate_event_data(&data)?;
        let connected_conn = conn.filter(|_| self.is_connected());
        if options.volatile {
            // Volatile means "now or never": never queued, never retried. It may still
            // ask for an acknowledgement, which can only come if it was sent.
            let Some(conn) = connected_conn else {
                return Ok(None);
            };
            let ack_id = options
                .with_ack
                .then(|| self.await_ack(now, options.timeout, true));
            let message = self.event_message(data, ack_id, attachments);
            self.send_event(message, ack_id, options.report_sent, conn, out);
            return Ok(ack_id);
        }
        if self.config.retries > 0 {
            return Ok(self.emit_reliably(now, data, attachments, options, conn, out));
        }
        let ack_id = options
            .with_ack
            .then(|| self.await_ack(now, options.timeout, connected_conn.is_some()));
        let message = self.event_message(data, ack_id, attachments);
        match connected_conn {
            Some(conn) => self.send_event(message, ack_id, options.report_sent, conn, out),
            None => {
                let queued = Queued {
                    message,
                    ack_id,
                    queued_at: now,
                    report_sent: options.report_sent,
                };
                if let Some(dropped) = self.outbox.push(queued) {
                    self.drop_emit(dropped.message, dropped.ack_id, DropReason::Overflow, out);
                }
            }
        }
        Ok(ack_id)
    }

    /// Registers a new acknowledgement to wait for; returns its id.
    fn await_ack(&mut self, now: u64, timeout: Option<u64>, sent: bool) -> u64 {
        let id = self.take_ack_id();
        self.pending_acks.insert(
            id,
            PendingAck {
                deadline: timeout.map(|ms| now.saturating_add(ms)),
                sent,
                reliable: false,
            },
        );
        id
    }

    /// Sends an EVENT and reports it to the app when asked; returns `false`, sending
    /// nothing, when a frame of it is larger than the server accepts (the server would
    /// close the connection on it).
    fn transmit_event(
        &self,
        message: &BinaryMessage,
        report_sent: bool,
        conn: ConnId,
        out: &mut Wire,
    ) -> bool {
        let frames = message.frames();
        if frames
            .iter()
            .any(|frame| frame.len() as u64 > self.max_payload)
        {
            return false;
        }
        for frame in frames {
            out.transmit(conn, frame);
        }
        if let (true, Some(data)) = (report_sent, &message.packet.data) {
            let payload = Payload {
                args: data.clone(),
                attachments: message.attachments.clone(),
            };
            out.push_back(self.event(SocketEvent::Sent(payload)));
        }
        true
    }

    /// [`Socket::transmit_event`], or the report of an emit too large to send.
    fn send_event(
        &mut self,
        message: BinaryMessage,
        ack_id: Option<u64>,
        report_sent: bool,
        conn: ConnId,
        out: &mut Wire,
    ) {
        if !self.transmit_event(&message, report_sent, conn, out) {
            self.drop_emit(message, ack_id, DropReason::TooLarge, out);
        }
    }

    /// Queues an at-least-once emit; it goes out when it reaches the head of the queue.
    fn emit_reliably(
        &mut self,
        now: u64,
        data: JsonText,
        attachments: Vec<Vec<u8>>,
        options: EmitOptions,
        conn: Option<ConnId>,
        out: &mut Wire,
    ) -> Option<u64> {
        let with_ack = options.with_ack;
        let handle = self.next_handle;
        self.next_handle -= 1;
        if self.reliable.len() >= self.config.queue.max_len {
            out.push_back(self.event(SocketEvent::Dropped(data, DropReason::Overflow)));
            if with_ack {
                out.push_back(self.event(SocketEvent::Ack(handle, Err(AckError::Dropped))));
            }
            return with_ack.then_some(handle);
        }
        self.reliable
            .push(handle, data, attachments, with_ack, options.report_sent);
        self.send_reliable_head(now, conn, out);
        with_ack.then_some(handle)
    }

    fn send_reliable_head(&mut self, now: u64, conn: Option<ConnId>, out: &mut Wire) {
        let Some(conn) = conn.filter(|_| self.is_connected()) else {
            return;
        };
        loop {
            let wire_id = self.next_ack_id;
            let Some((message, report_sent)) = self.reliable.send_head(&self.namespace, wire_id)
            else {
                return;
            };
            self.next_ack_id += 1;
            if self.transmit_event(&message, report_sent, conn, out) {
                self.pending_acks.insert(
                    wire_id,
                    PendingAck {
                        deadline: self.config.ack_timeout.map(|ms| now.saturating_add(ms)),
                        sent: true,
                        reliable: true,
                    },
                );
                return;
            }
            // Too large ever to be sent: given up at once, and the next one goes.
            if let Settled::GaveUp(Finished {
                handle,
                with_ack,
                data,
            }) = self.reliable.settle(wire_id, false, 0)
            {
                out.push_back(self.event(SocketEvent::Dropped(data, DropReason::TooLarge)));
                if with_ack {
                    out.push_back(self.event(SocketEvent::Ack(handle, Err(AckError::Dropped))));
                }
            }
        }
    }

    /// An EVENT packet of this namespace with the frames of its attachments.
    fn event_message(
        &self,
        data: JsonText,
        ack_id: Option<u64>,
        attachments: Vec<Vec<u8>>,
    ) -> BinaryMessage {
        BinaryMessage {
            packet: Packet::event(&self.namespace, data, ack_id, attachments.len()),
            attachments,
        }
    }

    fn take_ack_id(&mut self) -> u64 {
        let id = self.next_ack_id;
        self.next_ack_id += 1;
        id
    }

    /// Reports an emit that never left the client, and settles its acknowledgement.
    fn drop_emit(
        &mut self,
        message: BinaryMessage,
        ack_id: Option<u64>,
        reason: DropReason,
        out: &mut Wire,
    ) {
        if let Some(id) = ack_id {
            self.pending_acks.remove(id);
        }
        if let Some(data) = message.packet.data {
            out.push_back(self.event(SocketEvent::Dropped(data, reason)));
        }
        if let Some(id) = ack_id {
            out.push_back(self.event(SocketEvent::Ack(id, Err(AckError::Dropped))));
        }
    }

    /// Drops every emit of the offline queue (the app's choice), reporting each.
    pub(crate) fn clear_queue(&mut self, out: &mut Wire) {
        for dropped in self.outbox.take_all() {
            self.drop_emit(dropped.message, dropped.ack_id, DropReason::Cleared, out);
        }
    }

    /// Declares an emit that restores server-side state: sent now if connected, and
    /// again after every connection that does not recover the session, before the
    /// offline queue. Returns its id, for [`Socket::remove_rejoin`].
    pub(crate) fn add_rejoin(
        &mut self,
        data: JsonText,
        attachments: Vec<Vec<u8>>,
        conn: Option<ConnId>,
        out: &mut Wire,
    ) -> Result<u64, EmitError> {
        validate_event_data(&data)?;
        let message = self.event_message(data, None, attachments);
        if let Some(conn) = conn.filter(|_| self.is_connected()) {
            self.send_rejoin(&message, conn, out);
        }
        self.next_rejoin_id += 1;
        self.rejoins.push((self.next_rejoin_id, message));
        Ok(self.next_rejoin_id)
    }

    /// Sends a rejoin emit; one too large to send is reported (and stays declared).
    fn send_rejoin(&self, message: &BinaryMessage, conn: ConnId, out: &mut Wire) {
        if self.transmit_event(message, false, conn, out) {
            return;
        }
        if let Some(data) = &message.packet.data {
            let dropped = SocketEvent::Dropped(data.clone(), DropReason::TooLarge);
            out.push_back(self.event(dropped));
        }
    }

    /// Stops re-sending a declared rejoin emit; `false` if there is no such id.
    pub(crate) fn remove_rejoin(&mut self, id: u64) -> bool {
        let before = self.rejoins.len();
        self.rejoins.retain(|(rejoin, _)| *rejoin != id);
        self.rejoins.len() != before
    }

    /// Answers an acknowledgement the server asked for.
    pub(crate) fn ack(
        &mut self,
        id: u64,
        args: JsonText,
        attachments: Vec<Vec<u8>>,
        conn: Option<ConnId>,
        out: &mut Wire,
    ) {
        // An answer to a previous connection's request means nothing to the server now.
        let Some(conn) = conn.filter(|_| self.is_connected()) else {
            return;
        };
        let message = BinaryMessage {
            packet: Packet::ack(&self.namespace, id, args, attachments.len()),
            attachments,
        };
        transmit(&message, conn, out);
    }

    fn send_queued(&mut self, queued: Queued, conn: ConnId, out: &mut Wire) {
        if let Some(id) = queued.ack_id {
            self.pending_acks.mark_sent(id);
        }
        self.send_event(queued.message, queued.ack_id, queued.report_sent, conn, out);
    }

    /// Handles a packet addressed to this namespace.
    pub(crate) fn handle_packet(
        &mut self,
        now: u64,
        message: BinaryMessage,
        conn: ConnId,
        limits: &IncomingLimits,
        out: &mut Wire,
    ) -> Result<Consequence, ProtocolError> {
        let BinaryMessage {
            packet,
            attachments,
        } = message;
        match packet.kind {
            PacketType::Connect => match self.state {
                State::Connecting { .. } => {
                    let reply = ConnectReply::parse(packet.data.as_ref())?;
                    self.on_connected(now, reply, conn, out);
                    Ok(Consequence::None)
                }
                // A second reply on a live session is a server bug we must not paper over.
                State::Connected => Err(ProtocolError::UnexpectedPacket),
                // A late reply to a CONNECT this socket has since given up on.
                State::Idle | State::AwaitingAuth { .. } | State::Retrying { .. } => {
                    Ok(Consequence::None)
                }
            },
            PacketType::ConnectError => {
                let refusal = ConnectErrorPayload::parse(packet.data.as_ref());
                self.lose_connection(DisconnectReason::IoServerDisconnect, out);
                self.active = false;
                out.push_back(self.event(SocketEvent::ConnectError(ConnectError::Refused {
                    message: refusal.message,
                    data: refusal.data,
                })));
                Ok(Consequence::Deactivated)
            }
            PacketType::Disconnect => {
                self.lose_connection(DisconnectReason::IoServerDisconnect, out);
                self.active = false;
                Ok(Consequence::Deactivated)
            }
            PacketType::Event | PacketType::BinaryEvent => {
                let data = packet.data.ok_or(ProtocolError::InvalidPayload)?;
                if names_library_event(&data) {
                    return Err(ProtocolError::ReservedEventName);
                }
                let (event, offset) = self.incoming_event(data, attachments, packet.id);
                match self.state {
                    State::Connected => self.deliver(event, offset, Arrival::Live, out),
                    State::Connecting { .. } => {
                        let held = (event, offset);
                        if self
                            .receive_buffer
                            .push(held, limits.early_events, limits.early_bytes)
                            .is_err()
                        {
                            // The same replay would come again on the next try: start
                            // the next connection afresh (not recovered) instead.
                            self.recovery = None;
                            return Err(ProtocolError::TooManyEarlyEvents);
                        }
                    }
                    State::Idle | State::AwaitingAuth { .. } | State::Retrying { .. } => {}
                }
                Ok(Consequence::None)
            }
            PacketType::Ack | PacketType::BinaryAck => {
                let args = packet.data.ok_or(ProtocolError::InvalidPayload)?;
                if let Some(id) = packet.id {
                    self.settle_ack(id, Ok(Payload { args, attachments }), out);
                    self.send_reliable_head(now, Some(conn), out);
                }
                Ok(Consequence::None)
            }
        }
    }

    fn on_connected(&mut self, now: u64, reply: ConnectReply, conn: ConnId, out: &mut Wire) {
        let previous_pid = self.recovery.as_ref().map(RecoveryPoint::pid);
        self.recovered = reply.pid.is_some() && reply.pid.as_deref() == previous_pid;
        if !self.recovered {
            self.recovery = reply.pid.map(RecoveryPoint::new);
        }
        self.sid = Some(reply.sid);
        self.state = State::Connected;
        self.failures = 0;
        let arrival = if self.recovered && self.recovering {
            Arrival::Replay
        } else {
            Arrival::Live
        };
        if let Some(point) = self.recovery.as_mut() {
            point.begin_connection();
        }
        out.push_back(self.event(SocketEvent::Connect));
        if !self.recovered {
            for (_, rejoin) in &self.rejoins {
                self.send_rejoin(rejoin, conn, out);
            }
        }
        for queued in self.outbox.take_all() {
            self.send_queued(queued, conn, out);
        }
        self.send_reliable_head(now, Some(conn), out);
        for (event, offset) in self.receive_buffer.take() {
            self.deliver(event, offset, arrival, out);
        }
    }

    /// Hands an event to the app, unless a replay brings it a second time. Its offset
    /// becomes the recovery point only now: an event lost before delivery (its
    /// transport died while it waited for the CONNECT reply) is asked for again.
    fn deliver(
        &mut self,
        event: IncomingEvent,
        offset: Option<String>,
        arrival: Arrival,
        out: &mut Wire,
    ) {
        if let (Some(point), Some(offset)) = (self.recovery.as_mut(), offset.as_deref()) {
            if !point.record_delivery(offset, arrival) {
                return;
            }
        }
        out.push_back(self.event(SocketEvent::Event(event)));
    }

    /// The event and its recovery offset, once a pid is held.
    fn incoming_event(
        &self,
        data: JsonText,
        attachments: Vec<Vec<u8>>,
        ack_id: Option<u64>,
    ) -> (IncomingEvent, Option<String>) {
        let offset = match (&self.recovery, ack_id) {
            (Some(_), None) if !self.is_volatile_event(&data) => trailing_offset(&data),
            _ => None,
        };
        let event = IncomingEvent {
            data,
            ends_with_offset: offset.is_some(),
            attachments,
            ack_id,
        };
        (event, offset)
    }

    /// Whether the app declared this event as one the server sends volatile: it then
    /// carries no offset, whatever its last argument.
    fn is_volatile_event(&self, data: &JsonText) -> bool {
        let names = &self.config.volatile_events;
        !names.is_empty() && event_name(data).is_some_and(|name| names.iter().any(|n| *n == name))
    }

    /// The Engine.IO connection is gone: settle what waited on it.
    pub(crate) fn handle_connection_lost(&mut self, reason: DisconnectReason, out: &mut Wire) {
        self.lose_connection(reason, out);
    }

    /// An attempt to connect failed before this socket was connected.
    pub(crate) fn handle_attempt_failed(&mut self, error: &ConnectError, out: &mut Wire) {
        if self.active && !self.is_connected() {
            self.reset_to_idle();
            out.push_back(self.event(SocketEvent::ConnectError(error.clone())));
        }
    }

    /// The app's `socket.disconnect()`.
    pub(crate) fn disconnect(&mut self, conn: Option<ConnId>, out: &mut Wire) {
        if let (Some(conn), true) = (conn, self.is_connected()) {
            out.transmit(conn, Packet::disconnect(&self.namespace).to_frame());
        }
        self.lose_connection(DisconnectReason::IoClientDisconnect, out);
        self.active = false;
    }

    fn lose_connection(&mut self, reason: DisconnectReason, out: &mut Wire) {
        let was_connected = self.is_connected();
        self.reset_to_idle();
        if was_connected {
            out.push_back(self.event(SocketEvent::Disconnect(reason)));
        }
        // Sent packets died with the transport: their answers can never arrive.
        for id in self.pending_acks.sent() {
            self.settle_ack(id, Err(AckError::Disconnected), out);
        }
    }

    fn reset_to_idle(&mut self) {
        self.state = State::Idle;
        self.sid = None;
        self.recovering = false;
        self.receive_buffer.clear();
    }

    /// Settles acknowledgement `id` (no-op if unknown). An at-least-once emit that
    /// failed with tries left stays at the head of its queue, for the next
    /// [`Socket::send_reliable_head`].
    fn settle_ack(&mut self, id: u64, result: Result<Payload, AckError>, out: &mut Wire) {
        let Some(pending) = self.pending_acks.remove(id) else {
            return;
        };
        if !pending.reliable {
            if !pending.sent {
                self.outbox.remove_ack(id);
            }
            out.push_back(self.event(SocketEvent::Ack(id, result)));
            return;
        }
        match self
            .reliable
            .settle(id, result.is_ok(), self.config.retries)
        {
            Settled::Delivered(Finished {
                handle, with_ack, ..
            }) => {
                if with_ack {
                    out.push_back(self.event(SocketEvent::Ack(handle, result)));
                }
            }
            Settled::GaveUp(Finished {
                handle,
                with_ack,
                data,
            }) => {
                out.push_back(self.event(SocketEvent::Dropped(data, DropReason::Unacknowledged)));
                if with_ack {
                    out.push_back(self.event(SocketEvent::Ack(handle, result)));
                }
            }
            Settled::WillRetry | Settled::Stale => {}
        }
    }

    /// The earliest moment this socket needs [`Socket::handle_timeout`].
    pub(crate) fn deadline(&self) -> Option<u64> {
        let handshake = match self.state {
            State::AwaitingAuth { deadline, .. }
            | State::Connecting { deadline }
            | State::Retrying { deadline } => Some(deadline),
            State::Idle | State::Connected => None,
        };
        handshake
            .into_iter()
            .chain(self.pending_acks.next_deadline())
            .chain(self.outbox.deadline())
            .min()
    }

    pub(crate) fn handle_timeout(
        &mut self,
        now: u64,
        conn: Option<ConnId>,
        retry: &mut RetryPolicy,
        out: &mut Wire,
    ) -> Consequence {
        for id in self.pending_acks.expired(now) {
            self.settle_ack(id, Err(AckError::Timeout), out);
        }
        self.send_reliable_head(now, conn, out);
        for dropped in self.outbox.expire(now) {
            self.drop_emit(dropped.message, dropped.ack_id, DropReason::Expired, out);
        }
        match self.state {
            State::AwaitingAuth { deadline, .. } | State::Connecting { deadline }
                if deadline <= now =>
            {
                self.fail_handshake(now, ConnectionError::Timeout, retry, out)
            }
            State::Retrying { deadline } if deadline <= now => {
                self.state = State::Idle;
                if let Some(conn) = conn {
                    let max_payload = self.max_payload;
                    self.begin_handshake(now, retry.config.timeout, conn, max_payload, out);
                }
                Consequence::None
            }
            _ => Consequence::None,
        }
    }

    /// This namespace's handshake failed while the connection stays open: the failure
    /// is this socket's alone. It reports it and tries again after its own backoff,
    /// within the Manager's reconnection settings; the other namespaces are untouched.
    fn fail_handshake(
        &mut self,
        now: u64,
        error: ConnectionError,
        retry: &mut RetryPolicy,
        out: &mut Wire,
    ) -> Consequence {
        self.reset_to_idle();
        out.push_back(self.event(SocketEvent::ConnectError(ConnectError::Connection(error))));
        self.failures = self.failures.saturating_add(1);
        let config = retry.config;
        if !config.reconnection || config.reconnection_attempts.exhausted_by(self.failures - 1) {
            self.failures = 0;
            self.active = false;
            return Consequence::Deactivated;
        }
        let wait = config.backoff.wait(self.failures, retry.rng);
        self.state = State::Retrying {
            deadline: now.saturating_add(wait),
        };
        Consequence::None
    }

    /// The shell could not produce the CONNECT payload asked for with `token`: if this
    /// socket was waiting for it, its attempt fails now.
    pub(crate) fn handle_auth_failed(
        &mut self,
        now: u64,
        token: u64,
        retry: &mut RetryPolicy,
        out: &mut Wire,
    ) -> Consequence {
        match self.state {
            State::AwaitingAuth {
                token: expected, ..
            } if expected == token => self.fail_handshake(now, ConnectionError::Auth, retry, out),
            _ => Consequence::None,
        }
    }

    fn event(&self, event: SocketEvent) -> Output {
        Output::Notice(Notice::Socket(self.key, event))
    }
}

/// What a socket needs to retry its own handshake: the Manager's reconnection settings
/// and its source of jitter.
pub(crate) struct RetryPolicy<'a> {
    pub config: &'a ManagerConfig,
    pub rng: &'a mut Rng,
}

/// An event's name (its first element), when it is a string.
fn event_name(data: &JsonText) -> Option<std::borrow::Cow<'_, str>> {
    data.elements().ok()?.next().and_then(decode_string)
}

/// Whether an event's name is one of [`LIBRARY_EVENTS`].
fn names_library_event(data: &JsonText) -> bool {
    event_name(data).is_some_and(|name| LIBRARY_EVENTS.contains(&&*name))
}

fn transmit(message: &BinaryMessage, conn: ConnId, out: &mut Wire) {
    for frame in message.frames() {
        out.transmit(conn, frame);
    }
}

/// An emit's data is `[name, ...args]` with a name the server accepts and apps may use.
fn validate_event_data(data: &JsonText) -> Result<(), EmitError> {
    let mut elements = data.elements().map_err(|_| EmitError::InvalidData)?;
    let name = elements.next().ok_or(EmitError::InvalidData)?;
    if let Some(name) = decode_string(name) {
        return if RESERVED_EVENTS.contains(&&*name) {
            Err(EmitError::ReservedName)
        } else {
            Ok(())
        };
    }
    if JsonKind::of(name) == JsonKind::Number {
        Ok(())
    } else {
        Err(EmitError::InvalidData)
    }
}
