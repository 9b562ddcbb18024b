//! The Socket.IO arguments convention of the Rust API: a tuple payload is spread as the
//! arguments, `()` is none, anything else is one; and the mirror when reading them.
//!
//! Covers `client::to_args` and `client::from_args` through the public API only.

use proptest::collection::vec;
use proptest::prelude::*;
use resocket::client::{from_args, to_args};
use resocket::protocol::{Number, Value, ValueError};
use serde::{Deserialize, Serialize};

fn number(value: i64) -> Value {
    Value::Number(value.into())
}

fn string(text: &str) -> Value {
    Value::String(text.to_owned())
}

fn error_message<T: std::fmt::Debug>(result: Result<T, ValueError>) -> String {
    match result {
        Err(error) => error.message().to_owned(),
        Ok(value) => panic!("expected an error, got {value:?}"),
    }
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Point {
    x: i32,
    y: i32,
}

fn point_value() -> Value {
    Value::Object(vec![("x".into(), number(1)), ("y".into(), number(-2))])
}

/// A newtype around a tuple: as transparent as any newtype.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Move((String, u32));

#[test]
fn a_tuple_is_spread_as_the_arguments() {
    assert_eq!(
        to_args(&("room", 3, Point { x: 1, y: -2 })),
        Ok(vec![string("room"), number(3), point_value()])
    );
    assert_eq!(to_args(&("alone",)), Ok(vec![string("alone")]));
    assert_eq!(
        to_args(&Move(("e4".into(), 2))),
        Ok(vec![string("e4"), number(2)])
    );
}

#[test]
fn anything_but_a_tuple_or_unit_is_one_argument() {
    assert_eq!(to_args(&Point { x: 1, y: -2 }), Ok(vec![point_value()]));
    assert_eq!(to_args("hello"), Ok(vec![string("hello")]));
    assert_eq!(to_args(&7u8), Ok(vec![number(7)]));
    assert_eq!(to_args(&None::<u32>), Ok(vec![Value::Null]));
    assert_eq!(
        to_args(&vec![1, 2]),
        Ok(vec![Value::Array(vec![number(1), number(2)])])
    );
    assert_eq!(
        to_args(&Some((1, 2))),
        Ok(vec![Value::Array(vec![number(1), number(2)])])
    );
}

#[test]
fn unit_is_no_argument() {
    assert_eq!(to_args(&()), Ok(Vec::new()));
}

#[test]
fn bytes_are_one_binary_argument() {
    assert_eq!(to_args(&vec![1u8, 2]), Ok(vec![Value::Binary(vec![1, 2])]));
    assert_eq!(to_args(&[1u8, 2][..]), Ok(vec![Value::Binary(vec![1, 2])]));
    assert_eq!(
        to_args(&("file", vec![0u8, 255])),
        Ok(vec![string("file"), Value::Binary(vec![0, 255])])
    );
    // A fixed-size array is a tuple to serde: spread, unless wrapped.
    assert_eq!(to_args(&[1u8, 2]), Ok(vec![number(1), number(2)]));
    assert_eq!(to_args(&([1u8, 2],)), Ok(vec![Value::Binary(vec![1, 2])]));
}

#[test]
fn a_payload_that_cannot_be_a_value_is_an_error() {
    let beyond = u128::from(u64::MAX) + 1;
    assert_eq!(
        error_message(to_args(&beyond)),
        "the integer 18446744073709551616 is beyond the range of a JSON number's integers (i64::MIN..=u64::MAX)"
    );
    assert_eq!(
        error_message(to_args(&("ok", beyond))),
        "the integer 18446744073709551616 is beyond the range of a JSON number's integers (i64::MIN..=u64::MAX)"
    );
}

#[test]
fn a_tuple_reads_the_arguments_in_order() {
    let args = vec![string("room"), number(3), point_value()];
    assert_eq!(
        from_args::<(String, u32, Point)>(args),
        Ok(("room".to_owned(), 3, Point { x: 1, y: -2 }))
    );
    assert_eq!(
        from_args::<Move>(vec![string("e4"), number(2)]),
        Ok(Move(("e4".into(), 2)))
    );
}

#[test]
fn extra_arguments_are_ignored() {
    assert_eq!(
        from_args::<(String,)>(vec![string("a"), number(1), Value::Null]),
        Ok(("a".to_owned(),))
    );
    assert_eq!(
        from_args::<Point>(vec![point_value(), string("extra")]),
        Ok(Point { x: 1, y: -2 })
    );
}

#[test]
fn missing_arguments_are_an_error() {
    assert_eq!(
        error_message(from_args::<(String, u32)>(vec![string("a")])),
        "expected 2 arguments, received 1"
    );
    assert_eq!(
        error_message(from_args::<(Option<u32>,)>(Vec::new())),
        "expected 1 argument, received 0"
    );
}

#[test]
fn an_argument_of_the_wrong_type_is_named_by_its_position() {
    assert_eq!(
        error_message(from_args::<(u32, String)>(vec![number(1), number(2)])),
        "argument 2: invalid type: integer `2`, expected a string"
    );
}

#[test]
fn unit_reads_any_arguments() {
    assert_eq!(from_args::<()>(Vec::new()), Ok(()));
    assert_eq!(from_args::<()>(vec![number(1), string("x")]), Ok(()));
}

#[test]
fn anything_else_reads_the_first_argument() {
    assert_eq!(
        from_args::<Point>(vec![point_value()]),
        Ok(Point { x: 1, y: -2 })
    );
    assert_eq!(
        from_args::<Vec<u32>>(vec![Value::Array(vec![number(4)]), number(5)]),
        Ok(vec![4])
    );
    assert_eq!(from_args::<Value>(vec![number(9)]), Ok(number(9)));
}

#[test]
fn no_argument_reads_as_null() {
    assert_eq!(from_args::<Option<u32>>(Vec::new()), Ok(None));
    assert_eq!(from_args::<Option<u32>>(vec![number(5)]), Ok(Some(5)));
    assert_eq!(from_args::<Value>(Vec::new()), Ok(Value::Null));
    assert_eq!(
        error_message(from_args::<u32>(Vec::new())),
        "invalid type: unit value, expected u32"
    );
}

#[test]
fn a_binary_argument_reads_as_bytes() {
    assert_eq!(
        from_args::<(String, Vec<u8>)>(vec![string("file"), Value::Binary(vec![7, 8])]),
        Ok(("file".to_owned(), vec![7, 8]))
    );
    assert_eq!(
        from_args::<Vec<u8>>(vec![Value::Binary(vec![1])]),
        Ok(vec![1])
    );
}

fn finite_float() -> impl Strategy<Value = f64> {
    any::<f64>().prop_filter("finite", |value| value.is_finite())
}

fn argument() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(number),
        any::<String>().prop_map(Value::String),
        vec(any::<u8>(), 0..4).prop_map(Value::Binary),
        Just(point_value()),
    ]
}

proptest! {
    #[test]
    fn a_tuple_survives_to_args_then_from_args(
        name in any::<String>(),
        count in any::<i64>(),
        real in finite_float(),
        bytes in vec(any::<u8>(), 1..32),
        flag in any::<Option<bool>>(),
    ) {
        let payload = (name, count, real, bytes, flag);
        let args = to_args(&payload).unwrap();
        prop_assert_eq!(args.len(), 5);
        prop_assert_eq!(&args[2], &Value::Number(Number::from_f64(real).unwrap()));
        prop_assert_eq!(&args[3], &Value::Binary(payload.3.clone()));
        prop_assert_eq!(from_args::<(String, i64, f64, Vec<u8>, Option<bool>)>(args), Ok(payload));
    }

    #[test]
    fn reading_any_count_of_arguments_never_panics(
        args in vec(argument(), 0..4),
    ) {
        let _ = from_args::<(u8, String, Point)>(args.clone());
        let _ = from_args::<Option<Point>>(args.clone());
        let _ = from_args::<Move>(args.clone());
        prop_assert_eq!(from_args::<()>(args), Ok(()));
    }
}
