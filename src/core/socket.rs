//! One namespace socket: its CONNECT handshake, its emits (sent, queued offline, sent
//! at least once, re-sent after a lost session), the acknowledgements it waits for,
//! and its recovery point.
//!
//! Driven by the manager, which owns the Engine.IO connection and decides about
//! reconnection; a socket never opens or closes a transport itself.

use std::collections::VecDeque;

use super::config::{AuthSource, SocketConfig};
use super::event::{
    AckError, ConnId, ConnectError, DisconnectReason, IncomingEvent, Output, Payload, SocketEvent,
    SocketKey,
};
use super::outbox::{DropReason, Outbox, Queued};
use super::recovery::{split_offset, RecoveryPoint};
use super::reliable::{Finished, ReliableQueue, Settled};
use crate::protocol::{
    decode_string, BinaryMessage, ConnectErrorPayload, ConnectReply, JsonKind, JsonText, Packet,
    PacketType, ProtocolError, RESERVED_EVENTS,
};

/// How an emit is sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EmitOptions {
    /// Ask the server for an acknowledgement.
    pub with_ack: bool,
    /// Settle the acknowledgement with [`AckError::Timeout`] after this many ms.
    pub timeout: Option<u64>,
    /// Send only if connected now; never queued.
    pub volatile: bool,
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
    /// The CONNECT reply did not arrive in time or made no sense: the attempt failed.
    HandshakeFailed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Idle,
    AwaitingAuth { token: u64, deadline: u64 },
    Connecting { deadline: u64 },
    Connected,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct PendingAck {
    id: u64,
    deadline: Option<u64>,
    /// Sent on the current transport (else still in the offline queue).
    sent: bool,
    /// Belongs to the in-flight copy of an at-least-once emit.
    reliable: bool,
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
    next_auth_token: u64,
    outbox: Outbox,
    reliable: ReliableQueue,
    /// Emits that restore server-side state (room joins...), re-sent after every
    /// connection that did not recover its session.
    rejoins: Vec<(u64, BinaryMessage)>,
    next_rejoin_id: u64,
    pending_acks: Vec<PendingAck>,
    /// Events that arrived before the CONNECT reply (a recovery replay), with their
    /// offsets, delivered after `connect`.
    receive_buffer: Vec<(IncomingEvent, Option<String>)>,
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
            next_auth_token: 0,
            outbox,
            reliable: ReliableQueue::default(),
            rejoins: Vec::new(),
            next_rejoin_id: 0,
            pending_acks: Vec::new(),
            receive_buffer: Vec::new(),
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
        out: &mut VecDeque<Output>,
    ) {
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
        out: &mut VecDeque<Output>,
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

    /// The shell could not answer [`SocketEvent::AuthRequest`] `token`: whether this
    /// socket was waiting for it (its attempt then fails).
    pub(crate) fn auth_failed(&self, token: u64) -> bool {
        matches!(self.state, State::AwaitingAuth { token: expected, .. } if expected == token)
    }

    fn send_connect(
        &mut self,
        auth: Option<&JsonText>,
        deadline: u64,
        conn: ConnId,
        out: &mut VecDeque<Output>,
    ) {
        let payload = self.connect_payload(auth);
        out.push_back(Output::Transmit(
            conn,
            Packet::connect(&self.namespace, payload).to_frame(),
        ));
        self.state = State::Connecting { deadline };
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
        out: &mut VecDeque<Output>,
    ) -> Result<Option<u64>, EmitError> {
        validate_event_data(&data)?;
        let connected_conn = conn.filter(|_| self.is_connected());
        if options.volatile {
            // Volatile means "now or never": never queued, never retried.
            if let Some(conn) = connected_conn {
                transmit(&self.event_message(data, None, attachments), conn, out);
            }
            return Ok(None);
        }
        if self.config.retries > 0 {
            return Ok(self.emit_reliably(now, data, attachments, options.with_ack, conn, out));
        }
        let ack_id = options.with_ack.then(|| {
            let id = self.take_ack_id();
            self.pending_acks.push(PendingAck {
                id,
                deadline: options.timeout.map(|ms| now.saturating_add(ms)),
                sent: connected_conn.is_some(),
                reliable: false,
            });
            id
        });
        let message = self.event_message(data, ack_id, attachments);
        match connected_conn {
            Some(conn) => transmit(&message, conn, out),
            None => {
                let queued = Queued {
                    message,
                    ack_id,
                    queued_at: now,
                };
                if let Some(dropped) = self.outbox.push(queued) {
                    self.drop_queued(dropped, DropReason::Overflow, out);
                }
            }
        }
        Ok(ack_id)
    }

    /// Queues an at-least-once emit; it goes out when it reaches the head of the queue.
    fn emit_reliably(
        &mut self,
        now: u64,
        data: JsonText,
        attachments: Vec<Vec<u8>>,
        with_ack: bool,
        conn: Option<ConnId>,
        out: &mut VecDeque<Output>,
    ) -> Option<u64> {
        let handle = self.take_ack_id();
        if self.reliable.len() >= self.config.queue.max_len {
            out.push_back(self.event(SocketEvent::Dropped(data, DropReason::Overflow)));
            if with_ack {
                out.push_back(self.event(SocketEvent::Ack(handle, Err(AckError::Dropped))));
            }
            return with_ack.then_some(handle);
        }
        self.reliable.push(handle, data, attachments, with_ack);
        self.send_reliable_head(now, conn, out);
        with_ack.then_some(handle)
    }

    fn send_reliable_head(&mut self, now: u64, conn: Option<ConnId>, out: &mut VecDeque<Output>) {
        let Some(conn) = conn.filter(|_| self.is_connected()) else {
            return;
        };
        let wire_id = self.next_ack_id;
        let Some(message) = self.reliable.send_head(&self.namespace, wire_id) else {
            return;
        };
        self.next_ack_id += 1;
        self.pending_acks.push(PendingAck {
            id: wire_id,
            deadline: self.config.ack_timeout.map(|ms| now.saturating_add(ms)),
            sent: true,
            reliable: true,
        });
        transmit(&message, conn, out);
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
    fn drop_queued(&mut self, dropped: Queued, reason: DropReason, out: &mut VecDeque<Output>) {
        if let Some(id) = dropped.ack_id {
            self.pending_acks.retain(|ack| ack.id != id);
        }
        if let Some(data) = dropped.message.packet.data {
            out.push_back(self.event(SocketEvent::Dropped(data, reason)));
        }
        if let Some(id) = dropped.ack_id {
            out.push_back(self.event(SocketEvent::Ack(id, Err(AckError::Dropped))));
        }
    }

    /// Drops every emit of the offline queue (the app's choice), reporting each.
    pub(crate) fn clear_queue(&mut self, out: &mut VecDeque<Output>) {
        for dropped in self.outbox.take_all() {
            self.drop_queued(dropped, DropReason::Cleared, out);
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
        out: &mut VecDeque<Output>,
    ) -> Result<u64, EmitError> {
        validate_event_data(&data)?;
        let message = self.event_message(data, None, attachments);
        if let Some(conn) = conn.filter(|_| self.is_connected()) {
            transmit(&message, conn, out);
        }
        self.next_rejoin_id += 1;
        self.rejoins.push((self.next_rejoin_id, message));
        Ok(self.next_rejoin_id)
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
        out: &mut VecDeque<Output>,
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

    fn send_queued(&mut self, queued: Queued, conn: ConnId, out: &mut VecDeque<Output>) {
        if let Some(id) = queued.ack_id {
            if let Some(pending) = self.pending_acks.iter_mut().find(|a| a.id == id) {
                pending.sent = true;
            }
        }
        transmit(&queued.message, conn, out);
    }

    /// Handles a packet addressed to this namespace.
    pub(crate) fn handle_packet(
        &mut self,
        now: u64,
        message: BinaryMessage,
        conn: ConnId,
        out: &mut VecDeque<Output>,
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
                State::Idle | State::AwaitingAuth { .. } => Ok(Consequence::None),
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
                let (event, offset) = self.incoming_event(data, attachments, packet.id)?;
                match self.state {
                    State::Connected => self.deliver(event, offset, out),
                    State::Connecting { .. } => self.receive_buffer.push((event, offset)),
                    State::Idle | State::AwaitingAuth { .. } => {}
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

    fn on_connected(
        &mut self,
        now: u64,
        reply: ConnectReply,
        conn: ConnId,
        out: &mut VecDeque<Output>,
    ) {
        let previous_pid = self.recovery.as_ref().map(RecoveryPoint::pid);
        self.recovered = reply.pid.is_some() && reply.pid.as_deref() == previous_pid;
        if !self.recovered {
            self.recovery = reply.pid.map(RecoveryPoint::new);
        }
        self.sid = Some(reply.sid);
        self.state = State::Connected;
        out.push_back(self.event(SocketEvent::Connect));
        if !self.recovered {
            for (_, rejoin) in &self.rejoins {
                transmit(rejoin, conn, out);
            }
        }
        for queued in self.outbox.take_all() {
            self.send_queued(queued, conn, out);
        }
        self.send_reliable_head(now, Some(conn), out);
        for (event, offset) in std::mem::take(&mut self.receive_buffer) {
            self.deliver(event, offset, out);
        }
    }

    /// Hands an event to the app, unless a replay brings it a second time. Its offset
    /// becomes the recovery point only now: an event lost before delivery (its
    /// transport died while it waited for the CONNECT reply) is asked for again.
    fn deliver(
        &mut self,
        event: IncomingEvent,
        offset: Option<String>,
        out: &mut VecDeque<Output>,
    ) {
        if let (Some(point), Some(offset)) = (self.recovery.as_mut(), offset.as_deref()) {
            if !point.record_delivery(offset) {
                return;
            }
        }
        out.push_back(self.event(SocketEvent::Event(event)));
    }

    /// Splits the recovery offset off the event, once a pid is held.
    fn incoming_event(
        &self,
        data: JsonText,
        attachments: Vec<Vec<u8>>,
        ack_id: Option<u64>,
    ) -> Result<(IncomingEvent, Option<String>), ProtocolError> {
        let split = match (&self.recovery, ack_id) {
            (Some(_), None) => split_offset(&data)?,
            _ => None,
        };
        let (data, offset) = match split {
            Some((data, offset)) => (data, Some(offset)),
            None => (data, None),
        };
        let event = IncomingEvent {
            data,
            attachments,
            ack_id,
        };
        Ok((event, offset))
    }

    /// The Engine.IO connection is gone: settle what waited on it.
    pub(crate) fn handle_connection_lost(
        &mut self,
        reason: DisconnectReason,
        out: &mut VecDeque<Output>,
    ) {
        self.lose_connection(reason, out);
    }

    /// An attempt to connect failed before this socket was connected.
    pub(crate) fn handle_attempt_failed(
        &mut self,
        error: &ConnectError,
        out: &mut VecDeque<Output>,
    ) {
        if self.active && !self.is_connected() {
            self.reset_to_idle();
            out.push_back(self.event(SocketEvent::ConnectError(error.clone())));
        }
    }

    /// The app's `socket.disconnect()`.
    pub(crate) fn disconnect(&mut self, conn: Option<ConnId>, out: &mut VecDeque<Output>) {
        if let (Some(conn), true) = (conn, self.is_connected()) {
            out.push_back(Output::Transmit(
                conn,
                Packet::disconnect(&self.namespace).to_frame(),
            ));
        }
        self.lose_connection(DisconnectReason::IoClientDisconnect, out);
        self.active = false;
    }

    fn lose_connection(&mut self, reason: DisconnectReason, out: &mut VecDeque<Output>) {
        let was_connected = self.is_connected();
        self.reset_to_idle();
        if was_connected {
            out.push_back(self.event(SocketEvent::Disconnect(reason)));
        }
        // Sent packets died with the transport: their answers can never arrive.
        let lost: Vec<u64> = self
            .pending_acks
            .iter()
            .filter(|ack| ack.sent)
            .map(|ack| ack.id)
            .collect();
        for id in lost {
            self.settle_ack(id, Err(AckError::Disconnected), out);
        }
    }

    fn reset_to_idle(&mut self) {
        self.state = State::Idle;
        self.sid = None;
        self.receive_buffer.clear();
    }

    /// Settles acknowledgement `id` (no-op if unknown). An at-least-once emit that
    /// failed with tries left stays at the head of its queue, for the next
    /// [`Socket::send_reliable_head`].
    fn settle_ack(
        &mut self,
        id: u64,
        result: Result<Payload, AckError>,
        out: &mut VecDeque<Output>,
    ) {
        let Some(index) = self.pending_acks.iter().position(|ack| ack.id == id) else {
            return;
        };
        let pending = self.pending_acks.remove(index);
        if !pending.reliable {
            self.outbox.remove_ack(id);
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
            State::AwaitingAuth { deadline, .. } | State::Connecting { deadline } => Some(deadline),
            State::Idle | State::Connected => None,
        };
        let acks = self.pending_acks.iter().filter_map(|ack| ack.deadline);
        handshake
            .into_iter()
            .chain(acks)
            .chain(self.outbox.deadline())
            .min()
    }

    pub(crate) fn handle_timeout(
        &mut self,
        now: u64,
        conn: Option<ConnId>,
        out: &mut VecDeque<Output>,
    ) -> Consequence {
        let expired: Vec<u64> = self
            .pending_acks
            .iter()
            .filter(|ack| ack.deadline.is_some_and(|deadline| deadline <= now))
            .map(|ack| ack.id)
            .collect();
        for id in expired {
            self.settle_ack(id, Err(AckError::Timeout), out);
        }
        self.send_reliable_head(now, conn, out);
        for dropped in self.outbox.expire(now) {
            self.drop_queued(dropped, DropReason::Expired, out);
        }
        match self.state {
            State::AwaitingAuth { deadline, .. } | State::Connecting { deadline }
                if deadline <= now =>
            {
                Consequence::HandshakeFailed
            }
            _ => Consequence::None,
        }
    }

    fn event(&self, event: SocketEvent) -> Output {
        Output::Socket(self.key, event)
    }
}

fn transmit(message: &BinaryMessage, conn: ConnId, out: &mut VecDeque<Output>) {
    for frame in message.frames() {
        out.push_back(Output::Transmit(conn, frame));
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
