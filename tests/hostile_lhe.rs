//! LHE files as generators write them at their most awkward, built in each
//! test from the real POWHEG-BOX fixture (100 Z -> ee events, LHEF 3.0,
//! `#rwgt` comment lines): a long MadGraph banner, weight declarations in
//! every form, and `<weights>` blocks of bare numbers.

mod common;

use std::path::Path;

use common::fixture;
use otus::io::lhe::{LheEvent, LheReader, MAX_HEADER_BYTES};

/// The POWHEG fixture's text from `<init>` to the end.
fn powheg_body() -> String {
    let text = std::fs::read_to_string(fixture("pylhe-testfile-powheg-box-v2-Z.lhe")).unwrap();
    text[text.find("<init>").unwrap()..].to_string()
}

fn events(path: &Path) -> Vec<LheEvent> {
    LheReader::open(path)
        .unwrap()
        .map(|e| e.unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

/// A MadGraph-style banner: an XML comment full of `#` lines and markup
/// characters, the run card (`value = name ! comment`), and an SLHA block.
fn banner(padding_lines: usize) -> String {
    let mut b = String::from("<header>\n<MGVersion>\n#2.9.18\n</MGVersion>\n<!--\n");
    b.push_str("#*********************************************************************\n");
    b.push_str("#  MadGraph5_aMC@NLO  <a & b>  \"quotes\" 'single' <<-- not XML\n");
    b.push_str("<MGRunCard>\n  13000.0 = ebeam1 ! beam 1 total energy in GeV\n");
    b.push_str("  10000 = nevents ! Number of unweighted events requested\n</MGRunCard>\n");
    b.push_str("<slha>\nBLOCK MASS #\n      6 1.730000e+02 # MT\n     23 9.118800e+01 # MZ\n");
    b.push_str("DECAY  23   2.441404e+00 # WZ\n</slha>\n");
    for i in 0..padding_lines {
        b.push_str(&format!("# banner line {i:>8} ! with = signs and <tags>\n"));
    }
    b.push_str("-->\n</header>\n");
    b
}

#[test]
fn a_long_madgraph_banner_is_kept_bounded_and_every_event_reads() {
    let dir = tempfile::tempdir().unwrap();
    let want = events(&fixture("pylhe-testfile-powheg-box-v2-Z.lhe"));
    // A short banner is kept whole; one of about 9 MB is cut at
    // MAX_HEADER_BYTES (4 MiB), and the events after it still read.
    for (padding, truncated) in [(10, false), (200_000, true)] {
        let path = dir.path().join(format!("banner_{padding}.lhe"));
        let text = format!(
            "<LesHouchesEvents version=\"3.0\">\n{}{}",
            banner(padding),
            powheg_body()
        );
        std::fs::write(&path, &text).unwrap();
        let reader = LheReader::open(&path).unwrap();
        let info = reader.run_info().clone();
        assert_eq!(info.header_truncated, truncated, "{padding}");
        assert!(
            info.header.len() <= MAX_HEADER_BYTES,
            "{}",
            info.header.len()
        );
        assert!(info.header.contains("13000.0 = ebeam1 ! beam 1"));
        assert!(info.header.contains("BLOCK MASS #"));
        assert!(info.header.contains("</slha>\n# banner line"));
        assert_eq!(info.beam_energies, [4000.0, 4000.0]);
        let got: Vec<LheEvent> = reader.map(Result::unwrap).collect();
        assert_eq!(got.len(), 100);
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.particles, w.particles);
            assert_eq!(g.weight, w.weight);
        }
    }
}

#[test]
fn weights_declared_by_name_outside_groups_and_bare_weights_blocks_read() {
    let dir = tempfile::tempdir().unwrap();
    let want = events(&fixture("pylhe-testfile-powheg-box-v2-Z.lhe"));
    // Declarations with `name` instead of `type`, one outside any group,
    // attributes in either quote style.
    let header = "<header>\n<initrwgt>\n\
        <weight id='ext1' name='outside any group'> muR=0.5 </weight>\n\
        <weightgroup name=\"scale_variations\" combine=\"envelope\">\n\
        <weight id=\"1001\" name=\"muR=1 muF=1\"/>\n\
        <weight id=\"1002\" name=\"muR=2 muF=1\"> dyn=-1 </weight>\n\
        </weightgroup>\n\
        <weightgroup type='PDF' combine='hessian'>\n\
        <weight id='2001'> PDF set = 260001 </weight>\n\
        </weightgroup>\n\
        </initrwgt>\n</header>\n";
    // Every event gets a POWHEG-style `<weights>` block of bare numbers
    // after its `#rwgt` line.
    let mut body = String::new();
    let mut i = 0usize;
    for chunk in powheg_body().split_inclusive("</event>\n") {
        if let Some(at) = chunk.rfind("</event>") {
            let w = format!(
                "<weights>  {:.3}  {:.3}\n {} {}</weights>\n",
                1.0 + i as f64,
                -2.5,
                "3e-2",
                i
            );
            body.push_str(&chunk[..at]);
            body.push_str(&w);
            body.push_str(&chunk[at..]);
            i += 1;
        } else {
            body.push_str(chunk);
        }
    }
    assert_eq!(i, 100);
    let path = dir.path().join("weights.lhe");
    std::fs::write(
        &path,
        format!("<LesHouchesEvents version=\"3.0\">\n{header}{body}"),
    )
    .unwrap();
    let got = events(&path);
    assert_eq!(got.len(), 100);
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g.particles, w.particles, "event {i}");
        assert_eq!(g.weight, w.weight, "event {i}");
        assert_eq!(
            g.alt_weights,
            vec![1.0 + i as f64, -2.5, 0.03, i as f64],
            "event {i}"
        );
    }
    assert!(want.iter().all(|e| e.alt_weights.is_empty()));
}
