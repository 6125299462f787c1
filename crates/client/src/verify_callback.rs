//! `client verify-callback`: [`crate::callback`] on a request saved by a receiver (or piped
//! from one written in shell), so that customers who run the binary have the verifier too.
//! The body is read in pieces: a `media` callback's body can be gigabytes.

use std::io::Read as _;

use zeroize::Zeroizing;

use crate::callback::{Accept, CallbackHeaders, Pending, Verified};
use crate::secret::{check_private, read_secret};
use crate::{Error, VerifyCallbackArgs};

pub(crate) async fn run(args: VerifyCallbackArgs) -> Result<(), Error> {
    check_private(
        &args.secret_file,
        "callback secret",
        args.allow_insecure_key_file,
    )?;
    let contents = read_secret(&args.secret_file, "callback secret")?;
    let secret = Zeroizing::new(
        String::from_utf8_lossy(contents.split(|&b| b == b'\n').next().unwrap_or_default())
            .trim()
            .to_owned(),
    );
    let now = chrono::Utc::now().timestamp();
    let headers = CallbackHeaders {
        signature: &args.signature,
        media_id: &args.media_id,
        callback_type: &args.callback_type,
    };
    let accept = if args.accept_v1 {
        Accept::V2OrLegacyV1
    } else {
        Accept::V2Only
    };
    let pending = Pending::new(&secret, headers, now, args.tolerance_secs, accept)
        .map_err(|e| Error::BadSignature(e.to_string()))?;
    let body = args.body;
    let verified = tokio::task::spawn_blocking(move || {
        let mut pending = pending;
        let mut input: Box<dyn std::io::Read> = match &body {
            Some(path) => Box::new(std::fs::File::open(path).map_err(|e| {
                Error::local(format!("cannot read the body file {}: {e}", path.display()))
            })?),
            None => Box::new(std::io::stdin()),
        };
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            match input.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => pending.update(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::local(format!("reading the body: {e}"))),
            }
        }
        pending
            .finish()
            .map_err(|e| Error::BadSignature(e.to_string()))
    })
    .await
    .map_err(|e| Error::local(format!("verification stopped: {e}")))??;
    match verified {
        Verified::V2 => outln!("v2"),
        Verified::V1 => {
            outln!("v1");
            // Always shown (also with --quiet): the headers must not be trusted.
            eprintln!(
                "warning: only the deprecated v1 signature verified: the media id and callback \
                 type headers are NOT authenticated"
            );
        }
    }
    Ok(())
}
