//! [`Value`] to Rust values: a `Value` read as an owned serde `Deserializer`.
//!
//! Owns how each variant answers serde's requests, including binary leaves read as
//! sequences of bytes and arrays of bytes read as binary. It must not know the wire
//! (placeholders and attachments are `reassembly`'s) nor the Socket.IO arguments
//! convention (`client::args`).

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess,
    SeqAccess, Unexpected, VariantAccess, Visitor,
};
use serde::forward_to_deserialize_any;

use super::{Number, Value, ValueError};

/// Reads a `T` out of `value`, the mirror of [`to_value`](super::to_value):
///
/// - `Null` is `None`, `()` or a unit struct; anything else read as an `Option` is `Some`.
/// - A number is read as the integer or float asked for; one beyond the range of the
///   type asked for is an error.
/// - `Value::Binary` reads as bytes, or as a sequence of `u8`s, so `Vec<u8>` and
///   `[u8; N]` read it; an array of numbers 0..=255 also reads as bytes.
/// - An enum is a string naming a unit variant, or an object of one key, the variant's
///   name, holding its content.
/// - An array read as a tuple or struct must hold no more elements than it asks for.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, ValueError> {
    T::deserialize(value)
}

/// Lets a `Value` stand where serde asks for something that turns into a deserializer,
/// such as the elements of serde's own `SeqDeserializer`.
impl<'de> IntoDeserializer<'de, ValueError> for Value {
    type Deserializer = Value;

    fn into_deserializer(self) -> Value {
        self
    }
}

impl<'de> Deserializer<'de> for Value {
    type Error = ValueError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Value::Null => visitor.visit_unit(),
            Value::Bool(value) => visitor.visit_bool(value),
            Value::Number(number) => visit_number(number, visitor),
            Value::String(text) => visitor.visit_string(text),
            Value::Binary(bytes) => visitor.visit_byte_buf(bytes),
            Value::Array(items) => visit_elements(items, visitor),
            Value::Object(entries) => {
                let total = entries.len();
                let mut reader = EntryReader {
                    remaining: entries.into_iter(),
                    value: None,
                };
                let read = visitor.visit_map(&mut reader)?;
                if reader.remaining.len() == 0 {
                    Ok(read)
                } else {
                    Err(de::Error::invalid_length(total, &"fewer entries"))
                }
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Value::Binary(bytes) => visit_elements(bytes, visitor),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.deserialize_byte_buf(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Value::Array(items) => match bytes_of(&items) {
                Some(bytes) => visitor.visit_byte_buf(bytes),
                None => visit_elements(items, visitor),
            },
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        const EXPECTED: &str = "a variant: its name, or an object of one key, its name";
        match self {
            Value::String(variant) => visitor.visit_enum(VariantReader {
                variant,
                content: None,
            }),
            Value::Object(entries) => {
                let total = entries.len();
                let mut entries = entries.into_iter();
                match (entries.next(), entries.next()) {
                    (Some((variant, content)), None) => visitor.visit_enum(VariantReader {
                        variant,
                        content: Some(content),
                    }),
                    _ => Err(de::Error::invalid_length(total, &EXPECTED)),
                }
            }
            other => Err(de::Error::invalid_type(unexpected(&other), &EXPECTED)),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string unit
        unit_struct map struct identifier
    }
}

/// Integers as the widest of `u64`/`i64` that holds them, so that the visitor of a
/// narrower type reports one beyond its range.
fn visit_number<'de, V: Visitor<'de>>(number: Number, visitor: V) -> Result<V::Value, ValueError> {
    if let Some(unsigned) = number.as_u64() {
        visitor.visit_u64(unsigned)
    } else if let Some(signed) = number.as_i64() {
        visitor.visit_i64(signed)
    } else {
        visitor.visit_f64(number.as_f64())
    }
}

/// The bytes an array stands for, if it holds nothing but integers 0..=255.
fn bytes_of(items: &[Value]) -> Option<Vec<u8>> {
    items
        .iter()
        .map(|item| match item {
            Value::Number(number) => number.as_u64().and_then(|n| u8::try_from(n).ok()),
            _ => None,
        })
        .collect()
}

fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(value) => Unexpected::Bool(*value),
        Value::Number(number) => match (number.as_u64(), number.as_i64()) {
            (Some(unsigned), _) => Unexpected::Unsigned(unsigned),
            (None, Some(signed)) => Unexpected::Signed(signed),
            (None, None) => Unexpected::Float(number.as_f64()),
        },
        Value::String(text) => Unexpected::Str(text),
        Value::Binary(bytes) => Unexpected::Bytes(bytes),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

/// Hands the visitor the elements of an array, or the bytes of a binary leaf, and
/// refuses any it left unread: a longer array is not the tuple or struct asked for.
fn visit_elements<'de, Item, V>(items: Vec<Item>, visitor: V) -> Result<V::Value, ValueError>
where
    Item: IntoDeserializer<'de, ValueError>,
    V: Visitor<'de>,
{
    let total = items.len();
    let mut reader = ElementReader {
        remaining: items.into_iter(),
    };
    let read = visitor.visit_seq(&mut reader)?;
    if reader.remaining.len() == 0 {
        Ok(read)
    } else {
        Err(de::Error::invalid_length(total, &"fewer elements"))
    }
}

struct ElementReader<Item> {
    remaining: std::vec::IntoIter<Item>,
}

impl<'de, Item: IntoDeserializer<'de, ValueError>> SeqAccess<'de> for ElementReader<Item> {
    type Error = ValueError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ValueError> {
        self.remaining
            .next()
            .map(|item| seed.deserialize(item.into_deserializer()))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.remaining.len())
    }
}

struct EntryReader {
    remaining: std::vec::IntoIter<(String, Value)>,
    /// The value of the entry whose key was just read.
    value: Option<Value>,
}

impl<'de> MapAccess<'de> for EntryReader {
    type Error = ValueError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ValueError> {
        match self.remaining.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(ObjectKey(key)).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<T::Value, ValueError> {
        // Only a visitor breaking serde's contract asks for a value before its key.
        match self.value.take() {
            Some(value) => seed.deserialize(value),
            None => Err(ValueError::new("a map value was asked for before its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.remaining.len())
    }
}

/// An object's key, which is always text: read as the integer or `bool` asked for when
/// it is one, since `to_value` writes such map keys as their text.
struct ObjectKey(String);

impl ObjectKey {
    fn visit_integer<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        if let Ok(unsigned) = self.0.parse::<u64>() {
            visitor.visit_u64(unsigned)
        } else if let Ok(signed) = self.0.parse::<i64>() {
            visitor.visit_i64(signed)
        } else {
            visitor.visit_string(self.0)
        }
    }

    fn visit_wide_integer<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        if let Ok(unsigned) = self.0.parse::<u128>() {
            visitor.visit_u128(unsigned)
        } else if let Ok(signed) = self.0.parse::<i128>() {
            visitor.visit_i128(signed)
        } else {
            visitor.visit_string(self.0)
        }
    }
}

impl<'de> Deserializer<'de> for ObjectKey {
    type Error = ValueError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visitor.visit_string(self.0)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.0.as_str() {
            "true" => visitor.visit_bool(true),
            "false" => visitor.visit_bool(false),
            _ => visitor.visit_string(self.0),
        }
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.visit_integer(visitor)
    }

    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.visit_integer(visitor)
    }

    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.visit_integer(visitor)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.visit_integer(visitor)
    }

    fn deserialize_i128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.visit_wide_integer(visitor)
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.visit_integer(visitor)
    }

    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.visit_integer(visitor)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.visit_integer(visitor)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.visit_integer(visitor)
    }

    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.visit_wide_integer(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        Value::String(self.0).deserialize_enum(name, variants, visitor)
    }

    forward_to_deserialize_any! {
        f32 f64 char str string bytes byte_buf unit unit_struct seq tuple tuple_struct
        map struct identifier ignored_any
    }
}

/// A variant read from its name, with the content an object of one key holds.
struct VariantReader {
    variant: String,
    content: Option<Value>,
}

impl<'de> EnumAccess<'de> for VariantReader {
    type Error = ValueError;
    type Variant = VariantContent;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, VariantContent), ValueError> {
        let variant = seed.deserialize(Value::String(self.variant))?;
        Ok((variant, VariantContent(self.content)))
    }
}

/// The content of a variant: `None` when it was written as its bare name.
struct VariantContent(Option<Value>);

impl VariantContent {
    fn expect_content(self, expected: &'static str) -> Result<Value, ValueError> {
        self.0
            .ok_or_else(|| de::Error::invalid_type(Unexpected::UnitVariant, &expected))
    }
}

impl<'de> VariantAccess<'de> for VariantContent {
    type Error = ValueError;

    fn unit_variant(self) -> Result<(), ValueError> {
        match self.0 {
            None | Some(Value::Null) => Ok(()),
            Some(other) => Err(de::Error::invalid_type(
                unexpected(&other),
                &"a unit variant",
            )),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, ValueError> {
        seed.deserialize(self.expect_content("a newtype variant")?)
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        self.expect_content("a tuple variant")?
            .deserialize_tuple(len, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        self.expect_content("a struct variant")?
            .deserialize_any(visitor)
    }
}
