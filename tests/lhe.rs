//! The LHE reader on every real LHE fixture. Event counts are pylhe 2.1.0's
//! (scripts/crosscheck.py recomputes them in CI); the numbers of e+e- events
//! and negative weights are those the shared data set's README lists.

mod common;

use common::{fixture, otus, stderr};
use otus::io::lhe::LheReader;

fn count(name: &str) -> (u64, u64, u64) {
    let reader = LheReader::open(fixture(name)).unwrap();
    let (mut events, mut negative, mut ee) = (0, 0, 0);
    for e in reader {
        let e = e.unwrap();
        events += 1;
        negative += u64::from(e.weight < 0.0);
        let has = |id| e.particles.iter().any(|p| p.pdg == id && p.status == 1);
        ee += u64::from(has(11) && has(-11));
    }
    (events, negative, ee)
}

#[test]
fn madgraph_mlm() {
    assert_eq!(
        count("pylhe-testfile-madgraph-2.2.1-Z-mlm.lhe.gz"),
        (10_000, 0, 5_006)
    );
}

#[test]
fn amcatnlo_fxfx_with_indented_tags_and_negative_weights() {
    assert_eq!(
        count("pylhe-testfile-madgraph-2.2.1-Z-fxfx.lhe.gz"),
        (10_000, 1_852, 4_966)
    );
}

#[test]
fn powheg_lhef3() {
    let (events, _, ee) = count("pylhe-testfile-powheg-box-v2-Z.lhe");
    assert_eq!((events, ee), (100, 100));
    let mut r = LheReader::open(fixture("pylhe-testfile-powheg-box-v2-Z.lhe")).unwrap();
    assert_eq!(r.run_info().version, "3.0");
    let e = r.next_event().unwrap().unwrap();
    assert!(e.weight != 0.0);
}

#[test]
fn pythia6_ttbar() {
    assert_eq!(count("pylhe-testfile-pythia-6.413-ttbar.lhe").0, 100);
}

#[test]
fn pythia8_matched_sample_with_empty_weight_blocks() {
    let (events, negative, ee) = count("zee_0.lhe.gz");
    assert_eq!((events, negative, ee), (10_000, 0, 10_000));
    let r = LheReader::open(fixture("zee_0.lhe.gz")).unwrap();
    assert_eq!(r.run_info().generator.as_deref(), Some("Pythia 8.317"));
    assert_eq!(count("zee_full_200.lhe.gz").0, 200);
    assert_eq!(count("ttbar_0.lhe.gz").0, 10_000);
}

#[test]
fn gzip_is_recognized_by_content_and_multi_member_gzip_reads() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(fixture("zee_full_200.lhe.gz")).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    // Two gzip members, split in the middle of the event list, under a plain name.
    let split = text.find("<event>").unwrap() + text[text.find("<event>").unwrap()..].len() / 2;
    let path = dir.path().join("events.lhe");
    let mut file = std::fs::File::create(&path).unwrap();
    for part in [&text[..split], &text[split..]] {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(part.as_bytes()).unwrap();
        file.write_all(&gz.finish().unwrap()).unwrap();
    }
    drop(file);
    let n = LheReader::open(&path).unwrap().count();
    assert_eq!(n, 200);
}

#[test]
fn inspect_reports_generator_events_and_weights() {
    let o = otus(&[
        "inspect",
        "--json",
        "fixtures/pylhe-testfile-madgraph-2.2.1-Z-fxfx.lhe.gz",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["format"], "lhe");
    assert_eq!(v["events"], 10_000);
    assert_eq!(v["negative_weights"], 1_852);
    assert_eq!(v["beams"], serde_json::json!([2212, 2212]));
    assert_eq!(v["generator"], "MadGraph5_aMC@NLO 2.2.1");
}

#[test]
fn inspect_reports_every_file_and_fails_if_one_is_bad() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.lhe");
    std::fs::write(&empty, "").unwrap();
    let good = "fixtures/pylhe-testfile-powheg-box-v2-Z.lhe";
    let o = otus(&["inspect", empty.to_str().unwrap(), good]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("empty.lhe") && stderr(&o).contains("the file is empty"));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("events         100"),
        "the good file is still reported"
    );
}

/// `LheReader::from_reader` reads the same run information and events as
/// `LheReader::open`, plain or gzipped, and its errors name the given name.
#[test]
fn from_reader_reads_what_open_reads() {
    for name in [
        "pylhe-testfile-powheg-box-v2-Z.lhe",
        "pylhe-testfile-madgraph-2.2.1-Z-fxfx.lhe.gz",
    ] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let disk = LheReader::open(fixture(name)).unwrap();
        let mem = LheReader::from_reader("in-memory.lhe", std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(mem.path(), std::path::Path::new("in-memory.lhe"));
        let info = |r: &LheReader| format!("{:?}", r.run_info());
        assert_eq!(info(&mem), info(&disk), "{name}");
        let from_disk: Vec<_> = disk.collect::<Result<_, _>>().unwrap();
        let from_mem: Vec<_> = mem.collect::<Result<_, _>>().unwrap();
        assert!(from_disk.len() >= 100, "{name}");
        assert_eq!(from_mem, from_disk, "{name}");
    }
    let err = LheReader::from_reader("junk.lhe", &b"hello\n"[..])
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("junk.lhe") && err.contains("not an LHE file"),
        "{err}"
    );
}

/// A line longer than `MAX_LINE_BYTES` (a binary or corrupt file, or a gzip
/// bomb of one line) and an event or `<init>` block holding more than
/// `MAX_BLOCK_TEXT_BYTES` of text are errors naming the line, not unbounded
/// allocations; text within the limits reads.
#[test]
fn overlong_lines_and_block_text_are_errors_not_allocations() {
    use otus::io::lhe::{MAX_BLOCK_TEXT_BYTES, MAX_LINE_BYTES};
    let file = |header: &str, init_text: &str, event_text: &str| {
        format!(
            "<LesHouchesEvents version=\"3.0\">\n<header>\n{header}\n</header>\n<init>\n 2212 2212 6500 6500 0 0 0 0 3 1\n 1.0 0.1 1.0 1\n{init_text}</init>\n<event>\n 1 1 0.5 91.2 0.0078 0.118\n 11 1 0 0 0 0 1.0 2.0 3.0 3.7416574 0.0 0 9\n{event_text}</event>\n</LesHouchesEvents>\n"
        )
    };
    let read = |text: String| -> Result<usize, String> {
        let r = LheReader::from_reader("big.lhe", std::io::Cursor::new(text.into_bytes()))
            .map_err(|e| e.to_string())?;
        r.map(|e| e.map(|_| ()))
            .collect::<Result<Vec<_>, _>>()
            .map(|v| v.len())
            .map_err(|e| e.to_string())
    };
    let long_line = "x".repeat(MAX_LINE_BYTES);
    let err = read(file(&long_line, "", "")).unwrap_err();
    assert!(
        err.contains("big.lhe") && err.contains("line 3") && err.contains("longer than"),
        "{err}"
    );
    // Many short lines: more than MAX_BLOCK_TEXT_BYTES in one event or <init>.
    let many = "# a comment line of optional event information, repeated\n"
        .repeat(MAX_BLOCK_TEXT_BYTES / 50);
    let err = read(file("", "", &many)).unwrap_err();
    assert!(
        err.contains("event 0") && err.contains("optional information"),
        "{err}"
    );
    let err = read(file("", &many, "")).unwrap_err();
    assert!(err.contains("<init> block holds more"), "{err}");
    // Within the limits.
    let some = "# comment\n".repeat(1000);
    assert_eq!(read(file(&"y".repeat(1000), &some, &some)), Ok(1));
}
