//! `client media wait ID`: polls the progress until the media is finished or failed.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;

use crate::api::Api;
use crate::keys::print_json;
use crate::progress::Status;
use crate::{Error, Ui};

pub(super) async fn run(
    api: &Api,
    ui: &Ui,
    id: &str,
    timeout: Option<u64>,
    interval: f64,
) -> Result<(), Error> {
    let start = Instant::now();
    let interval = Duration::from_secs_f64(interval.clamp(0.05, 60.0));
    let mut status_line = Status::new("wait", ui.quiet);
    loop {
        let progress = api
            .json(api.request(Method::GET, &format!("/v3/media/{id}/progress")))
            .await?;
        status_line.set(describe(&progress));
        let status = progress["status"].as_str().unwrap_or("").to_owned();
        match status.as_str() {
            "finished" => {
                status_line.finish();
                if ui.json {
                    print_json(&progress);
                } else {
                    outln!("finished");
                }
                return Ok(());
            }
            "failed" => {
                status_line.finish();
                if ui.json {
                    print_json(&progress);
                }
                let reason = progress["progress"]["errors"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|e| {
                        format!(
                            "{}{}",
                            e["code"]
                                .as_u64()
                                .map(|c| format!("(code {c}) "))
                                .unwrap_or_default(),
                            e["error"].as_str().unwrap_or("")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                return Err(Error::MediaFailed {
                    id: id.to_owned(),
                    reason: if reason.is_empty() {
                        "no reason given".into()
                    } else {
                        reason
                    },
                });
            }
            _ => {}
        }
        if let Some(secs) = timeout {
            let limit = Duration::from_secs(secs);
            let elapsed = start.elapsed();
            if elapsed >= limit {
                status_line.finish();
                return Err(Error::WaitTimeout {
                    id: id.to_owned(),
                    status,
                    secs,
                });
            }
            tokio::time::sleep(interval.min(limit - elapsed)).await;
        } else {
            tokio::time::sleep(interval).await;
        }
    }
}

/// One line about the tasks: `running: probe finished, transcribe running`.
fn describe(progress: &Value) -> String {
    let status = progress["status"].as_str().unwrap_or("?");
    let tasks: Vec<String> = progress["progress"]["tasks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            format!(
                "{} {}",
                t["taskId"].as_str().unwrap_or("?"),
                t["status"].as_str().unwrap_or("?")
            )
        })
        .collect();
    if tasks.is_empty() {
        status.to_owned()
    } else {
        format!("{status}: {}", tasks.join(", "))
    }
}
