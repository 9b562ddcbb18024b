//! One namespace socket: its CONNECT handshake, the emits waiting for a connection, the
//! acknowledgements it waits for, and the recovery point (pid and offset) it keeps.
//!
//! Driven by the manager, which owns the Engine.IO connection and decides about
//! reconnection; a socket never opens or closes a transport itself.

use std::collections::VecDeque;

use serde_json::value::RawValue;

use super::config::{AuthSource, SocketConfig};
use super::event::{
    AckError, ConnId, ConnectError, DisconnectReason, IncomingEvent, Output, Payload, SocketEvent,
    SocketKey,
};
use super::recovery::{split_offset, RecoveryPoint};
use crate::protocol::{
    BinaryMessage, ConnectErrorPayload, ConnectReply, JsonText, Packet, PacketType, ProtocolError,
    RESERVED_EVENTS,
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

/// A packet waiting for a connection, with the binary frames that follow it.
#[derive(Debug, Clone, PartialEq)]
struct Queued {
    message: BinaryMessage,
    ack_id: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct PendingAck {
    id: u64,
    deadline: Option<u64>,
    /// Sent on the current transport (else still in the send buffer).
    sent: bool,
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
    send_buffer: VecDeque<Queued>,
    pending_acks: Vec<PendingAck>,
    /// Events that arrived before the CONNECT reply (a recovery replay), with their
    /// offsets, delivered after `connect`.
    receive_buffer: Vec<(IncomingEvent, Option<String>)>,
}

impl Socket {
    pub(crate) fn new(key: SocketKey, namespace: String, config: SocketConfig) -> Self {
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
            send_buffer: VecDeque::new(),
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

    pub(crate) fn queued_len(&self) -> usize {
        self.send_buffer.len()
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
        if options.volatile && connected_conn.is_none() {
            return Ok(None);
        }
        let ack_id = options.with_ack.then(|| {
            let id = self.next_ack_id;
            self.next_ack_id += 1;
            self.pending_acks.push(PendingAck {
                id,
                deadline: options.timeout.map(|ms| now.saturating_add(ms)),
                sent: false,
            });
            id
        });
        let packet = Packet::event(&self.namespace, data, ack_id, attachments.len());
        let queued = Queued {
            message: BinaryMessage {
                packet,
                attachments,
            },
            ack_id,
        };
        match connected_conn {
            Some(conn) => self.transmit(queued, conn, out),
            None => self.send_buffer.push_back(queued),
        }
        Ok(ack_id)
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
        for frame in message.frames() {
            out.push_back(Output::Transmit(conn, frame));
        }
    }

    fn transmit(&mut self, queued: Queued, conn: ConnId, out: &mut VecDeque<Output>) {
        if let Some(id) = queued.ack_id {
            if let Some(pending) = self.pending_acks.iter_mut().find(|a| a.id == id) {
                pending.sent = true;
            }
        }
        for frame in queued.message.frames() {
            out.push_back(Output::Transmit(conn, frame));
        }
    }

    /// Handles a packet addressed to this namespace.
    pub(crate) fn handle_packet(
        &mut self,
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
                    self.on_connected(reply, conn, out);
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
                }
                Ok(Consequence::None)
            }
        }
    }

    fn on_connected(&mut self, reply: ConnectReply, conn: ConnId, out: &mut VecDeque<Output>) {
        let previous_pid = self.recovery.as_ref().map(RecoveryPoint::pid);
        self.recovered = reply.pid.is_some() && reply.pid.as_deref() == previous_pid;
        if !self.recovered {
            self.recovery = reply.pid.map(RecoveryPoint::new);
        }
        self.sid = Some(reply.sid);
        self.state = State::Connected;
        out.push_back(self.event(SocketEvent::Connect));
        while let Some(queued) = self.send_buffer.pop_front() {
            self.transmit(queued, conn, out);
        }
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
        let (lost, kept): (Vec<_>, Vec<_>) = self.pending_acks.drain(..).partition(|ack| ack.sent);
        self.pending_acks = kept;
        for ack in lost {
            out.push_back(self.event(SocketEvent::Ack(ack.id, Err(AckError::Disconnected))));
        }
    }

    fn reset_to_idle(&mut self) {
        self.state = State::Idle;
        self.sid = None;
        self.receive_buffer.clear();
    }

    fn settle_ack(
        &mut self,
        id: u64,
        result: Result<Payload, AckError>,
        out: &mut VecDeque<Output>,
    ) {
        if let Some(index) = self.pending_acks.iter().position(|ack| ack.id == id) {
            self.pending_acks.remove(index);
            self.send_buffer.retain(|queued| queued.ack_id != Some(id));
            out.push_back(self.event(SocketEvent::Ack(id, result)));
        }
    }

    /// The earliest moment this socket needs [`Socket::handle_timeout`].
    pub(crate) fn deadline(&self) -> Option<u64> {
        let handshake = match self.state {
            State::AwaitingAuth { deadline, .. } | State::Connecting { deadline } => Some(deadline),
            State::Idle | State::Connected => None,
        };
        let acks = self
            .pending_acks
            .iter()
            .filter_map(|ack| ack.deadline)
            .min();
        handshake.into_iter().chain(acks).min()
    }

    pub(crate) fn handle_timeout(&mut self, now: u64, out: &mut VecDeque<Output>) -> Consequence {
        let expired: Vec<u64> = self
            .pending_acks
            .iter()
            .filter(|ack| ack.deadline.is_some_and(|deadline| deadline <= now))
            .map(|ack| ack.id)
            .collect();
        for id in expired {
            self.settle_ack(id, Err(AckError::Timeout), out);
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

/// An emit's data is `[name, ...args]` with a name the server accepts and apps may use.
fn validate_event_data(data: &JsonText) -> Result<(), EmitError> {
    let elements = data.array_elements().map_err(|_| EmitError::InvalidData)?;
    let name: &RawValue = elements.first().ok_or(EmitError::InvalidData)?;
    if let Ok(name) = serde_json::from_str::<String>(name.get()) {
        return if RESERVED_EVENTS.contains(&name.as_str()) {
            Err(EmitError::ReservedName)
        } else {
            Ok(())
        };
    }
    serde_json::from_str::<f64>(name.get())
        .map(|_| ())
        .map_err(|_| EmitError::InvalidData)
}
