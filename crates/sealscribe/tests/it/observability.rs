//! What the operator sees: Prometheus metrics on their own listener, and
//! request ids tying a customer's error `reference` to the log lines.

use serde_json::Value;

use crate::common::{Env, uuid_like};
use sealscribe_openpgp::testing::GpgHome;

/// The value of the sample `name{labels…}` whose labels include all of `want`.
fn sample(text: &str, name: &str, want: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, labels) = match series.split_once('{') {
                Some((m, rest)) => (m, rest.strip_suffix('}')?),
                None => (series, ""),
            };
            if metric != name {
                return None;
            }
            let all = want
                .iter()
                .all(|(k, v)| labels.split(',').any(|l| l == format!("{k}=\"{v}\"")));
            all.then(|| value.parse().ok()).flatten()
        })
}

async fn scrape(url: &str) -> String {
    let resp = reqwest::get(url).await.unwrap();
    assert_eq!(resp.status(), 200);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    resp.text().await.unwrap()
}

#[tokio::test]
async fn metrics_count_requests_stages_recognition_and_encryption() {
    let env = Env::new();
    let token = env.create_account("acme");
    let server = env.start_with(&["--metrics-listen", "127.0.0.1:0"]);
    let metrics = server.metrics.clone().expect("metrics address printed");
    let gpg = GpgHome::new();
    let fpr = gpg.gen_rsa_and_rsa("Customer <c@example.com>");
    let key_id = server
        .upload_key(&token, gpg.export_public(&fpr, true))
        .await;
    let audio = std::fs::read(env.speech("hello", "The quarterly numbers look good.")).unwrap();
    let plain = server.upload_ok(&token, audio.clone(), None, None).await;
    let config = format!(r#"{{"encryption":{{"publicKeyId":"{key_id}"}}}}"#);
    let sealed = server
        .upload_ok(&token, audio.clone(), Some(&config), None)
        .await;
    for id in [&plain, &sealed] {
        assert_eq!(server.wait(&token, id).await["status"], "finished");
    }
    let missing = uuid::Uuid::new_v4();
    let resp = server
        .http
        .get(server.url(&format!("/v3/media/{missing}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let resp = server
        .http
        .get(server.url("/nowhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    // Not on the API listener.
    let resp = server
        .http
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);

    let text = scrape(&metrics).await;
    let get = |name: &str, labels: &[(&str, &str)]| {
        sample(&text, name, labels).unwrap_or_else(|| panic!("no {name}{labels:?} in:\n{text}"))
    };
    let requests = "sealscribe_http_requests_total";
    let uploads = [
        ("method", "POST"),
        ("route", "/v3/media"),
        ("status", "200"),
    ];
    assert_eq!(get(requests, &uploads), 2.0);
    assert_eq!(
        get("sealscribe_http_request_duration_seconds_count", &uploads),
        2.0
    );
    assert!(get("sealscribe_http_request_duration_seconds_sum", &uploads) > 0.0);
    assert_eq!(
        get(
            requests,
            &[
                ("method", "GET"),
                ("route", "/v3/media/{id}"),
                ("status", "404")
            ]
        ),
        1.0
    );
    // The polling of `wait` is counted under the template, not per id.
    assert!(
        get(
            requests,
            &[
                ("method", "GET"),
                ("route", "/v3/media/{id}"),
                ("status", "200")
            ]
        ) >= 2.0
    );
    assert!(get(requests, &[("route", "unmatched"), ("status", "404")]) >= 2.0);

    for state in ["queued", "scheduled", "running"] {
        assert_eq!(
            get("sealscribe_jobs", &[("kind", "process"), ("state", state)]),
            0.0,
            "{state}"
        );
    }
    assert_eq!(get("sealscribe_database_up", &[]), 1.0);
    assert_eq!(
        get(
            "sealscribe_jobs_ended_total",
            &[("kind", "process"), ("outcome", "finished")]
        ),
        2.0
    );
    let stage = "sealscribe_pipeline_stage_duration_seconds_count";
    for s in ["probe", "transcribe"] {
        assert_eq!(get(stage, &[("stage", s), ("outcome", "ok")]), 2.0, "{s}");
    }
    assert_eq!(get(stage, &[("stage", "encrypt"), ("outcome", "ok")]), 1.0);
    assert_eq!(
        get("sealscribe_recognition_real_time_factor_count", &[]),
        2.0
    );
    let rtf_sum = get("sealscribe_recognition_real_time_factor_sum", &[]);
    assert!(rtf_sum > 0.0 && rtf_sum < 20.0, "{rtf_sum}");
    // Exactly the plaintext of the original went into the original-encrypted stream.
    assert_eq!(
        get("sealscribe_encrypted_bytes_total", &[("what", "original")]),
        audio.len() as f64
    );
    assert!(get("sealscribe_encrypted_bytes_total", &[("what", "results")]) > 0.0);

    // No ids or secrets in any label.
    for secret in [&plain, &sealed, &key_id, &token, &missing.to_string()] {
        assert!(!text.contains(secret.as_str()), "{secret} in metrics");
    }
    assert!(!text.contains("sst_"));
    assert!(server.stop());
}

#[tokio::test]
async fn job_gauges_show_the_queue_from_the_database() {
    let env = Env::new();
    let token = env.create_account("acme");
    // An API-only node: uploads wait in the queue.
    let server = env.start_with(&["--workers", "0", "--metrics-listen", "127.0.0.1:0"]);
    let audio = std::fs::read(env.speech("queued", "Waiting in line.")).unwrap();
    for _ in 0..3 {
        server.upload_ok(&token, audio.clone(), None, None).await;
    }
    let text = scrape(server.metrics.as_deref().unwrap()).await;
    assert_eq!(
        sample(
            &text,
            "sealscribe_jobs",
            &[("kind", "process"), ("state", "queued")]
        ),
        Some(3.0),
        "{text}"
    );
    assert!(server.stop());
}

#[tokio::test]
async fn request_ids_tie_error_references_to_log_lines() {
    let env = Env::new();
    let token = env.create_account("acme");
    let server = env.start_with(&["--log-format", "json"]);

    let missing = uuid::Uuid::new_v4();
    let resp = server
        .http
        .get(server.url(&format!("/v3/media/{missing}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let header = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body: Value = resp.json().await.unwrap();
    assert!(uuid_like(&header), "{header}");
    assert_eq!(body["reference"], header.as_str());

    // Unauthenticated: the same.
    let resp = server
        .http
        .get(server.url("/v3/media"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let unauth = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["reference"], unauth.as_str());
    assert_ne!(unauth, header);

    // Successes carry one too.
    let resp = server
        .http
        .get(server.url("/v3/media"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let ok = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(uuid_like(&ok) && ok != header && ok != unauth);
    assert!(server.stop());

    // Every line is JSON; the request's lines carry its id in the span.
    let log = env.log();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let of = |id: &str| -> Vec<&Value> {
        lines
            .iter()
            .filter(|l| l["span"]["request_id"] == id)
            .collect()
    };
    let rejected = of(&header);
    assert!(
        rejected
            .iter()
            .any(|l| l["message"] == "request rejected" && l["reference"] == header.as_str()),
        "{log}"
    );
    assert!(
        rejected
            .iter()
            .any(|l| l["message"] == "response" && l["status"] == 404)
    );
    assert!(of(&ok).iter().any(|l| l["status"] == 200));
    // The token never reaches the log.
    assert!(!log.contains(&token));
}

/// `sealscribe worker` (no HTTP API) serves its own metrics and still stops
/// cleanly on SIGTERM.
#[tokio::test]
async fn worker_processes_serve_their_own_metrics() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let env = Env::new();
    let token = env.create_account("acme");
    let server = env.start_with(&["--workers", "0"]);
    let mut cmd = Command::new(crate::common::BIN);
    cmd.args([
        "worker",
        "--workers",
        "1",
        "--metrics-listen",
        "127.0.0.1:0",
    ]);
    env.configure(&mut cmd);
    let mut worker = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(worker.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let metrics = first
        .strip_prefix("sealscribe metrics on ")
        .unwrap_or_else(|| panic!("{first:?}"))
        .to_owned();
    assert!(
        lines
            .next()
            .unwrap()
            .unwrap()
            .starts_with("sealscribe worker ready")
    );

    let audio = std::fs::read(env.speech("w", "Workers report too.")).unwrap();
    let id = server.upload_ok(&token, audio, None, None).await;
    assert_eq!(server.wait(&token, &id).await["status"], "finished");

    let text = scrape(&metrics).await;
    let get = |name: &str, labels: &[(&str, &str)]| sample(&text, name, labels);
    assert_eq!(
        get(
            "sealscribe_jobs_ended_total",
            &[("kind", "process"), ("outcome", "finished")]
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        get(
            "sealscribe_pipeline_stage_duration_seconds_count",
            &[("stage", "transcribe"), ("outcome", "ok")]
        ),
        Some(1.0)
    );
    assert_eq!(
        get("sealscribe_recognition_real_time_factor_count", &[]),
        Some(1.0)
    );
    assert_eq!(
        get(
            "sealscribe_jobs",
            &[("kind", "process"), ("state", "queued")]
        ),
        Some(0.0)
    );
    // No HTTP API in this process, so no request metrics.
    assert!(!text.contains("sealscribe_http_requests_total"));

    let pid = worker.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert!(worker.wait().unwrap().success());
    assert!(server.stop());
}
