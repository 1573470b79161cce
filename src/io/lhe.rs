//! Les Houches Event files (LHEF 1.0-3.0; hep-ph/0609017, arXiv:1405.1067),
//! plain or gzipped, read as a stream with flat memory.
//!
//! Parsing of the `<init>` and `<event>` blocks is done by the `lhef` crate.
//! `lhef` 0.6.0 is strict about layout in ways real generators are not, so the
//! byte stream passes through [`Normalizer`] first. It
//! - strips the indentation of tag lines (`  </init>`, `  <event npLO="1">`):
//!   lhef compares `</init>` verbatim and needs `<event` at the start of a line,
//!   which makes aMC@NLO (FxFx) and other LHEF 3 files unreadable otherwise;
//! - keeps the `<header>` and comments before `<init>` for us (bounded to
//!   [`MAX_HEADER_BYTES`]) instead of handing them to lhef, whose XML parser
//!   rejects banners that are not well-formed XML;
//! - drops blank lines between blocks, and stops at `</LesHouchesEvents>`
//!   (free text after it is ignored);
//! - checks that each event holds as many particle lines as its first line
//!   announces (NUP), before lhef allocates or parses them, so that a wrong
//!   count is an error naming the event and line rather than a silent shift.
//!
//! lhef leaves the LHEF 3 `<weights>` and `<rwgt>` blocks as raw text; we parse
//! them in [`parse_weights`] so each event keeps its nominal weight (XWGTUP)
//! and its alternative weights in file order.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::read::MultiGzDecoder;

use crate::physics::FourVector;

/// The largest header (everything before `<init>`) kept in memory, bytes.
/// Longer headers are read and truncated to this size.
pub const MAX_HEADER_BYTES: usize = 4 << 20;

/// The most particles one event may announce; real events hold tens.
pub const MAX_PARTICLES: i64 = 100_000;

/// The longest line accepted, bytes (newline included); real lines hold
/// at most a few hundred. Longer lines are an error, not an allocation.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The most text one `<init>` block, or the optional information of one
/// event (after its particles), may hold, bytes: lhef keeps both in memory.
pub const MAX_BLOCK_TEXT_BYTES: usize = 16 << 20;

/// An error while reading an LHE file, naming the file and, where known, the
/// line (1-based, in the decompressed text) and event (0-based).
#[derive(Debug, thiserror::Error)]
pub enum LheError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The content is not valid LHE.
    #[error("{path}{}{}: {message}", line_part(*line), event.map(|e| format!(" (event {e})")).unwrap_or_default())]
    Format {
        /// The file.
        path: PathBuf,
        /// 1-based line in the decompressed text; 0 before the first line
        /// (an empty file), which the message leaves out.
        line: u64,
        /// 0-based event index, if inside an event.
        event: Option<u64>,
        /// What was found and what was expected.
        message: String,
    },
}

/// `: line N` for an error's message, nothing for line 0 (an empty file).
fn line_part(line: u64) -> String {
    if line > 0 {
        format!(": line {line}")
    } else {
        String::new()
    }
}

/// One particle of an event's record (the HEPEUP common block).
#[derive(Debug, Clone, PartialEq)]
pub struct Particle {
    /// PDG Monte Carlo id (IDUP).
    pub pdg: i32,
    /// Status (ISTUP): -1 incoming, 1 outgoing final, 2 intermediate resonance.
    pub status: i32,
    /// 1-based indices of the mothers (MOTHUP), 0 for none.
    pub mothers: [i32; 2],
    /// Four-momentum in the lab frame, GeV (PUP 1-4).
    pub momentum: FourVector,
    /// Generated mass, GeV (PUP 5).
    pub mass: f64,
}

/// A parton-level event.
#[derive(Debug, Clone, PartialEq)]
pub struct LheEvent {
    /// 0-based position of the event in its file: the event number of our
    /// matched samples (Delphes `Event.Number`).
    pub index: u64,
    /// 1-based line of the `<event>` tag.
    pub line: u64,
    /// Process id (IDRUP).
    pub process_id: i32,
    /// Nominal event weight (XWGTUP), in the units IDWTUP implies (pb for
    /// weighted events).
    pub weight: f64,
    /// Alternative weights from `<weights>` or `<rwgt>`, in file order.
    pub alt_weights: Vec<f64>,
    /// Scale of the event (SCALUP), GeV.
    pub scale: f64,
    /// The particle record.
    pub particles: Vec<Particle>,
}

/// Run information from the `<init>` block (HEPRUP) and the header.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// LHEF version from the opening tag ("1.0", "2.0" or "3.0").
    pub version: String,
    /// Beam PDG ids (IDBMUP).
    pub beam_ids: [i32; 2],
    /// Beam energies, GeV (EBMUP).
    pub beam_energies: [f64; 2],
    /// Weighting strategy (IDWTUP).
    pub weight_strategy: i32,
    /// Per process: (id LPRUP, cross-section XSECUP in pb, its error XERRUP in pb).
    pub processes: Vec<(i32, f64, f64)>,
    /// The generator as named by the header or `<generator>` tags, if any.
    pub generator: Option<String>,
    /// The text before `<init>` (header, comments), at most [`MAX_HEADER_BYTES`].
    pub header: String,
    /// Whether [`RunInfo::header`] was cut at [`MAX_HEADER_BYTES`].
    pub header_truncated: bool,
}

/// Streams the events of one LHE file.
pub struct LheReader {
    path: PathBuf,
    inner: lhef::Reader<Normalizer<Box<dyn BufRead + Send>>>,
    state: Arc<LineState>,
    info: RunInfo,
    next_index: u64,
    done: bool,
}

impl LheReader {
    /// Opens a file, plain or gzipped (recognized by its magic bytes, not its
    /// name; multi-member gzip included), and reads up to the first event.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, LheError> {
        let path = path.as_ref().to_path_buf();
        let io_err = |source| LheError::Io {
            path: path.clone(),
            source,
        };
        let file = File::open(&path).map_err(io_err)?;
        Self::from_reader(path, BufReader::with_capacity(1 << 16, file))
    }

    /// Reads an LHE stream, plain or gzipped, as [`LheReader::open`] reads a
    /// file: `name` stands for the file's path in errors and
    /// [`LheReader::path`] (it need not exist). Gzip is recognized by the
    /// magic bytes at the start of the first buffer `reader` fills. Reads up
    /// to the first event.
    pub fn from_reader(
        name: impl Into<PathBuf>,
        mut reader: impl BufRead + Send + 'static,
    ) -> Result<Self, LheError> {
        let path = name.into();
        let io_err = |source| LheError::Io {
            path: path.clone(),
            source,
        };
        let gzipped = reader
            .fill_buf()
            .map_err(io_err)?
            .starts_with(&[0x1f, 0x8b]);
        let stream: Box<dyn BufRead + Send> = if gzipped {
            Box::new(BufReader::with_capacity(
                1 << 16,
                MultiGzDecoder::new(reader),
            ))
        } else {
            Box::new(reader)
        };
        let state = Arc::new(LineState::default());
        let normalizer = Normalizer::new(stream, state.clone());
        let inner =
            lhef::Reader::new(normalizer).map_err(|e| format_error(&path, &state, None, e))?;
        let header = state.take_header();
        let heprup = inner.heprup();
        let processes = (0..heprup.LPRUP.len())
            .map(|i| {
                let xs = heprup.XSECUP.get(i).copied().unwrap_or(f64::NAN);
                let err = heprup.XERRUP.get(i).copied().unwrap_or(f64::NAN);
                (heprup.LPRUP[i], xs, err)
            })
            .collect();
        let generator = find_generator(&header.0, &heprup.info);
        let info = RunInfo {
            version: inner.version().to_string(),
            beam_ids: heprup.IDBMUP,
            beam_energies: heprup.EBMUP,
            weight_strategy: heprup.IDWTUP,
            processes,
            generator,
            header: header.0,
            header_truncated: header.1,
        };
        Ok(Self {
            path,
            inner,
            state,
            info,
            next_index: 0,
            done: false,
        })
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Run information from `<init>` and the header.
    pub fn run_info(&self) -> &RunInfo {
        &self.info
    }

    /// The next event, `Ok(None)` at `</LesHouchesEvents>` or the end of the stream.
    pub fn next_event(&mut self) -> Result<Option<LheEvent>, LheError> {
        if self.done {
            return Ok(None);
        }
        let index = self.next_index;
        let hepeup = match self.inner.hepeup() {
            Ok(Some(e)) => e,
            Ok(None) => {
                self.done = true;
                return Ok(None);
            }
            Err(lhef::reader::ReadError::BadEventStart(line)) if line.is_empty() => {
                // The stream ended without `</LesHouchesEvents>`: a file cut
                // off between events. Accept what was read, as pylhe does.
                self.done = true;
                if self.state.saw_end.load(Ordering::Relaxed) == 0 {
                    log::warn!(
                        "{}: no closing </LesHouchesEvents> tag after {} events",
                        self.path.display(),
                        index
                    );
                }
                return Ok(None);
            }
            Err(e) => {
                self.done = true;
                return Err(format_error(&self.path, &self.state, Some(index), e));
            }
        };
        self.next_index += 1;
        let line = self.state.event_line.load(Ordering::Relaxed);
        let mut particles = Vec::with_capacity(hepeup.IDUP.len());
        for i in 0..hepeup.IDUP.len() {
            let p = hepeup.PUP[i];
            if p.iter().any(|v| !v.is_finite()) {
                return Err(LheError::Format {
                    path: self.path.clone(),
                    line: line + 2 + i as u64,
                    event: Some(index),
                    message: format!("particle {} has a non-finite momentum {:?}", i + 1, p),
                });
            }
            particles.push(Particle {
                pdg: hepeup.IDUP[i],
                status: hepeup.ISTUP[i],
                mothers: hepeup.MOTHUP[i],
                momentum: FourVector::new(p[0], p[1], p[2], p[3]),
                mass: p[4],
            });
        }
        if !hepeup.XWGTUP.is_finite() {
            return Err(LheError::Format {
                path: self.path.clone(),
                line: line + 1,
                event: Some(index),
                message: format!("the event weight XWGTUP is {}", hepeup.XWGTUP),
            });
        }
        Ok(Some(LheEvent {
            index,
            line,
            process_id: hepeup.IDRUP,
            weight: hepeup.XWGTUP,
            alt_weights: parse_weights(&hepeup.info),
            scale: hepeup.SCALUP,
            particles,
        }))
    }
}

impl Iterator for LheReader {
    type Item = Result<LheEvent, LheError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_event().transpose()
    }
}

/// Alternative weights of an event's optional block: the numbers of a
/// `<weights>` block (LHEF 2/3 and POWHEG) or the `<wgt>` values of a `<rwgt>`
/// block (MadGraph), in file order. Empty blocks give no weights.
pub fn parse_weights(info: &str) -> Vec<f64> {
    let mut weights = Vec::new();
    if let Some(block) = between(info, "<weights", "</weights>") {
        let body = block.split_once('>').map(|(_, b)| b).unwrap_or("");
        weights.extend(
            body.split_whitespace()
                .filter_map(|t| t.parse::<f64>().ok()),
        );
    }
    if let Some(block) = between(info, "<rwgt", "</rwgt>") {
        let mut rest = block;
        while let Some(start) = rest.find("<wgt") {
            let after = &rest[start..];
            let Some(close) = after.find('>') else { break };
            let Some(end) = after.find("</wgt>") else {
                break;
            };
            if let Some(v) = after
                .get(close + 1..end)
                .and_then(|s| s.trim().parse::<f64>().ok())
            {
                weights.push(v);
            }
            rest = &after[end + 6..];
        }
    }
    weights
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)?;
    let end = text[start..].find(close)? + start;
    Some(&text[start + open.len()..end])
}

fn find_generator(header: &str, init_info: &str) -> Option<String> {
    for text in [init_info, header] {
        if let Some(g) = between(text, "<generator", "</generator>") {
            let (attrs, name) = g.split_once('>').unwrap_or(("", g));
            let version = attrs
                .split("version=")
                .nth(1)
                .map(|v| v.trim().trim_matches(|c| c == '"' || c == '\'').to_string());
            let name = name.trim();
            return Some(match version {
                Some(v) if !v.is_empty() => format!("{name} {v}"),
                _ => name.to_string(),
            });
        }
    }
    if let Some(pos) = header.find("<MGVersion>") {
        let v = header[pos + 11..]
            .split('<')
            .next()
            .unwrap_or("")
            .trim()
            .trim_start_matches('#');
        return Some(format!("MadGraph5_aMC@NLO (MGVersion {v})"));
    }
    // Otherwise the marker that appears first names the generator: later ones are
    // often setting names (Pythia lists `POWHEG:*` settings in its header).
    let known = [
        ("MadGraph", "MadGraph"),
        ("POWHEG", "POWHEG-BOX"),
        ("PYTHIA 8", "Pythia 8"),
        ("PYTHIA", "PYTHIA"),
        ("Sherpa", "Sherpa"),
        ("Herwig", "Herwig"),
    ];
    let (pos, needle, name) = known
        .iter()
        .filter_map(|(needle, name)| header.find(needle).map(|pos| (pos, *needle, *name)))
        .min_by_key(|(pos, needle, _)| (*pos, std::cmp::Reverse(needle.len())))?;
    let after = &header[pos + needle.len()..];
    Some(match needle {
        "MadGraph" => {
            // The banner's box: `*   VERSION 2.2.1   2014-09-25   *`.
            let end = after
                .char_indices()
                .nth(4000)
                .map_or(after.len(), |(i, _)| i);
            let version = after[..end]
                .split("VERSION")
                .nth(1)
                .and_then(|v| v.split_whitespace().next())
                .filter(|v| v.starts_with(|c: char| c.is_ascii_digit()));
            match version {
                Some(v) => format!("MadGraph5_aMC@NLO {v}"),
                None => name.to_string(),
            }
        }
        "PYTHIA 8" => {
            let v: String = after
                .trim_start_matches('.')
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            format!("Pythia 8.{v}").trim_end_matches('.').to_string()
        }
        _ => name.to_string(),
    })
}

fn format_error(
    path: &Path,
    state: &LineState,
    event: Option<u64>,
    err: lhef::reader::ReadError,
) -> LheError {
    use lhef::reader::ReadError as E;
    let line = state.line.load(Ordering::Relaxed);
    let message = match err {
        E::ReadErr(io) if io.kind() == io::ErrorKind::InvalidData => {
            // Our Normalizer's own diagnoses, and invalid gzip or UTF-8.
            io.to_string()
        }
        E::ReadErr(io) if io.kind() == io::ErrorKind::UnexpectedEof => {
            format!("the file ends early (truncated or corrupt compression): {io}")
        }
        E::ReadErr(io) => io.to_string(),
        E::BadFirstLine(l) => format!(
            "not an LHE file: expected `<LesHouchesEvents version=\"...\">`, found {:?}",
            l.trim_end()
        ),
        E::EndOfFile(block) => format!("the file ends inside the <{block}> block"),
        E::BadEventStart(l) => {
            format!(
                "expected `<event>` or `</LesHouchesEvents>`, found {:?}",
                l.trim_end()
            )
        }
        E::ConversionError(text) => format!("expected a number, found {text:?}"),
        E::MissingEntry(what) => format!("the line lacks the entry {what}"),
        other => other.to_string(),
    };
    LheError::Format {
        path: path.to_path_buf(),
        line,
        event,
        message,
    }
}

/// Shared between the [`Normalizer`] (inside lhef's reader) and [`LheReader`].
#[derive(Default)]
struct LineState {
    /// 1-based number of the last line handed to lhef.
    line: AtomicU64,
    /// 1-based line of the current `<event>` tag.
    event_line: AtomicU64,
    /// Non-zero once `</LesHouchesEvents>` was seen.
    saw_end: AtomicU64,
    header: std::sync::Mutex<(String, bool)>,
}

impl LineState {
    fn take_header(&self) -> (String, bool) {
        match self.header.lock() {
            Ok(mut h) => std::mem::take(&mut *h),
            Err(_) => (String::new(), false),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Block {
    /// Before the `<LesHouchesEvents>` tag.
    Start,
    /// Header and comments before `<init>`.
    Preamble,
    /// Inside `<init>`, before its first (beam) line.
    InitBeams,
    /// Inside `<init>`, after the beam line.
    Init,
    /// Between blocks.
    Between,
    /// First line of an event (NUP IDRUP XWGTUP SCALUP AQEDUP AQCDUP).
    EventHead,
    /// Particle lines still expected in the current event.
    Particles(i64),
    /// Optional event information after the particles.
    EventTail,
    /// After `</LesHouchesEvents>`.
    Done,
}

/// A `BufRead` adapter that hands lhef one normalized line at a time (see
/// the module documentation for what it changes and why).
pub struct Normalizer<R> {
    inner: R,
    state: Arc<LineState>,
    block: Block,
    raw: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
    line: u64,
    announced: i64,
    /// Bytes of `<init>` or event text handed on in the current block.
    block_bytes: usize,
}

impl<R: BufRead> Normalizer<R> {
    fn new(inner: R, state: Arc<LineState>) -> Self {
        Self {
            inner,
            state,
            block: Block::Start,
            raw: Vec::new(),
            out: Vec::new(),
            pos: 0,
            line: 0,
            announced: 0,
            block_bytes: 0,
        }
    }

    /// Reads one line into `raw` (at most [`MAX_LINE_BYTES`]); returns its
    /// length, 0 at the end of the stream.
    fn read_line(&mut self) -> io::Result<usize> {
        self.raw.clear();
        let n = (&mut self.inner)
            .take(MAX_LINE_BYTES as u64)
            .read_until(b'\n', &mut self.raw)?;
        if n == MAX_LINE_BYTES && !self.raw.ends_with(b"\n") {
            self.line += 1;
            return Err(self.invalid(format!(
                "the line is longer than {MAX_LINE_BYTES} bytes: not an LHE file, or corrupt"
            )));
        }
        Ok(n)
    }

    /// Counts `t` into the current block's text, failing past [`MAX_BLOCK_TEXT_BYTES`].
    fn count_text(&mut self, t: &str, what: &str) -> io::Result<()> {
        self.block_bytes += t.len() + 1;
        if self.block_bytes > MAX_BLOCK_TEXT_BYTES {
            return Err(self.invalid(format!(
                "{what} holds more than {MAX_BLOCK_TEXT_BYTES} bytes of text"
            )));
        }
        Ok(())
    }

    fn invalid(&self, message: String) -> io::Error {
        self.state.line.store(self.line, Ordering::Relaxed);
        io::Error::new(io::ErrorKind::InvalidData, message)
    }

    /// Produces the next normalized line into `out`; leaves it empty at the end.
    fn produce(&mut self) -> io::Result<()> {
        self.out.clear();
        self.pos = 0;
        loop {
            if self.block == Block::Done {
                return Ok(());
            }
            if self.read_line()? == 0 {
                return self.end_of_stream();
            }
            self.line += 1;
            let raw = std::mem::take(&mut self.raw);
            let Ok(text) = std::str::from_utf8(&raw) else {
                let what = if raw.starts_with(b"root") {
                    "a ROOT file, not an LHE file"
                } else {
                    "not an LHE file: the line is not valid UTF-8 text"
                };
                return Err(self.invalid(what.into()));
            };
            let emitted = self.step(text.trim());
            self.raw = raw;
            if let Some(emit) = emitted? {
                self.out.extend_from_slice(emit.as_bytes());
                self.out.push(b'\n');
                self.state.line.store(self.line, Ordering::Relaxed);
                return Ok(());
            }
        }
    }

    fn end_of_stream(&mut self) -> io::Result<()> {
        match self.block {
            Block::Between | Block::Done => Ok(()),
            Block::Start => Err(self.invalid(
                "not an LHE file: the file is empty, expected `<LesHouchesEvents`".into(),
            )),
            Block::Preamble => Err(self.invalid(
                "the file ends before any <init> block: not an LHE file, or truncated".into(),
            )),
            Block::InitBeams | Block::Init => {
                Err(self.invalid("the file ends inside the <init> block".into()))
            }
            _ => Err(self.invalid(format!(
                "the file ends inside the event starting at line {} (truncated?)",
                self.state.event_line.load(Ordering::Relaxed)
            ))),
        }
    }

    /// Decides what to hand on for one trimmed input line.
    fn step(&mut self, t: &str) -> io::Result<Option<String>> {
        match self.block {
            Block::Start => {
                if t.is_empty() || t.starts_with("<?xml") {
                    return Ok(None);
                }
                let Some(rest) = t.strip_prefix("<LesHouchesEvents") else {
                    return Err(self.invalid(format!(
                        "not an LHE file: expected `<LesHouchesEvents version=\"...\">`, found {:?}",
                        truncate(t)
                    )));
                };
                let version = rest
                    .split("version=")
                    .nth(1)
                    .and_then(|v| {
                        let mut chars = v.chars();
                        let q = chars.next()?;
                        chars.as_str().split(q).next()
                    })
                    .unwrap_or("1.0")
                    .trim()
                    .to_string();
                self.block = Block::Preamble;
                Ok(Some(format!("<LesHouchesEvents version=\"{version}\">")))
            }
            Block::Preamble => {
                if t.starts_with("<init") && !t.starts_with("<initrwgt") {
                    self.block = Block::InitBeams;
                    self.block_bytes = 0;
                    return Ok(Some(t.to_string()));
                }
                if t.starts_with("</LesHouchesEvents") {
                    return Err(self.invalid("the file has no <init> block".into()));
                }
                if let Ok(mut h) = self.state.header.lock() {
                    if h.0.len() + t.len() < MAX_HEADER_BYTES {
                        h.0.push_str(t);
                        h.0.push('\n');
                    } else {
                        h.1 = true;
                    }
                }
                Ok(None)
            }
            Block::InitBeams if !t.is_empty() && !t.starts_with('#') && !t.starts_with('<') => {
                // IDBMUP(2) EBMUP(2) PDFGUP(2) PDFSUP(2) IDWTUP NPRUP: lhef
                // sizes a vector by NPRUP, so check it first.
                let fields: Vec<&str> = t.split_whitespace().collect();
                let nprup = fields.get(9).and_then(|f| f.parse::<i64>().ok());
                match nprup {
                    Some(n) if fields.len() == 10 && (0..=100_000).contains(&n) => {
                        self.block = Block::Init;
                        Ok(Some(t.to_string()))
                    }
                    _ => Err(self.invalid(format!(
                        "the <init> beam line must hold 10 numbers ending with NPRUP, \
                         the number of processes (0 to 100000); found {:?}",
                        truncate(t)
                    ))),
                }
            }
            Block::InitBeams | Block::Init => {
                if t.starts_with("</init") {
                    self.block = Block::Between;
                    return Ok(Some("</init>".into()));
                }
                self.count_text(t, "the <init> block")?;
                Ok(Some(t.to_string()))
            }
            Block::Between => {
                if t.is_empty() {
                    Ok(None)
                } else if t.starts_with("<event") {
                    self.block = Block::EventHead;
                    self.block_bytes = 0;
                    self.state.event_line.store(self.line, Ordering::Relaxed);
                    // The tag's attributes (npLO, ...) are not used; lhef
                    // gets a bare tag (it panics on some non-ASCII spaces
                    // inside one).
                    Ok(Some("<event>".to_string()))
                } else if t.starts_with("</LesHouchesEvents") {
                    self.block = Block::Done;
                    self.state.saw_end.store(1, Ordering::Relaxed);
                    Ok(Some("</LesHouchesEvents>".into()))
                } else if t.starts_with("<!--") {
                    self.skip_comment(t)?;
                    Ok(None)
                } else {
                    Err(self.invalid(format!(
                        "expected `<event>` or `</LesHouchesEvents>`, found {:?}",
                        truncate(t)
                    )))
                }
            }
            Block::EventHead => {
                let nup = t.split_whitespace().next().unwrap_or("");
                let n: i64 = nup.parse().map_err(|_| {
                    self.invalid(format!(
                        "expected the event's first line to start with the particle count NUP, found {:?}",
                        truncate(t)
                    ))
                })?;
                if !(0..=MAX_PARTICLES).contains(&n) {
                    return Err(self.invalid(format!(
                        "the event announces {n} particles; expected 0 to {MAX_PARTICLES}"
                    )));
                }
                self.announced = n;
                self.block = if n == 0 {
                    Block::EventTail
                } else {
                    Block::Particles(n)
                };
                Ok(Some(t.to_string()))
            }
            Block::Particles(left) => {
                if t.starts_with('<') || t.starts_with('#') || t.is_empty() {
                    return Err(self.invalid(format!(
                        "the event announces {} particles but holds {}",
                        self.announced,
                        self.announced - left
                    )));
                }
                self.block = if left == 1 {
                    Block::EventTail
                } else {
                    Block::Particles(left - 1)
                };
                Ok(Some(t.to_string()))
            }
            Block::EventTail => {
                if t.starts_with("</event") {
                    self.block = Block::Between;
                    return Ok(Some("</event>".into()));
                }
                if t.starts_with("<event") || t.starts_with("</LesHouchesEvents") {
                    return Err(self.invalid(format!(
                        "the event starting at line {} has no closing </event>",
                        self.state.event_line.load(Ordering::Relaxed)
                    )));
                }
                if looks_like_particle(t) {
                    return Err(self.invalid(format!(
                        "the event announces {} particles but holds more",
                        self.announced
                    )));
                }
                if t.is_empty() {
                    Ok(None)
                } else {
                    self.count_text(t, "the event's optional information")?;
                    Ok(Some(t.to_string()))
                }
            }
            Block::Done => Ok(None),
        }
    }

    fn skip_comment(&mut self, first: &str) -> io::Result<()> {
        if first.contains("-->") {
            return Ok(());
        }
        loop {
            if self.read_line()? == 0 {
                return Err(self.invalid("the file ends inside an XML comment".into()));
            }
            self.line += 1;
            if self.raw.windows(3).any(|w| w == b"-->") {
                return Ok(());
            }
        }
    }
}

/// A line of 13 numeric fields whose first two are integers: a HEPEUP particle.
fn looks_like_particle(t: &str) -> bool {
    let fields: Vec<&str> = t.split_whitespace().collect();
    fields.len() == 13
        && fields[0].parse::<i64>().is_ok()
        && fields[1].parse::<i64>().is_ok()
        && fields[2..].iter().all(|f| f.parse::<f64>().is_ok())
}

fn truncate(t: &str) -> String {
    t.chars().take(80).collect()
}

impl<R: BufRead> Read for Normalizer<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Normalizer<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.out.len() {
            self.produce()?;
        }
        Ok(&self.out[self.pos..])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.out.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write_temp(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    const EVENT: &str = "<event>\n 2 1 0.5 91.2 0.0078 0.118\n 11 1 0 0 0 0 1.0 2.0 3.0 3.7416574 0.0 0 9\n -11 1 0 0 0 0 -1.0 -2.0 -3.0 3.7416574 0.0 0 9\n</event>\n";

    fn file_with(events: &str, init_indent: &str) -> String {
        format!(
            "<LesHouchesEvents version=\"3.0\">\n<header>\n<MGVersion>\n#3.5.0\n</MGVersion>\n</header>\n{i}<init>\n 2212 2212 6500 6500 0 0 0 0 3 1\n 1.0 0.1 1.0 1\n{i}</init>\n{events}</LesHouchesEvents>\n",
            i = init_indent
        )
    }

    #[test]
    fn indented_init_and_event_tags_read() {
        let ev = EVENT
            .replace("<event>", "  <event npLO=\" -1 \">")
            .replace("</event>", "  </event>");
        let f = write_temp(&file_with(&ev, "  "));
        let mut r = LheReader::open(f.path()).unwrap();
        let e = r.next_event().unwrap().unwrap();
        assert_eq!(e.particles.len(), 2);
        assert_eq!(e.particles[1].pdg, -11);
        assert!(r.next_event().unwrap().is_none());
        assert_eq!(
            r.run_info().generator.as_deref(),
            Some("MadGraph5_aMC@NLO (MGVersion 3.5.0)")
        );
    }

    /// A version attribute in typographic quotes (a file edited in a word
    /// processor) is read as the text between them, not a panic on a
    /// multi-byte character.
    #[test]
    fn typographic_quotes_in_the_version_are_read() {
        let text = file_with(EVENT, "").replace("version=\"3.0\"", "version=\u{201c}3.0\u{201c}");
        let f = write_temp(&text);
        let mut r = LheReader::open(f.path()).unwrap();
        assert_eq!(r.next_event().unwrap().unwrap().particles.len(), 2);
        assert_eq!(r.run_info().version, "3.0");
    }

    /// A negative or absurd NPRUP (lhef would size a vector by it) is an
    /// error naming the line; a non-ASCII space inside an event tag (lhef
    /// panics slicing it) reads.
    #[test]
    fn bad_nprup_is_an_error_and_odd_event_tags_read() {
        for bad in [" -1\n", " 1e12\n", "\n"] {
            let text = file_with(EVENT, "").replace(" 0 0 3 1\n", &format!(" 0 0 3{bad}"));
            let f = write_temp(&text);
            let e = LheReader::open(f.path())
                .and_then(|mut r| r.next_event().map(|_| ()))
                .unwrap_err()
                .to_string();
            assert!(e.contains("NPRUP") && e.contains("line 8"), "{bad:?}: {e}");
        }
        let ev = EVENT.replace("<event>", "<event\u{2003}npLO=\u{2003}\"1\">");
        let f = write_temp(&file_with(&ev, ""));
        let mut r = LheReader::open(f.path()).unwrap();
        assert_eq!(r.next_event().unwrap().unwrap().particles.len(), 2);
    }

    #[test]
    fn weights_blocks_are_parsed() {
        assert_eq!(
            parse_weights("<weights>\n1.5 -2e-1\n</weights>"),
            vec![1.5, -0.2]
        );
        assert!(parse_weights("<rwgt>\n</rwgt>\n<weights></weights>").is_empty());
        let rwgt = "<rwgt>\n<wgt id='1001'> 0.1 </wgt>\n<wgt id='1002'>0.2</wgt>\n</rwgt>";
        assert_eq!(parse_weights(rwgt), vec![0.1, 0.2]);
    }

    #[test]
    fn particle_count_mismatch_names_event_and_line() {
        let short = EVENT.replace(" 2 1 0.5", " 3 1 0.5");
        let f = write_temp(&file_with(&format!("{EVENT}{short}"), ""));
        let mut r = LheReader::open(f.path()).unwrap();
        r.next_event().unwrap();
        let err = r.next_event().unwrap_err().to_string();
        assert!(err.contains("announces 3 particles but holds 2"), "{err}");
        assert!(err.contains("event 1"), "{err}");
        assert!(err.contains("line 20"), "{err}"); // the `</event>` found in place of particle 3
    }

    #[test]
    fn more_particles_than_announced_is_an_error() {
        let long = EVENT.replace(" 2 1 0.5", " 1 1 0.5");
        let f = write_temp(&file_with(&long, ""));
        let mut r = LheReader::open(f.path()).unwrap();
        let err = r.next_event().unwrap_err().to_string();
        assert!(err.contains("holds more"), "{err}");
    }

    #[test]
    fn comment_after_particles_and_text_after_end_read() {
        let ev = EVENT.replace("</event>", "# a comment\n<rwgt>\n</rwgt>\n</event>");
        let text = file_with(&ev, "") + "trailing free text\n";
        let f = write_temp(&text);
        let r = LheReader::open(f.path()).unwrap();
        let events: Vec<_> = r.collect::<Result<_, _>>().unwrap();
        assert_eq!(events.len(), 1);
    }

    #[test]
    fn non_numeric_field_and_non_finite_momentum_are_errors() {
        let bad = EVENT.replace("1.0 2.0 3.0", "1.0 abc 3.0");
        let f = write_temp(&file_with(&bad, ""));
        let err = LheReader::open(f.path())
            .unwrap()
            .next_event()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("expected a number") && err.contains("abc"),
            "{err}"
        );
        let nan = EVENT.replace("1.0 2.0 3.0", "1.0 nan 3.0");
        let f = write_temp(&file_with(&nan, ""));
        let err = LheReader::open(f.path())
            .unwrap()
            .next_event()
            .unwrap_err()
            .to_string();
        assert!(err.contains("non-finite"), "{err}");
    }

    #[test]
    fn text_file_and_missing_init_are_rejected() {
        let f = write_temp("hello\nworld\n");
        let err = LheReader::open(f.path()).err().unwrap().to_string();
        assert!(err.contains("not an LHE file"), "{err}");
        let f = write_temp(
            "<LesHouchesEvents version=\"1.0\">\n<header>\n</header>\n</LesHouchesEvents>\n",
        );
        let err = LheReader::open(f.path()).err().unwrap().to_string();
        assert!(err.contains("no <init> block"), "{err}");
    }
}
