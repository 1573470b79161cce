//! The evaluation stage on synthetic Z -> ee-like events: a report folder
//! with parseable SVGs, and the figures' edge cases.
//!
//! Set `OTUS_EVAL_DEMO_DIR=/some/folder` (and optionally
//! `OTUS_EVAL_DEMO_EVENTS`) to keep a larger demo report for looking at.

use std::f64::consts::{PI, TAU};
use std::path::Path;

use otus::evaluate::plots::{self, HistogramFigure, Series, SeriesKind, TransportFigure};
use otus::evaluate::protocol::{EvaluationSettings, Halves, ModelOutputs, split_halves};
use otus::evaluate::report::{ReportSettings, write_report};
use otus::evaluate::{Sample, Unit};
use quick_xml::Reader;
use quick_xml::events::Event;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const OBJECTS: [&str; 2] = ["em", "ep"];

fn normal(rng: &mut impl Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (TAU * u2).cos()
}

/// Z -> ee events: a Breit-Wigner mass (91.19 GeV, width 2.5 GeV, cut to
/// 60..120), isotropic massless decay, boosted along the beam.
fn parton_events(n: usize, rng: &mut impl Rng) -> Vec<[f64; 8]> {
    (0..n)
        .map(|_| {
            let m = loop {
                let m = 91.19 + 1.25 * (PI * (rng.random::<f64>() - 0.5)).tan();
                if (60.0..120.0).contains(&m) {
                    break m;
                }
            };
            let cos_t: f64 = 2.0 * rng.random::<f64>() - 1.0;
            let sin_t = (1.0 - cos_t * cos_t).sqrt();
            let phi = TAU * rng.random::<f64>();
            let p = m / 2.0;
            let (px, py, pz) = (p * sin_t * phi.cos(), p * sin_t * phi.sin(), p * cos_t);
            // Boost along z with rapidity y ~ N(0, 0.6).
            let y = 0.6 * normal(rng);
            let (ch, sh) = (y.cosh(), y.sinh());
            let boost = |pz: f64, e: f64| (ch * pz + sh * e, sh * pz + ch * e);
            let (pz1, e1) = boost(pz, p);
            let (pz2, e2) = boost(-pz, p);
            [px, py, pz1, e1, -px, -py, pz2, e2]
        })
        .collect()
}

/// Detector smearing: each electron's momentum scaled by `scale` times
/// (1 + resolution * N(0, 1)), kept massless.
fn smear(events: &[[f64; 8]], scale: f64, resolution: f64, rng: &mut impl Rng) -> Vec<[f64; 8]> {
    events
        .iter()
        .map(|e| {
            let mut out = *e;
            for k in 0..2 {
                let f = scale * (1.0 + resolution * normal(rng));
                for c in 0..4 {
                    out[4 * k + c] *= f;
                }
            }
            out
        })
        .collect()
}

fn sample(space: &str, events: &[[f64; 8]]) -> Sample {
    let columns = OBJECTS
        .iter()
        .flat_map(|o| ["px", "py", "pz", "e"].map(|c| format!("{space}_{o}_{c}")))
        .collect();
    Sample::new(columns, events.iter().flatten().copied().collect()).unwrap()
}

/// Synthetic halves and a stand-in model's outputs for `events` per half.
fn inputs(events: usize) -> (Halves, ModelOutputs) {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let z = parton_events(2 * events, &mut rng);
    let x = smear(&z, 1.0, 0.03, &mut rng);
    let halves = split_halves(&sample("z", &z), &sample("x", &x)).unwrap();

    // A stand-in model: D smears a little too much and 1 % high, E undoes
    // the scale only.
    let rows = |s: &Sample| -> Vec<[f64; 8]> {
        (0..s.rows())
            .map(|i| s.row(i).try_into().unwrap())
            .collect()
    };
    let model_rng = std::cell::RefCell::new(ChaCha8Rng::seed_from_u64(5));
    let outputs = ModelOutputs::compute(
        &halves,
        |x| {
            sample(
                "z",
                &smear(&rows(x), 0.99, 0.01, &mut *model_rng.borrow_mut()),
            )
        },
        |z| {
            sample(
                "x",
                &smear(&rows(z), 1.01, 0.04, &mut *model_rng.borrow_mut()),
            )
        },
    );
    (halves, outputs)
}

fn settings(slices: usize) -> ReportSettings {
    ReportSettings {
        evaluation: EvaluationSettings {
            process: "pp -> Z -> e+ e- (synthetic)".into(),
            slices,
            ..Default::default()
        },
        ..Default::default()
    }
}

fn demo(
    events: usize,
    dir: &Path,
    slices: usize,
) -> (otus::evaluate::protocol::Evaluation, Vec<String>) {
    let (halves, outputs) = inputs(events);
    let (evaluation, figures) = write_report(dir, &halves, &outputs, &settings(slices)).unwrap();
    (evaluation, figures.into_iter().map(|f| f.file).collect())
}

/// Every file of `dir` with its bytes, sorted by name.
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn a_report_that_fails_leaves_the_earlier_one_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let (halves, outputs) = inputs(300);
    write_report(dir.path(), &halves, &outputs, &settings(20)).unwrap();
    let before = contents(dir.path());
    assert!(before.len() > 30);
    // A transport column that does not exist is found after the metrics
    // and histograms are computed, but before anything is written.
    let mut bad = settings(20);
    bad.bins = 17; // would change every histogram if written
    bad.transport = Some(("z_nope".into(), "x_ep_e".into()));
    let err = write_report(dir.path(), &halves, &outputs, &bad).unwrap_err();
    assert!(err.to_string().contains("z_nope"), "{err}");
    assert_eq!(
        contents(dir.path()),
        before,
        "the earlier report is untouched"
    );
}

/// Parses `svg` as XML and returns the start tags' names with attributes.
fn elements(svg: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut reader = Reader::from_str(svg);
    let mut out = Vec::new();
    loop {
        match reader.read_event().expect("SVG is well-formed XML") {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                let attrs = e
                    .attributes()
                    .map(|a| {
                        let a = a.unwrap();
                        let key = String::from_utf8(a.key.as_ref().to_vec()).unwrap();
                        (key, String::from_utf8(a.value.to_vec()).unwrap())
                    })
                    .collect();
                out.push((name, attrs));
            }
            _ => {}
        }
    }
    out
}

/// The trimmed contents of every `<text>` element.
fn texts(svg: &str) -> Vec<String> {
    let mut reader = Reader::from_str(svg);
    let (mut inside, mut out) = (false, Vec::new());
    loop {
        match reader.read_event().expect("SVG is well-formed XML") {
            Event::Eof => break,
            Event::Start(e) => inside = e.name().as_ref() == b"text",
            Event::End(_) => inside = false,
            Event::Text(t) if inside => {
                out.push(t.decode().unwrap().trim().to_string());
            }
            _ => {}
        }
    }
    out
}

fn attr<'a>(e: &'a (String, Vec<(String, String)>), key: &str) -> Option<&'a str> {
    e.1.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Distinct stroke colours of lines and polylines.
fn stroke_colors(svg: &str) -> Vec<String> {
    let mut colors: Vec<String> = elements(svg)
        .iter()
        .filter(|e| e.0 == "polyline" || e.0 == "line" || e.0 == "path")
        .filter_map(|e| attr(e, "stroke").map(str::to_uppercase))
        .collect();
    colors.sort();
    colors.dedup();
    colors
}

#[test]
fn report_folder_has_metrics_figures_and_index() {
    let keep = std::env::var_os("OTUS_EVAL_DEMO_DIR");
    let tmp = tempfile::tempdir().unwrap();
    let dir = keep.as_ref().map_or(tmp.path(), Path::new);
    let events = std::env::var("OTUS_EVAL_DEMO_EVENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let slices = if keep.is_some() { 1000 } else { 50 };
    let (evaluation, files) = demo(events, dir, slices);

    for f in ["metrics.md", "metrics.json", "index.html"] {
        assert!(dir.join(f).is_file(), "{f} written");
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty(), "no .part files remain");

    // 8 columns + 6 (pT, eta, phi) + M_ee in each space, and two transports.
    assert_eq!(files.len(), 2 * 15 + 2);
    assert!(files.contains(&"x_mass_ee.svg".to_string()));
    assert!(files.contains(&"transport_learned.svg".to_string()));
    let index = std::fs::read_to_string(dir.join("index.html")).unwrap();
    for f in &files {
        assert!(index.contains(&format!("src=\"{f}\"")), "{f} in index.html");
        elements(&std::fs::read_to_string(dir.join(f)).unwrap());
    }

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(json["comparisons"].as_array().unwrap().len(), 3);
    assert_eq!(evaluation.events_per_half, events);

    // The stand-in simulator is visibly off in M_ee; its floor is not.
    let sim = &evaluation.comparisons[2];
    let mass = sim
        .variables
        .iter()
        .find(|v| v.name == "x_mass_ee")
        .unwrap();
    assert!(mass.model.ks > mass.floor.ks);
    assert!(mass.model.ks_p_value < 1e-3);

    // The x figures hold truth, D(z), D(E(x)) and a ratio panel.
    let svg = std::fs::read_to_string(dir.join("x_ep_px.svg")).unwrap();
    let colors = stroke_colors(&svg);
    for c in ["#000000", "#800080", "#008000"] {
        assert!(colors.contains(&c.to_string()), "{c} in {colors:?}");
    }
    assert!(!colors.contains(&"#00BFBF".to_string()));
    let texts = texts(&svg);
    assert_eq!(texts.iter().filter(|t| *t == "ratio to truth").count(), 1);
    assert_eq!(texts.iter().filter(|t| *t == "e+ px [GeV]").count(), 1);
    assert_eq!(texts.iter().filter(|t| *t == "entries / bin").count(), 1);
}

fn one_figure(series: Vec<Series>, range: Option<(f64, f64)>) -> (String, plots::FigureSummary) {
    let fig = HistogramFigure {
        label: "M_ee".into(),
        unit: Unit::GeV,
        process: "test".into(),
        series,
        bins: 20,
        range,
    };
    plots::histogram_svg(&fig).unwrap()
}

#[test]
fn ratio_panel_of_identical_histograms_sits_at_one() {
    let v: Vec<f64> = (0..400).map(|i| 80.0 + (i % 37) as f64 * 0.5).collect();
    let (svg, summary) = one_figure(
        vec![
            Series {
                kind: SeriesKind::Truth,
                values: &v,
            },
            Series {
                kind: SeriesKind::Simulated,
                values: &v,
            },
        ],
        None,
    );
    assert_eq!((summary.panels, summary.series), (2, 2));
    let els = elements(&svg);
    // The unity line is the grey two-point polyline; every marker is on it.
    let unity = els
        .iter()
        .find(|e| e.0 == "polyline" && attr(e, "stroke") == Some("#787878"))
        .expect("a line at 1");
    let ys: Vec<&str> = attr(unity, "points")
        .unwrap()
        .split_whitespace()
        .map(|p| p.split(',').nth(1).unwrap())
        .collect();
    let circles: Vec<_> = els.iter().filter(|e| e.0 == "circle").collect();
    assert!(!circles.is_empty());
    for c in circles {
        assert_eq!(attr(c, "cy"), Some(ys[0]));
    }
}

#[test]
fn edge_cases_do_not_panic_and_say_what_they_dropped() {
    // Empty bins: two separated clumps.
    let clumps: Vec<f64> = (0..50)
        .map(|i| if i % 2 == 0 { 1.0 } else { 9.0 })
        .collect();
    let (_, s) = one_figure(
        vec![
            Series {
                kind: SeriesKind::Truth,
                values: &clumps,
            },
            Series {
                kind: SeriesKind::Encoded,
                values: &clumps[..10],
            },
        ],
        Some((0.0, 10.0)),
    );
    assert!(s.dropped.is_empty());

    // Everything in the overflow.
    let high = vec![500.0; 12];
    let (svg, s) = one_figure(
        vec![
            Series {
                kind: SeriesKind::Truth,
                values: &high,
            },
            Series {
                kind: SeriesKind::RoundTrip,
                values: &high,
            },
        ],
        Some((0.0, 100.0)),
    );
    assert_eq!(
        s.dropped,
        vec!["truth: overflow 12", "x -> D(E(x)): overflow 12"]
    );
    assert!(texts(&svg).contains(&"outside the axis range, truth: overflow 12".to_string()));

    // A single event, and an empty series.
    let (svg, s) = one_figure(
        vec![
            Series {
                kind: SeriesKind::Truth,
                values: &[91.0],
            },
            Series {
                kind: SeriesKind::Simulated,
                values: &[],
            },
        ],
        None,
    );
    assert!(s.dropped.is_empty());
    elements(&svg);

    // A transport plot with an event outside and a NaN.
    let z = [1.0, 2.0, 3.0, 100.0, f64::NAN];
    let x = [1.0, 2.0, 3.0, 1.0, 1.0];
    let fig = TransportFigure {
        title: "t".into(),
        process: "p".into(),
        z_label: "e+ E".into(),
        x_label: "e+ E".into(),
        unit: Unit::GeV,
        z: &z,
        x: &x,
        ranges: Some(((0.0, 10.0), (0.0, 10.0))),
    };
    let (svg, s) = plots::transport_svg(&fig).unwrap();
    assert_eq!(s.dropped, vec!["z outside its range: 1", "non-finite: 1"]);
    elements(&svg);
}
