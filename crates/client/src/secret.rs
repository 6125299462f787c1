//! The secret key and its passphrase: read from private files, used here, sent nowhere.
//! And local decryption, which checks whom a message is for before decrypting it.
//!
//! Every recipient a message names is listed on stderr (`recipient: …` lines, unless
//! `--quiet`). A message also encrypted to a key that is not in the `--secret-key` file(s) —
//! or to an anonymous recipient, or to a password — is refused with exit 8 before anything is
//! decrypted, unless `--allow-extra-recipients`, which decrypts it with a warning. Refusing is
//! the default because the customer's threat here is an operator (or an intruder on the
//! server) quietly adding a key of their own to the results: a warning scrolls by unseen in a
//! script or a cron job, a failure does not; and a customer who deliberately encrypts to
//! several keys (an escrow key) can list that key file too, or pass the flag.

use std::io::{BufWriter, Write as _};
use std::path::Path;

use sealscribe_openpgp::{
    DecryptError, DecryptOptions, MessageRecipient, Passphrase, SecretKey, decrypt_with,
};
use zeroize::Zeroizing;

use crate::{Error, SecretKeyArgs, Ui};

/// The secret key(s) (and passphrase) of `args`, after checking the files' permissions.
pub(crate) fn load(args: &SecretKeyArgs) -> Result<(SecretKey, Option<Passphrase>), Error> {
    let allow = args.allow_insecure_key_file;
    let mut keys = Vec::with_capacity(args.secret_key.len());
    for path in &args.secret_key {
        check_private(path, "secret key", allow)?;
        let bytes = read_secret(path, "secret key")?;
        keys.push(
            SecretKey::from_bytes(&bytes)
                .map_err(|e| Error::local(format!("{}: {e}", path.display())))?,
        );
    }
    let key = SecretKey::merge(keys);
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

pub(crate) fn read_secret(path: &Path, what: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
    std::fs::read(path).map(Zeroizing::new).map_err(|e| {
        Error::local(format!(
            "cannot read the {what} file {}: {e}",
            path.display()
        ))
    })
}

/// Refuses a file that group or others may read or write (unix mode & 0o077), as ssh does.
pub(crate) fn check_private(path: &Path, what: &str, allow: bool) -> Result<(), Error> {
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

/// What to check and show about a message's recipients (from [`SecretKeyArgs`] and [`Ui`]).
#[derive(Clone, Copy)]
pub(crate) struct RecipientCheck {
    allow_extra: bool,
    quiet: bool,
}

impl RecipientCheck {
    pub fn new(args: &SecretKeyArgs, ui: &Ui) -> Self {
        RecipientCheck {
            allow_extra: args.allow_extra_recipients,
            quiet: ui.quiet,
        }
    }

    fn options(self) -> DecryptOptions {
        DecryptOptions {
            allow_extra_recipients: self.allow_extra,
        }
    }

    /// Lists the recipients on stderr (unless `--quiet`); warns about extra ones when they are
    /// allowed (refused ones are named by the error).
    fn report(self, recipients: &[MessageRecipient]) {
        if !self.quiet {
            for r in recipients {
                eprintln!("recipient: {r}");
            }
        }
        let extra: Vec<String> = recipients
            .iter()
            .filter(|r| !r.is_yours())
            .map(ToString::to_string)
            .collect();
        if self.allow_extra && !extra.is_empty() {
            eprintln!(
                "warning: the message is also encrypted to {} recipient(s) that are not yours: \
                 {}; whoever holds them can read it as well (decrypting anyway: \
                 --allow-extra-recipients)",
                extra.len(),
                extra.join(", ")
            );
        }
    }
}

/// Our error, with its exit code, for a failed decryption.
fn decrypt_error(e: DecryptError, what: &str) -> Error {
    match e {
        DecryptError::NotAMessage { .. } => Error::NotEncrypted(format!(
            "{what} is not an OpenPGP message at all, so nothing of it was decrypted or shown"
        )),
        DecryptError::NotEncrypted => Error::NotEncrypted(format!(
            "{what} is an OpenPGP message that is not encrypted, so nothing of it was shown"
        )),
        DecryptError::ExtraRecipients { .. } => Error::ExtraRecipients(format!(
            "{e}. If you expected these recipients, give their secret key files with \
             --secret-key as well, or pass --allow-extra-recipients"
        )),
        _ => Error::local(format!("decryption failed: {e}")),
    }
}

/// `client decrypt`: stdin to stdout, streaming, on a blocking thread.
pub(crate) async fn decrypt_stdin(args: &SecretKeyArgs, ui: &Ui) -> Result<(), Error> {
    let (key, passphrase) = load(args)?;
    let check = RecipientCheck::new(args, ui);
    tokio::task::spawn_blocking(move || {
        let stdout = std::io::stdout();
        let mut out = BufWriter::with_capacity(64 * 1024, stdout.lock());
        let result = decrypt_with(
            &key,
            passphrase.as_ref(),
            std::io::stdin(),
            &mut out,
            check.options(),
            &mut |r| check.report(r),
        );
        // Whatever was decrypted is flushed (streaming: the error says to discard it).
        let flushed = out.flush();
        match (result, flushed) {
            (Err(e), _) => Err(decrypt_error(e, "the input")),
            (Ok(_), Err(e)) => Err(Error::local(format!("writing the plaintext failed: {e}"))),
            (Ok(_), Ok(())) => Ok(()),
        }
    })
    .await
    .map_err(|e| Error::local(format!("decryption stopped: {e}")))?
}

/// Decrypts a whole (small) message in memory; the plaintext is only returned when the
/// integrity check passed, so nothing unauthenticated is ever shown. `what` names the
/// message in errors.
pub(crate) async fn decrypt_bytes(
    key: SecretKey,
    passphrase: Option<Passphrase>,
    message: bytes::Bytes,
    check: RecipientCheck,
    what: String,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    tokio::task::spawn_blocking(move || {
        let mut out = Zeroizing::new(Vec::new());
        decrypt_with(
            &key,
            passphrase.as_ref(),
            &message[..],
            &mut *out,
            check.options(),
            &mut |r| check.report(r),
        )
        .map_err(|e| match e.plaintext_written() {
            // Nothing of it was printed: say so rather than "must be discarded".
            0 => decrypt_error(e, &what),
            _ => Error::local(
                "decryption failed: INTEGRITY CHECK FAILED: the document was modified or \
                 damaged after it was encrypted; nothing of it was printed",
            ),
        })?;
        Ok(out)
    })
    .await
    .map_err(|e| Error::local(format!("decryption stopped: {e}")))?
}
