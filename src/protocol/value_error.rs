//! The error of the serde conversions between Rust types and [`Value`](super::Value)
//! (`to_value`, `from_value`, and the client's arguments convention built on them).
//!
//! Owns the error's message. It must not be used by the wire codec, whose errors are
//! `ProtocolError`'s fixed messages, kept free of formatting for the wasm build.

use std::fmt;

/// Why a Rust value could not become a [`Value`](super::Value), or a `Value` could not
/// become the Rust type asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    message: String,
}

impl ValueError {
    pub(crate) fn new(message: impl Into<String>) -> ValueError {
        ValueError {
            message: message.into(),
        }
    }

    /// What went wrong, for a human.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ValueError {}

impl serde::ser::Error for ValueError {
    fn custom<T: fmt::Display>(message: T) -> ValueError {
        ValueError::new(message.to_string())
    }
}

impl serde::de::Error for ValueError {
    fn custom<T: fmt::Display>(message: T) -> ValueError {
        ValueError::new(message.to_string())
    }
}
