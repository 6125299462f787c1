//! Property tests of public-key validation ([`sealscribe_openpgp::inspect`]): whatever
//! bytes or armor a customer uploads, the answer is a key description or a
//! [`sealscribe_openpgp::KeyError`], never a panic. Case counts are stated in
//! docs/security.md ("HTTP limits and property tests").

use std::sync::OnceLock;

use chrono::Utc;
use proptest::prelude::*;
use sealscribe_openpgp::inspect;
use sealscribe_openpgp::testing::GpgHome;

/// A real ed25519 + cv25519 certificate (binary and armored), made once.
fn real_key() -> &'static (Vec<u8>, Vec<u8>) {
    static KEY: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    KEY.get_or_init(|| {
        let home = GpgHome::new();
        let fpr = home.gen_future_default("Prop Test <prop@example.com>");
        let binary = home.export_public(&fpr, false);
        let armored = home.export_public(&fpr, true);
        // The positive control: unmutated, both forms are accepted.
        inspect(&binary, Utc::now()).expect("the binary key is valid");
        inspect(&armored, Utc::now()).expect("the armored key is valid");
        (binary, armored)
    })
}

/// Applies `edits` (position, byte, kind) to `bytes`: overwrite, insert, delete or truncate.
fn mutate(bytes: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for &(at, byte, kind) in edits {
        if out.is_empty() {
            out.push(byte);
            continue;
        }
        let at = at % out.len();
        match kind % 4 {
            0 => out[at] = byte,
            1 => out.insert(at, byte),
            2 => {
                out.remove(at);
            }
            _ => out.truncate(at),
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary bytes, and arbitrary bytes inside armor lines.
    #[test]
    fn arbitrary_bytes_and_armor_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        body in "[A-Za-z0-9+/=\n]{0,600}",
    ) {
        let _ = inspect(&bytes, Utc::now());
        let armored = format!(
            "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n{body}\n-----END PGP PUBLIC KEY BLOCK-----\n"
        );
        let _ = inspect(armored.as_bytes(), Utc::now());
    }

    /// A real key with bytes overwritten, inserted, deleted or cut off: the
    /// packet parser and the policy see almost-valid input, where bugs hide.
    #[test]
    fn mutated_real_keys_never_panic(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8),
        armored in any::<bool>(),
    ) {
        let (binary, armor) = real_key();
        let source = if armored { armor } else { binary };
        let _ = inspect(&mutate(source, &edits), Utc::now());
    }
}
