//! Voice activity detection: Silero VAD run by whisper.cpp, and the provisioning of its weights.
//!
//! Why: contact-centre calls are mostly not speech (ringing, hold music, long silences). Whisper
//! decodes whatever it is given and invents words for non-speech ("Thank you.", a looped
//! phrase), and every 30 s window costs the same compute whether anyone speaks or not. A small
//! detector in front of it (Silero VAD: ≈ 300 k parameters, a few µs of compute per 32 ms frame)
//! lets recognition see speech only — see [`crate::window::WindowPlanner`] for how its segments
//! become recognition windows.
//!
//! Why Silero through whisper.cpp: whisper.cpp (already linked for recognition) runs Silero
//! natively from a ggml file, so there is no new runtime (ONNX Runtime is not packaged for
//! Debian). No registry ships that ggml file, but PyPI's `silero-vad` wheel (MIT) ships the
//! weights as safetensors, so — as for the speech model ([`crate::convert`]) — we convert them:
//!
//! * input: `<model-dir>/silero-vad/silero_vad_16k.safetensors`, fetched from the pinned wheel by
//!   `scripts/fetch-model.sh silero-vad` and checked here against [`SILERO_SHA256`];
//! * output: `<model-dir>/silero-vad/ggml-silero-vad.bin` in the layout of whisper.cpp's
//!   `models/convert-silero-vad-to-ggml.py` (magic, `silero-16k`, version, window 512,
//!   context 64, four encoder convolutions, the LSTM cell and the final convolution, then the
//!   tensors with dims reversed: convolution weights and the STFT basis as f16, the rest f32),
//!   written to a temporary name and renamed, its SHA-256 recorded beside it and re-checked on
//!   every start as for the speech model.

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use whisper_rs::{WhisperVadContext, WhisperVadContextParams};

use crate::AsrError;
use crate::model::sha256_file;

/// Directory of the VAD model inside the model directory (also `fetch-model.sh`'s name).
pub const SILERO_DIR: &str = "silero-vad";
/// The weights as shipped in the `silero-vad` 6.2.3 wheel.
pub const SILERO_SAFETENSORS: &str = "silero_vad_16k.safetensors";
/// SHA-256 of [`SILERO_SAFETENSORS`] (the wheel's RECORD says the same; pinned in
/// `scripts/fetch-model.sh` too).
pub const SILERO_SHA256: &str = "c59271c284ae9c8335d795d60e0bfdb71aaaceec578d9bd9ffc1b8153c319ea1";
/// The converted file whisper.cpp loads.
pub const VAD_GGML_FILE: &str = "ggml-silero-vad.bin";
/// Samples per VAD frame (32 ms at 16 kHz): one speech probability each.
pub const FRAME: usize = 512;

const GGML_MAGIC: u32 = 0x6767_6d6c;
const VERSION: [usize; 3] = [6, 2, 3];

/// One tensor of the conversion: safetensors name, ggml name, expected PyTorch shape, f16 in
/// the output, and whether size-1 dims are dropped (as the reference's `squeeze()` does).
struct Row {
    src: &'static str,
    dst: &'static str,
    shape: &'static [usize],
    f16: bool,
    squeeze: bool,
}

const fn row(
    src: &'static str,
    dst: &'static str,
    shape: &'static [usize],
    f16: bool,
    squeeze: bool,
) -> Row {
    Row {
        src,
        dst,
        shape,
        f16,
        squeeze,
    }
}

/// In the reference converter's order (the STFT basis last).
const TENSORS: &[Row] = &[
    row(
        "conv1.weight",
        "_model.encoder.0.reparam_conv.weight",
        &[128, 129, 3],
        true,
        true,
    ),
    row(
        "conv1.bias",
        "_model.encoder.0.reparam_conv.bias",
        &[128],
        false,
        true,
    ),
    row(
        "conv2.weight",
        "_model.encoder.1.reparam_conv.weight",
        &[64, 128, 3],
        true,
        true,
    ),
    row(
        "conv2.bias",
        "_model.encoder.1.reparam_conv.bias",
        &[64],
        false,
        true,
    ),
    row(
        "conv3.weight",
        "_model.encoder.2.reparam_conv.weight",
        &[64, 64, 3],
        true,
        true,
    ),
    row(
        "conv3.bias",
        "_model.encoder.2.reparam_conv.bias",
        &[64],
        false,
        true,
    ),
    row(
        "conv4.weight",
        "_model.encoder.3.reparam_conv.weight",
        &[128, 64, 3],
        true,
        true,
    ),
    row(
        "conv4.bias",
        "_model.encoder.3.reparam_conv.bias",
        &[128],
        false,
        true,
    ),
    row(
        "lstm_cell.weight_ih",
        "_model.decoder.rnn.weight_ih",
        &[512, 128],
        false,
        true,
    ),
    row(
        "lstm_cell.weight_hh",
        "_model.decoder.rnn.weight_hh",
        &[512, 128],
        false,
        true,
    ),
    row(
        "lstm_cell.bias_ih",
        "_model.decoder.rnn.bias_ih",
        &[512],
        false,
        true,
    ),
    row(
        "lstm_cell.bias_hh",
        "_model.decoder.rnn.bias_hh",
        &[512],
        false,
        true,
    ),
    row(
        "final_conv.weight",
        "_model.decoder.decoder.2.weight",
        &[1, 128, 1],
        true,
        true,
    ),
    row(
        "final_conv.bias",
        "_model.decoder.decoder.2.bias",
        &[1],
        false,
        true,
    ),
    row(
        "stft_conv.weight",
        "_model.stft.forward_basis_buffer",
        &[258, 1, 256],
        true,
        false,
    ),
];

/// f32 → IEEE half, rounding to nearest even (what numpy's `astype(float16)` does).
pub(crate) fn f32_to_f16(x: f32) -> u16 {
    let b = x.to_bits();
    let sign = ((b >> 16) & 0x8000) as u16;
    let exp = ((b >> 23) & 0xff) as i32;
    let man = b & 0x7f_ffff;
    if exp == 0xff {
        return sign | 0x7c00 | if man != 0 { 0x200 } else { 0 };
    }
    let e = exp - 127 + 15;
    if e >= 0x1f {
        return sign | 0x7c00;
    }
    let round = |value: u32, rem: u32, half: u32| {
        if rem > half || (rem == half && value & 1 == 1) {
            value + 1
        } else {
            value
        }
    };
    if e <= 0 {
        if e < -10 {
            return sign;
        }
        let m = man | 0x80_0000;
        let shift = (14 - e) as u32;
        let r = round(m >> shift, m & ((1 << shift) - 1), 1 << (shift - 1));
        return sign | r as u16;
    }
    // A carry out of the mantissa correctly bumps the exponent (up to infinity).
    let h = round(((e as u32) << 10) | (man >> 13), man & 0x1fff, 0x1000);
    sign | h as u16
}

struct SafeTensor {
    shape: Vec<usize>,
    range: std::ops::Range<usize>,
}

/// The tensor index of a safetensors file: an 8-byte little-endian header length, a JSON header
/// `{name: {dtype, shape, data_offsets}}`, then the data.
fn parse_safetensors(path: &Path, data: &[u8]) -> Result<BTreeMap<String, SafeTensor>, AsrError> {
    let bad = |why: String| {
        AsrError::invalid(
            path,
            format!("{why}; re-run `scripts/fetch-model.sh silero-vad`"),
        )
    };
    let n = data
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
        .ok_or_else(|| bad("file is shorter than a safetensors header".into()))?;
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    let header = data
        .get(8..8usize.saturating_add(n))
        .ok_or_else(|| bad(format!("header of {n} bytes runs past the end of the file")))?;
    let json: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(header).map_err(|e| bad(format!("header is not JSON: {e}")))?;
    let body = 8 + n;
    let mut out = BTreeMap::new();
    for (name, v) in json {
        if name == "__metadata__" {
            continue;
        }
        let dtype = v.get("dtype").and_then(|d| d.as_str()).unwrap_or("?");
        if dtype != "F32" {
            return Err(bad(format!("tensor {name} is {dtype}, expected F32")));
        }
        let ints = |key: &str| -> Option<Vec<usize>> {
            v.get(key)?
                .as_array()?
                .iter()
                .map(|x| x.as_u64().and_then(|x| usize::try_from(x).ok()))
                .collect()
        };
        let (Some(shape), Some(offsets)) = (ints("shape"), ints("data_offsets")) else {
            return Err(bad(format!("tensor {name} has no shape or data offsets")));
        };
        let [a, b] = offsets[..] else {
            return Err(bad(format!(
                "tensor {name}: data_offsets must have two entries"
            )));
        };
        let range = body.saturating_add(a)..body.saturating_add(b);
        let elements: usize = shape.iter().product();
        if a > b || range.end > data.len() || b - a != elements * 4 {
            return Err(bad(format!(
                "tensor {name}: data {a}..{b} does not hold {elements} f32 values inside the file"
            )));
        }
        out.insert(name, SafeTensor { shape, range });
    }
    Ok(out)
}

/// What a conversion wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VadSummary {
    /// Tensors written.
    pub tensors: usize,
}

/// Converts Silero VAD safetensors (the `silero-vad` wheel's `silero_vad_16k.safetensors`) into
/// whisper.cpp's ggml VAD file at `out` (overwritten).
///
/// # Errors
/// [`AsrError::ModelInvalid`] naming the file and what is wrong (not safetensors, a tensor
/// missing or of another shape), [`AsrError::Io`] when a file cannot be read or written.
pub fn convert_silero_to_ggml(safetensors: &Path, out: &Path) -> Result<VadSummary, AsrError> {
    let data = std::fs::read(safetensors)
        .map_err(|e| AsrError::io(format!("reading {}", safetensors.display()), e))?;
    let index = parse_safetensors(safetensors, &data)?;
    let file = std::fs::File::create(out)
        .map_err(|e| AsrError::io(format!("creating {}", out.display()), e))?;
    let mut w = BufWriter::new(file);
    let mut bytes: Vec<u8> = Vec::with_capacity(data.len());
    let i32s = |v: &mut Vec<u8>, xs: &[usize]| {
        for &x in xs {
            v.extend_from_slice(&(x as i32).to_le_bytes());
        }
    };
    bytes.extend_from_slice(&GGML_MAGIC.to_le_bytes());
    let kind = b"silero-16k";
    i32s(&mut bytes, &[kind.len()]);
    bytes.extend_from_slice(kind);
    i32s(&mut bytes, &VERSION);
    i32s(&mut bytes, &[FRAME, 64, 4]); // window, context, encoder layers
    for (cin, cout) in [(129, 128), (128, 64), (64, 64), (64, 128)] {
        i32s(&mut bytes, &[cin, cout, 3]);
    }
    i32s(&mut bytes, &[128, 128, 128, 1]); // LSTM in/hidden, final conv in/out
    for r in TENSORS {
        let t = index.get(r.src).ok_or_else(|| {
            AsrError::invalid(
                safetensors,
                format!(
                    "tensor {} is missing: not the Silero VAD 16 kHz model",
                    r.src
                ),
            )
        })?;
        if t.shape != r.shape {
            return Err(AsrError::invalid(
                safetensors,
                format!(
                    "tensor {} has shape {:?}, expected {:?}",
                    r.src, t.shape, r.shape
                ),
            ));
        }
        let dims: Vec<usize> = if r.squeeze {
            t.shape.iter().copied().filter(|&d| d != 1).collect()
        } else {
            t.shape.clone()
        };
        i32s(&mut bytes, &[dims.len(), r.dst.len(), usize::from(r.f16)]);
        let reversed: Vec<usize> = dims.iter().rev().copied().collect();
        i32s(&mut bytes, &reversed);
        bytes.extend_from_slice(r.dst.as_bytes());
        let floats = data[t.range.clone()]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]));
        if r.f16 {
            bytes.extend(floats.flat_map(|x| f32_to_f16(x).to_le_bytes()));
        } else {
            bytes.extend(floats.flat_map(f32::to_le_bytes));
        }
    }
    w.write_all(&bytes)
        .and_then(|()| w.flush())
        .map_err(|e| AsrError::io(format!("writing {}", out.display()), e))?;
    Ok(VadSummary {
        tensors: TENSORS.len(),
    })
}

/// Returns the path of a verified ggml Silero VAD model in `model_dir`, converting the fetched
/// weights first if needed (see the module documentation for the cache layout).
///
/// # Errors
/// [`AsrError::ModelMissing`] when the weights were not fetched, [`AsrError::ModelInvalid`] when
/// they fail their checksum or conversion, [`AsrError::Io`] when the cache cannot be written.
pub fn ensure_vad_ggml(model_dir: &Path) -> Result<PathBuf, AsrError> {
    let dir = model_dir.join(SILERO_DIR);
    let src = dir.join(SILERO_SAFETENSORS);
    let ggml = dir.join(VAD_GGML_FILE);
    let sidecar = dir.join(format!("{VAD_GGML_FILE}.sha256"));
    if !src.is_file() {
        return Err(AsrError::ModelMissing {
            model: SILERO_DIR.into(),
            dir: model_dir.to_path_buf(),
            missing: src,
        });
    }
    if let (true, Ok(recorded)) = (ggml.is_file(), std::fs::read_to_string(&sidecar)) {
        let mut parts = recorded.split_whitespace();
        if let (Some(ggml_sum), Some(source_sum)) = (parts.next(), parts.next())
            && source_sum == SILERO_SHA256
            && sha256_file(&ggml)? == ggml_sum
        {
            return Ok(ggml);
        }
        tracing::warn!(path = %ggml.display(), "cached VAD model does not match its checksum; converting again");
    }
    let got = sha256_file(&src)?;
    if got != SILERO_SHA256 {
        return Err(AsrError::invalid(
            &src,
            format!(
                "SHA-256 is {got}, expected {SILERO_SHA256}: the download is corrupt or incomplete; re-run `scripts/fetch-model.sh silero-vad`"
            ),
        ));
    }
    let pid = std::process::id();
    let tmp = dir.join(format!("{VAD_GGML_FILE}.tmp-{pid}"));
    let tmp_side = dir.join(format!("{VAD_GGML_FILE}.sha256.tmp-{pid}"));
    let result = convert_silero_to_ggml(&src, &tmp).and_then(|_| {
        let sum = sha256_file(&tmp)?;
        std::fs::write(&tmp_side, format!("{sum} {SILERO_SHA256}\n"))
            .map_err(|e| AsrError::io(format!("writing {}", tmp_side.display()), e))?;
        std::fs::rename(&tmp, &ggml)
            .map_err(|e| AsrError::io(format!("renaming to {}", ggml.display()), e))?;
        std::fs::rename(&tmp_side, &sidecar)
            .map_err(|e| AsrError::io(format!("renaming to {}", sidecar.display()), e))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
        let _ = std::fs::remove_file(&tmp_side);
    }
    result?;
    tracing::info!(path = %ggml.display(), "converted Silero VAD weights to ggml");
    Ok(ggml)
}

/// Something that says, for each [`FRAME`] of 16 kHz audio, how likely it is speech.
///
/// A trait so that the window planner can be tested without the model.
pub trait SpeechDetector {
    /// One probability in 0..1 per started [`FRAME`] of `pcm` (a last partial frame is padded
    /// with silence). The detector's memory starts afresh on every call.
    ///
    /// # Errors
    /// [`AsrError::Engine`] when the detector fails.
    fn speech_probabilities(&mut self, pcm: &[f32]) -> Result<Vec<f32>, AsrError>;
}

/// Silero VAD loaded by whisper.cpp: one per concurrent recognition (it keeps LSTM state).
pub struct SileroVad {
    ctx: WhisperVadContext,
}

impl std::fmt::Debug for SileroVad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SileroVad").finish_non_exhaustive()
    }
}

impl SileroVad {
    /// Loads a converted model ([`ensure_vad_ggml`]) with `threads` compute threads.
    ///
    /// # Errors
    /// [`AsrError::ModelInvalid`] when whisper.cpp refuses the file.
    pub fn load(path: &Path, threads: usize) -> Result<Self, AsrError> {
        let name = path
            .to_str()
            .filter(|s| !s.contains('\0'))
            .ok_or_else(|| AsrError::invalid(path, "the path is not valid UTF-8"))?;
        let mut params = WhisperVadContextParams::new();
        params.set_n_threads(i32::try_from(threads).unwrap_or(1));
        params.set_use_gpu(false);
        let ctx = WhisperVadContext::new(name, params).map_err(|e| {
            AsrError::invalid(
                path,
                format!("whisper.cpp cannot load it as a VAD model ({e}); delete it to have it converted again"),
            )
        })?;
        Ok(SileroVad { ctx })
    }
}

impl SpeechDetector for SileroVad {
    fn speech_probabilities(&mut self, pcm: &[f32]) -> Result<Vec<f32>, AsrError> {
        if pcm.is_empty() {
            return Ok(Vec::new());
        }
        self.ctx
            .detect_speech(pcm)
            .map_err(|e| AsrError::Engine(format!("voice activity detection failed: {e}")))?;
        Ok(self.ctx.probabilities().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::f16_to_f32;

    #[test]
    fn f16_encoding_rounds_to_nearest_even() {
        for (x, h) in [
            (1.0f32, 0x3c00u16),
            (-2.0, 0xc000),
            (65504.0, 0x7bff),
            (65520.0, 0x7c00), // rounds up to infinity
            (2f32.powi(-24), 0x0001),
            (2f32.powi(-26), 0x0000),
            (0.0, 0x0000),
            (-0.0, 0x8000),
            (f32::INFINITY, 0x7c00),
            (1.0 + 2f32.powi(-11), 0x3c00),       // tie, even stays
            (1.0 + 3.0 * 2f32.powi(-11), 0x3c02), // tie, odd rounds up
        ] {
            assert_eq!(f32_to_f16(x), h, "{x}");
        }
        assert!(f16_to_f32(f32_to_f16(f32::NAN)).is_nan());
        // Every finite half survives the round trip.
        for h in 0u16..0x7c00 {
            assert_eq!(f32_to_f16(f16_to_f32(h)), h);
            assert_eq!(f32_to_f16(f16_to_f32(h | 0x8000)), h | 0x8000);
        }
    }

    fn safetensors(tensors: &[(&str, Vec<usize>)]) -> Vec<u8> {
        let mut header = serde_json::Map::new();
        let mut off = 0;
        for (name, shape) in tensors {
            let n: usize = shape.iter().product();
            header.insert(
                (*name).into(),
                serde_json::json!({"dtype": "F32", "shape": shape, "data_offsets": [off, off + 4 * n]}),
            );
            off += 4 * n;
        }
        let h = serde_json::to_vec(&header).unwrap();
        let mut out = (h.len() as u64).to_le_bytes().to_vec();
        out.extend(h);
        out.extend((0..off / 4).flat_map(|i| (i as f32 * 0.001).to_le_bytes()));
        out
    }

    /// A file with every tensor converts; the output has the loader's layout and size; a
    /// missing tensor, a wrong shape and garbage are refused by name.
    #[test]
    fn converts_and_rejects() {
        let dir = tempfile::tempdir().unwrap();
        let all: Vec<(&str, Vec<usize>)> =
            TENSORS.iter().map(|r| (r.src, r.shape.to_vec())).collect();
        let src = dir.path().join("vad.safetensors");
        let out = dir.path().join("vad.bin");
        std::fs::write(&src, safetensors(&all)).unwrap();
        assert_eq!(convert_silero_to_ggml(&src, &out).unwrap().tensors, 15);
        let b = std::fs::read(&out).unwrap();
        assert_eq!(&b[..4], &GGML_MAGIC.to_le_bytes());
        assert_eq!(&b[8..18], b"silero-16k");
        let halves: usize = TENSORS
            .iter()
            .filter(|r| r.f16)
            .map(|r| r.shape.iter().product::<usize>())
            .sum();
        let floats: usize = TENSORS
            .iter()
            .filter(|r| !r.f16)
            .map(|r| r.shape.iter().product::<usize>())
            .sum();
        let headers: usize = TENSORS
            .iter()
            .map(|r| {
                let dims = if r.squeeze {
                    r.shape.iter().filter(|&&d| d != 1).count()
                } else {
                    r.shape.len()
                };
                12 + 4 * dims + r.dst.len()
            })
            .sum();
        assert_eq!(
            b.len(),
            4 + 4 + 10 + 12 + 12 + 48 + 16 + headers + 2 * halves + 4 * floats
        );

        std::fs::write(&src, safetensors(&all[1..])).unwrap();
        let e = convert_silero_to_ggml(&src, &out).unwrap_err().to_string();
        assert!(e.contains("conv1.weight is missing"), "{e}");
        let mut wrong = all.clone();
        wrong[0].1 = vec![128, 129, 5];
        std::fs::write(&src, safetensors(&wrong)).unwrap();
        let e = convert_silero_to_ggml(&src, &out).unwrap_err().to_string();
        assert!(e.contains("has shape"), "{e}");
        std::fs::write(&src, b"\xff\xff\xff\xff\xff\xff\xff\x7fgarbage").unwrap();
        let e = convert_silero_to_ggml(&src, &out).unwrap_err();
        assert!(matches!(e, AsrError::ModelInvalid { .. }), "{e}");
    }
}
