//! WAV files for tests and benches: the canonical 44-byte header of 16 kHz
//! mono 16-bit PCM, and files built on it. Large files are written in 1 MiB
//! pieces so a 400 MiB upload test does not hold 400 MiB.

use std::io::Write;
use std::path::Path;

/// The sample rate of every file written here (the recogniser's rate).
pub const RATE: u32 = 16_000;

/// The header of a 16 kHz mono 16-bit PCM WAV whose data is `data_len` bytes.
pub fn header(data_len: u32) -> [u8; 44] {
    header_channels(1, data_len)
}

/// The header of a 16 kHz 16-bit PCM WAV of `channels` interleaved channels whose data is
/// `data_len` bytes.
pub fn header_channels(channels: u16, data_len: u32) -> [u8; 44] {
    let mut h = [0u8; 44];
    let fields: [&[u8]; 12] = [
        b"RIFF",
        &(36 + data_len).to_le_bytes(),
        b"WAVEfmt ",
        &16u32.to_le_bytes(),
        &1u16.to_le_bytes(), // PCM
        &channels.to_le_bytes(),
        &RATE.to_le_bytes(),
        &(RATE * u32::from(channels) * 2).to_le_bytes(), // bytes per second
        &(channels * 2).to_le_bytes(),                   // block align
        &16u16.to_le_bytes(),                            // bits per sample
        b"data",
        &data_len.to_le_bytes(),
    ];
    let mut at = 0;
    for f in fields {
        h[at..at + f.len()].copy_from_slice(f);
        at += f.len();
    }
    h
}

/// Writes `samples` (clamped to -1..=1) as a WAV file.
pub fn write_samples(path: &Path, samples: &[f32]) {
    let data_len = u32::try_from(samples.len() * 2).expect("fits a WAV");
    let mut b = Vec::with_capacity(44 + samples.len() * 2);
    b.extend_from_slice(&header(data_len));
    for &x in samples {
        b.extend_from_slice(&((x.clamp(-1.0, 1.0) * 32767.0) as i16).to_le_bytes());
    }
    std::fs::write(path, b).expect("write wav");
}

/// A 16 kHz 16-bit PCM WAV of `channels` (of equal length), interleaved: a stereo call is
/// `&[&left, &right]`.
pub fn channels_i16(channels: &[&[i16]]) -> Vec<u8> {
    let n = channels.first().map_or(0, |c| c.len());
    assert!(
        channels.iter().all(|c| c.len() == n),
        "channels of equal length"
    );
    let count = u16::try_from(channels.len()).expect("a WAV's channel count");
    let data_len = u32::try_from(n * channels.len() * 2).expect("fits a WAV");
    let mut b = Vec::with_capacity(44 + data_len as usize);
    b.extend_from_slice(&header_channels(count, data_len));
    for i in 0..n {
        for c in channels {
            b.extend_from_slice(&c[i].to_le_bytes());
        }
    }
    b
}

/// [`channels_i16`] from samples in -1..=1 (clamped).
pub fn channels_f32(channels: &[&[f32]]) -> Vec<u8> {
    let s16: Vec<Vec<i16>> = channels
        .iter()
        .map(|c| {
            c.iter()
                .map(|&x| (x.clamp(-1.0, 1.0) * 32767.0) as i16)
                .collect()
        })
        .collect();
    let refs: Vec<&[i16]> = s16.iter().map(Vec::as_slice).collect();
    channels_i16(&refs)
}

/// Writes a WAV file of `data_len` bytes of silence.
pub fn write_silence(path: &Path, data_len: u32) {
    write_pieces(path, data_len, |_| {});
}

/// Writes a WAV file of `data_len` bytes of pseudo-random samples (from
/// `seed`), so that no layer can shortcut runs of zeros.
pub fn write_noise(path: &Path, data_len: u32, seed: u64) {
    let mut rng = crate::Rng(seed);
    write_pieces(path, data_len, |piece| rng.fill(piece));
}

fn write_pieces(path: &Path, data_len: u32, mut fill: impl FnMut(&mut [u8])) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create wav"));
    f.write_all(&header(data_len)).expect("write wav");
    let mut piece = vec![0u8; 1 << 20];
    let mut left = data_len as usize;
    while left > 0 {
        let n = left.min(piece.len());
        fill(&mut piece[..n]);
        f.write_all(&piece[..n]).expect("write wav");
        left -= n;
    }
    f.flush().expect("write wav");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_canonical() {
        let h = header(32_000);
        assert_eq!(&h[..4], b"RIFF");
        assert_eq!(u32::from_le_bytes(h[4..8].try_into().unwrap()), 36 + 32_000);
        assert_eq!(&h[8..16], b"WAVEfmt ");
        assert_eq!(&h[36..40], b"data");
        assert_eq!(u32::from_le_bytes(h[40..44].try_into().unwrap()), 32_000);
    }

    #[test]
    fn files_have_the_declared_length() {
        let dir = std::env::temp_dir().join(format!("testkit-wav-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        write_noise(&dir.join("n.wav"), 3 << 20 | 5, 1);
        write_silence(&dir.join("s.wav"), 10);
        write_samples(&dir.join("p.wav"), &[0.0, 1.0, -2.0]);
        let len = |n: &str| std::fs::metadata(dir.join(n)).unwrap().len();
        assert_eq!(
            (len("n.wav"), len("s.wav"), len("p.wav")),
            (44 + (3 << 20 | 5), 54, 50)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
