//! Extended-metadata search over the API: `PUT /v3/definition/media/search` makes
//! `metadata.extended` fields searchable per account, media processed (or whose metadata is
//! replaced) after that are indexed, and `extendedFilter` on `GET /v3/media` selects by them
//! — never media indexed before, another account's, or encrypted media (whose metadata is
//! only inside the encrypted document). Also the read-only prediction definitions.

use sealscribe_openpgp::testing::GpgHome;
use serde_json::{Value, json};

use crate::common::{Env, Server, expect_error};

async fn put_fields(server: &Server, token: &str, body: &str) -> reqwest::Response {
    server
        .http
        .put(server.url("/v3/definition/media/search"))
        .bearer_auth(token)
        .header("Content-Type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

/// `GET /v3/media?<query>`, answered 200; the ids listed.
async fn listed(server: &Server, token: &str, query: &str) -> Vec<String> {
    let list = server.get_json(token, &format!("/v3/media?{query}")).await;
    list["media"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mediaId"].as_str().unwrap().to_owned())
        .collect()
}

async fn get(server: &Server, token: &str, path: &str) -> reqwest::Response {
    server
        .http
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn extended_filter_selects_media_by_a_searchable_extended_field() {
    let env = Env::new();
    let acme = env.create_account("acme");
    let other = env.create_account("other");
    let server = env.start();
    let audio = std::fs::read(env.speech("call", "Thank you for calling.")).unwrap();
    let meta = |customer: Value, agent: &str| {
        json!({"title": "Support call", "extended": {"customerId": customer, "agent": {"name": agent}}})
            .to_string()
    };

    // Processed before the field was searchable: never found by it.
    let before = server
        .upload_ok(&acme, audio.clone(), None, Some(&meta(json!(10101), "Ada")))
        .await;
    assert_eq!(server.wait(&acme, &before).await["status"], "finished");

    // No fields until set; a bad definition is refused with what to do.
    assert_eq!(
        server.get_json(&acme, "/v3/definition/media/search").await,
        json!({"fields": []})
    );
    for (body, code) in [
        (r#"{"fields":["customerId"]}"#, 80301),
        (r#"{"fields":["extended.a","extended.a"]}"#, 80301),
        (r#"{"fields":"extended.a"}"#, 80301),
        ("nope", 80301),
    ] {
        let msg = expect_error(put_fields(&server, &acme, body).await, 400, code).await;
        assert!(msg.contains("extended"), "{msg}");
    }
    let fields = json!({"fields": ["extended.customerId", "extended.agent.name"]});
    let resp = put_fields(&server, &acme, &fields.to_string()).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap(), fields);
    assert_eq!(
        server.get_json(&acme, "/v3/definition/media/search").await,
        fields
    );
    // Per account: the other account has none, until it sets its own.
    assert_eq!(
        server.get_json(&other, "/v3/definition/media/search").await,
        json!({"fields": []})
    );
    assert_eq!(
        put_fields(&server, &other, &fields.to_string())
            .await
            .status(),
        200
    );

    let gpg = GpgHome::new();
    let fpr = gpg.gen_rsa_and_rsa("Customer <c@example.com>");
    let key_id = server
        .upload_key(&acme, gpg.export_public(&fpr, true))
        .await;
    let encrypted_config =
        json!({"encryption": {"publicKeyId": key_id}, "searchability": {"searchable": false}})
            .to_string();
    let ada = server
        .upload_ok(&acme, audio.clone(), None, Some(&meta(json!(10101), "Ada")))
        .await;
    let sealed = server
        .upload_ok(
            &acme,
            audio.clone(),
            Some(&encrypted_config),
            Some(&meta(json!(10101), "Ada")),
        )
        .await;
    let theirs = server
        .upload_ok(
            &other,
            audio.clone(),
            None,
            Some(&meta(json!(10101), "Ada")),
        )
        .await;
    for (token, id) in [(&acme, &ada), (&acme, &sealed), (&other, &theirs)] {
        assert_eq!(server.wait(token, id).await["status"], "finished", "{id}");
    }

    // Name:Value and Name;Value, with or without `extended.`; a number's string form.
    for q in [
        "extendedFilter=customerId%3A10101",
        "extendedFilter=customerId;10101",
        "extendedFilter=extended.customerId:10101",
    ] {
        assert_eq!(listed(&server, &acme, q).await, [ada.as_str()], "{q}");
    }
    // Replacing the metadata indexes the media processed before.
    let resp = server
        .http
        .put(server.url(&format!("/v3/media/{before}/metadata")))
        .bearer_auth(&acme)
        .header("Content-Type", "application/json")
        .body(meta(json!("20202"), "Bob"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        listed(&server, &acme, "extendedFilter=customerId%3A20202").await,
        [before.as_str()]
    );
    // Repeated: all must hold; exact and case-sensitive.
    assert_eq!(
        listed(
            &server,
            &acme,
            "extendedFilter=customerId%3A10101&extendedFilter=agent.name%3AAda"
        )
        .await,
        [ada.as_str()]
    );
    assert_eq!(
        listed(
            &server,
            &acme,
            "extendedFilter=customerId%3A10101&extendedFilter=agent.name%3Aada"
        )
        .await,
        Vec::<String>::new()
    );
    // With the other filters.
    assert_eq!(
        listed(
            &server,
            &acme,
            "extendedFilter=agent.name%3ABob&query=title%3Asupport&limit=1"
        )
        .await,
        [before.as_str()]
    );
    // The other account's media only for it.
    assert_eq!(
        listed(&server, &other, "extendedFilter=customerId%3A10101").await,
        [theirs.as_str()]
    );
    // The encrypted media left nothing in the index.
    assert_eq!(
        env.sql_text(&format!(
            "select value from media_extended where media_id = '{sealed}'"
        ))
        .await,
        None
    );

    // Refusals say what to do.
    let msg = expect_error(
        get(&server, &acme, "/v3/media?extendedFilter=title%3ASupport").await,
        400,
        80303,
    )
    .await;
    assert!(msg.contains("PUT /v3/definition/media/search"), "{msg}");
    expect_error(
        get(&server, &acme, "/v3/media?extendedFilter=customerId").await,
        400,
        10001,
    )
    .await;

    // Survives a restart.
    assert!(server.stop());
    let server = env.start();
    assert_eq!(
        server.get_json(&acme, "/v3/definition/media/search").await,
        fields
    );
    assert_eq!(
        listed(&server, &acme, "extendedFilter=agent.name%3ABob").await,
        [before.as_str()]
    );

    // A field no longer searchable is refused, and made searchable again it finds only
    // media indexed after that.
    let only_agent = json!({"fields": ["extended.agent.name"]}).to_string();
    assert_eq!(put_fields(&server, &acme, &only_agent).await.status(), 200);
    expect_error(
        get(
            &server,
            &acme,
            "/v3/media?extendedFilter=customerId%3A10101",
        )
        .await,
        400,
        80303,
    )
    .await;
    assert_eq!(
        put_fields(&server, &acme, &fields.to_string())
            .await
            .status(),
        200
    );
    assert_eq!(
        listed(&server, &acme, "extendedFilter=customerId%3A10101").await,
        Vec::<String>::new()
    );
    assert_eq!(
        listed(&server, &other, "extendedFilter=customerId%3A10101").await,
        [theirs]
    );
}

#[tokio::test]
async fn prediction_definitions_list_the_built_in_detectors() {
    let env = Env::new();
    let token = env.create_account("acme");
    let server = env.start();
    let list = server
        .get_json(&token, "/v3/definition/prediction/detectors")
        .await;
    let detectors = list["detectors"].as_array().unwrap();
    let names: Vec<&str> = detectors
        .iter()
        .map(|d| d["detectorName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["PCI", "SSN", "Number"]);
    for d in detectors {
        assert_eq!(d["detectorType"], "binary");
        assert_eq!(d["classes"][0]["classValue"], 1);
        let id = d["detectorId"].as_str().unwrap();
        assert!(crate::common::uuid_like(id), "{id}");
        assert_eq!(
            server
                .get_json(&token, &format!("/v3/definition/prediction/detectors/{id}"))
                .await,
            *d
        );
    }
    assert_eq!(
        detectors[0]["parameters"][0],
        json!({"name": "detectionLevel", "optional": true, "type": "String",
               "valueSet": ["entireRegion", "probableNumbers", "numbersOnly"],
               "defaultValue": "entireRegion"})
    );
    // The listed id works in a configuration.
    let config = json!({"prediction": {"detectors": [{"detectorId": detectors[1]["detectorId"]}]}});
    let audio = std::fs::read(env.speech("hello", "Hello.")).unwrap();
    let id = server
        .upload_ok(&token, audio, Some(&config.to_string()), None)
        .await;
    // Accepted is all this shows: no need to recognise it.
    let resp = server
        .http
        .delete(server.url(&format!("/v3/media/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    expect_error(
        get(
            &server,
            &token,
            "/v3/definition/prediction/detectors/Passport",
        )
        .await,
        404,
        10205,
    )
    .await;
    assert_eq!(
        server
            .get_json(&token, "/v3/definition/prediction/classifiers")
            .await,
        json!({"classifiers": []})
    );
    expect_error(
        get(
            &server,
            &token,
            "/v3/definition/prediction/classifiers/0b3c1d2e-1111-2222-3333-444455556666",
        )
        .await,
        404,
        10205,
    )
    .await;
    // Unauthenticated: the usual 401.
    let resp = server
        .http
        .get(server.url("/v3/definition/prediction/detectors"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}
