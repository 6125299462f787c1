//! Model provisioning at start-up: find the fetched CTranslate2 package, verify it against the
//! pinned SHA-256s, convert it to ggml once and cache the result next to it.
//!
//! Layout of the cache (`--model-dir`): `<dir>/<model>/{model.bin, vocabulary.txt, config.json}`
//! as unpacked by `scripts/fetch-model.sh`, plus `ggml-model.bin` and `ggml-model.bin.sha256`
//! written here. The ggml file is written to a temporary name and renamed, and its checksum is
//! re-verified on every start (≈0.2 s), so a crash mid-conversion or a damaged cache is noticed
//! and repaired by converting again instead of loading garbage (whisper.cpp does not check).

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::{AsrConfig, AsrError};

/// File name of the converted model inside `<model-dir>/<model>/`.
pub const GGML_FILE: &str = "ggml-model.bin";

/// SHA-256 of a file, lower-case hex.
pub fn sha256_file(path: &Path) -> Result<String, AsrError> {
    let mut f = std::fs::File::open(path)
        .map_err(|e| AsrError::io(format!("opening {}", path.display()), e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| AsrError::io(format!("reading {}", path.display()), e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Returns the path of a verified ggml model for `cfg.model`, converting it first if needed.
///
/// # Errors
/// [`AsrError::ModelMissing`] when the package was not fetched, [`AsrError::ModelInvalid`] when a
/// file fails its checksum or conversion, [`AsrError::Io`] when the cache cannot be written.
pub fn ensure_ggml(cfg: &AsrConfig) -> Result<PathBuf, AsrError> {
    let dir = cfg.model_dir.join(cfg.model.as_str());
    let ggml = dir.join(GGML_FILE);
    let sidecar = dir.join(format!("{GGML_FILE}.sha256"));
    let model_bin = dir.join("model.bin");
    let vocab = dir.join("vocabulary.txt");

    for f in [&model_bin, &vocab] {
        if !f.is_file() {
            // A converted model alone is not enough: we could not verify or repair it.
            return Err(AsrError::ModelMissing {
                model: cfg.model.to_string(),
                dir: cfg.model_dir.clone(),
                missing: f.clone(),
            });
        }
    }
    let expected = cfg.model.model_bin_sha256();
    if let (true, Ok(recorded)) = (ggml.is_file(), std::fs::read_to_string(&sidecar)) {
        let mut parts = recorded.split_whitespace();
        if let (Some(ggml_sum), Some(source_sum)) = (parts.next(), parts.next())
            && source_sum == expected
            && sha256_file(&ggml)? == ggml_sum
        {
            return Ok(ggml);
        }
        tracing::warn!(path = %ggml.display(), "cached ggml model does not match its checksum; converting again");
    }

    for (file, want) in [
        (&model_bin, expected),
        (&vocab, cfg.model.vocabulary_sha256()),
    ] {
        let got = sha256_file(file)?;
        if got != want {
            return Err(AsrError::invalid(
                file,
                format!(
                    "SHA-256 is {got}, expected {want}: the download is corrupt or incomplete; re-run `scripts/fetch-model.sh {}`",
                    cfg.model
                ),
            ));
        }
    }

    let started = std::time::Instant::now();
    let tmp = dir.join(format!("{GGML_FILE}.tmp-{}", std::process::id()));
    let result = crate::convert::convert_ct2_to_ggml(&dir, &tmp).and_then(|summary| {
        let sum = sha256_file(&tmp)?;
        let tmp_side = dir.join(format!("{GGML_FILE}.sha256.tmp-{}", std::process::id()));
        std::fs::write(&tmp_side, format!("{sum} {expected}\n"))
            .map_err(|e| AsrError::io(format!("writing {}", tmp_side.display()), e))?;
        std::fs::rename(&tmp, &ggml)
            .map_err(|e| AsrError::io(format!("renaming to {}", ggml.display()), e))?;
        std::fs::rename(&tmp_side, &sidecar)
            .map_err(|e| AsrError::io(format!("renaming to {}", sidecar.display()), e))?;
        Ok(summary)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    let summary = result?;
    tracing::info!(
        model = %cfg.model,
        path = %ggml.display(),
        tensors = summary.tensors,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "converted CTranslate2 model to ggml"
    );
    Ok(ggml)
}
