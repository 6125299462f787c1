//! Configuration: the command-line/environment flags the server and CLI flatten, and the
//! resolved [`AsrConfig`] the engine is built from.

use std::path::PathBuf;

/// The packaged models sealscribe knows how to fetch, verify and convert.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ModelName {
    /// Whisper tiny.en (English only, 39 M parameters): the fast option, about twice as fast as
    /// `base` but it garbles spoken digit strings (card numbers) and misses more words.
    #[value(name = "tiny.en")]
    TinyEn,
    /// Whisper base (multilingual, 74 M parameters): the default, accurate enough on spoken
    /// digits for redaction to be trusted (`docs/asr.md` has the cost in speed and memory).
    #[default]
    #[value(name = "base")]
    Base,
}

impl ModelName {
    /// The name as used on the command line, in the cache directory and by fetch-model.sh.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelName::TinyEn => "tiny.en",
            ModelName::Base => "base",
        }
    }

    /// SHA-256 of the unpacked CTranslate2 `model.bin` (pinned in scripts/fetch-model.sh too).
    pub fn model_bin_sha256(self) -> &'static str {
        match self {
            ModelName::TinyEn => "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
            ModelName::Base => "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        }
    }

    /// SHA-256 of the CTranslate2 `vocabulary.txt`.
    pub fn vocabulary_sha256(self) -> &'static str {
        match self {
            ModelName::TinyEn => "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
            ModelName::Base => "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
        }
    }
}

impl std::fmt::Display for ModelName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Speech-recognition flags, meant to be `#[command(flatten)]`ed into the server and CLI.
#[derive(clap::Args, Clone, Debug)]
pub struct AsrArgs {
    /// Speech model.
    #[arg(long = "asr-model", env = "SEALSCRIBE_ASR_MODEL", value_enum, default_value_t = ModelName::default())]
    pub asr_model: ModelName,

    /// Directory holding fetched model packages and their converted ggml files
    /// [default: ${XDG_CACHE_HOME:-$HOME/.cache}/sealscribe/models].
    #[arg(long = "model-dir", env = "SEALSCRIBE_MODEL_DIR")]
    pub model_dir: Option<PathBuf>,

    /// Compute threads for recognition, shared by concurrent jobs [default: number of cores].
    #[arg(long = "asr-threads", env = "SEALSCRIBE_ASR_THREADS")]
    pub asr_threads: Option<usize>,

    /// How many recognitions may run at once (each gets threads / concurrency threads).
    #[arg(
        long = "asr-concurrency",
        env = "SEALSCRIBE_ASR_CONCURRENCY",
        default_value_t = 1
    )]
    pub asr_concurrency: usize,
}

impl Default for AsrArgs {
    fn default() -> Self {
        AsrArgs {
            asr_model: ModelName::default(),
            model_dir: None,
            asr_threads: None,
            asr_concurrency: 1,
        }
    }
}

impl AsrArgs {
    /// Resolves defaults (model directory, core count) into an [`AsrConfig`].
    pub fn to_config(&self) -> AsrConfig {
        let mut cfg = AsrConfig::new(self.asr_model);
        if let Some(d) = &self.model_dir {
            cfg.model_dir = d.clone();
        }
        if let Some(t) = self.asr_threads {
            cfg.threads = t;
        }
        cfg.concurrency = self.asr_concurrency;
        cfg
    }
}

/// Resolved speech-recognition settings.
#[derive(Clone, Debug)]
pub struct AsrConfig {
    /// Which model to load.
    pub model: ModelName,
    /// Model cache directory (`<dir>/<model>/model.bin` etc.).
    pub model_dir: PathBuf,
    /// Total compute threads (clamped to the number of cores when the engine loads).
    pub threads: usize,
    /// Concurrent recognitions (clamped to the thread count when the engine loads).
    pub concurrency: usize,
}

impl AsrConfig {
    /// Defaults for `model`: the default model directory, all cores, one job at a time.
    pub fn new(model: ModelName) -> Self {
        AsrConfig {
            model,
            model_dir: default_model_dir(),
            threads: cores(),
            concurrency: 1,
        }
    }

    /// The environment's settings (`SEALSCRIBE_ASR_MODEL`, `SEALSCRIBE_MODEL_DIR`, …) without
    /// command-line parsing: what tests, benches and examples use.
    pub fn from_env() -> Result<Self, String> {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Env {
            #[command(flatten)]
            asr: AsrArgs,
        }
        Env::try_parse_from(["sealscribe"])
            .map(|e| e.asr.to_config())
            .map_err(|e| e.to_string())
    }
}

impl Default for AsrConfig {
    fn default() -> Self {
        AsrConfig::new(ModelName::default())
    }
}

/// Number of cores available to this process (at least 1).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// `${XDG_CACHE_HOME:-$HOME/.cache}/sealscribe/models` — the same default as fetch-model.sh.
pub fn default_model_dir() -> PathBuf {
    let nonempty = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    nonempty("XDG_CACHE_HOME")
        .or_else(|| nonempty("HOME").map(|h| h.join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"))
        .join("sealscribe")
        .join("models")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        asr: AsrArgs,
    }

    #[test]
    fn flags_parse() {
        let c = Cli::try_parse_from([
            "x",
            "--asr-model",
            "base",
            "--model-dir",
            "/m",
            "--asr-threads",
            "3",
            "--asr-concurrency",
            "2",
        ])
        .unwrap();
        let cfg = c.asr.to_config();
        assert_eq!(cfg.model, ModelName::Base);
        assert_eq!(cfg.model_dir, PathBuf::from("/m"));
        assert_eq!((cfg.threads, cfg.concurrency), (3, 2));
        assert!(Cli::try_parse_from(["x", "--asr-model", "large"]).is_err());
        assert_eq!(ModelName::TinyEn.to_string(), "tiny.en");
        // The accurate model is what a user gets without choosing.
        let c = Cli::try_parse_from(["x"]).unwrap();
        assert_eq!(c.asr.to_config().model, ModelName::Base);
        assert_eq!(AsrArgs::default().asr_model, ModelName::Base);
    }
}
