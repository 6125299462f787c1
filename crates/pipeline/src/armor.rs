//! Armored OpenPGP messages for small results (the encrypted result
//! document, callback bodies), shared by the encrypted-media job and the
//! callback deliveries.

use sealscribe_openpgp::{EncryptOptions, Recipient};

/// Encrypts a small plaintext (a document, a callback body) to the customer's
/// key as an armored message, in memory.
pub(crate) fn encrypt_armored(
    recipient: &Recipient,
    plaintext: &[u8],
) -> Result<Vec<u8>, sealscribe_openpgp::EncryptError> {
    let mut out = Vec::new();
    let bytes =
        sealscribe_openpgp::encrypt(recipient, plaintext, &mut out, EncryptOptions::armored())?;
    crate::metrics::encrypted("results", bytes);
    Ok(out)
}
