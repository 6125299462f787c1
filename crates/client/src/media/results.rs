//! `client media results ID --secret-key FILE`: the encrypted media document, decrypted
//! on this machine.
//!
//! Whoever asks for results with a secret key expects them encrypted, so an answer that is
//! not an encrypted OpenPGP message is refused (exit 7) and never printed: a misconfigured or
//! compromised server that skipped encryption must not be able to pass plaintext off as the
//! results. (Media uploaded without a key is read with `media get`.) The recipients are
//! listed and checked as by `client decrypt` (see `secret`).

use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::Value;

use super::write_stdout;
use crate::api::Api;
use crate::keys::print_json;
use crate::{Error, SecretKeyArgs, Ui, secret};

pub(super) async fn run(api: &Api, ui: &Ui, id: &str, args: &SecretKeyArgs) -> Result<(), Error> {
    // The key first: a bad key file fails before any request.
    let (key, passphrase) = secret::load(args)?;
    let resp = api
        .send(
            api.request(Method::GET, &format!("/v3/media/{id}"))
                .header(ACCEPT, "application/pgp-encrypted"),
        )
        .await?;
    let content_type = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none")
        .to_owned();
    if content_type.starts_with("application/json") {
        // Not even read: the plaintext has no business on this machine.
        return Err(Error::NotEncrypted(format!(
            "the API answered with the plain JSON document of media {id} (Content-Type: \
             {content_type}), not an encrypted one, so it was not printed. If {id} was \
             uploaded without --public-key-id, read it with `sealscribe client media get {id}`; \
             if it was uploaded with a public key, this server did not encrypt its results"
        )));
    }
    let body = resp.bytes().await.map_err(|e| api.unreachable(&e))?;
    let what = format!("the API's answer for media {id} (Content-Type: {content_type})");
    let check = secret::RecipientCheck::new(args, ui);
    let plain = secret::decrypt_bytes(key, passphrase, body, check, what).await?;
    match serde_json::from_slice::<Value>(&plain) {
        Ok(v) if !ui.json => print_json(&v),
        Ok(v) => outln!("{v}"),
        Err(_) => write_stdout(&plain)?,
    }
    Ok(())
}
