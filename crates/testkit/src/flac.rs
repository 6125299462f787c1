//! Long FLAC files of silence, written directly: a valid file of any length
//! costs about 16 bytes per 16384 samples (one CONSTANT subframe per frame),
//! so a 100-hour file is under 3 MB and takes milliseconds to make. The
//! hostile-input tests use it as a "decompression bomb": tiny to upload,
//! about 23 GB once decoded to 16 kHz f32.
//!
//! Format: `fLaC`, a STREAMINFO block (MD5 zero = not computed), then
//! fixed-blocksize frames, mono, 16 bits, each with its CRC-8 header check
//! and CRC-16 footer, as the FLAC format specification describes.

/// Samples per frame (the streamable-subset maximum).
const BLOCK: u64 = 16384;

/// A mono 16-bit FLAC file of `seconds` of silence at `rate` Hz.
pub fn silence(rate: u32, seconds: u64) -> Vec<u8> {
    let total = u64::from(rate) * seconds;
    let mut out = b"fLaC".to_vec();
    // Last metadata block, type 0 (STREAMINFO), 34 bytes.
    out.extend_from_slice(&[0x80, 0, 0, 34]);
    let block = BLOCK as u16;
    out.extend_from_slice(&block.to_be_bytes());
    out.extend_from_slice(&block.to_be_bytes());
    out.extend_from_slice(&[0; 6]); // min/max frame size: unknown
    // 20 bits rate, 3 bits channels-1 (0), 5 bits bits-1 (15), 36 bits samples.
    let packed: u64 = (u64::from(rate) << 44) | (15 << 36) | (total & ((1 << 36) - 1));
    out.extend_from_slice(&packed.to_be_bytes());
    out.extend_from_slice(&[0; 16]); // MD5: not computed
    let (mut done, mut number) = (0u64, 0u64);
    while done < total {
        let n = BLOCK.min(total - done);
        let start = out.len();
        // Sync + fixed blocking; blocksize from the 16-bit field, rate from
        // STREAMINFO; mono; 16 bits.
        out.extend_from_slice(&[0xFF, 0xF8, 0x70, 0x08]);
        utf8_number(&mut out, number);
        out.extend_from_slice(&((n - 1) as u16).to_be_bytes());
        let c8 = crc8(&out[start..]);
        out.push(c8);
        // Subframe: CONSTANT, no wasted bits, value 0 (16 bits).
        out.extend_from_slice(&[0x00, 0x00, 0x00]);
        let c16 = crc16(&out[start..]);
        out.extend_from_slice(&c16.to_be_bytes());
        done += n;
        number += 1;
    }
    out
}

/// FLAC's "UTF-8" coding of a frame number.
fn utf8_number(out: &mut Vec<u8>, v: u64) {
    if v < 0x80 {
        out.push(v as u8);
        return;
    }
    let len = match v {
        0..0x800 => 2,
        0x800..0x1_0000 => 3,
        0x1_0000..0x20_0000 => 4,
        0x20_0000..0x400_0000 => 5,
        _ => 6,
    };
    let lead = (0xFF00u16 >> len) as u8;
    out.push(lead | (v >> (6 * (len - 1))) as u8);
    for i in (0..len - 1).rev() {
        out.push(0x80 | ((v >> (6 * i)) & 0x3F) as u8);
    }
}

fn crc8(data: &[u8]) -> u8 {
    let mut crc = 0u8;
    for &b in data {
        crc ^= b;
        for _ in 0..8 {
            crc = if crc & 0x80 != 0 {
                (crc << 1) ^ 0x07
            } else {
                crc << 1
            };
        }
    }
    crc
}

fn crc16(data: &[u8]) -> u16 {
    let mut crc = 0u16;
    for &b in data {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x8005
            } else {
                crc << 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn ffmpeg_decodes_every_sample_without_complaint() {
        let path = std::env::temp_dir().join(format!("testkit-flac-{}.flac", std::process::id()));
        // 150 s at 8 kHz: 74 frames, frame numbers past the one-byte coding.
        std::fs::write(&path, silence(8000, 150)).unwrap();
        let out = Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(&path)
            .args(["-f", "s16le", "-"])
            .output()
            .unwrap();
        let probe = Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "format=duration",
                "-of",
                "csv=p=0",
            ])
            .arg(&path)
            .output()
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(out.status.success() && out.stderr.is_empty(), "{out:?}");
        assert_eq!(out.stdout.len(), 150 * 8000 * 2);
        assert!(out.stdout.iter().all(|&b| b == 0));
        assert_eq!(String::from_utf8_lossy(&probe.stdout).trim(), "150.000000");
    }

    #[test]
    fn a_hundred_hours_is_small() {
        let len = silence(8000, 100 * 3600).len();
        assert!(len < 3 << 20, "{len}");
    }

    #[test]
    fn frame_numbers_are_coded_like_utf8() {
        let mut v = Vec::new();
        utf8_number(&mut v, 0x7F);
        utf8_number(&mut v, 0x80);
        utf8_number(&mut v, 0x1_0000);
        assert_eq!(v, [0x7F, 0xC2, 0x80, 0xF0, 0x90, 0x80, 0x80]);
    }
}
