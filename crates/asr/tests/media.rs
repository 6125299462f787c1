//! Probing and decoding through ffprobe/ffmpeg (no recognition, so these may run in parallel).

mod common;

use common::*;
use sealscribe_asr::{AsrError, decode_to_pcm16k, probe};

/// Every common format is probed (codec, channels, rate, duration known up front) and decodes
/// to 16 kHz mono of the right length.
#[test]
fn common_formats_probe_and_decode() {
    require_tools();
    let dir = tempfile::tempdir().unwrap();
    let wav = speak(dir.path(), "s", SENTENCES[1]);
    let reference = decode_to_pcm16k(&wav).expect("wav decodes");
    let ref_ms = reference.len() as f64 / 16.0;
    let w = wav.to_str().unwrap();
    let cases: &[(&str, &[&str], &str, u32, bool)] = &[
        (
            "mp3",
            &["-ac", "2", "-c:a", "libmp3lame", "-b:a", "96k"],
            "mp3",
            2,
            false,
        ),
        ("flac", &["-c:a", "flac"], "flac", 1, false),
        ("ogg", &["-c:a", "libvorbis"], "vorbis", 1, false),
        (
            "opus",
            &["-c:a", "libopus", "-ar", "48000"],
            "opus",
            1,
            false,
        ),
        ("m4a", &["-c:a", "aac", "-ar", "44100"], "aac", 1, false),
    ];
    let info = probe(&wav).unwrap();
    assert_eq!(
        (
            info.codec.as_str(),
            info.channels,
            info.sample_rate,
            info.has_video
        ),
        ("pcm_s16le", 1, 22050, false)
    );
    for (ext, args, codec, channels, video) in cases {
        let out = dir.path().join(format!("s.{ext}"));
        let mut a = vec!["-i", w];
        a.extend_from_slice(args);
        a.push(out.to_str().unwrap());
        ffmpeg(&a);
        check(&out, codec, *channels, *video, ref_ms);
    }
    let mp4 = dir.path().join("v.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=160x120:rate=10:duration=6",
        "-i",
        w,
        "-shortest",
        "-c:v",
        "mpeg4",
        "-c:a",
        "aac",
        mp4.to_str().unwrap(),
    ]);
    check(&mp4, "aac", 1, true, ref_ms);
}

fn check(path: &std::path::Path, codec: &str, channels: u32, video: bool, ref_ms: f64) {
    let info = probe(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(info.codec, codec, "{info:?}");
    assert_eq!(info.channels, channels, "{info:?}");
    assert_eq!(info.has_video, video, "{info:?}");
    assert!(info.sample_rate > 0 && info.duration_ms > 0, "{info:?}");
    let pcm = decode_to_pcm16k(path).unwrap();
    let ms = pcm.len() as f64 / 16.0;
    // Encoders add priming/padding of a few tens of ms; a frame or two at most.
    assert!(
        (ms - ref_ms).abs() < 120.0,
        "{}: decoded {ms} ms, expected {ref_ms}",
        path.display()
    );
    assert!(
        (info.duration_ms as f64 - ref_ms).abs() < 250.0 || video,
        "{}: duration {} vs {ref_ms}",
        path.display(),
        info.duration_ms
    );
    let peak = pcm.iter().fold(0f32, |m, x| m.max(x.abs()));
    assert!(peak > 0.1 && peak <= 1.0, "{}: peak {peak}", path.display());
}

/// Unreadable, truncated and audio-less files give clear bad-media errors; a missing file is an
/// I/O error (the caller's problem, not the client's media).
#[test]
fn bad_media_errors() {
    require_tools();
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.wav");
    std::fs::write(&junk, vec![0x5a; 4096]).unwrap();
    let text = dir.path().join("notes.mp3");
    std::fs::write(&text, "hello, I am a text file").unwrap();
    let empty = dir.path().join("empty.m4a");
    std::fs::write(&empty, b"").unwrap();
    let truncated = dir.path().join("cut.flac");
    let wav = speak(dir.path(), "s", SENTENCES[2]);
    ffmpeg(&[
        "-i",
        wav.to_str().unwrap(),
        "-c:a",
        "flac",
        truncated.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&truncated).unwrap();
    std::fs::write(&truncated, &bytes[..30]).unwrap();
    let tricky_name = dir.path().join("http:example.wav"); // must not be taken for a URL
    std::fs::write(&tricky_name, b"x").unwrap();

    let missing = decode_to_pcm16k(dir.path().join("missing.wav")).expect_err("missing");
    assert!(
        matches!(missing, AsrError::Io { .. }) && !missing.is_bad_media(),
        "{missing:?}"
    );
    assert!(missing.to_string().contains("missing.wav"), "{missing}");

    for f in [&junk, &text, &empty, &truncated, &tricky_name] {
        let e = decode_to_pcm16k(f).expect_err("must fail");
        assert!(e.is_bad_media(), "{}: {e:?}", f.display());
        assert!(
            matches!(e, AsrError::UnreadableMedia { .. }),
            "{}: {e:?}",
            f.display()
        );
        eprintln!("{}: {e}", f.display());
    }

    let image = dir.path().join("still.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=64x48:duration=0.1",
        "-frames:v",
        "1",
        image.to_str().unwrap(),
    ]);
    let video = dir.path().join("mute.mkv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=64x48:rate=5:duration=2",
        "-c:v",
        "mpeg4",
        video.to_str().unwrap(),
    ]);
    // A still image is not even a container this service reads (no image demuxers).
    let e = probe(&image).expect_err("not media");
    assert!(matches!(e, AsrError::UnreadableMedia { .. }), "{e:?}");
    let e = probe(&video).expect_err("no audio");
    assert!(
        matches!(e, AsrError::NoAudio { .. }) && e.is_bad_media(),
        "{e:?}"
    );
    assert!(
        e.to_string().contains("no audio stream") && e.to_string().contains("video"),
        "{e}"
    );
}

/// A file whose name starts with a dash is not taken for an ffmpeg option.
#[test]
fn odd_file_names_are_safe() {
    require_tools();
    let dir = tempfile::tempdir().unwrap();
    let wav = speak(dir.path(), "-y", SENTENCES[4]);
    assert!(wav.file_name().unwrap().to_str().unwrap().starts_with('-'));
    assert!(!decode_to_pcm16k(&wav).unwrap().is_empty());
}

/// Playlists and lists that name other files are not media: ffprobe/ffmpeg must not follow
/// them to a local file (which, read directly, is media: the control).
#[test]
fn playlists_and_lists_are_not_followed() {
    require_tools();
    let dir = tempfile::tempdir().unwrap();
    let wav = speak(dir.path(), "victim", SENTENCES[3]);
    let victim = dir.path().join("victim.mp3");
    ffmpeg(&["-i", wav.to_str().unwrap(), victim.to_str().unwrap()]);
    assert!(probe(&victim).is_ok(), "control: the victim is media");
    let v = victim.display();
    let cases = [
        (
            "playlist.m3u8",
            format!("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\nfile:{v}\n#EXT-X-ENDLIST\n"),
        ),
        ("upload.bin", format!("#EXTM3U\n#EXTINF:10.0,\n{v}\n#EXT-X-ENDLIST\n")),
        ("list.ffconcat", format!("ffconcat version 1.0\nfile '{v}'\n")),
        ("list.txt", format!("file '{v}'\n")),
        ("session.sdp", "v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 5004 RTP/AVP 0\n".to_string()),
    ];
    for (name, text) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let e = probe(&path).expect_err(name);
        assert!(
            matches!(e, AsrError::UnreadableMedia { .. }),
            "{name}: {e:?}"
        );
        let e = decode_to_pcm16k(&path).expect_err(name);
        assert!(e.is_bad_media(), "{name}: {e:?}");
        assert!(!e.customer_message().contains("victim"), "{e}");
    }
    // An image-sequence pattern name is just a (missing) file name.
    let pattern = dir.path().join("img%03d.png");
    assert!(probe(&pattern).is_err());
}

/// Media longer than the maximum (4 h by default) is refused from its headers: a 100-hour
/// FLAC of silence (2.7 MB; 23 GB once decoded) fails at probe time, without decoding.
#[test]
fn media_longer_than_the_maximum_is_refused_at_probe_time() {
    require_tools();
    let dir = tempfile::tempdir().unwrap();
    let long = dir.path().join("long.flac");
    std::fs::write(&long, sealscribe_testkit::flac::silence(8000, 100 * 3600)).unwrap();
    let e = probe(&long).expect_err("too long");
    assert!(
        matches!(
            e,
            AsrError::TooLong {
                duration_ms: 360_000_000,
                max_ms: 14_400_000
            }
        ),
        "{e:?}"
    );
    assert!(e.is_bad_media());
    let text = e.customer_message();
    assert!(
        text.contains("100:00:00") && text.contains("4:00:00"),
        "{text}"
    );
    // The control: the same kind of file under the maximum probes and decodes.
    let short = dir.path().join("short.flac");
    std::fs::write(&short, sealscribe_testkit::flac::silence(8000, 3)).unwrap();
    assert_eq!(probe(&short).unwrap().duration_ms, 3000);
    assert_eq!(decode_to_pcm16k(&short).unwrap().len(), 3 * 16_000);
}
