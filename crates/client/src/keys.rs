//! `client keys …`: `/v3/security/public-keys`.

use std::io::Write as _;

use reqwest::Method;
use reqwest::header::CONTENT_TYPE;
use serde_json::Value;

use crate::api::Api;
use crate::{Error, KeysCommand, Ui};

pub(crate) async fn run(api: &Api, ui: &Ui, cmd: KeysCommand) -> Result<(), Error> {
    match cmd {
        KeysCommand::Upload { file } => {
            let bytes = std::fs::read(&file)
                .map_err(|e| Error::local(format!("cannot read {}: {e}", file.display())))?;
            // The API refuses secret keys too, but then the key has already travelled.
            if let Err(e) = sealscribe_openpgp::inspect(&bytes, chrono_now())
                && e.kind() == sealscribe_openpgp::KeyErrorKind::SecretKey
            {
                return Err(Error::local(format!(
                    "{} is a SECRET key; it was not sent. Upload only the public key: \
                     `gpg --armor --export KEYID > public.asc`",
                    file.display()
                )));
            }
            let rb = api
                .request(Method::POST, "/v3/security/public-keys")
                .header(CONTENT_TYPE, "application/octet-stream")
                .body(bytes);
            let answer = api.json(rb).await?;
            if ui.json {
                print_json(&answer);
            } else {
                outln!("{}", str_of(&answer, "publicKeyId"));
                ui.note(format!(
                    "uploaded {}: {} {} bits, fingerprint {}, user IDs {}, expires {}",
                    file.display(),
                    str_of(&answer, "algorithm"),
                    answer["bits"],
                    str_of(&answer, "fingerprint"),
                    answer["userIds"]
                        .as_array()
                        .map(|a| a
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(", "))
                        .unwrap_or_default(),
                    answer["expires"].as_str().unwrap_or("never"),
                ));
            }
        }
        KeysCommand::List => {
            let answer = api
                .json(api.request(Method::GET, "/v3/security/public-keys"))
                .await?;
            if ui.json {
                print_json(&answer);
            } else {
                for key in answer["publicKeys"].as_array().into_iter().flatten() {
                    if let Some(href) = key["_links"]["self"]["href"].as_str() {
                        outln!("{}", href.rsplit('/').next().unwrap_or(href));
                    }
                }
            }
        }
        KeysCommand::Show { id } => {
            let resp = api
                .send(api.request(Method::GET, &format!("/v3/security/public-keys/{id}")))
                .await?;
            let bytes = resp.bytes().await.map_err(|e| api.unreachable(&e))?;
            std::io::stdout()
                .write_all(&bytes)
                .map_err(|e| Error::local(format!("writing to stdout: {e}")))?;
        }
        KeysCommand::Delete { id } => {
            api.send(api.request(Method::DELETE, &format!("/v3/security/public-keys/{id}")))
                .await?;
            ui.note(format!("deleted key {id}"));
        }
    }
    Ok(())
}

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

pub(crate) fn str_of<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field].as_str().unwrap_or("?")
}

pub(crate) fn print_json(v: &Value) {
    outln!("{}", serde_json::to_string_pretty(v).expect("JSON"));
}
