//! The Socket.IO arguments convention of the Rust API: how one Rust payload becomes the
//! arguments an event or acknowledgement carries, and back.
//!
//! Owns the rule, the same as socketioxide's: a tuple is spread as the arguments, `()`
//! is no argument, anything else is one argument. It must not know the wire or the
//! socket: it turns payloads into `Value`s and back, through `protocol::to_value` and
//! `protocol::from_value`, nothing more.

use std::fmt;

use serde::de::{DeserializeOwned, DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde::ser::{self, Impossible, Serialize, Serializer};

use crate::protocol::{to_value, Value, ValueError};

/// The arguments `payload` stands for, as JavaScript's `socket.emit(name, ...args)`
/// receives them:
///
/// - a tuple is spread: `("room", 3)` is two arguments, `(message,)` one;
/// - `()` is no argument at all;
/// - anything else, a `Vec` or a struct included, is one argument.
///
/// Each argument is converted by [`to_value`]. Fixed-size arrays serialize as tuples in
/// serde, so `[u8; 4]` is four arguments, not one binary one: send `&bytes[..]` or
/// `(bytes,)` for a single binary argument.
pub fn to_args<T: Serialize + ?Sized>(payload: &T) -> Result<Vec<Value>, ValueError> {
    match payload.serialize(ArgumentsSerializer) {
        Ok(arguments) => Ok(arguments),
        Err(NotSpread::OneArgument) => Ok(vec![to_value(payload)?]),
        Err(NotSpread::Failed(error)) => Err(error),
    }
}

/// Reads a `T` out of the arguments an event or acknowledgement carried, the mirror of
/// [`to_args`]:
///
/// - a tuple reads the arguments in order; fewer arguments than its length is an error,
///   more are ignored, as a JavaScript function ignores extra arguments;
/// - `()` reads any arguments, ignoring them;
/// - anything else reads the first argument, or `Null` when there is none, as a missing
///   argument is `undefined` in JavaScript: an `Option` reads `None`.
///
/// To take every argument whatever their number, keep the `Vec<Value>` itself.
pub fn from_args<T: DeserializeOwned>(args: Vec<Value>) -> Result<T, ValueError> {
    T::deserialize(Arguments(args))
}

/// Why a payload was not serialized as spread arguments.
#[derive(Debug)]
enum NotSpread {
    /// The payload is neither a tuple nor `()`. Found at its first serializer call, before
    /// any work, so it is then serialized whole as one argument.
    OneArgument,
    /// A tuple element failed to serialize.
    Failed(ValueError),
}

impl fmt::Display for NotSpread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotSpread::OneArgument => f.write_str("the payload is one argument"),
            NotSpread::Failed(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for NotSpread {}

impl ser::Error for NotSpread {
    fn custom<T: fmt::Display>(message: T) -> NotSpread {
        NotSpread::Failed(ValueError::new(message.to_string()))
    }
}

/// Serializes a tuple as its elements and `()` as nothing, and stops at anything else:
/// serde tells a tuple from a sequence only at the serializer, not in the `Value`.
struct ArgumentsSerializer;

impl Serializer for ArgumentsSerializer {
    type Ok = Vec<Value>;
    type Error = NotSpread;
    type SerializeSeq = Impossible<Vec<Value>, NotSpread>;
    type SerializeTuple = SpreadTuple;
    type SerializeTupleStruct = Impossible<Vec<Value>, NotSpread>;
    type SerializeTupleVariant = Impossible<Vec<Value>, NotSpread>;
    type SerializeMap = Impossible<Vec<Value>, NotSpread>;
    type SerializeStruct = Impossible<Vec<Value>, NotSpread>;
    type SerializeStructVariant = Impossible<Vec<Value>, NotSpread>;

    fn serialize_unit(self) -> Result<Vec<Value>, NotSpread> {
        Ok(Vec::new())
    }

    fn serialize_tuple(self, _len: usize) -> Result<SpreadTuple, NotSpread> {
        Ok(SpreadTuple {
            arguments: Vec::new(),
        })
    }

    /// A newtype is its content, as in `to_value`: one around a tuple is spread too.
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Vec<Value>, NotSpread> {
        value.serialize(self)
    }

    fn serialize_bool(self, _value: bool) -> Result<Vec<Value>, NotSpread> {
        Err(NotSpread::OneArgument)
    }

    fn serialize_i8(self, _value: i8) -> Result<Vec<Value>, NotSpread> {
        Err(NotSpread::OneArgument)
    }

    fn serialize_i16(self, _value: i16) -> Result<Vec<Value>, NotSpread> {
        Err(NotSpread::OneArgument)
    }

    fn serialize_i32(self, _value: i32) -> Result<Vec<Value>, NotSpread> {
        Err(NotSpread::OneArgument)
    }

    fn serialize_i64(self, _value: i64) -> Result<Vec<Value>, NotSpread> {
        Err(NotSpread::OneArgument)
    }

    fn serialize_i128(self, _value: i128) -> Result<Vec<Value>, NotSpread> {
        Err(NotSpread::OneArgument)
    }

    fn serialize_u8(self, _value: u8) -> Result<Vec<Value>, NotSpread> {
        Err(NotSpread::OneArgument)
    }

    fn serialize_u16(self, _value: u16) -> Result<Vec<Value>, NotSpread> {
        Err(NotSpread::OneArgument)
    }

    fn serialize_u32(self, _value: u32) -> Result<Vec<Value>, NotSpread> {
        Err(NotSpread::OneArgument)
    }

    fn serialize_u64(self, _value: u64) -> Result<Vec<Value>, NotSpread> {
        Err(NotSpread::OneArgument)
    }

    fn serialize_u128(self, _value: u128) -> Result<Vec<Value>, NotSpread> {
        Err(NotSpread::OneArgument)
    }

    fn serialize_f32(self, _value: f32) -> Result<Vec<Value>, NotSpread> {
        Err(NotSpread::OneArgument)
    }

    fn serialize_f64(self, _value: f64) -> Result<Vec<Value>, NotSpread> {
        Err(NotSpread::OneArgument)
    }

    fn serialize_char(self, _value: char) -> Result<Vec<Value>, NotSpread> {
        Err(NotSpread::OneArgument)
    }

    fn serialize_str(self, _value: &str) -> Result<Vec<Value>, NotSpread> {
        Err(NotSpread::OneArgument)
    }

    fn serialize_bytes(self, _value: &[u8]) -> Result<Vec<Value>, NotSpread> {
        Err(NotSpread::OneArgument)
    }

    fn serialize_none(self) -> Result<Vec<Value>, NotSpread> {
        Err(NotSpread::OneArgument)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<Vec<Value>, NotSpread> {
        Err(NotSpread::OneArgument)
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<Vec<Value>, NotSpread> {
        Err(NotSpread::OneArgument)
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
    ) -> Result<Vec<Value>, NotSpread> {
        Err(NotSpread::OneArgument)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<Vec<Value>, NotSpread> {
        Err(NotSpread::OneArgument)
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, NotSpread> {
        Err(NotSpread::OneArgument)
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, NotSpread> {
        Err(NotSpread::OneArgument)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, NotSpread> {
        Err(NotSpread::OneArgument)
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, NotSpread> {
        Err(NotSpread::OneArgument)
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, NotSpread> {
        Err(NotSpread::OneArgument)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, NotSpread> {
        Err(NotSpread::OneArgument)
    }
}

/// A tuple's elements, each one argument.
struct SpreadTuple {
    arguments: Vec<Value>,
}

impl ser::SerializeTuple for SpreadTuple {
    type Ok = Vec<Value>;
    type Error = NotSpread;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, element: &T) -> Result<(), NotSpread> {
        self.arguments
            .push(to_value(element).map_err(NotSpread::Failed)?);
        Ok(())
    }

    fn end(self) -> Result<Vec<Value>, NotSpread> {
        Ok(self.arguments)
    }
}

/// The arguments received, read as a tuple, as `()`, or as their first one.
struct Arguments(Vec<Value>);

impl Arguments {
    fn first(self) -> Value {
        self.0.into_iter().next().unwrap_or(Value::Null)
    }
}

fn missing_arguments(expected: usize, received: usize) -> ValueError {
    let plural = if expected == 1 { "" } else { "s" };
    ValueError::new(format!(
        "expected {expected} argument{plural}, received {received}"
    ))
}

/// Every request but a tuple's, `()`'s and a newtype's goes to the first argument.
macro_rules! read_first_argument {
    ($($method:ident($($parameter:ident: $kind:ty),*);)*) => {$(
        fn $method<V: Visitor<'de>>(
            self,
            $($parameter: $kind,)*
            visitor: V,
        ) -> Result<V::Value, ValueError> {
            self.first().$method($($parameter,)* visitor)
        }
    )*};
}

impl<'de> Deserializer<'de> for Arguments {
    type Error = ValueError;

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        let received = self.0.len();
        if received < len {
            return Err(missing_arguments(len, received));
        }
        visitor.visit_seq(SpreadArguments {
            remaining: self.0.into_iter().take(len).enumerate(),
        })
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visitor.visit_unit()
    }

    /// A newtype is its content, as in `from_value`: one around a tuple reads the
    /// arguments spread, the mirror of `to_args`.
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        visitor.visit_newtype_struct(self)
    }

    read_first_argument! {
        deserialize_any();
        deserialize_bool();
        deserialize_i8();
        deserialize_i16();
        deserialize_i32();
        deserialize_i64();
        deserialize_i128();
        deserialize_u8();
        deserialize_u16();
        deserialize_u32();
        deserialize_u64();
        deserialize_u128();
        deserialize_f32();
        deserialize_f64();
        deserialize_char();
        deserialize_str();
        deserialize_string();
        deserialize_bytes();
        deserialize_byte_buf();
        deserialize_option();
        deserialize_unit_struct(name: &'static str);
        deserialize_seq();
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_map();
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
        deserialize_identifier();
        deserialize_ignored_any();
    }
}

/// The arguments a tuple reads, each numbered in its error.
struct SpreadArguments {
    remaining: std::iter::Enumerate<std::iter::Take<std::vec::IntoIter<Value>>>,
}

impl<'de> SeqAccess<'de> for SpreadArguments {
    type Error = ValueError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ValueError> {
        let Some((index, argument)) = self.remaining.next() else {
            return Ok(None);
        };
        seed.deserialize(argument)
            .map(Some)
            .map_err(|error| ValueError::new(format!("argument {}: {error}", index + 1)))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.remaining.len())
    }
}
