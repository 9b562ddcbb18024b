//! A JSON number held by a [`Value`](super::Value).
//!
//! Owns the reading of JSON number text into an integer or a float and its writing
//! back, with the same rules as serde_json: plain integers stay exact while they fit in
//! `u64`/`i64`, anything else is an `f64`. It must not be reached from the wasm build's
//! hot paths: payloads bound for JavaScript stay text.

use std::fmt;

/// A finite JSON number. Integers and floats compare as different numbers (`1` is not
/// `1.0`), as in serde_json.
#[derive(Clone, Copy, PartialEq)]
pub struct Number(Repr);

#[derive(Clone, Copy, PartialEq)]
enum Repr {
    Unsigned(u64),
    /// Always negative.
    Negative(i64),
    /// Always finite.
    Float(f64),
}

impl Number {
    /// The number for `value`; `None` for infinities and NaN, which JSON cannot hold.
    pub fn from_f64(value: f64) -> Option<Number> {
        value.is_finite().then_some(Number(Repr::Float(value)))
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self.0 {
            Repr::Unsigned(value) => Some(value),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self.0 {
            Repr::Unsigned(value) => i64::try_from(value).ok(),
            Repr::Negative(value) => Some(value),
            Repr::Float(_) => None,
        }
    }

    pub fn as_f64(&self) -> f64 {
        match self.0 {
            Repr::Unsigned(value) => value as f64,
            Repr::Negative(value) => value as f64,
            Repr::Float(value) => value,
        }
    }

    pub fn is_f64(&self) -> bool {
        matches!(self.0, Repr::Float(_))
    }

    /// Reads JSON number text (already validated). `None` when its magnitude is beyond
    /// the range of `f64`, which only `JSON.parse`'s `Infinity` could stand for.
    pub(crate) fn parse(raw: &str) -> Option<Number> {
        let (negative, digits) = match raw.strip_prefix('-') {
            Some(digits) => (true, digits),
            None => (false, raw),
        };
        let is_integer = !digits.contains(['.', 'e', 'E']);
        let integer = digits.parse::<u64>().ok().filter(|_| is_integer);
        match (negative, integer) {
            (false, Some(value)) => return Some(Number(Repr::Unsigned(value))),
            // As serde_json: -0 is the float -0.0, and below i64::MIN is a float.
            (true, Some(value)) if (value as i64).wrapping_neg() < 0 => {
                return Some(Number(Repr::Negative((value as i64).wrapping_neg())));
            }
            _ => {}
        }
        raw.parse::<f64>().ok().and_then(Number::from_f64)
    }

    /// Appends the number as JSON text.
    pub(crate) fn write(&self, out: &mut String) {
        use fmt::Write as _;
        // Writing to a String cannot fail. `{:?}` writes floats as `1.0`, `1e-7`,
        // `1e16`: JSON numbers that read back to the same f64.
        let _ = match self.0 {
            Repr::Unsigned(value) => write!(out, "{value}"),
            Repr::Negative(value) => write!(out, "{value}"),
            Repr::Float(value) => write!(out, "{value:?}"),
        };
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::new();
        self.write(&mut text);
        f.write_str(&text)
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({self})")
    }
}

macro_rules! from_unsigned {
    ($($t:ty)*) => {$(
        impl From<$t> for Number {
            fn from(value: $t) -> Number {
                Number(Repr::Unsigned(value as u64))
            }
        }
    )*};
}

macro_rules! from_signed {
    ($($t:ty)*) => {$(
        impl From<$t> for Number {
            fn from(value: $t) -> Number {
                if value < 0 {
                    Number(Repr::Negative(value as i64))
                } else {
                    Number(Repr::Unsigned(value as u64))
                }
            }
        }
    )*};
}

from_unsigned!(u8 u16 u32 u64 usize);
from_signed!(i8 i16 i32 i64 isize);

impl serde::Serialize for Number {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Repr::Unsigned(value) => serializer.serialize_u64(value),
            Repr::Negative(value) => serializer.serialize_i64(value),
            Repr::Float(value) => serializer.serialize_f64(value),
        }
    }
}
