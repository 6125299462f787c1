//! Helpers shared by the integration tests (and, through `#[path]`, the benchmark): speech
//! synthesis with espeak-ng, WAV writing, and word error rate.
//!
//! Audio is always made at test time in a temporary directory; none is committed.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::process::Command;

/// Sentences for the accuracy tests: everyday vocabulary, no numbers (whisper writes digits),
/// and not "the quick brown fox", which tiny.en garbles.
pub const SENTENCES: &[&str] = &[
    "The weather today is sunny with a light breeze from the west.",
    "Please send the quarterly report to the finance team before Friday.",
    "We need to buy bread, milk and eggs from the market.",
    "The train to the city was delayed because of heavy snow.",
    "She opened the window to let some fresh air into the room.",
    "Our customer service team will call you back tomorrow morning.",
    "The children played football in the garden after school.",
    "He forgot his umbrella and got wet in the rain.",
    "Can you tell me where the nearest hospital is located?",
    "The meeting has been moved to the large conference room upstairs.",
    "My favorite season is autumn when the leaves turn red and gold.",
    "Remember to lock the door when you leave the office tonight.",
];

/// Fails the test (not skips) when a required program is missing.
pub fn require_tool(tool: &str, version_flag: &str) {
    let ok = Command::new(tool)
        .arg(version_flag)
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "`{tool}` is required by the speech-recognition tests but could not be run; install it with scripts/setup.sh --test"
    );
}

pub fn require_tools() {
    require_tool("ffmpeg", "-version");
    require_tool("ffprobe", "-version");
    require_tool("espeak-ng", "--version");
}

/// Synthesises `text` with espeak-ng (US English, 150 words/min) into `dir/name.wav`
/// (22.05 kHz mono, as espeak writes it).
pub fn speak(dir: &Path, name: &str, text: &str) -> PathBuf {
    let out = dir.join(format!("{name}.wav"));
    let status = Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "150", "-w"])
        .arg(&out)
        .arg(text)
        .status()
        .expect("espeak-ng runs");
    assert!(status.success(), "espeak-ng failed for {text:?}");
    out
}

/// Runs ffmpeg with `args` (quiet, overwrite) and asserts success.
pub fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-v", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg runs");
    assert!(
        out.status.success(),
        "ffmpeg {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A telephone channel: 300–3400 Hz (two cascaded 2-pole filters each side, as a channel
/// filter falls off), resampled to 8 kHz mono, G.711 μ-law in WAV.
pub const TELEPHONE_CHANNEL: &[&str] = &[
    "-af",
    "highpass=f=300,highpass=f=300,lowpass=f=3400,lowpass=f=3400",
    "-ac",
    "1",
    "-ar",
    "8000",
    "-c:a",
    "pcm_mulaw",
];

/// `wav` passed through [`TELEPHONE_CHANNEL`] into `out` (a `.wav` path).
pub fn telephone(wav: &Path, out: &Path) -> PathBuf {
    let mut a = vec!["-i", wav.to_str().unwrap()];
    a.extend_from_slice(TELEPHONE_CHANNEL);
    a.push(out.to_str().unwrap());
    ffmpeg(&a);
    out.to_path_buf()
}

/// Real read speech shipped by Debian's `pocketsphinx-testdata` (BSD-2): five LibriVox clips of
/// *Sense and Sensibility* and five CMU recordings of card names ("ten of clubs"), 16 kHz.
pub const HUMAN: &str = "/usr/share/pocketsphinx/test/data";

/// (wav, reference) pairs of a pocketsphinx transcription file (`<s> text </s> (id)`).
pub fn human_set(dir: &str, transcription: &str) -> Vec<(PathBuf, String)> {
    let Ok(text) = std::fs::read_to_string(Path::new(HUMAN).join(dir).join(transcription)) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| {
            let (words, id) = l.rsplit_once('(')?;
            let id = id.trim().trim_end_matches(')');
            let words = words.replace("<s>", "").replace("</s>", "");
            Some((
                Path::new(HUMAN).join(dir).join(format!("{id}.wav")),
                words.trim().to_string(),
            ))
        })
        .collect()
}

/// Writes 16 kHz mono 16-bit PCM WAV.
pub use sealscribe_testkit::wav::write_samples as write_wav;

/// A long file of concatenated sentences with pauses of varying length between them.
pub struct LongSpeech {
    pub path: PathBuf,
    pub pcm: Vec<f32>,
    /// Per sentence: its text, where its clip starts and ends, and its first audible sample (ms).
    pub clips: Vec<Clip>,
}

pub struct Clip {
    pub text: &'static str,
    pub start_ms: u64,
    pub end_ms: u64,
    pub onset_ms: u64,
}

/// Builds at least `min_secs` of speech by cycling through [`SENTENCES`].
pub fn long_speech(dir: &Path, min_secs: u64) -> LongSpeech {
    let clips_pcm: Vec<Vec<f32>> = SENTENCES
        .iter()
        .enumerate()
        .map(|(i, s)| {
            sealscribe_asr::decode_to_pcm16k(speak(dir, &format!("long{i}"), s)).expect("decode")
        })
        .collect();
    let gaps_ms = [250u64, 600, 400, 900, 300, 700];
    let mut pcm = Vec::new();
    let mut clips = Vec::new();
    let mut i = 0;
    while (pcm.len() as u64) < min_secs * 16_000 {
        let k = i % SENTENCES.len();
        let start = pcm.len();
        let clip = &clips_pcm[k];
        let onset = clip.iter().position(|x| x.abs() > 0.02).unwrap_or(0);
        pcm.extend_from_slice(clip);
        clips.push(Clip {
            text: SENTENCES[k],
            start_ms: start as u64 / 16,
            end_ms: pcm.len() as u64 / 16,
            onset_ms: (start + onset) as u64 / 16,
        });
        pcm.extend(std::iter::repeat_n(
            0.0,
            (gaps_ms[i % gaps_ms.len()] * 16) as usize,
        ));
        i += 1;
    }
    let path = dir.join("long.wav");
    write_wav(&path, &pcm);
    LongSpeech { path, pcm, clips }
}

/// Number words and the numerals they stand for, for [`normalise`].
const NUMBER_WORDS: &[(&str, &str)] = &[
    ("zero", "0"),
    ("one", "1"),
    ("two", "2"),
    ("three", "3"),
    ("four", "4"),
    ("five", "5"),
    ("six", "6"),
    ("seven", "7"),
    ("eight", "8"),
    ("nine", "9"),
    ("ten", "10"),
    ("eleven", "11"),
    ("twelve", "12"),
    ("thirteen", "13"),
    ("fourteen", "14"),
    ("fifteen", "15"),
    ("sixteen", "16"),
    ("seventeen", "17"),
    ("eighteen", "18"),
    ("nineteen", "19"),
    ("twenty", "20"),
    ("thirty", "30"),
    ("forty", "40"),
    ("fifty", "50"),
    ("sixty", "60"),
    ("seventy", "70"),
    ("eighty", "80"),
    ("ninety", "90"),
];

/// Lower-case words without punctuation; hyphens split words. Numbers are scored as what was
/// said, whichever way it was written: a number word becomes its numeral ("eight" → "8"), and a
/// numeral that is not one number word is read digit by digit ("55" → "5 5", as in "five
/// five"), so whisper writing "8 of spades" for "eight of spades" is no error, while "fifty
/// five" against "55" still is one.
pub fn normalise(text: &str) -> Vec<String> {
    text.to_lowercase()
        .replace(['-', '—', '–'], " ")
        .split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric() || *c == '\'')
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .flat_map(|w| {
            if let Some((_, n)) = NUMBER_WORDS.iter().find(|(word, _)| *word == w) {
                return vec![(*n).to_owned()];
            }
            let one_word = NUMBER_WORDS.iter().any(|(_, n)| *n == w);
            if w.chars().all(|c| c.is_ascii_digit()) && !one_word {
                return w.chars().map(String::from).collect();
            }
            vec![w]
        })
        .collect()
}

/// Word-level Levenshtein distance.
pub fn edits(reference: &[String], hypothesis: &[String]) -> usize {
    let mut prev: Vec<usize> = (0..=hypothesis.len()).collect();
    for (i, r) in reference.iter().enumerate() {
        let mut cur = vec![i + 1; hypothesis.len() + 1];
        for (j, h) in hypothesis.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(r != h))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[hypothesis.len()]
}

/// Word error rate of `hypothesis` against `reference`, after normalisation.
pub fn wer(reference: &str, hypothesis: &str) -> f64 {
    let r = normalise(reference);
    edits(&r, &normalise(hypothesis)) as f64 / r.len().max(1) as f64
}

/// Word alignment (minimum edit distance with backtrace): for each reference word, the index of
/// the hypothesis word it was matched to exactly, if any; and the hypothesis words that were
/// inserted (matched to nothing).
pub fn align(reference: &[String], hypothesis: &[String]) -> (Vec<Option<usize>>, Vec<usize>) {
    let (n, m) = (reference.len(), hypothesis.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let sub = d[i - 1][j - 1] + usize::from(reference[i - 1] != hypothesis[j - 1]);
            d[i][j] = sub.min(d[i - 1][j] + 1).min(d[i][j - 1] + 1);
        }
    }
    let (mut matched, mut inserted) = (vec![None; n], Vec::new());
    let (mut i, mut j) = (n, m);
    while i > 0 || j > 0 {
        if i > 0
            && j > 0
            && d[i][j] == d[i - 1][j - 1] + usize::from(reference[i - 1] != hypothesis[j - 1])
        {
            if reference[i - 1] == hypothesis[j - 1] {
                matched[i - 1] = Some(j - 1);
            }
            i -= 1;
            j -= 1;
        } else if i > 0 && d[i][j] == d[i - 1][j] + 1 {
            i -= 1;
        } else {
            inserted.push(j - 1);
            j -= 1;
        }
    }
    inserted.reverse();
    (matched, inserted)
}

/// `secs` of synthetic hold music: a three-note chord whose notes change every second, with a
/// slow tremolo, at 16 kHz mono (no speech in it).
pub fn hold_music(dir: &Path, secs: u32) -> Vec<f32> {
    let path = dir.join(format!("music{secs}.wav"));
    let p = path.to_str().unwrap().to_string();
    let expr = "0.15*sin(2*PI*t*(220+55*mod(floor(t),4)))\
                +0.1*sin(2*PI*t*(330+55*mod(floor(t/2),3)))\
                +0.08*sin(2*PI*t*(440+110*mod(floor(t/3),2)))";
    // Commas inside a filter argument must be escaped.
    let src = format!("aevalsrc={}:s=16000:d={secs}", expr.replace(',', "\\,"));
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &src,
        "-af",
        "tremolo=f=3:d=0.4",
        "-ac",
        "1",
        "-ar",
        "16000",
        &p,
    ]);
    sealscribe_asr::decode_to_pcm16k(&path).expect("music decodes")
}

/// Low line noise (≈ -40 dBFS white noise): quiet, but above the silence gate, so that without
/// VAD whisper would be run on it. `seed` (non-zero) picks the xorshift sequence.
pub fn line_noise(secs: f64, seed: u32) -> Vec<f32> {
    assert_ne!(seed, 0, "xorshift needs a non-zero seed");
    let mut x = seed;
    (0..(secs * 16_000.0) as usize)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x as f32 / u32::MAX as f32 - 0.5) * 0.035
        })
        .collect()
}
