//! Les Houches Event files (LHEF 3.0, hep-ph/0609017, arXiv:1405.1067) of
//! unfolded, parton-level events.
//!
//! The file holds an `<init>` block copied verbatim from an LHE file of the
//! same process when one is given (beams, PDFs, process ids and cross
//! sections of that sample), or a synthesized one otherwise, then one
//! `<event>` per output row:
//!
//! * the event line: NUP (the card's partons), IDPRUP (the first process id
//!   of the init block), XWGTUP (the input event's weight; 1 for Delphes
//!   input, and every `--repeat` draw carries it whole), SCALUP, AQEDUP and
//!   AQCDUP as -1 (unknown);
//! * one line per card parton in card order: its PDG id and status from the
//!   card, no mothers, no colour, the unfolded (px, py, pz, E) in GeV, the
//!   card's mass as PUP5, lifetime 0, spin 9 (unknown);
//! * a comment line `# otus event N draw D` with the input event number and
//!   the draw index.
//!
//! Known limits, by construction: the records hold only the card's partons,
//! without incoming partons, resonances, mothers or colour flow, so they are
//! meant for analysis, not for a parton shower. A synthesized init block
//! assumes proton beams of unknown energy (EBMUP 0) and a cross section of 0
//! pb; pass `--lhe-init` to copy a real one. Numbers are written in the
//! shortest form that reads back to the same f64.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::{ExportError, Exported};
use crate::frames::Space;

/// An `<init>` block with the process id events should carry.
#[derive(Debug, Clone, PartialEq)]
pub struct InitBlock {
    /// The block, from `<init>` to `</init>` inclusive, one line each.
    pub text: String,
    /// IDPRUP for the events: the first LPRUP of the block.
    pub process_id: i32,
}

impl InitBlock {
    /// A synthesized block: proton beams of unknown energy, no PDF
    /// information, IDWTUP 3, one process with id 1 and cross section 0 pb.
    pub fn synthesized() -> Self {
        Self {
            text: "<init>\n 2212 2212 0.0 0.0 0 0 0 0 3 1\n 0.0 0.0 1.0 1\n</init>".into(),
            process_id: 1,
        }
    }

    /// The `<init>` block of an LHE file (plain or gzipped), checked by
    /// reading the file's run information with our reader.
    pub fn from_file(path: &Path) -> Result<Self, crate::Error> {
        let info = crate::io::lhe::LheReader::open(path)?.run_info().clone();
        let other = |m: String| crate::Error::Other(format!("{}: {m}", path.display()));
        let file = std::fs::File::open(path).map_err(|e| other(e.to_string()))?;
        let mut buffered = BufReader::new(file);
        let gzipped = buffered
            .fill_buf()
            .map_err(|e| other(e.to_string()))?
            .starts_with(&[0x1f, 0x8b]);
        let stream: Box<dyn Read> = if gzipped {
            Box::new(MultiGzDecoder::new(buffered))
        } else {
            Box::new(buffered)
        };
        let mut text = String::new();
        let mut inside = false;
        for line in BufReader::new(stream).lines() {
            let line = line.map_err(|e| other(e.to_string()))?;
            let t = line.trim();
            // `<init>` or `<init attr=...>`, not `<initrwgt>` of the header.
            if t.starts_with("<init>") || t.starts_with("<init ") {
                inside = true;
            }
            if inside {
                text.push_str(t);
                text.push('\n');
            }
            if inside && t.starts_with("</init>") {
                break;
            }
        }
        if !text.trim_end().ends_with("</init>") {
            return Err(other("no complete <init> block".into()));
        }
        Ok(Self {
            text: text.trim_end().to_string(),
            process_id: info.processes.first().map_or(1, |p| p.0),
        })
    }
}

/// Writes parton-level `events` as an LHE file, gzipped when `gzip`, through
/// a temporary file renamed when complete. `comment` goes into the
/// `<header>` (escaped for XML).
pub fn write(
    path: &Path,
    events: &Exported,
    init: &InitBlock,
    comment: &str,
    gzip: bool,
) -> Result<(), ExportError> {
    events.check(path)?;
    if events.space != Space::Parton {
        return Err(ExportError::Invalid {
            path: path.into(),
            message: "LHE output holds parton-level events: write `otus unfold` output as LHE, \
                      `otus simulate` output as .root or .parquet"
                .into(),
        });
    }
    crate::frames::write_atomic(path, |file| {
        if gzip {
            let mut gz = flate2::write::GzEncoder::new(
                std::io::BufWriter::new(file),
                flate2::Compression::new(6),
            );
            write_text(&mut gz, events, init, comment)?;
            gz.finish()?.flush()
        } else {
            let mut w = std::io::BufWriter::new(file);
            write_text(&mut w, events, init, comment)?;
            w.flush()
        }
    })
    .map_err(|e| match e {
        crate::frames::FrameError::Io { path, source } => ExportError::Io { path, source },
        other => ExportError::Invalid {
            path: path.into(),
            message: other.to_string(),
        },
    })
}

fn write_text(
    w: &mut impl Write,
    events: &Exported,
    init: &InitBlock,
    comment: &str,
) -> std::io::Result<()> {
    writeln!(w, "<LesHouchesEvents version=\"3.0\">")?;
    writeln!(
        w,
        "<header>\n<otus>{}</otus>\n</header>",
        xml_escape(comment)
    )?;
    writeln!(w, "{}", init.text)?;
    let n = events.objects.len();
    for i in 0..events.rows() {
        let (number, draw, weight) = events.identity(i);
        writeln!(w, "<event>")?;
        writeln!(w, "{n} {} {weight:e} -1 -1 -1", init.process_id)?;
        for (k, o) in events.objects.iter().enumerate() {
            let [px, py, pz, e] = events.momentum(i, k);
            writeln!(
                w,
                "{} {} 0 0 0 0 {px:e} {py:e} {pz:e} {e:e} {:e} 0 9",
                o.pdg, o.status, o.mass
            )?;
        }
        writeln!(w, "# otus event {number} draw {draw}\n</event>")?;
    }
    writeln!(w, "</LesHouchesEvents>")
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_keep_the_header_well_formed() {
        assert_eq!(xml_escape("a<b & c>d"), "a&lt;b &amp; c&gt;d");
    }

    #[test]
    fn init_is_copied_from_a_fixture() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/zee_0.lhe.gz");
        let init = InitBlock::from_file(&path).unwrap();
        assert!(init.text.starts_with("<init>\n"), "{}", init.text);
        assert!(init.text.ends_with("</init>"));
        assert_eq!(init.text.lines().count(), 4);
        assert_eq!(init.process_id, 9999);
    }
}
