use std::path::{Path, PathBuf};

use serde_json::Value;

use super::*;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn snapshot_path() -> PathBuf {
    repo_root().join("docs/openapi.json")
}

/// `docs/openapi.json` is the document the code generates.
#[test]
fn snapshot() {
    let generated = document_json();
    let path = snapshot_path();
    if std::env::var_os("SEALSCRIBE_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("write docs/openapi.json");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is not the OpenAPI document the code generates (an endpoint, a schema \
         or a description changed). Review the change, then update the file with\n\n    \
         SEALSCRIBE_UPDATE_OPENAPI=1 cargo test -p sealscribe-api openapi::tests::snapshot\n"
    );
}

/// Every route goes through utoipa-axum's `routes!`, which registers it from
/// its `#[utoipa::path]` documentation: a plain `.route(`/`.nest(` call
/// anywhere in the server's sources would add an endpoint the document lacks.
#[test]
fn no_undocumented_routes() {
    let mut offenders = Vec::new();
    for dir in ["crates/api/src", "crates/sealscribe/src"] {
        for file in rust_files(&repo_root().join(dir)) {
            if file.ends_with("openapi/tests.rs") {
                continue; // the list below
            }
            if file.ends_with("api/src/metrics.rs") {
                continue; // `/metrics`, on the operator's own listener, not the v3 API
            }
            let text = std::fs::read_to_string(&file).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for call in [
                    ".route(",
                    ".route_service(",
                    ".nest(",
                    ".nest_service(",
                    "routing::get",
                    "routing::post",
                    "routing::put",
                    "routing::delete",
                ] {
                    if code.contains(call) {
                        offenders.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "routes added without OpenAPI documentation; annotate the handler with \
         #[utoipa::path(...)] and register it with `OpenApiRouter::routes(routes!(handler))` \
         in a module merged by openapi::documented():\n{}",
        offenders.join("\n")
    );
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

fn doc() -> Value {
    serde_json::from_str(&document_json()).unwrap()
}

fn each_operation(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((path.clone(), method.clone(), op.clone()));
        }
    }
    out
}

#[test]
fn is_openapi_3_1_with_every_endpoint() {
    let doc = doc();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let mut ops: Vec<String> = each_operation(&doc)
        .into_iter()
        .map(|(p, m, _)| format!("{} {p}", m.to_uppercase()))
        .collect();
    ops.sort();
    let expected = [
        "DELETE /v3/definition/categories/{categoryName}",
        "DELETE /v3/media/{id}",
        "DELETE /v3/profile/keys/{keyId}",
        "DELETE /v3/security/public-keys/{id}",
        "GET /health",
        "GET /v3/definition/categories",
        "GET /v3/definition/categories/{categoryName}",
        "GET /v3/definition/media/search",
        "GET /v3/definition/prediction/classifiers",
        "GET /v3/definition/prediction/classifiers/{classifierId}",
        "GET /v3/definition/prediction/detectors",
        "GET /v3/definition/prediction/detectors/{detectorId}",
        "GET /v3/media",
        "GET /v3/media/{id}",
        "GET /v3/media/{id}/metadata",
        "GET /v3/media/{id}/progress",
        "GET /v3/media/{id}/streams",
        "GET /v3/media/{id}/streams/{name}",
        "GET /v3/media/{id}/transcript",
        "GET /v3/media/{id}/transcript/{format}",
        "GET /v3/openapi.json",
        "GET /v3/profile/keys",
        "GET /v3/profile/keys/{keyId}",
        "GET /v3/security/callback-secret",
        "GET /v3/security/public-keys",
        "GET /v3/security/public-keys/{id}",
        "POST /v3/media",
        "POST /v3/media/{id}",
        "POST /v3/profile/keys",
        "POST /v3/security/callback-secret",
        "POST /v3/security/public-keys",
        "PUT /v3/definition/categories/{categoryName}",
        "PUT /v3/definition/media/search",
        "PUT /v3/media/{id}/metadata",
    ];
    assert_eq!(ops, expected);
}

/// Bearer everywhere but on the public document and health; every
/// authenticated operation lists 401 and its errors with the v3 envelope.
#[test]
fn errors_and_security() {
    let doc = doc();
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(doc["security"][0]["bearer"], serde_json::json!([]));
    for (path, method, op) in each_operation(&doc) {
        let public = path == "/health" || path == "/v3/openapi.json";
        assert_eq!(
            op["security"] == serde_json::json!([{}]),
            public,
            "{method} {path}"
        );
        let responses = op["responses"].as_object().unwrap();
        assert_eq!(responses.contains_key("401"), !public, "{method} {path}");
        assert!(op["operationId"].is_string(), "{method} {path}");
        for (status, response) in responses {
            if !status.starts_with('4') && !status.starts_with('5') || path == "/health" {
                continue;
            }
            let envelope = response["$ref"]
                .as_str()
                .is_some_and(|r| r.starts_with("#/components/responses/"))
                || response["content"]["application/json"]["schema"]["$ref"]
                    == "#/components/schemas/ErrorEnvelope";
            assert!(
                envelope,
                "{method} {path} {status} is not the error envelope"
            );
        }
    }
}

/// Every `$ref` names something the document defines: a type used only as a parameter is not
/// collected by utoipa unless listed in `components`, and a dangling reference breaks every
/// client generator.
#[test]
fn every_reference_resolves() {
    fn walk(v: &Value, doc: &Value, seen: &mut usize) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    let pointer = r.strip_prefix('#').expect("a local reference");
                    assert!(doc.pointer(pointer).is_some(), "{r} is not defined");
                    *seen += 1;
                }
                map.values().for_each(|x| walk(x, doc, seen));
            }
            Value::Array(items) => items.iter().for_each(|x| walk(x, doc, seen)),
            _ => {}
        }
    }
    let doc = doc();
    let mut seen = 0;
    walk(&doc, &doc, &mut seen);
    assert!(seen > 50, "only {seen} references: the walk is broken");
}
