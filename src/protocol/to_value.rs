//! Rust values to [`Value`]: a serde `Serializer` whose output is a `Value`.
//!
//! Owns how each shape of serde's data model becomes a `Value`, and which sequences
//! become binary leaves. It must not know the wire (placeholders and attachments are
//! `reassembly`'s) nor the Socket.IO arguments convention (`client::args`).

use serde::ser::{self, Impossible, Serialize};

use super::{Number, Value, ValueError};

/// Converts `value` into a [`Value`], the way its JSON would read, plus binary leaves:
///
/// - `()`, `None` and unit structs are `Null`; newtype structs are their content.
/// - Integers are numbers; a `u128`/`i128` beyond the range of `u64`/`i64` is an error.
///   Floats are numbers when finite, `Null` otherwise (NaN and infinities have no JSON).
/// - `char`s and strings are strings; serde bytes (`serialize_bytes`) are
///   `Value::Binary`.
/// - Sequences and tuples are arrays, except that one holding at least one element and
///   nothing but `u8`s is `Value::Binary`: `Vec<u8>`, `&[u8]` and `[u8; N]` travel as
///   binary attachments, as socket.io-client sends a `Uint8Array`. An empty one is `[]`,
///   since nothing tells it apart from any other empty sequence. Tuple structs and tuple
///   variants stay arrays of numbers: those are records, not byte strings.
/// - Maps and structs are objects, in the order serialized. A map key must be a string,
///   or an integer, `char`, `bool` or unit variant, which is written as its text.
/// - Enums are externally tagged: a unit variant is its name as a string, any other
///   variant an object of one key, its name, holding its content.
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, ValueError> {
    value.serialize(ValueSerializer).map(Serialized::into_value)
}

/// What one serialization produced. A `u8` is kept apart from other numbers until the
/// sequence holding it ends, since only a sequence of nothing but `u8`s becomes binary.
enum Serialized {
    Byte(u8),
    Value(Value),
}

impl Serialized {
    fn into_value(self) -> Value {
        match self {
            Serialized::Byte(byte) => Value::Number(byte.into()),
            Serialized::Value(value) => value,
        }
    }
}

/// A size hint comes from the value's own `Serialize` impl and is only a hint: it
/// reserves room, up to this many elements, never an allocation that could fail.
const MAX_RESERVED: usize = 4096;

fn reserved(hint: Option<usize>) -> usize {
    hint.unwrap_or(0).min(MAX_RESERVED)
}

fn out_of_range(integer: impl std::fmt::Display) -> ValueError {
    ValueError::new(format!(
        "the integer {integer} is beyond the range of a JSON number's integers (i64::MIN..=u64::MAX)"
    ))
}

struct ValueSerializer;

impl ser::Serializer for ValueSerializer {
    type Ok = Serialized;
    type Error = ValueError;
    type SerializeSeq = SequenceBuilder;
    type SerializeTuple = SequenceBuilder;
    type SerializeTupleStruct = ArrayBuilder;
    type SerializeTupleVariant = VariantBuilder<ArrayBuilder>;
    type SerializeMap = MapBuilder;
    type SerializeStruct = ObjectBuilder;
    type SerializeStructVariant = VariantBuilder<ObjectBuilder>;

    fn serialize_bool(self, value: bool) -> Result<Serialized, ValueError> {
        Ok(Serialized::Value(Value::Bool(value)))
    }

    fn serialize_i8(self, value: i8) -> Result<Serialized, ValueError> {
        self.serialize_i64(value.into())
    }

    fn serialize_i16(self, value: i16) -> Result<Serialized, ValueError> {
        self.serialize_i64(value.into())
    }

    fn serialize_i32(self, value: i32) -> Result<Serialized, ValueError> {
        self.serialize_i64(value.into())
    }

    fn serialize_i64(self, value: i64) -> Result<Serialized, ValueError> {
        Ok(Serialized::Value(Value::Number(value.into())))
    }

    fn serialize_i128(self, value: i128) -> Result<Serialized, ValueError> {
        if let Ok(unsigned) = u64::try_from(value) {
            return self.serialize_u64(unsigned);
        }
        let signed = i64::try_from(value).map_err(|_| out_of_range(value))?;
        self.serialize_i64(signed)
    }

    fn serialize_u8(self, value: u8) -> Result<Serialized, ValueError> {
        Ok(Serialized::Byte(value))
    }

    fn serialize_u16(self, value: u16) -> Result<Serialized, ValueError> {
        self.serialize_u64(value.into())
    }

    fn serialize_u32(self, value: u32) -> Result<Serialized, ValueError> {
        self.serialize_u64(value.into())
    }

    fn serialize_u64(self, value: u64) -> Result<Serialized, ValueError> {
        Ok(Serialized::Value(Value::Number(value.into())))
    }

    fn serialize_u128(self, value: u128) -> Result<Serialized, ValueError> {
        let unsigned = u64::try_from(value).map_err(|_| out_of_range(value))?;
        self.serialize_u64(unsigned)
    }

    fn serialize_f32(self, value: f32) -> Result<Serialized, ValueError> {
        self.serialize_f64(value.into())
    }

    fn serialize_f64(self, value: f64) -> Result<Serialized, ValueError> {
        let number = Number::from_f64(value).map_or(Value::Null, Value::Number);
        Ok(Serialized::Value(number))
    }

    fn serialize_char(self, value: char) -> Result<Serialized, ValueError> {
        Ok(Serialized::Value(Value::String(value.to_string())))
    }

    fn serialize_str(self, value: &str) -> Result<Serialized, ValueError> {
        Ok(Serialized::Value(Value::String(value.to_owned())))
    }

    fn serialize_bytes(self, value: &[u8]) -> Result<Serialized, ValueError> {
        Ok(Serialized::Value(Value::Binary(value.to_vec())))
    }

    fn serialize_none(self) -> Result<Serialized, ValueError> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Serialized, ValueError> {
        // Not a byte even around a `u8`: a sequence of `Option<u8>` would otherwise be
        // binary or an array depending on whether it holds a `None`.
        to_value(value).map(Serialized::Value)
    }

    fn serialize_unit(self) -> Result<Serialized, ValueError> {
        Ok(Serialized::Value(Value::Null))
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<Serialized, ValueError> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Serialized, ValueError> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Serialized, ValueError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Serialized, ValueError> {
        let content = to_value(value)?;
        Ok(Serialized::Value(Value::Object(vec![(
            variant.to_owned(),
            content,
        )])))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<SequenceBuilder, ValueError> {
        Ok(SequenceBuilder::Bytes(Vec::with_capacity(reserved(len))))
    }

    fn serialize_tuple(self, len: usize) -> Result<SequenceBuilder, ValueError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<ArrayBuilder, ValueError> {
        Ok(ArrayBuilder::with_capacity(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantBuilder<ArrayBuilder>, ValueError> {
        Ok(VariantBuilder {
            variant,
            content: ArrayBuilder::with_capacity(len),
        })
    }

    fn serialize_map(self, len: Option<usize>) -> Result<MapBuilder, ValueError> {
        Ok(MapBuilder {
            object: ObjectBuilder::with_capacity(len.unwrap_or(0)),
            key: None,
        })
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<ObjectBuilder, ValueError> {
        Ok(ObjectBuilder::with_capacity(len))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantBuilder<ObjectBuilder>, ValueError> {
        Ok(VariantBuilder {
            variant,
            content: ObjectBuilder::with_capacity(len),
        })
    }
}

/// A sequence or tuple being built: binary for as long as every element was a `u8`.
enum SequenceBuilder {
    Bytes(Vec<u8>),
    Values(Vec<Value>),
}

impl SequenceBuilder {
    fn push(&mut self, element: Serialized) {
        match self {
            SequenceBuilder::Bytes(bytes) => match element {
                Serialized::Byte(byte) => bytes.push(byte),
                Serialized::Value(value) => {
                    let mut values = Vec::with_capacity(bytes.capacity().max(bytes.len() + 1));
                    values.extend(bytes.iter().map(|&byte| Value::Number(byte.into())));
                    values.push(value);
                    *self = SequenceBuilder::Values(values);
                }
            },
            SequenceBuilder::Values(values) => values.push(element.into_value()),
        }
    }

    fn finish(self) -> Serialized {
        Serialized::Value(match self {
            SequenceBuilder::Bytes(bytes) if bytes.is_empty() => Value::Array(Vec::new()),
            SequenceBuilder::Bytes(bytes) => Value::Binary(bytes),
            SequenceBuilder::Values(values) => Value::Array(values),
        })
    }
}

impl ser::SerializeSeq for SequenceBuilder {
    type Ok = Serialized;
    type Error = ValueError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, element: &T) -> Result<(), ValueError> {
        self.push(element.serialize(ValueSerializer)?);
        Ok(())
    }

    fn end(self) -> Result<Serialized, ValueError> {
        Ok(self.finish())
    }
}

impl ser::SerializeTuple for SequenceBuilder {
    type Ok = Serialized;
    type Error = ValueError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, element: &T) -> Result<(), ValueError> {
        ser::SerializeSeq::serialize_element(self, element)
    }

    fn end(self) -> Result<Serialized, ValueError> {
        Ok(self.finish())
    }
}

/// The fields of a tuple struct or tuple variant: always an array.
struct ArrayBuilder {
    items: Vec<Value>,
}

impl ArrayBuilder {
    fn with_capacity(len: usize) -> ArrayBuilder {
        ArrayBuilder {
            items: Vec::with_capacity(reserved(Some(len))),
        }
    }
}

impl ser::SerializeTupleStruct for ArrayBuilder {
    type Ok = Serialized;
    type Error = ValueError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, field: &T) -> Result<(), ValueError> {
        self.items.push(to_value(field)?);
        Ok(())
    }

    fn end(self) -> Result<Serialized, ValueError> {
        Ok(Serialized::Value(Value::Array(self.items)))
    }
}

/// The entries of a map, struct or struct variant, in the order serialized.
struct ObjectBuilder {
    entries: Vec<(String, Value)>,
}

impl ObjectBuilder {
    fn with_capacity(len: usize) -> ObjectBuilder {
        ObjectBuilder {
            entries: Vec::with_capacity(reserved(Some(len))),
        }
    }
}

impl ser::SerializeStruct for ObjectBuilder {
    type Ok = Serialized;
    type Error = ValueError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), ValueError> {
        self.entries.push((key.to_owned(), to_value(value)?));
        Ok(())
    }

    fn end(self) -> Result<Serialized, ValueError> {
        Ok(Serialized::Value(Value::Object(self.entries)))
    }
}

/// A map's entries, with the key serialized and waiting for its value.
struct MapBuilder {
    object: ObjectBuilder,
    key: Option<String>,
}

impl ser::SerializeMap for MapBuilder {
    type Ok = Serialized;
    type Error = ValueError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), ValueError> {
        self.key = Some(key.serialize(KeySerializer)?);
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ValueError> {
        // Only a `Serialize` impl breaking serde's contract sends a value without a key.
        let key = self
            .key
            .take()
            .ok_or_else(|| ValueError::new("a map value was serialized before its key"))?;
        self.object.entries.push((key, to_value(value)?));
        Ok(())
    }

    fn end(self) -> Result<Serialized, ValueError> {
        ser::SerializeStruct::end(self.object)
    }
}

/// A tuple or struct variant: its content, to be wrapped in an object of one key.
struct VariantBuilder<Content> {
    variant: &'static str,
    content: Content,
}

impl<Content> VariantBuilder<Content> {
    fn wrap(variant: &'static str, content: Serialized) -> Serialized {
        Serialized::Value(Value::Object(vec![(
            variant.to_owned(),
            content.into_value(),
        )]))
    }
}

impl ser::SerializeTupleVariant for VariantBuilder<ArrayBuilder> {
    type Ok = Serialized;
    type Error = ValueError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, field: &T) -> Result<(), ValueError> {
        ser::SerializeTupleStruct::serialize_field(&mut self.content, field)
    }

    fn end(self) -> Result<Serialized, ValueError> {
        let content = ser::SerializeTupleStruct::end(self.content)?;
        Ok(Self::wrap(self.variant, content))
    }
}

impl ser::SerializeStructVariant for VariantBuilder<ObjectBuilder> {
    type Ok = Serialized;
    type Error = ValueError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), ValueError> {
        ser::SerializeStruct::serialize_field(&mut self.content, key, value)
    }

    fn end(self) -> Result<Serialized, ValueError> {
        let content = ser::SerializeStruct::end(self.content)?;
        Ok(Self::wrap(self.variant, content))
    }
}

/// Serializes a map key into an object key: strings as they are, integers, `char`s,
/// `bool`s and unit variants as their text, anything else refused.
struct KeySerializer;

fn refused_key(found: &str) -> ValueError {
    ValueError::new(format!(
        "a map key must be a string, an integer, a char, a bool or a unit variant, not {found}"
    ))
}

impl ser::Serializer for KeySerializer {
    type Ok = String;
    type Error = ValueError;
    type SerializeSeq = Impossible<String, ValueError>;
    type SerializeTuple = Impossible<String, ValueError>;
    type SerializeTupleStruct = Impossible<String, ValueError>;
    type SerializeTupleVariant = Impossible<String, ValueError>;
    type SerializeMap = Impossible<String, ValueError>;
    type SerializeStruct = Impossible<String, ValueError>;
    type SerializeStructVariant = Impossible<String, ValueError>;

    fn serialize_bool(self, value: bool) -> Result<String, ValueError> {
        Ok(value.to_string())
    }

    fn serialize_i8(self, value: i8) -> Result<String, ValueError> {
        Ok(value.to_string())
    }

    fn serialize_i16(self, value: i16) -> Result<String, ValueError> {
        Ok(value.to_string())
    }

    fn serialize_i32(self, value: i32) -> Result<String, ValueError> {
        Ok(value.to_string())
    }

    fn serialize_i64(self, value: i64) -> Result<String, ValueError> {
        Ok(value.to_string())
    }

    fn serialize_i128(self, value: i128) -> Result<String, ValueError> {
        Ok(value.to_string())
    }

    fn serialize_u8(self, value: u8) -> Result<String, ValueError> {
        Ok(value.to_string())
    }

    fn serialize_u16(self, value: u16) -> Result<String, ValueError> {
        Ok(value.to_string())
    }

    fn serialize_u32(self, value: u32) -> Result<String, ValueError> {
        Ok(value.to_string())
    }

    fn serialize_u64(self, value: u64) -> Result<String, ValueError> {
        Ok(value.to_string())
    }

    fn serialize_u128(self, value: u128) -> Result<String, ValueError> {
        Ok(value.to_string())
    }

    fn serialize_f32(self, _value: f32) -> Result<String, ValueError> {
        Err(refused_key("a float"))
    }

    fn serialize_f64(self, _value: f64) -> Result<String, ValueError> {
        Err(refused_key("a float"))
    }

    fn serialize_char(self, value: char) -> Result<String, ValueError> {
        Ok(value.to_string())
    }

    fn serialize_str(self, value: &str) -> Result<String, ValueError> {
        Ok(value.to_owned())
    }

    fn serialize_bytes(self, _value: &[u8]) -> Result<String, ValueError> {
        Err(refused_key("bytes"))
    }

    fn serialize_none(self) -> Result<String, ValueError> {
        Err(refused_key("an option"))
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<String, ValueError> {
        Err(refused_key("an option"))
    }

    fn serialize_unit(self) -> Result<String, ValueError> {
        Err(refused_key("a unit"))
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<String, ValueError> {
        Err(refused_key("a unit struct"))
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<String, ValueError> {
        Ok(variant.to_owned())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<String, ValueError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<String, ValueError> {
        Err(refused_key("a newtype variant"))
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, ValueError> {
        Err(refused_key("a sequence"))
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, ValueError> {
        Err(refused_key("a tuple"))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, ValueError> {
        Err(refused_key("a tuple struct"))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, ValueError> {
        Err(refused_key("a tuple variant"))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, ValueError> {
        Err(refused_key("a map"))
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, ValueError> {
        Err(refused_key("a struct"))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, ValueError> {
        Err(refused_key("a struct variant"))
    }
}
