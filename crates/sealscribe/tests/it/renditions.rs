//! The DFXP (TTML) rendition and `includeAlternateFormat` on the real server, from one short
//! recognised sentence: DFXP by path and by `Accept` is well-formed XML with the SRT's cues,
//! and every `alternateFormats[]` entry decodes to exactly the body of its own endpoint.

use base64::Engine as _;
use quick_xml::XmlVersion;
use quick_xml::events::Event;
use quick_xml::reader::Reader;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::Value;

use crate::common::{Env, Server, expect_error, words};

const SPOKEN: &str = "Please call the office tomorrow morning.";

/// A cue: start and end in ms, its lines.
type Cue = (u64, u64, Vec<String>);

fn ms(t: &str) -> u64 {
    let (hms, millis) = t.trim().split_once(['.', ',']).expect("fraction");
    assert_eq!(millis.len(), 3, "{t}");
    let parts: Vec<u64> = hms.split(':').map(|p| p.parse().unwrap()).collect();
    ((parts[0] * 60 + parts[1]) * 60 + parts[2]) * 1000 + millis.parse::<u64>().unwrap()
}

fn srt_cues(srt: &str) -> Vec<Cue> {
    srt.trim_end()
        .split("\n\n")
        .filter(|b| !b.is_empty())
        .map(|block| {
            let lines: Vec<&str> = block.lines().collect();
            let (a, b) = lines[1].split_once(" --> ").expect("timing line");
            (
                ms(a),
                ms(b),
                lines[2..].iter().map(|l| (*l).to_owned()).collect(),
            )
        })
        .collect()
}

/// Parses DFXP with an XML parser: the `xml:lang` and namespace of `<tt>`, and every `<p>` as a
/// cue (`<br/>` separating its lines).
fn dfxp_cues(xml: &str) -> (String, Vec<Cue>) {
    let mut reader = Reader::from_str(xml);
    let (mut lang, mut namespace) = (None, None);
    let mut cues: Vec<Cue> = Vec::new();
    let mut in_p = false;
    let attr = |e: &quick_xml::events::BytesStart, name: &str| -> String {
        e.try_get_attribute(name)
            .expect("attributes")
            .unwrap_or_else(|| panic!("no {name}"))
            .normalized_value(XmlVersion::Explicit1_0)
            .unwrap()
            .into_owned()
    };
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) if e.name().as_ref() == b"tt" => {
                lang = Some(attr(&e, "xml:lang"));
                namespace = Some(attr(&e, "xmlns"));
            }
            Event::Start(e) if e.name().as_ref() == b"p" => {
                cues.push((
                    ms(&attr(&e, "begin")),
                    ms(&attr(&e, "end")),
                    vec![String::new()],
                ));
                in_p = true;
            }
            Event::Empty(e) if in_p && e.name().as_ref() == b"br" => {
                cues.last_mut().unwrap().2.push(String::new());
            }
            Event::Text(t) if in_p => cues
                .last_mut()
                .unwrap()
                .2
                .last_mut()
                .unwrap()
                .push_str(&t.xml10_content().unwrap()),
            Event::GeneralRef(r) if in_p => {
                let c = match r.as_ref() {
                    b"amp" => '&',
                    b"lt" => '<',
                    b"gt" => '>',
                    b"quot" => '"',
                    b"apos" => '\'',
                    _ => r.resolve_char_ref().unwrap().expect("known entity"),
                };
                cues.last_mut().unwrap().2.last_mut().unwrap().push(c);
            }
            Event::End(e) if e.name().as_ref() == b"p" => in_p = false,
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(
        namespace.as_deref(),
        Some("http://www.w3.org/2006/10/ttaf1")
    );
    (lang.expect("<tt xml:lang>"), cues)
}

/// GET `path`; returns the status, the content type and the body.
async fn get(
    server: &Server,
    token: &str,
    path: &str,
    accept: Option<&str>,
) -> (u16, String, String) {
    let mut req = server.http.get(server.url(path)).bearer_auth(token);
    if let Some(a) = accept {
        req = req.header(ACCEPT, a);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, resp.text().await.unwrap())
}

/// Checks `alternateFormats` against the renditions' own endpoints, in the order asked.
fn check_alternates(alternates: &Value, expected: &[(&str, &str)], bodies: &[(&str, String)]) {
    let list = alternates.as_array().expect("alternateFormats[]");
    assert_eq!(list.len(), expected.len(), "{alternates}");
    for (item, (format, content_type)) in list.iter().zip(expected) {
        assert_eq!(item["format"], *format);
        assert_eq!(item["contentType"], *content_type);
        assert_eq!(item["contentEncoding"], "Base64");
        assert_eq!(item["charset"], "utf-8");
        let data = base64::engine::general_purpose::STANDARD
            .decode(item["data"].as_str().unwrap())
            .expect("standard base64");
        let body = &bodies.iter().find(|(f, _)| f == format).unwrap().1;
        assert_eq!(
            String::from_utf8(data).unwrap(),
            *body,
            "{format} differs from GET …/transcript/{format}"
        );
    }
}

#[tokio::test]
async fn dfxp_and_alternate_formats() {
    let env = Env::new();
    let token = env.create_account("captions");
    let server = env.start();
    let audio = std::fs::read(env.speech("office", SPOKEN)).unwrap();
    let id = server.upload_ok(&token, audio, Some("{}"), None).await;
    let doc = server.wait(&token, &id).await;
    assert_eq!(doc["status"], "finished", "{doc}");
    assert_eq!(
        doc["_links"]["dfxp"]["href"],
        format!("/v3/media/{id}/transcript/dfxp")
    );
    let transcript = server
        .get_json(&token, &format!("/v3/media/{id}/transcript"))
        .await;
    let spoken = words(&transcript);
    for w in ["office", "tomorrow", "morning"] {
        assert!(
            spoken.iter().any(|s| s == w),
            "{w:?} missing from {spoken:?}"
        );
    }

    // DFXP: valid XML in the TTML namespace, with the SRT's cues (so its words and times).
    let (status, content_type, dfxp) = get(
        &server,
        &token,
        &format!("/v3/media/{id}/transcript/dfxp"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{dfxp}");
    assert_eq!(content_type, "application/ttml+xml; charset=utf-8");
    let (lang, cues) = dfxp_cues(&dfxp);
    assert_eq!(lang, "en-US");
    let srt = get(
        &server,
        &token,
        &format!("/v3/media/{id}/transcript/srt"),
        None,
    )
    .await
    .2;
    assert_eq!(cues, srt_cues(&srt), "DFXP:\n{dfxp}\nSRT:\n{srt}");
    let dfxp_words: Vec<String> = cues
        .iter()
        .flat_map(|c| c.2.iter())
        .flat_map(|l| l.split_whitespace())
        .map(|w| {
            w.to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == '\'')
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect();
    let spoken_words: Vec<&String> = spoken.iter().filter(|w| !w.is_empty()).collect();
    assert_eq!(
        dfxp_words.iter().collect::<Vec<_>>(),
        spoken_words,
        "{dfxp}"
    );
    let timed: Vec<&Value> = transcript["words"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w.get("m").is_none())
        .collect();
    assert_eq!(cues[0].0, timed[0]["s"].as_u64().unwrap(), "{dfxp}");
    let last_end = timed.last().unwrap()["e"].as_u64().unwrap();
    assert!(cues.last().unwrap().1 >= last_end, "{dfxp}");
    for c in &cues {
        assert!(
            c.0 < c.1 && c.1 <= doc["length"].as_u64().unwrap() + 500,
            "{c:?}"
        );
    }
    // By `Accept`, under both names of the type.
    for accept in ["application/ttml+xml", "application/ttaf+xml"] {
        let (status, content_type, body) = get(
            &server,
            &token,
            &format!("/v3/media/{id}/transcript"),
            Some(accept),
        )
        .await;
        assert_eq!(
            (status, content_type.as_str(), &body),
            (200, "application/ttml+xml; charset=utf-8", &dfxp)
        );
    }

    // includeAlternateFormat, repeated, comma-separated and mixed: each entry decodes to
    // exactly the body of its endpoint.
    let mut bodies = Vec::new();
    for format in ["text", "srt", "dfxp", "webvtt"] {
        let path = format!("/v3/media/{id}/transcript/{format}");
        bodies.push((format, get(&server, &token, &path, None).await.2));
    }
    let all = [
        ("text", "text/plain"),
        ("srt", "text/srt"),
        ("dfxp", "application/ttaf+xml"),
        ("webvtt", "text/vtt"),
    ];
    let on_transcript = server
        .get_json(
            &token,
            &format!(
                "/v3/media/{id}/transcript?includeAlternateFormat=text&includeAlternateFormat=srt\
                 &includeAlternateFormat=dfxp&includeAlternateFormat=webvtt"
            ),
        )
        .await;
    check_alternates(&on_transcript["alternateFormats"], &all, &bodies);
    assert_eq!(on_transcript["words"], transcript["words"]);
    let on_document = server
        .get_json(
            &token,
            &format!("/v3/media/{id}?includeAlternateFormat=text,srt,dfxp,webvtt"),
        )
        .await;
    check_alternates(
        &on_document["transcript"]["alternateFormats"],
        &all,
        &bodies,
    );
    assert!(on_document.get("alternateFormats").is_none());
    let mixed = server
        .get_json(
            &token,
            &format!(
                "/v3/media/{id}/transcript?includeAlternateFormat=webvtt,%20srt&includeAlternateFormat=srt"
            ),
        )
        .await;
    check_alternates(
        &mixed["alternateFormats"],
        &[("webvtt", "text/vtt"), ("srt", "text/srt")],
        &bodies,
    );
    // Without the parameter, nothing is added.
    assert!(doc["transcript"].get("alternateFormats").is_none());
    assert!(transcript.get("alternateFormats").is_none());

    // A value that is not a format: 400 / 10001 naming the allowed ones, on both resources.
    for path in [
        format!("/v3/media/{id}?includeAlternateFormat=srt,docx"),
        format!("/v3/media/{id}/transcript?includeAlternateFormat=srt&includeAlternateFormat=vtt"),
    ] {
        let resp = server
            .http
            .get(server.url(&path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let message = expect_error(resp, 400, 10001).await;
        assert!(
            message.contains("text, srt, dfxp or webvtt"),
            "{path}: {message}"
        );
    }
}
