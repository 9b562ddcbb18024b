//! The serde conversions between Rust types and `Value`: every shape of serde's data
//! model written to the exact `Value` expected and read back, binary leaves from and to
//! byte sequences, range errors, and errors instead of panics on any `Value`.
//!
//! Covers `protocol::to_value`, `protocol::from_value` and `ValueError` through the
//! public API only.

use std::collections::BTreeMap;

use proptest::collection::vec;
use proptest::prelude::*;
use resocket::protocol::{from_value, to_value, Number, Value, ValueError};
use serde::de::value::SeqDeserializer;
use serde::de::{Deserializer, Visitor};
use serde::{Deserialize, Serialize};

fn number(value: i64) -> Value {
    Value::Number(value.into())
}

fn string(text: &str) -> Value {
    Value::String(text.to_owned())
}

fn object(entries: &[(&str, Value)]) -> Value {
    Value::Object(
        entries
            .iter()
            .map(|(key, value)| (key.to_string(), value.clone()))
            .collect(),
    )
}

fn error_message<T: std::fmt::Debug>(result: Result<T, ValueError>) -> String {
    match result {
        Err(error) => error.message().to_owned(),
        Ok(value) => panic!("expected an error, got {value:?}"),
    }
}

/// Round trips `value` and checks the `Value` in between.
fn assert_round_trip<T>(value: &T, expected: Value)
where
    T: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    assert_eq!(to_value(value), Ok(expected.clone()));
    assert_eq!(from_value::<T>(expected).as_ref(), Ok(value));
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Message {
    room: String,
    count: u32,
    delta: i64,
    ratio: f64,
    seen: bool,
    tags: Vec<String>,
    reply_to: Option<u64>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
enum Shape {
    Empty,
    Circle(f64),
    Segment(i32, i32),
    Rectangle { width: u32, height: u32 },
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Meters(f64);

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Marker;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Rgb(u8, u8, u8);

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
enum Color {
    Red,
    Green,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Upload {
    name: String,
    data: Vec<u8>,
    thumbnails: Vec<Vec<u8>>,
}

/// Asks for `deserialize_byte_buf`, as byte-string types do.
#[derive(Debug, PartialEq)]
struct ByteBuf(Vec<u8>);

impl<'de> Deserialize<'de> for ByteBuf {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ByteBuf, D::Error> {
        struct BytesOnly;
        impl Visitor<'_> for BytesOnly {
            type Value = ByteBuf;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_byte_buf<E>(self, bytes: Vec<u8>) -> Result<ByteBuf, E> {
                Ok(ByteBuf(bytes))
            }
        }
        deserializer.deserialize_byte_buf(BytesOnly)
    }
}

/// Serialized through `serialize_bytes`.
struct Bytes<'a>(&'a [u8]);

impl Serialize for Bytes<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

#[test]
fn a_struct_is_an_object_in_field_order() {
    let message = Message {
        room: "lobby".into(),
        count: 3,
        delta: -7,
        ratio: 0.5,
        seen: true,
        tags: vec!["a".into(), "b".into()],
        reply_to: None,
    };
    assert_round_trip(
        &message,
        object(&[
            ("room", string("lobby")),
            ("count", number(3)),
            ("delta", number(-7)),
            ("ratio", Value::Number(Number::from_f64(0.5).unwrap())),
            ("seen", Value::Bool(true)),
            ("tags", Value::Array(vec![string("a"), string("b")])),
            ("reply_to", Value::Null),
        ]),
    );
}

#[test]
fn enums_are_externally_tagged() {
    assert_round_trip(&Shape::Empty, string("Empty"));
    assert_round_trip(
        &Shape::Circle(1.5),
        object(&[("Circle", Value::Number(Number::from_f64(1.5).unwrap()))]),
    );
    assert_round_trip(
        &Shape::Segment(-1, 2),
        object(&[("Segment", Value::Array(vec![number(-1), number(2)]))]),
    );
    assert_round_trip(
        &Shape::Rectangle {
            width: 4,
            height: 5,
        },
        object(&[(
            "Rectangle",
            object(&[("width", number(4)), ("height", number(5))]),
        )]),
    );
}

#[test]
fn a_unit_variant_also_reads_from_an_object_holding_null() {
    assert_eq!(
        from_value::<Shape>(object(&[("Empty", Value::Null)])),
        Ok(Shape::Empty)
    );
}

#[test]
fn malformed_enums_are_errors() {
    assert_eq!(
        error_message(from_value::<Shape>(string("Hexagon"))),
        "unknown variant `Hexagon`, expected one of `Empty`, `Circle`, `Segment`, `Rectangle`"
    );
    assert_eq!(
        error_message(from_value::<Shape>(object(&[
            ("Circle", number(1)),
            ("Empty", Value::Null)
        ]))),
        "invalid length 2, expected a variant: its name, or an object of one key, its name"
    );
    assert_eq!(
        error_message(from_value::<Shape>(number(1))),
        "invalid type: integer `1`, expected a variant: its name, or an object of one key, its name"
    );
    assert_eq!(
        error_message(from_value::<Shape>(string("Circle"))),
        "invalid type: unit variant, expected a newtype variant"
    );
    assert_eq!(
        error_message(from_value::<Shape>(object(&[("Empty", number(1))]))),
        "invalid type: integer `1`, expected a unit variant"
    );
}

#[test]
fn unit_option_and_newtype_shapes() {
    assert_round_trip(&(), Value::Null);
    assert_round_trip(&Marker, Value::Null);
    assert_round_trip(&None::<u32>, Value::Null);
    assert_round_trip(&Some(7u32), number(7));
    assert_round_trip(&Some(Some(true)), Value::Bool(true));
    assert_round_trip(&Meters(2.5), Value::Number(Number::from_f64(2.5).unwrap()));
    assert_round_trip(&'é', string("é"));
    assert_round_trip(&"text".to_owned(), string("text"));
}

#[test]
fn maps_with_integer_bool_char_and_variant_keys() {
    let by_id: BTreeMap<u32, String> = [(1, "a".into()), (20, "b".into())].into();
    assert_round_trip(&by_id, object(&[("1", string("a")), ("20", string("b"))]));

    let signed: BTreeMap<i64, bool> = [(-3, true), (i64::MAX, false)].into();
    assert_round_trip(
        &signed,
        object(&[
            ("-3", Value::Bool(true)),
            ("9223372036854775807", Value::Bool(false)),
        ]),
    );

    let wide: BTreeMap<u128, u8> = [(u128::MAX, 1)].into();
    assert_round_trip(
        &wide,
        object(&[("340282366920938463463374607431768211455", number(1))]),
    );

    let flags: BTreeMap<bool, u8> = [(false, 0), (true, 1)].into();
    assert_round_trip(&flags, object(&[("false", number(0)), ("true", number(1))]));

    let letters: BTreeMap<char, u8> = [('x', 1)].into();
    assert_round_trip(&letters, object(&[("x", number(1))]));

    let colors: BTreeMap<Color, u8> = [(Color::Red, 1), (Color::Green, 2)].into();
    assert_round_trip(&colors, object(&[("Red", number(1)), ("Green", number(2))]));
}

#[test]
fn other_map_keys_are_errors() {
    let floats: BTreeMap<String, f64> = BTreeMap::new();
    assert_eq!(to_value(&floats), Ok(Value::Object(Vec::new())));

    let pairs: BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
    assert_eq!(
        error_message(to_value(&pairs)),
        "a map key must be a string, an integer, a char, a bool or a unit variant, not a tuple"
    );
    let optional: BTreeMap<Option<u8>, u8> = [(None, 3)].into();
    assert_eq!(
        error_message(to_value(&optional)),
        "a map key must be a string, an integer, a char, a bool or a unit variant, not an option"
    );
    let float_keys = vec![(1.5f64, 1u8)];
    let as_map = FloatKeys(&float_keys);
    assert_eq!(
        error_message(to_value(&as_map)),
        "a map key must be a string, an integer, a char, a bool or a unit variant, not a float"
    );
}

/// A map with float keys (std has none: floats are not `Ord` or `Hash`).
struct FloatKeys<'a>(&'a [(f64, u8)]);

impl Serialize for FloatKeys<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(key, value)| (key, value)))
    }
}

#[test]
fn a_key_that_is_not_the_integer_asked_for_is_an_error() {
    assert_eq!(
        error_message(from_value::<BTreeMap<u8, u8>>(object(&[(
            "300",
            number(1)
        )]))),
        "invalid value: integer `300`, expected u8"
    );
    assert_eq!(
        error_message(from_value::<BTreeMap<u32, u8>>(object(&[(
            "one",
            number(1)
        )]))),
        "invalid type: string \"one\", expected u32"
    );
    assert_eq!(
        error_message(from_value::<BTreeMap<bool, u8>>(object(&[(
            "yes",
            number(1)
        )]))),
        "invalid type: string \"yes\", expected a boolean"
    );
}

#[test]
fn byte_sequences_are_binary() {
    assert_eq!(
        to_value(&vec![1u8, 2, 255]),
        Ok(Value::Binary(vec![1, 2, 255]))
    );
    assert_eq!(to_value(&[9u8, 8][..]), Ok(Value::Binary(vec![9, 8])));
    assert_eq!(to_value(&[0u8; 3]), Ok(Value::Binary(vec![0, 0, 0])));
    assert_eq!(to_value(&Bytes(&[4, 5])), Ok(Value::Binary(vec![4, 5])));
    assert_eq!(to_value(&Bytes(&[])), Ok(Value::Binary(Vec::new())));
}

#[test]
fn an_empty_byte_sequence_is_an_empty_array() {
    assert_eq!(to_value(&Vec::<u8>::new()), Ok(Value::Array(Vec::new())));
    assert_eq!(
        from_value::<Vec<u8>>(Value::Array(Vec::new())),
        Ok(Vec::new())
    );
}

#[test]
fn sequences_not_only_of_u8_stay_arrays() {
    assert_eq!(
        to_value(&vec![1u16, 2]),
        Ok(Value::Array(vec![number(1), number(2)]))
    );
    // A `u8` then something else: the bytes so far become numbers.
    assert_eq!(
        to_value(&(1u8, 2u8, "x")),
        Ok(Value::Array(vec![number(1), number(2), string("x")]))
    );
    assert_eq!(
        to_value(&vec![Some(1u8), Some(2)]),
        Ok(Value::Array(vec![number(1), number(2)]))
    );
    assert_eq!(
        to_value(&Rgb(1, 2, 3)),
        Ok(Value::Array(vec![number(1), number(2), number(3)]))
    );
    assert_eq!(to_value(&5u8), Ok(number(5)));
}

#[test]
fn binary_nested_in_objects_and_arrays() {
    let upload = Upload {
        name: "a.png".into(),
        data: vec![137, 80, 78, 71],
        thumbnails: vec![vec![1], Vec::new()],
    };
    assert_round_trip(
        &upload,
        object(&[
            ("name", string("a.png")),
            ("data", Value::Binary(vec![137, 80, 78, 71])),
            (
                "thumbnails",
                Value::Array(vec![Value::Binary(vec![1]), Value::Array(Vec::new())]),
            ),
        ]),
    );
}

#[test]
fn bytes_read_from_binary_and_from_arrays_of_numbers() {
    assert_eq!(
        from_value::<Vec<u8>>(Value::Binary(vec![1, 2])),
        Ok(vec![1, 2])
    );
    assert_eq!(from_value::<[u8; 2]>(Value::Binary(vec![1, 2])), Ok([1, 2]));
    assert_eq!(
        from_value::<Rgb>(Value::Binary(vec![1, 2, 3])),
        Ok(Rgb(1, 2, 3))
    );
    assert_eq!(
        from_value::<Vec<u16>>(Value::Binary(vec![7])),
        Ok(vec![7u16])
    );
    assert_eq!(
        from_value::<Vec<u8>>(Value::Array(vec![number(0), number(255)])),
        Ok(vec![0, 255])
    );
    assert_eq!(
        from_value::<ByteBuf>(Value::Array(vec![number(3), number(4)])),
        Ok(ByteBuf(vec![3, 4]))
    );
    assert_eq!(
        from_value::<ByteBuf>(Value::Binary(vec![5])),
        Ok(ByteBuf(vec![5]))
    );
    assert_eq!(
        error_message(from_value::<ByteBuf>(Value::Array(vec![number(256)]))),
        "invalid type: sequence, expected bytes"
    );
    assert_eq!(
        error_message(from_value::<Vec<u8>>(Value::Array(vec![number(256)]))),
        "invalid value: integer `256`, expected u8"
    );
    assert_eq!(
        error_message(from_value::<[u8; 2]>(Value::Binary(vec![1, 2, 3]))),
        "invalid length 3, expected fewer elements"
    );
}

#[test]
fn integers_beyond_the_range_of_the_type_are_errors() {
    assert_eq!(
        error_message(from_value::<u8>(number(300))),
        "invalid value: integer `300`, expected u8"
    );
    assert_eq!(
        error_message(from_value::<i8>(number(-200))),
        "invalid value: integer `-200`, expected i8"
    );
    assert_eq!(
        error_message(from_value::<u32>(number(-1))),
        "invalid value: integer `-1`, expected u32"
    );
    assert_eq!(
        error_message(from_value::<i64>(Value::Number(u64::MAX.into()))),
        "invalid value: integer `18446744073709551615`, expected i64"
    );
    assert_eq!(
        error_message(from_value::<u64>(Value::Number(
            Number::from_f64(1.5).unwrap()
        ))),
        "invalid type: floating point `1.5`, expected u64"
    );
    assert_eq!(from_value::<f64>(number(-3)), Ok(-3.0));
    assert_eq!(from_value::<i128>(number(-3)), Ok(-3));
    assert_eq!(
        from_value::<u128>(Value::Number(u64::MAX.into())),
        Ok(u128::from(u64::MAX))
    );
}

#[test]
fn wide_integers_are_numbers_while_they_fit_in_64_bits() {
    assert_eq!(
        to_value(&u128::from(u64::MAX)),
        Ok(Value::Number(u64::MAX.into()))
    );
    assert_eq!(
        to_value(&i128::from(i64::MIN)),
        Ok(Value::Number(i64::MIN.into()))
    );
    assert_eq!(to_value(&7i128), Ok(number(7)));
    assert_eq!(
        error_message(to_value(&(u128::from(u64::MAX) + 1))),
        "the integer 18446744073709551616 is beyond the range of a JSON number's integers (i64::MIN..=u64::MAX)"
    );
    assert_eq!(
        error_message(to_value(&(i128::from(i64::MIN) - 1))),
        "the integer -9223372036854775809 is beyond the range of a JSON number's integers (i64::MIN..=u64::MAX)"
    );
}

#[test]
fn non_finite_floats_are_null() {
    assert_eq!(to_value(&f64::NAN), Ok(Value::Null));
    assert_eq!(to_value(&f64::INFINITY), Ok(Value::Null));
    assert_eq!(to_value(&f32::NEG_INFINITY), Ok(Value::Null));
    assert_eq!(
        to_value(&vec![1.0, f64::NAN]),
        Ok(Value::Array(vec![
            Value::Number(Number::from_f64(1.0).unwrap()),
            Value::Null
        ]))
    );
    assert_eq!(from_value::<f32>(to_value(&0.1f32).unwrap()), Ok(0.1f32));
}

#[test]
fn shape_mismatches_are_errors() {
    assert_eq!(
        error_message(from_value::<Message>(object(&[("room", string("x"))]))),
        "missing field `count`"
    );
    assert_eq!(
        error_message(from_value::<(u8, u8)>(Value::Array(vec![number(1)]))),
        "invalid length 1, expected a tuple of size 2"
    );
    assert_eq!(
        error_message(from_value::<(u8, u8)>(Value::Array(vec![
            number(1),
            number(2),
            number(3)
        ]))),
        "invalid length 3, expected fewer elements"
    );
    assert_eq!(
        error_message(from_value::<String>(Value::Binary(vec![0xff]))),
        "invalid value: byte array, expected a string"
    );
    assert_eq!(
        error_message(from_value::<bool>(Value::Null)),
        "invalid type: unit value, expected a boolean"
    );
}

#[test]
fn a_value_serializes_and_deserializes_as_itself() {
    let value = object(&[
        ("bytes", Value::Binary(vec![1, 2])),
        ("empty", Value::Binary(Vec::new())),
        ("numbers", Value::Array(vec![number(1), number(2)])),
        ("twice", Value::Null),
        ("twice", Value::Bool(false)),
    ]);
    assert_eq!(to_value(&value), Ok(value.clone()));
    assert_eq!(from_value::<Value>(value.clone()), Ok(value));
}

#[test]
fn a_value_stands_where_serde_wants_a_deserializer() {
    let elements = SeqDeserializer::<_, ValueError>::new(vec![number(1), number(2)].into_iter());
    assert_eq!(Vec::<u32>::deserialize(elements), Ok(vec![1, 2]));
}

#[test]
fn the_error_reads_as_its_message() {
    let error = from_value::<u8>(number(300)).unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid value: integer `300`, expected u8"
    );
    let boxed: Box<dyn std::error::Error> = Box::new(error.clone());
    assert_eq!(boxed.to_string(), error.message());
}

fn float() -> impl Strategy<Value = f64> {
    any::<f64>().prop_filter("finite", |value| value.is_finite())
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| Value::Number(n.into())),
        any::<u64>().prop_map(|n| Value::Number(n.into())),
        float()
            .prop_filter_map("finite", Number::from_f64)
            .prop_map(Value::Number),
        any::<String>().prop_map(Value::String),
        vec(any::<u8>(), 0..8).prop_map(Value::Binary),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            vec((any::<String>(), inner), 0..4).prop_map(Value::Object),
        ]
    })
}

proptest! {
    #[test]
    fn every_value_survives_both_conversions(value in value()) {
        prop_assert_eq!(to_value(&value), Ok(value.clone()));
        prop_assert_eq!(from_value::<Value>(value.clone()), Ok(value));
    }

    #[test]
    fn reading_any_value_as_any_type_never_panics(value in value()) {
        let _ = from_value::<Message>(value.clone());
        let _ = from_value::<Shape>(value.clone());
        let _ = from_value::<Upload>(value.clone());
        let _ = from_value::<BTreeMap<i32, Option<Vec<u8>>>>(value.clone());
        let _ = from_value::<(u8, String, [u8; 2])>(value.clone());
        let _ = from_value::<ByteBuf>(value.clone());
        let _ = from_value::<Vec<Color>>(value.clone());
        let _ = from_value::<char>(value);
    }

    #[test]
    fn scalars_survive_a_round_trip(
        unsigned in any::<u64>(),
        signed in any::<i64>(),
        real in float(),
        text in any::<String>(),
    ) {
        let tuple = (unsigned, signed, real, text);
        let value = to_value(&tuple).unwrap();
        prop_assert_eq!(from_value::<(u64, i64, f64, String)>(value), Ok(tuple));
    }

    #[test]
    fn bytes_survive_a_round_trip(bytes in vec(any::<u8>(), 0..64)) {
        let value = to_value(&bytes).unwrap();
        let expected = if bytes.is_empty() {
            Value::Array(Vec::new())
        } else {
            Value::Binary(bytes.clone())
        };
        prop_assert_eq!(&value, &expected);
        prop_assert_eq!(from_value::<Vec<u8>>(value), Ok(bytes));
    }
}
