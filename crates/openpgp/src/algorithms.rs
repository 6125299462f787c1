//! Which public-key algorithms and sizes sealscribe accepts, and their names in messages.
//!
//! Shared by the packet pre-check in `input` (which refuses what rPGP cannot parse with a
//! readable message) and the validity rules in `policy`, so that both give the same limits
//! and the same words.

use crate::error::KeyError;

/// Smallest RSA modulus accepted.
pub(crate) const RSA_MIN_BITS: u32 = 2048;
/// Largest RSA modulus accepted (rPGP's own limit without its `large-rsa` feature).
pub(crate) const RSA_MAX_BITS: u32 = 4096;

/// Human name of a public-key algorithm id (RFC 9580 §9.1).
pub(crate) fn algorithm_name(id: u8) -> String {
    match id {
        1 => "RSA".into(),
        2 => "RSA (encrypt-only)".into(),
        3 => "RSA (sign-only)".into(),
        16 => "Elgamal".into(),
        17 => "DSA".into(),
        18 => "ECDH".into(),
        19 => "ECDSA".into(),
        20 => "Elgamal (sign and encrypt)".into(),
        22 => "EdDSA".into(),
        25 => "X25519 (RFC 9580)".into(),
        26 => "X448".into(),
        27 => "Ed25519 (RFC 9580)".into(),
        28 => "Ed448".into(),
        other => format!("public-key algorithm {other}"),
    }
}

/// Why an algorithm is not accepted, where that is not obvious.
pub(crate) fn unsupported_why(id: u8) -> &'static str {
    match id {
        25 | 27 => {
            " (the RFC 9580 encoding of this algorithm cannot be used with GnuPG 2.2; GnuPG's \
             own ed25519/cv25519 keys use the older encoding, which is accepted)"
        }
        16 | 17 | 20 => " (it is obsolete)",
        _ => "",
    }
}

/// Refuses an RSA modulus outside [`RSA_MIN_BITS`]..=[`RSA_MAX_BITS`].
pub(crate) fn check_rsa_bits(component: &str, bits: u32) -> Result<(), KeyError> {
    if bits < RSA_MIN_BITS {
        return Err(KeyError::RsaTooSmall {
            component: component.to_owned(),
            bits,
            min: RSA_MIN_BITS,
        });
    }
    if bits > RSA_MAX_BITS {
        return Err(KeyError::RsaTooLarge {
            component: component.to_owned(),
            bits,
            max: RSA_MAX_BITS,
        });
    }
    Ok(())
}
