//! `GET /v3/openapi.json`: served without a token, identical to the committed
//! `docs/openapi.json`, and in agreement with the router: every documented
//! operation is routed, and every other method on a documented path is 405.
//! (Routes added without documentation at all are caught at the source by
//! `sealscribe_api::openapi::tests::no_undocumented_routes`; the contract run,
//! `scripts/contract.sh`, checks real responses against the schemas.)

use serde_json::Value;

use crate::common::Env;

const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH"];

#[tokio::test]
async fn the_served_document_is_the_committed_one_and_matches_the_router() {
    let env = Env::new();
    let token = env.create_account("acme");
    let server = env.start();

    // Public: no token needed.
    let resp = server
        .http
        .get(server.url("/v3/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let served = resp.text().await.unwrap();
    let committed = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json"),
    )
    .unwrap();
    assert!(
        served == committed,
        "the served document differs from docs/openapi.json: run \
         SEALSCRIBE_UPDATE_OPENAPI=1 cargo test -p sealscribe-api openapi::tests::snapshot"
    );
    let doc: Value = serde_json::from_str(&served).unwrap();

    let id = uuid::Uuid::new_v4().to_string();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let concrete = path
            .replace("{id}", &id)
            .replace("{name}", "original")
            .replace("{format}", "text");
        for method in METHODS {
            let documented = item.get(method.to_lowercase()).is_some();
            let resp = server
                .http
                .request(method.parse().unwrap(), server.url(&concrete))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            if documented {
                assert_ne!(status, 405, "{method} {path} is documented but not routed");
                assert_ne!(
                    body["errors"][0]["code"], 10000,
                    "{method} {path} is documented but not routed: {body}"
                );
                let documented_statuses = item[method.to_lowercase()]["responses"]
                    .as_object()
                    .unwrap();
                assert!(
                    documented_statuses.contains_key(&status.to_string()),
                    "{method} {concrete} answered an undocumented {status}: {body}"
                );
            } else {
                assert_eq!(
                    status, 405,
                    "{method} {path} is routed but not documented: {body}"
                );
            }
        }
    }
}
