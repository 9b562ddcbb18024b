//! [`ClientError`]: why a call of the Rust API failed, or why an answer will not come.
//!
//! Owns the Rust front door's one error type and its messages. It decides nothing: the
//! errors it carries are those of the URL, the core, the driver and the conversions
//! between Rust values and arguments.

use std::fmt;

use super::url::UrlError;
use crate::core::{AckError, EmitError};
use crate::driver::DriverError;
use crate::protocol::{ProtocolError, ValueError};

#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ClientError {
    /// The URL does not name a Socket.IO server.
    Url(UrlError),
    /// The emit was refused (an empty event name, the offline queue full, ...).
    Emit(EmitError),
    /// No answer will come: the emit's timeout elapsed, the connection was lost after
    /// it was sent, or it was dropped before it was sent.
    Ack(AckError),
    /// A payload could not be turned into arguments, or the arguments into the type
    /// asked for.
    Payload(ValueError),
    /// The server's answer could not be read as values.
    Malformed(ProtocolError),
    /// The server did not ask for a reply to this event, or it was already given.
    NoReply,
    /// The socket's connection is gone (its last handle was dropped), or the call came
    /// from inside the driver's own processing.
    Driver(DriverError),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Url(error) => f.write_str(error.message()),
            Self::Emit(error) => f.write_str(error.message()),
            Self::Ack(error) => f.write_str(error.message()),
            Self::Payload(error) => write!(f, "payload: {error}"),
            Self::Malformed(error) => write!(f, "malformed answer: {}", error.message()),
            Self::NoReply => f.write_str("the server asked for no reply, or it was already sent"),
            Self::Driver(DriverError::Busy) => f.write_str("the socket is busy"),
            Self::Driver(DriverError::Gone) => f.write_str("the socket is closed"),
        }
    }
}

impl std::error::Error for ClientError {}

impl From<ValueError> for ClientError {
    fn from(error: ValueError) -> Self {
        Self::Payload(error)
    }
}

impl From<DriverError> for ClientError {
    fn from(error: DriverError) -> Self {
        Self::Driver(error)
    }
}
