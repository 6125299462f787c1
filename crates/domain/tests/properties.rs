//! Property tests of the `configuration` and `metadata` parsers: any JSON (and
//! any bytes) is parsed or refused with an [`InputError`] whose code is a client
//! error of the registry, never a panic. Case counts are stated in
//! docs/security.md ("HTTP limits and property tests").

use proptest::prelude::*;
use sealscribe_domain::codes;
use sealscribe_domain::configuration::{InputError, parse_configuration, parse_metadata};
use serde_json::{Map, Value};

/// Names the parsers know, so that generated objects reach past the first
/// "unknown property" check into the typed rules.
const KEYS: &[&str] = &[
    "priority",
    "prediction",
    "detectors",
    "detectorName",
    "redactor",
    "transcript",
    "audio",
    "tone",
    "gain",
    "publish",
    "callbacks",
    "url",
    "method",
    "type",
    "format",
    "include",
    "stream",
    "encryption",
    "publicKeyId",
    "searchable",
    "speechModel",
    "language",
    "numberFormatting",
    "vocabularies",
    "externalId",
    "title",
    "description",
    "extended",
    "knowledge",
    "spotting",
    "x",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(KEYS).prop_map(str::to_owned),
        1 => ".{0,12}",
    ]
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop_oneof![
            Just("normal".to_owned()),
            Just("https://example.com/cb".to_owned()),
            Just("6f1c2d7e-8b3a-4c5d-9e0f-112233445566".to_owned()),
            ".{0,20}",
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 96, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// The codes a refusal may carry: registered, and none of the server-side 9000x.
fn check(result: Result<impl std::fmt::Debug, InputError>) -> Result<(), TestCaseError> {
    if let Err(e) = result {
        prop_assert!(
            e.code != codes::INTERNAL
                && e.code != codes::UNAVAILABLE
                && e.code != codes::SERVER_BUSY,
            "a server-side code for client input: {e:?}"
        );
        prop_assert!((10000..100000).contains(&e.code), "{e:?}");
        prop_assert!(!e.message.is_empty());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_json_configurations_are_parsed_or_refused(value in json()) {
        let text = value.to_string();
        check(parse_configuration(text.as_bytes()))?;
        check(parse_metadata(text.as_bytes()))?;
        // Wrapped where the parsers look deepest.
        let wrapped = serde_json::json!({"prediction": {"detectors": [value.clone()]},
                                         "publish": {"callbacks": [value]}});
        check(parse_configuration(wrapped.to_string().as_bytes()))?;
    }

    #[test]
    fn arbitrary_bytes_are_parsed_or_refused(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        check(parse_configuration(&bytes))?;
        check(parse_metadata(&bytes))?;
    }

    /// Deep nesting is refused, not a stack overflow.
    #[test]
    fn deep_nesting_is_refused(depth in 100usize..5000, open in prop_oneof![Just('['), Just('{')]) {
        let mut text = String::new();
        for _ in 0..depth {
            if open == '[' { text.push('[') } else { text.push_str("{\"x\":") }
        }
        check(parse_configuration(text.as_bytes()))?;
        check(parse_metadata(text.as_bytes()))?;
    }
}
