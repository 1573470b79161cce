//! The paper's figures as SVG (plotters' SVG backend: text is written as SVG
//! `<text>`, so no font files are needed).
//!
//! - [`histogram_svg`]: step histograms of one variable, truth solid black,
//!   E(x) dashed cyan, D(z) dashed purple, D(E(x)) dotted green, with a ratio
//!   panel beneath (a third of the height). Invariant-mass figures are the
//!   same figure for a mass variable.
//! - [`transport_svg`]: a 20 x 20 joint histogram of a z variable against an
//!   x variable, the z marginal coloured by bin and the x marginal stacked by
//!   the z bin each event came from.
//!
//! Entries outside the axis range (under- and overflow) and non-finite values
//! are counted and printed in the figure's footer, never silently lost.

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::{EvaluateError, Unit};

/// Default number of bins of a histogram figure.
pub const HISTOGRAM_BINS: usize = 50;

/// Number of bins per axis of a transport plot.
pub const TRANSPORT_BINS: usize = 20;

/// Range of the ratio panel.
pub const RATIO_RANGE: (f64, f64) = (0.5, 1.5);

const WIDTH: u32 = 800;
const MAIN_HEIGHT: u32 = 460;
const RATIO_HEIGHT: u32 = 230;
const FOOTER_LINE: u32 = 20;
const LABEL_FONT: u32 = 22;
const TICK_FONT: u32 = 17;
const Y_LABEL_AREA: u32 = 85;

/// A histogram with uniform bins on `[lo, hi)` that counts what falls
/// outside.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// Lower edge of the first bin (the variable's unit).
    pub lo: f64,
    /// Upper edge of the last bin.
    pub hi: f64,
    /// Entries per bin.
    pub counts: Vec<f64>,
    /// Entries below `lo`.
    pub underflow: usize,
    /// Entries at or above `hi`.
    pub overflow: usize,
    /// NaN or infinite entries.
    pub non_finite: usize,
}

impl Histogram {
    /// Fills `bins` uniform bins on `[lo, hi)` with `values`.
    pub fn fill(lo: f64, hi: f64, bins: usize, values: &[f64]) -> Self {
        let bins = bins.max(1);
        let mut h = Histogram {
            lo,
            hi,
            counts: vec![0.0; bins],
            underflow: 0,
            overflow: 0,
            non_finite: 0,
        };
        let width = (hi - lo) / bins as f64;
        for &v in values {
            if !v.is_finite() {
                h.non_finite += 1;
            } else if v < lo {
                h.underflow += 1;
            } else if v >= hi {
                h.overflow += 1;
            } else {
                let k = (((v - lo) / width) as usize).min(bins - 1);
                h.counts[k] += 1.0;
            }
        }
        h
    }

    /// Width of one bin.
    pub fn bin_width(&self) -> f64 {
        (self.hi - self.lo) / self.counts.len() as f64
    }

    /// Centre of bin `k`.
    pub fn center(&self, k: usize) -> f64 {
        self.lo + (k as f64 + 0.5) * self.bin_width()
    }

    /// Entries inside the range.
    pub fn inside(&self) -> f64 {
        self.counts.iter().sum()
    }

    /// What was left out of the bins, e.g. `underflow 3, overflow 12`, or
    /// `None` when nothing was.
    pub fn dropped(&self) -> Option<String> {
        let parts: Vec<String> = [
            ("underflow", self.underflow),
            ("overflow", self.overflow),
            ("non-finite", self.non_finite),
        ]
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(what, n)| format!("{what} {n}"))
        .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    /// The outline of a step histogram: (edge, count) corners from
    /// (lo, 0) to (hi, 0).
    fn steps(&self) -> Vec<(f64, f64)> {
        let mut points = vec![(self.lo, 0.0)];
        for (k, c) in self.counts.iter().enumerate() {
            let left = self.lo + k as f64 * self.bin_width();
            points.push((left, *c));
            points.push((left + self.bin_width(), *c));
        }
        points.push((self.hi, 0.0));
        points
    }
}

/// The axis range of a variable: the 0.1 % to 99.9 % quantiles of the
/// reference sample, widened by 5 % on each side (a constant sample gets
/// +-0.5, or +-5 % of its value). Non-finite values are ignored.
pub fn axis_range(reference: &[f64]) -> (f64, f64) {
    quantile_range(reference, 0.001)
}

/// The `p` to `1 - p` quantiles of `values`, widened by 5 % on each side;
/// see [`axis_range`].
pub fn quantile_range(values: &[f64], p: f64) -> (f64, f64) {
    let reference = values;
    let mut v: Vec<f64> = reference
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    if v.is_empty() {
        return (0.0, 1.0);
    }
    v.sort_unstable_by(f64::total_cmp);
    let q = |p: f64| v[((p * (v.len() - 1) as f64).round() as usize).min(v.len() - 1)];
    let (lo, hi) = (q(p), q(1.0 - p));
    if hi > lo {
        let pad = 0.05 * (hi - lo);
        return (lo - pad, hi + pad);
    }
    let pad = if lo == 0.0 { 0.5 } else { 0.05 * lo.abs() };
    (lo - pad, hi + pad)
}

/// The role of a series, which fixes its style as in the paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesKind {
    /// The truth sample: solid black.
    Truth,
    /// E(x), the unfolded sample: dashed cyan.
    Encoded,
    /// D(z), the simulated sample: dashed purple.
    Simulated,
    /// D(E(x)), the round trip: dotted green.
    RoundTrip,
}

impl SeriesKind {
    /// Legend text.
    pub fn legend(self) -> &'static str {
        match self {
            SeriesKind::Truth => "truth",
            SeriesKind::Encoded => "x -> E(x)",
            SeriesKind::Simulated => "z -> D(z)",
            SeriesKind::RoundTrip => "x -> D(E(x))",
        }
    }

    /// Line colour.
    pub fn color(self) -> RGBColor {
        match self {
            SeriesKind::Truth => RGBColor(0, 0, 0),
            SeriesKind::Encoded => RGBColor(0, 191, 191),
            SeriesKind::Simulated => RGBColor(128, 0, 128),
            SeriesKind::RoundTrip => RGBColor(0, 128, 0),
        }
    }

    /// Dash length and gap in pixels; `None` for a solid line.
    fn dash(self) -> Option<(u32, u32)> {
        match self {
            SeriesKind::Truth => None,
            SeriesKind::Encoded | SeriesKind::Simulated => Some((9, 5)),
            SeriesKind::RoundTrip => Some((2, 4)),
        }
    }
}

/// One sample drawn in a histogram figure.
#[derive(Debug, Clone)]
pub struct Series<'a> {
    /// Its role and style.
    pub kind: SeriesKind,
    /// Values of the variable, in its unit.
    pub values: &'a [f64],
}

/// A histogram figure of one variable.
#[derive(Debug, Clone)]
pub struct HistogramFigure<'a> {
    /// Axis label of the variable without unit, e.g. `e+ px` or `M_ee`.
    pub label: String,
    /// Unit of the variable.
    pub unit: Unit,
    /// Process label, e.g. `pp -> Z -> e+ e-`.
    pub process: String,
    /// The series; the first [`SeriesKind::Truth`] one is the ratio's
    /// reference. Any subset of kinds may be present.
    pub series: Vec<Series<'a>>,
    /// Number of bins.
    pub bins: usize,
    /// Axis range; `None` for [`axis_range`] of the truth (or first) series.
    pub range: Option<(f64, f64)>,
}

/// A point of the ratio panel: a series over the truth in one bin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatioPoint {
    /// Bin centre (the variable's unit).
    pub center: f64,
    /// (h / N_h) / (h_truth / N_truth): per-bin ratio, with both histograms
    /// normalized to their in-range entries (equal-size samples: the plain
    /// ratio).
    pub ratio: f64,
    /// r * sqrt(1/h + 1/h_truth), from Poisson errors of both bins.
    pub error: f64,
}

/// Ratio of `other` to `truth` per bin; bins where either is empty give no
/// point (no infinite or undefined error bars).
pub fn ratio_points(truth: &Histogram, other: &Histogram) -> Vec<RatioPoint> {
    let (nt, no) = (truth.inside(), other.inside());
    if nt == 0.0 || no == 0.0 {
        return Vec::new();
    }
    let scale = nt / no;
    truth
        .counts
        .iter()
        .zip(&other.counts)
        .enumerate()
        .filter(|(_, (t, o))| **t > 0.0 && **o > 0.0)
        .map(|(k, (t, o))| {
            let ratio = o / t * scale;
            RatioPoint {
                center: truth.center(k),
                ratio,
                error: ratio * (1.0 / o + 1.0 / t).sqrt(),
            }
        })
        .collect()
}

/// What a drawn figure holds, for tests and logs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FigureSummary {
    /// Number of panels (charts) drawn.
    pub panels: usize,
    /// Number of series drawn in the main panel.
    pub series: usize,
    /// One line per series that lost entries: `truth: overflow 12`.
    pub dropped: Vec<String>,
}

/// `label [unit]`, or `label` for a dimensionless variable.
pub fn axis_title(label: &str, unit: Unit) -> String {
    match unit.symbol() {
        "" => label.to_string(),
        u => format!("{label} [{u}]"),
    }
}

type DrawResult<T> = Result<T, Box<dyn std::error::Error>>;

fn plot_error(figure: &str, e: Box<dyn std::error::Error>) -> EvaluateError {
    EvaluateError::Plot {
        figure: figure.to_string(),
        message: e.to_string(),
    }
}

/// Draws a histogram figure; returns the SVG text and a summary.
pub fn histogram_svg(fig: &HistogramFigure) -> Result<(String, FigureSummary), EvaluateError> {
    let prepared = prepare(fig);
    let footer = FOOTER_LINE * prepared.dropped.len().max(1) as u32 + 12;
    let mut svg = String::new();
    {
        let height = MAIN_HEIGHT + RATIO_HEIGHT + footer;
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        draw_histogram(&root, fig, &prepared).map_err(|e| plot_error(&fig.label, e))?;
        root.present()
            .map_err(|e| plot_error(&fig.label, e.into()))?;
    }
    let summary = FigureSummary {
        panels: 2,
        series: fig.series.len(),
        dropped: prepared.dropped,
    };
    Ok((svg, summary))
}

/// The binned content of a histogram figure.
struct Prepared {
    lo: f64,
    hi: f64,
    truth_index: usize,
    histograms: Vec<Histogram>,
    /// Ratio points per series (empty for the truth).
    ratios: Vec<Vec<RatioPoint>>,
    /// One line per series that lost entries, and one for ratio points
    /// outside the panel.
    dropped: Vec<String>,
}

fn prepare(fig: &HistogramFigure) -> Prepared {
    let truth_index = fig
        .series
        .iter()
        .position(|s| s.kind == SeriesKind::Truth)
        .unwrap_or(0);
    let (lo, hi) = fig.range.unwrap_or_else(|| {
        fig.series
            .get(truth_index)
            .map_or((0.0, 1.0), |s| axis_range(s.values))
    });
    let histograms: Vec<Histogram> = fig
        .series
        .iter()
        .map(|s| Histogram::fill(lo, hi, fig.bins, s.values))
        .collect();
    let ratios: Vec<Vec<RatioPoint>> = histograms
        .iter()
        .enumerate()
        .map(|(k, h)| {
            if k == truth_index {
                Vec::new()
            } else {
                ratio_points(&histograms[truth_index], h)
            }
        })
        .collect();

    let mut dropped: Vec<String> = fig
        .series
        .iter()
        .zip(&histograms)
        .filter_map(|(s, h)| h.dropped().map(|d| format!("{}: {d}", s.kind.legend())))
        .collect();
    let (rlo, rhi) = RATIO_RANGE;
    let outside = ratios
        .iter()
        .flatten()
        .filter(|p| !(rlo..=rhi).contains(&p.ratio))
        .count();
    if outside > 0 {
        dropped.push(format!("{outside} ratio points outside [{rlo}, {rhi}]"));
    }
    Prepared {
        lo,
        hi,
        truth_index,
        histograms,
        ratios,
        dropped,
    }
}

fn draw_histogram(
    root: &DrawingArea<SVGBackend, Shift>,
    fig: &HistogramFigure,
    prepared: &Prepared,
) -> DrawResult<()> {
    root.fill(&WHITE)?;
    let (main, rest) = root.split_vertically(MAIN_HEIGHT);
    let (ratio_area, footer) = rest.split_vertically(RATIO_HEIGHT);
    let Prepared { lo, hi, .. } = *prepared;

    // Main panel.
    let ymax = prepared
        .histograms
        .iter()
        .flat_map(|h| h.counts.iter().copied())
        .fold(0.0, f64::max)
        .max(1.0)
        * 1.3;
    let events = fig
        .series
        .get(prepared.truth_index)
        .map_or(0, |s| s.values.len());
    let mut chart = ChartBuilder::on(&main)
        .margin_top(10)
        .margin_right(25)
        .margin_left(10)
        .caption(
            format!("{}    N = {} per sample", fig.process, events),
            ("sans-serif", LABEL_FONT),
        )
        .x_label_area_size(0)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(lo..hi, 0.0..ymax)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .y_desc("entries / bin")
        .axis_desc_style(("sans-serif", LABEL_FONT))
        .label_style(("sans-serif", TICK_FONT))
        .y_label_formatter(&|v| compact(*v))
        .draw()?;
    for (series, h) in fig.series.iter().zip(&prepared.histograms) {
        draw_steps(&mut chart, series.kind, h.steps())?;
    }
    if !fig.series.is_empty() {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .margin(10)
            .legend_area_size(40)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.5))
            .label_font(("sans-serif", TICK_FONT + 1))
            .draw()?;
    }

    // Ratio panel.
    let (rlo, rhi) = RATIO_RANGE;
    let mut ratio = ChartBuilder::on(&ratio_area)
        .margin_right(25)
        .margin_left(10)
        .margin_top(12)
        .x_label_area_size(60)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(lo..hi, rlo..rhi)?;
    ratio
        .configure_mesh()
        .disable_mesh()
        .y_labels(5)
        .x_desc(axis_title(&fig.label, fig.unit))
        .y_desc("ratio to truth")
        .axis_desc_style(("sans-serif", LABEL_FONT))
        .label_style(("sans-serif", TICK_FONT))
        .x_label_formatter(&|v| compact(*v))
        .draw()?;
    ratio.draw_series(LineSeries::new(
        [(lo, 1.0), (hi, 1.0)],
        RGBColor(120, 120, 120).stroke_width(1),
    ))?;
    for (series, points) in fig.series.iter().zip(&prepared.ratios) {
        let color = series.kind.color();
        for p in points.iter().filter(|p| (rlo..=rhi).contains(&p.ratio)) {
            let (a, b) = ((p.ratio - p.error).max(rlo), (p.ratio + p.error).min(rhi));
            ratio.draw_series(LineSeries::new(
                [(p.center, a), (p.center, b)],
                color.stroke_width(1),
            ))?;
            ratio.draw_series(std::iter::once(Circle::new(
                (p.center, p.ratio),
                3,
                color.filled(),
            )))?;
        }
    }

    // Footer: what is not in the bins, one line per series.
    let lines = if prepared.dropped.is_empty() {
        vec!["all entries inside the axis range".to_string()]
    } else {
        prepared
            .dropped
            .iter()
            .map(|d| format!("outside the axis range, {d}"))
            .collect()
    };
    for (k, line) in lines.into_iter().enumerate() {
        footer.draw(&Text::new(
            line,
            (
                Y_LABEL_AREA as i32 + 10,
                4 + (k as u32 * FOOTER_LINE) as i32,
            ),
            ("sans-serif", TICK_FONT).into_font(),
        ))?;
    }
    Ok(())
}

/// Draws one step outline in the series' style, with its legend entry.
fn draw_steps<DB: DrawingBackend>(
    chart: &mut ChartContext<DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    kind: SeriesKind,
    points: Vec<(f64, f64)>,
) -> DrawResult<()>
where
    DB::ErrorType: 'static,
{
    let style = kind.color().stroke_width(2);
    let anno = match kind.dash() {
        None => chart.draw_series(LineSeries::new(points, style))?,
        Some((dash, gap)) => chart.draw_series(DashedLineSeries::new(points, dash, gap, style))?,
    };
    anno.label(kind.legend()).legend(move |(x, y)| {
        let (dash, gap) = kind.dash().unwrap_or((30, 0));
        DashedPathElement::new(vec![(x, y), (x + 30, y)], dash, gap.max(1), style)
    });
    Ok(())
}

/// Tick labels: up to 4 significant digits without trailing zeros.
fn compact(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e6).contains(&a) {
        return format!("{v:.1e}");
    }
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// A transport figure: paired values of a z variable and an x variable.
#[derive(Debug, Clone)]
pub struct TransportFigure<'a> {
    /// Title, e.g. `learned decoder: (z, D(z))` or `true pairing: (z, x)`.
    pub title: String,
    /// Process label.
    pub process: String,
    /// Label of the z variable without unit.
    pub z_label: String,
    /// Label of the x variable without unit.
    pub x_label: String,
    /// Unit of both variables.
    pub unit: Unit,
    /// z values, one per event.
    pub z: &'a [f64],
    /// x values of the same events (`x[i]` comes from `z[i]`).
    pub x: &'a [f64],
    /// Axis ranges (z, x); `None` for the 1 % to 99 % [`quantile_range`] of
    /// each.
    pub ranges: Option<((f64, f64), (f64, f64))>,
}

/// Colour of z bin `k` of `n`: a viridis-like ramp from dark purple to
/// yellow.
pub fn bin_color(k: usize, n: usize) -> RGBColor {
    const STOPS: [(f64, f64, f64); 5] = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (253.0, 231.0, 37.0),
    ];
    let t = if n > 1 {
        k as f64 / (n - 1) as f64
    } else {
        0.0
    };
    let s = t * (STOPS.len() - 1) as f64;
    let i = (s.floor() as usize).min(STOPS.len() - 2);
    let f = s - i as f64;
    let mix = |a: f64, b: f64| (a + (b - a) * f).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Draws a transport figure: the joint 20 x 20 histogram in the centre, the
/// z marginal above (each bar in its bin's colour) and the x marginal on the
/// right, stacked by the z bin each event came from. Events outside either
/// range are counted in the footer.
pub fn transport_svg(fig: &TransportFigure) -> Result<(String, FigureSummary), EvaluateError> {
    if fig.z.len() != fig.x.len() {
        return Err(EvaluateError::Mismatch(format!(
            "transport plot: {} z values, {} x values",
            fig.z.len(),
            fig.x.len()
        )));
    }
    let mut svg = String::new();
    let summary = {
        let root = SVGBackend::with_string(&mut svg, (820, 860)).into_drawing_area();
        let summary = draw_transport(&root, fig).map_err(|e| plot_error(&fig.title, e))?;
        root.present()
            .map_err(|e| plot_error(&fig.title, e.into()))?;
        summary
    };
    Ok((svg, summary))
}

/// Joint counts `[z bin][x bin]` and the events outside.
struct Joint {
    counts: Vec<Vec<f64>>,
    dropped: Vec<String>,
}

fn joint(fig: &TransportFigure, zr: (f64, f64), xr: (f64, f64)) -> Joint {
    let n = TRANSPORT_BINS;
    let mut counts = vec![vec![0.0; n]; n];
    let (mut z_out, mut x_out, mut bad) = (0, 0, 0);
    let bin = |v: f64, (lo, hi): (f64, f64)| {
        (v >= lo && v < hi).then(|| (((v - lo) / (hi - lo) * n as f64) as usize).min(n - 1))
    };
    for (&z, &x) in fig.z.iter().zip(fig.x) {
        if !z.is_finite() || !x.is_finite() {
            bad += 1;
            continue;
        }
        match (bin(z, zr), bin(x, xr)) {
            (Some(i), Some(j)) => counts[i][j] += 1.0,
            (None, _) => z_out += 1,
            (Some(_), None) => x_out += 1,
        }
    }
    let dropped = [
        ("z outside its range", z_out),
        ("x outside its range", x_out),
        ("non-finite", bad),
    ]
    .iter()
    .filter(|(_, k)| *k > 0)
    .map(|(what, k)| format!("{what}: {k}"))
    .collect();
    Joint { counts, dropped }
}

fn draw_transport(
    root: &DrawingArea<SVGBackend, Shift>,
    fig: &TransportFigure,
) -> DrawResult<FigureSummary> {
    root.fill(&WHITE)?;
    let n = TRANSPORT_BINS;
    let (zr, xr) = fig
        .ranges
        .unwrap_or_else(|| (quantile_range(fig.z, 0.01), quantile_range(fig.x, 0.01)));
    let data = joint(fig, zr, xr);
    let (body, footer) = root.split_vertically(820);
    let (title, body) = body.split_vertically(40);
    let panels = body.split_by_breakpoints([600], [200]);
    let (top, corner, centre, right) = (&panels[0], &panels[1], &panels[2], &panels[3]);

    title.draw(&Text::new(
        format!("{}    {}    N = {}", fig.process, fig.title, fig.z.len()),
        (20, 12),
        ("sans-serif", LABEL_FONT).into_font(),
    ))?;

    let zw = (zr.1 - zr.0) / n as f64;
    let xw = (xr.1 - xr.0) / n as f64;
    let z_marginal: Vec<f64> = data.counts.iter().map(|row| row.iter().sum()).collect();
    let x_marginal: Vec<f64> = (0..n)
        .map(|j| data.counts.iter().map(|r| r[j]).sum())
        .collect();
    let peak = |v: &[f64]| v.iter().copied().fold(0.0, f64::max).max(1.0) * 1.1;

    // z marginal, each bar in its bin's colour.
    let mut chart = ChartBuilder::on(top)
        .margin_left(10)
        .margin_top(5)
        .y_label_area_size(Y_LABEL_AREA)
        .x_label_area_size(0)
        .build_cartesian_2d(zr.0..zr.1, 0.0..peak(&z_marginal))?;
    chart
        .configure_mesh()
        .disable_mesh()
        .y_desc("entries")
        .y_labels(4)
        .axis_desc_style(("sans-serif", TICK_FONT + 1))
        .label_style(("sans-serif", TICK_FONT))
        .y_label_formatter(&|v| compact(*v))
        .draw()?;
    chart.draw_series(z_marginal.iter().enumerate().map(|(i, c)| {
        let x0 = zr.0 + i as f64 * zw;
        Rectangle::new([(x0, 0.0), (x0 + zw, *c)], bin_color(i, n).filled())
    }))?;

    // Joint histogram, white to black by sqrt(count).
    let max = data
        .counts
        .iter()
        .flatten()
        .copied()
        .fold(0.0, f64::max)
        .max(1.0);
    let mut chart = ChartBuilder::on(centre)
        .margin_left(10)
        .margin_top(5)
        .x_label_area_size(60)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(zr.0..zr.1, xr.0..xr.1)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(format!("z: {}", axis_title(&fig.z_label, fig.unit)))
        .y_desc(format!("x: {}", axis_title(&fig.x_label, fig.unit)))
        .axis_desc_style(("sans-serif", LABEL_FONT))
        .label_style(("sans-serif", TICK_FONT))
        .x_label_formatter(&|v| compact(*v))
        .y_label_formatter(&|v| compact(*v))
        .draw()?;
    chart.draw_series(
        (0..n)
            .flat_map(|i| (0..n).map(move |j| (i, j)))
            .filter_map(|(i, j)| {
                let c = data.counts[i][j];
                (c > 0.0).then(|| {
                    let shade = (225.0 * (1.0 - (c / max).sqrt())) as u8;
                    let (z0, x0) = (zr.0 + i as f64 * zw, xr.0 + j as f64 * xw);
                    Rectangle::new(
                        [(z0, x0), (z0 + zw, x0 + xw)],
                        RGBColor(shade, shade, shade).filled(),
                    )
                })
            }),
    )?;

    // x marginal, stacked by source z bin.
    let mut chart = ChartBuilder::on(right)
        .margin_top(5)
        .margin_right(20)
        .x_label_area_size(60)
        .y_label_area_size(0)
        .build_cartesian_2d(0.0..peak(&x_marginal), xr.0..xr.1)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(3)
        .x_desc("entries")
        .axis_desc_style(("sans-serif", TICK_FONT + 1))
        .label_style(("sans-serif", TICK_FONT))
        .x_label_formatter(&|v| compact(*v))
        .draw()?;
    for j in 0..n {
        let x0 = xr.0 + j as f64 * xw;
        let mut left = 0.0;
        for (i, row) in data.counts.iter().enumerate() {
            let c = row[j];
            if c > 0.0 {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(left, x0), (left + c, x0 + xw)],
                    bin_color(i, n).filled(),
                )))?;
                left += c;
            }
        }
    }

    corner.draw(&Text::new(
        "colour: z bin",
        (15, 90),
        ("sans-serif", TICK_FONT).into_font(),
    ))?;
    for i in 0..n {
        let x = 15 + i as i32 * 8;
        corner.draw(&Rectangle::new(
            [(x, 115), (x + 8, 130)],
            bin_color(i, n).filled(),
        ))?;
    }

    let note = if data.dropped.is_empty() {
        "all events inside both ranges".to_string()
    } else {
        format!("left out: {}", data.dropped.join("; "))
    };
    footer.draw(&Text::new(
        note,
        (Y_LABEL_AREA as i32 + 10, 10),
        ("sans-serif", TICK_FONT).into_font(),
    ))?;

    Ok(FigureSummary {
        panels: 3,
        series: n,
        dropped: data.dropped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_counts_what_falls_outside() {
        let h = Histogram::fill(0.0, 10.0, 5, &[-1.0, 0.0, 9.99, 10.0, 12.0, f64::NAN]);
        assert_eq!(h.counts, vec![1.0, 0.0, 0.0, 0.0, 1.0]);
        assert_eq!((h.underflow, h.overflow, h.non_finite), (1, 2, 1));
        assert_eq!(
            h.dropped().as_deref(),
            Some("underflow 1, overflow 2, non-finite 1")
        );
    }

    #[test]
    fn ratio_of_identical_histograms_is_one() {
        let v: Vec<f64> = (0..100).map(|i| (i % 10) as f64).collect();
        let h = Histogram::fill(0.0, 20.0, 20, &v);
        let r = ratio_points(&h, &h);
        assert_eq!(r.len(), 10, "the 10 empty bins give no point");
        assert!(r.iter().all(|p| p.ratio == 1.0 && p.error.is_finite()));
    }

    #[test]
    fn axis_range_of_constant_sample_is_not_empty() {
        let (lo, hi) = axis_range(&[0.0; 5]);
        assert!(lo < 0.0 && hi > 0.0);
        assert_eq!(axis_range(&[]), (0.0, 1.0));
    }

    #[test]
    fn tick_labels_are_compact() {
        assert_eq!(compact(40.0), "40");
        assert_eq!(compact(0.25), "0.25");
        assert_eq!(compact(1.5e7), "1.5e7");
    }
}
