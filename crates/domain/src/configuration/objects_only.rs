//! Step 2 of parsing a part: typed deserialisation of the JSON value, where a struct must be a
//! JSON object, with the path of any error for the message.

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// A deserializer over a parsed [`Value`] that differs from `&Value`'s in one way: a struct
/// must be a JSON object. serde's derived structs also accept an *array* of field values in
/// declaration order, so `"speechModel": ["fr-FR"]` would otherwise be read as a language.
struct ObjectsOnly<'a>(&'a Value);

type JsonError = serde_json::Error;

impl<'de> Deserializer<'de> for ObjectsOnly<'de> {
    type Error = JsonError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, JsonError> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    visitor.visit_u64(u)
                } else if let Some(i) = n.as_i64() {
                    visitor.visit_i64(i)
                } else {
                    visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) => visitor.visit_seq(ObjectsOnlySeq(items.iter())),
            Value::Object(map) => visitor.visit_map(ObjectsOnlyMap {
                iter: map.iter(),
                value: None,
            }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, JsonError> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, JsonError> {
        match self.0 {
            Value::Object(_) => self.deserialize_any(visitor),
            other => Err(de::Error::invalid_type(unexpected(other), &visitor)),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

fn unexpected(v: &Value) -> de::Unexpected<'_> {
    match v {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Number(_) => de::Unexpected::Other("number"),
        Value::String(_) => de::Unexpected::Other("string"),
        Value::Array(_) => de::Unexpected::Seq,
        Value::Object(_) => de::Unexpected::Map,
    }
}

struct ObjectsOnlySeq<'a>(std::slice::Iter<'a, Value>);

impl<'de> SeqAccess<'de> for ObjectsOnlySeq<'de> {
    type Error = JsonError;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, JsonError> {
        self.0
            .next()
            .map(|v| seed.deserialize(ObjectsOnly(v)))
            .transpose()
    }
}

struct ObjectsOnlyMap<'a> {
    iter: serde_json::map::Iter<'a>,
    value: Option<&'a Value>,
}

impl<'de> MapAccess<'de> for ObjectsOnlyMap<'de> {
    type Error = JsonError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, JsonError> {
        match self.iter.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(de::value::BorrowedStrDeserializer::new(k))
                    .map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, JsonError> {
        match self.value.take() {
            Some(v) => seed.deserialize(ObjectsOnly(v)),
            None => Err(de::Error::custom("value requested before key")),
        }
    }
}

/// Typed deserialisation of a parsed value, with the path of any error.
pub(super) fn typed<'a, T: Deserialize<'a>>(
    value: &'a Value,
) -> Result<T, serde_path_to_error::Error<JsonError>> {
    serde_path_to_error::deserialize(ObjectsOnly(value))
}
