//! Test support (feature `test-support`): real keys and real decryption, made by the real
//! `gpg` (GnuPG 2.2) and `sq` (sequoia 0.27) binaries — no fixtures, no mocks.
//!
//! Every [`GpgHome`] is a private `GNUPGHOME` in a temporary directory; its `gpg-agent` is
//! killed when it is dropped, so parallel tests neither share keyrings nor leave agents
//! behind. Every failure panics with the tool's stderr: this is for tests only.
//!
//! Needs `gpg`, `gpgconf`, `sq` and `openssl` on `PATH` (`scripts/setup.sh --test`).

use std::{
    io::Write as _,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

use tempfile::TempDir;

/// Runs `cmd`, feeding `stdin`, and panics with its stderr unless it succeeds.
fn run(mut cmd: Command, stdin: &[u8]) -> Output {
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e} (is it installed?)"));
    let mut pipe = child.stdin.take().expect("stdin");
    let input = stdin.to_vec();
    // Write from a thread: the child may fill its stdout pipe before reading all of stdin.
    let feeder = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait");
    feeder.join().expect("stdin feeder");
    if !out.status.success() {
        panic!(
            "{what} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

/// A throw-away GnuPG home directory.
pub struct GpgHome {
    dir: TempDir,
}

impl Default for GpgHome {
    fn default() -> Self {
        Self::new()
    }
}

impl GpgHome {
    /// A new, empty GnuPG home (mode 0700, as gpg requires).
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("gpg")
            .tempdir()
            .expect("tempdir");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
                .expect("chmod");
        }
        GpgHome { dir }
    }

    /// The `GNUPGHOME` directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A `gpg` command on this home, in batch mode with an empty passphrase.
    pub fn command(&self) -> Command {
        self.command_with_passphrase("")
    }

    /// A `gpg` command on this home, in batch mode with `passphrase` given in loopback mode
    /// (for making, exporting and using passphrase-protected keys).
    pub fn command_with_passphrase(&self, passphrase: &str) -> Command {
        let mut cmd = Command::new("gpg");
        cmd.env("GNUPGHOME", self.path()).args([
            "--batch",
            "--no-tty",
            "--quiet",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            passphrase,
        ]);
        cmd
    }

    /// A `future-default` key (ed25519 + cv25519) protected by `passphrase`; returns its
    /// fingerprint. Export it with [`GpgHome::export_secret_protected`].
    pub fn gen_protected(&self, uid: &str, passphrase: &str) -> String {
        let mut cmd = self.command_with_passphrase(passphrase);
        cmd.args(["--quick-gen-key", uid, "future-default", "default", "1y"]);
        run(cmd, b"");
        self.fingerprint_of(uid)
    }

    /// `gpg --armor --export-secret-keys FPR` of a passphrase-protected key (the export keeps
    /// the protection).
    pub fn export_secret_protected(&self, fpr: &str, passphrase: &str) -> Vec<u8> {
        let mut cmd = self.command_with_passphrase(passphrase);
        cmd.args(["--armor", "--export-secret-keys", fpr]);
        run(cmd, b"").stdout
    }

    /// `gpg --encrypt` to `fpr` with gpg's defaults (ZLIB compression where the key allows
    /// it), armored or binary, plus `extra` options (e.g. `["-z", "0"]`).
    pub fn encrypt_to(&self, fpr: &str, plaintext: &[u8], armor: bool, extra: &[&str]) -> Vec<u8> {
        let mut args = vec!["--trust-model", "always", "--recipient", fpr];
        if armor {
            args.push("--armor");
        }
        args.extend_from_slice(extra);
        args.push("--encrypt");
        self.gpg(&args, plaintext)
    }

    /// `gpg --encrypt` of the file `input` to `fpr` into the file `output` (for inputs too big
    /// to hold in memory twice).
    pub fn encrypt_file(&self, fpr: &str, input: &Path, output: &Path, extra: &[&str]) {
        let mut cmd = self.command();
        cmd.args([
            "--trust-model",
            "always",
            "--recipient",
            fpr,
            "--yes",
            "--output",
        ])
        .arg(output)
        .args(extra)
        .arg("--encrypt")
        .arg(input);
        run(cmd, b"");
    }

    /// Runs gpg with `args` and `stdin`; returns stdout. Panics on failure.
    pub fn gpg(&self, args: &[&str], stdin: &[u8]) -> Vec<u8> {
        let mut cmd = self.command();
        cmd.args(args);
        run(cmd, stdin).stdout
    }

    /// `gpg --with-colons --list-keys` for `fpr`.
    pub fn colons(&self, fpr: &str) -> String {
        String::from_utf8(self.gpg(&["--with-colons", "--list-keys", fpr], b"")).expect("utf8")
    }

    /// The primary key's fingerprint of the key just made for `uid`.
    fn fingerprint_of(&self, uid: &str) -> String {
        let colons =
            String::from_utf8(self.gpg(&["--with-colons", "--list-keys", &format!("={uid}")], b""))
                .expect("utf8");
        colons
            .lines()
            .find(|l| l.starts_with("fpr:"))
            .and_then(|l| l.split(':').nth(9))
            .unwrap_or_else(|| panic!("no key for {uid}:\n{colons}"))
            .to_owned()
    }

    /// Fingerprints of the subkeys of `fpr`, in order.
    pub fn subkey_fingerprints(&self, fpr: &str) -> Vec<String> {
        let colons = self.colons(fpr);
        let mut out = Vec::new();
        let mut after_sub = false;
        for line in colons.lines() {
            if line.starts_with("sub:") {
                after_sub = true;
            } else if line.starts_with("fpr:") && after_sub {
                out.push(line.split(':').nth(9).unwrap_or_default().to_owned());
                after_sub = false;
            } else if line.starts_with("pub:") {
                after_sub = false;
            }
        }
        out
    }

    fn quick_gen(&self, extra: &[&str], uid: &str, algo: &str, usage: &str, expire: &str) {
        let mut args = extra.to_vec();
        args.extend(["--quick-gen-key", uid, algo, usage, expire]);
        self.gpg(&args, b"");
    }

    fn quick_add(&self, extra: &[&str], fpr: &str, algo: &str, usage: &str, expire: &str) {
        let mut args = extra.to_vec();
        args.extend(["--quick-add-key", fpr, algo, usage, expire]);
        self.gpg(&args, b"");
    }

    /// GnuPG's "RSA and RSA": an `rsa2048` primary key for certifying and signing, plus an
    /// `rsa2048` encryption subkey; both expire in one year. Returns the fingerprint.
    pub fn gen_rsa_and_rsa(&self, uid: &str) -> String {
        self.quick_gen(&[], uid, "rsa2048", "cert,sign", "1y");
        let fpr = self.fingerprint_of(uid);
        self.quick_add(&[], &fpr, "rsa2048", "encr", "1y");
        fpr
    }

    /// GnuPG's `future-default`: ed25519 primary key plus a cv25519 encryption subkey;
    /// expires in one year.
    pub fn gen_future_default(&self, uid: &str) -> String {
        self.quick_gen(&[], uid, "future-default", "default", "1y");
        self.fingerprint_of(uid)
    }

    /// An `rsa2048` key for signing (and certifying) only, with no encryption subkey.
    pub fn gen_sign_only(&self, uid: &str) -> String {
        self.quick_gen(&[], uid, "rsa2048", "sign", "1y");
        self.fingerprint_of(uid)
    }

    /// An "RSA and RSA" key of 1024 bits (primary and encryption subkey).
    pub fn gen_rsa1024(&self, uid: &str) -> String {
        self.quick_gen(&[], uid, "rsa1024", "cert,sign", "1y");
        let fpr = self.fingerprint_of(uid);
        self.quick_add(&[], &fpr, "rsa1024", "encr", "1y");
        fpr
    }

    /// A `future-default` key made two years ago (`--faked-system-time`) that expired one
    /// year after that.
    pub fn gen_expired(&self, uid: &str) -> String {
        let then = years_ago(2);
        self.quick_gen(
            &["--faked-system-time", &then],
            uid,
            "future-default",
            "default",
            "1y",
        );
        self.fingerprint_of(uid)
    }

    /// An `rsa2048` primary key that never expires, whose only encryption subkey (`rsa2048`,
    /// added two years ago for one year) has expired.
    pub fn gen_expired_subkey(&self, uid: &str) -> String {
        let then = years_ago(2);
        let fake = ["--faked-system-time", then.as_str()];
        self.quick_gen(&fake, uid, "rsa2048", "cert,sign", "never");
        let fpr = self.fingerprint_of(uid);
        self.quick_add(&fake, &fpr, "rsa2048", "encr", "1y");
        fpr
    }

    /// An "RSA and RSA" key whose primary key expires in `days` days.
    pub fn gen_expiring_in_days(&self, uid: &str, days: u32) -> String {
        let expire = format!("{days}d");
        self.quick_gen(&[], uid, "rsa2048", "cert,sign", &expire);
        let fpr = self.fingerprint_of(uid);
        self.quick_add(&[], &fpr, "rsa2048", "encr", &expire);
        fpr
    }

    /// Adds another encryption subkey (`algo`, e.g. `rsa2048`, `cv25519`) to `fpr`.
    pub fn add_encryption_subkey(&self, fpr: &str, algo: &str) {
        self.quick_add(&[], fpr, algo, "encr", "1y");
    }

    /// Revokes the primary key by importing the revocation certificate gpg made with it
    /// (`openpgp-revocs.d/FPR.rev`; its armor line is prefixed by ':' against accidents).
    pub fn revoke(&self, fpr: &str) {
        let path: PathBuf = self
            .path()
            .join("openpgp-revocs.d")
            .join(format!("{fpr}.rev"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let text = text.replace(
            ":-----BEGIN PGP PUBLIC KEY BLOCK",
            "-----BEGIN PGP PUBLIC KEY BLOCK",
        );
        self.gpg(&["--import"], text.as_bytes());
    }

    /// Revokes the `index`-th subkey (1-based, as in `gpg --edit-key`) of `fpr`.
    pub fn revoke_subkey(&self, fpr: &str, index: usize) {
        let mut cmd = self.command();
        cmd.args(["--command-fd", "0", "--edit-key", fpr]);
        // key N, revkey, "really revoke?" y, reason 0, empty description, "okay?" y, save.
        let script = format!("key {index}\nrevkey\ny\n0\n\ny\nsave\n");
        run(cmd, script.as_bytes());
    }

    /// `gpg --export` (armored or binary) of one or several keys.
    pub fn export_public_many(&self, fprs: &[&str], armor: bool) -> Vec<u8> {
        let mut args = vec!["--export"];
        if armor {
            args.insert(0, "--armor");
        }
        args.extend_from_slice(fprs);
        let out = self.gpg(&args, b"");
        assert!(!out.is_empty(), "gpg exported nothing for {fprs:?}");
        out
    }

    /// `gpg [--armor] --export FPR`.
    pub fn export_public(&self, fpr: &str, armor: bool) -> Vec<u8> {
        self.export_public_many(&[fpr], armor)
    }

    /// `gpg --armor --export-secret-keys FPR` (unprotected).
    pub fn export_secret(&self, fpr: &str) -> Vec<u8> {
        self.gpg(&["--armor", "--export-secret-keys", fpr], b"")
    }

    /// `gpg --export-secret-keys FPR`, binary.
    pub fn export_secret_binary(&self, fpr: &str) -> Vec<u8> {
        self.gpg(&["--export-secret-keys", fpr], b"")
    }

    /// `gpg --decrypt` with the secret keys in this home. Panics if gpg fails — including
    /// when the MDC (integrity protection) check fails.
    pub fn decrypt(&self, ciphertext: &[u8]) -> Vec<u8> {
        self.gpg(&["--decrypt"], ciphertext)
    }

    /// `gpg --decrypt --show-session-key`: the plaintext and gpg's stderr, which names the
    /// session key as `session key: 'ALGO:HEX'` (ALGO 9 = AES-256).
    pub fn decrypt_verbose(&self, ciphertext: &[u8]) -> (Vec<u8>, String) {
        let mut cmd = self.command();
        cmd.args(["--show-session-key", "--decrypt"]);
        let out = run(cmd, ciphertext);
        (
            out.stdout,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `gpg --list-packets` of `data` (decrypting, if it can, to show the inner packets).
    pub fn list_packets(&self, data: &[u8]) -> String {
        String::from_utf8_lossy(&self.gpg(&["--list-packets"], data)).into_owned()
    }
}

impl Drop for GpgHome {
    fn drop(&mut self) {
        // Stop this home's agent (and dirmngr, keyboxd if any); ignore failures.
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", self.path())
            .args(["--kill", "all"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A gpg `--faked-system-time` value `years` ago.
fn years_ago(years: i64) -> String {
    let t = chrono::Utc::now() - chrono::TimeDelta::days(365 * years + 1);
    t.format("%Y%m%dT%H%M%S").to_string()
}

/// A key made by `sq key generate` (sequoia 0.27: ed25519/cv25519 by default).
pub struct SqKey {
    /// The transferable secret key, armored.
    pub secret: Vec<u8>,
    /// `sq key extract-cert` of it: the certificate, armored.
    pub public: Vec<u8>,
}

/// Makes a key with `sq key generate --userid UID` and extracts its certificate.
pub fn sq_generate_key(uid: &str) -> SqKey {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("key.pgp");
    let mut cmd = Command::new("sq");
    cmd.args(["key", "generate", "--userid", uid, "--export"])
        .arg(&key);
    run(cmd, b"");
    let secret = std::fs::read(&key).expect("read sq key");
    let mut cmd = Command::new("sq");
    cmd.args(["key", "extract-cert"]);
    let public = run(cmd, &secret).stdout;
    SqKey { secret, public }
}

/// `sq encrypt --recipient-cert CERT` of `plaintext` (armored, sq's default).
pub fn sq_encrypt(cert: &[u8], plaintext: &[u8]) -> Vec<u8> {
    sq_with_file(&["encrypt", "--recipient-cert"], cert, plaintext)
}

/// The armored certificate of a fresh `sq key generate` key (to upload a key made by sq).
pub fn sq_export_public_key() -> Vec<u8> {
    sq_generate_key("Sq User <sq@example.com>").public
}

/// `sq decrypt --recipient-key KEY` of `ciphertext` with the transferable secret key
/// `secret_key` (armored or binary). Panics if sq fails.
pub fn sq_decrypt(secret_key: &[u8], ciphertext: &[u8]) -> Vec<u8> {
    sq_with_file(&["decrypt", "--recipient-key"], secret_key, ciphertext)
}

/// `sq ARGS FILE` with `key` written to FILE in a temporary directory, fed `stdin`.
fn sq_with_file(args: &[&str], key: &[u8], stdin: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("key.pgp");
    std::fs::write(&path, key).expect("write key file");
    let mut cmd = Command::new("sq");
    cmd.args(args).arg(&path);
    run(cmd, stdin).stdout
}

/// An RSA public key in X.509 SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`), made
/// by `openssl genpkey` + `openssl pkey -pubout`.
pub fn openssl_spki_pem() -> Vec<u8> {
    let mut cmd = Command::new("openssl");
    cmd.args([
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
    ]);
    let private = run(cmd, b"").stdout;
    let mut cmd = Command::new("openssl");
    cmd.args(["pkey", "-pubout"]);
    run(cmd, &private).stdout
}

/// A self-signed X.509 certificate in PEM (`-----BEGIN CERTIFICATE-----`), made by
/// `openssl req -x509`.
pub fn openssl_certificate_pem() -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new("openssl");
    cmd.args([
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
    ])
    .arg("/CN=sealscribe test")
    .arg("-keyout")
    .arg(dir.path().join("key.pem"))
    .arg("-out")
    .arg(dir.path().join("cert.pem"));
    run(cmd, b"");
    std::fs::read(dir.path().join("cert.pem")).expect("read cert")
}

/// An RSA private key in PEM (`-----BEGIN PRIVATE KEY-----`), made by `openssl genpkey`.
pub fn openssl_private_key_pem() -> Vec<u8> {
    let mut cmd = Command::new("openssl");
    cmd.args([
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
    ]);
    run(cmd, b"").stdout
}
