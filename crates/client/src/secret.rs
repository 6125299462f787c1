//! The secret key and its passphrase: read from private files, used here, sent nowhere.

use std::io::{BufWriter, Write as _};
use std::path::Path;

use sealscribe_openpgp::{Passphrase, SecretKey};
use zeroize::Zeroizing;

use crate::{Error, SecretKeyArgs};

/// The secret key (and passphrase) of `args`, after checking the files' permissions.
pub(crate) fn load(args: &SecretKeyArgs) -> Result<(SecretKey, Option<Passphrase>), Error> {
    let allow = args.allow_insecure_key_file;
    check_private(&args.secret_key, "secret key", allow)?;
    let bytes = read_secret(&args.secret_key, "secret key")?;
    let key = SecretKey::from_bytes(&bytes)
        .map_err(|e| Error::local(format!("{}: {e}", args.secret_key.display())))?;
    let passphrase = match &args.passphrase_file {
        Some(path) => {
            check_private(path, "passphrase", allow)?;
            let contents = read_secret(path, "passphrase")?;
            Some(Passphrase::from_file_contents(&contents))
        }
        None => None,
    };
    Ok((key, passphrase))
}

fn read_secret(path: &Path, what: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
    std::fs::read(path).map(Zeroizing::new).map_err(|e| {
        Error::local(format!(
            "cannot read the {what} file {}: {e}",
            path.display()
        ))
    })
}

/// Refuses a file that group or others may read or write (unix mode & 0o077), as ssh does.
fn check_private(path: &Path, what: &str, allow: bool) -> Result<(), Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let meta = std::fs::metadata(path).map_err(|e| {
            Error::local(format!(
                "cannot read the {what} file {}: {e}",
                path.display()
            ))
        })?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 && !allow {
            return Err(Error::local(format!(
                "the {what} file {path} can be accessed by other users (mode {mode:04o}); \
                 make it private with `chmod 600 {path}` (or pass --allow-insecure-key-file)",
                path = path.display()
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = (path, what, allow);
    Ok(())
}

/// `client decrypt`: stdin to stdout, streaming, on a blocking thread.
pub(crate) async fn decrypt_stdin(args: &SecretKeyArgs) -> Result<(), Error> {
    let (key, passphrase) = load(args)?;
    tokio::task::spawn_blocking(move || {
        let stdout = std::io::stdout();
        let mut out = BufWriter::with_capacity(64 * 1024, stdout.lock());
        let result =
            sealscribe_openpgp::decrypt(&key, passphrase.as_ref(), std::io::stdin(), &mut out);
        // Whatever was decrypted is flushed (streaming: the error says to discard it).
        let flushed = out.flush();
        match (result, flushed) {
            (Err(e), _) => Err(Error::local(format!("decryption failed: {e}"))),
            (Ok(_), Err(e)) => Err(Error::local(format!("writing the plaintext failed: {e}"))),
            (Ok(_), Ok(())) => Ok(()),
        }
    })
    .await
    .map_err(|e| Error::local(format!("decryption stopped: {e}")))?
}

/// Decrypts a whole (small) message in memory; the plaintext is only returned when the
/// integrity check passed, so nothing unauthenticated is ever shown.
pub(crate) async fn decrypt_bytes(
    key: SecretKey,
    passphrase: Option<Passphrase>,
    message: bytes::Bytes,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    tokio::task::spawn_blocking(move || {
        let mut out = Zeroizing::new(Vec::new());
        sealscribe_openpgp::decrypt(&key, passphrase.as_ref(), &message[..], &mut *out).map_err(
            |e| match e.plaintext_written() {
                // Nothing of it was printed: say so rather than "must be discarded".
                0 => Error::local(format!("decryption failed: {e}")),
                _ => Error::local(
                    "decryption failed: INTEGRITY CHECK FAILED: the document was modified or \
                     damaged after it was encrypted; nothing of it was printed",
                ),
            },
        )?;
        Ok(out)
    })
    .await
    .map_err(|e| Error::local(format!("decryption stopped: {e}")))?
}
