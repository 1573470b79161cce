//! The report folder of an evaluation: `metrics.md`, `metrics.json`, one SVG
//! per figure and an `index.html` that shows them all on one page.
//!
//! Every file is written to a temporary `.part` file in the report folder and renamed
//! into place, so a reader never sees half a file.

use std::fs;
use std::path::Path;

use super::plots::{
    self, HISTOGRAM_BINS, HistogramFigure, Series, SeriesKind, TransportFigure, axis_title,
};
use super::protocol::{
    Evaluation, EvaluationSettings, Halves, ModelOutputs, evaluate, to_markdown,
};
use super::variables::{Variable, VariableColumn, variables_of};
use super::{EvaluateError, Sample};

/// Settings of a report.
#[derive(Debug, Clone, Default)]
pub struct ReportSettings {
    /// Settings of the metrics (process label, slices, seed, derived
    /// variables).
    pub evaluation: EvaluationSettings,
    /// Bins of each histogram figure; 0 means [`HISTOGRAM_BINS`].
    pub bins: usize,
    /// The (z column, x column) of the transport plots, e.g.
    /// `("z_ep_e", "x_ep_e")`; `None` picks the energy of the first object
    /// present in both spaces (the positron's where it exists, as in the
    /// paper).
    pub transport: Option<(String, String)>,
}

/// One figure of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// File name in the report folder.
    pub file: String,
    /// Caption in `index.html`.
    pub caption: String,
    /// Group heading in `index.html`.
    pub group: String,
    /// What the figure left out (under- and overflow).
    pub dropped: Vec<String>,
}

/// Computes the metrics, draws every figure and writes the report folder
/// (created if needed). Returns the metrics and the figures written.
///
/// Everything is computed before anything is written, and the files are
/// written into a hidden folder inside `dir` and then renamed into place,
/// so an error (a bad setting, a full disk) leaves an earlier report as it
/// was rather than a mix of old and new files.
pub fn write_report(
    dir: &Path,
    halves: &Halves,
    outputs: &ModelOutputs,
    settings: &ReportSettings,
) -> Result<(Evaluation, Vec<Figure>), EvaluateError> {
    let evaluation = evaluate(halves, outputs, &settings.evaluation)?;

    let mut figures = Vec::new();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let drawn = histogram_figures(halves, outputs, settings)?
        .into_iter()
        .chain(transport_figures(halves, outputs, settings)?);
    for (name, svg, figure) in drawn {
        files.push((name, svg.into_bytes()));
        figures.push(figure);
    }
    let markdown = to_markdown(&evaluation);
    let json = serde_json::to_string_pretty(&evaluation)?;
    let index = index_html(&evaluation, &markdown, &figures);
    files.push(("metrics.md".into(), markdown.into_bytes()));
    files.push(("metrics.json".into(), json.into_bytes()));
    files.push(("index.html".into(), index.into_bytes()));

    fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    let staging = tempfile::Builder::new()
        .prefix(".report.")
        .suffix(".part")
        .tempdir_in(dir)
        .map_err(|e| io_error(dir, e))?;
    for (name, bytes) in &files {
        // An error names the report's file, not the hidden folder.
        let staged = staging.path().join(name);
        fs::write(&staged, bytes).map_err(|e| io_error(&dir.join(name), e))?;
    }
    for (name, _) in &files {
        let to = dir.join(name);
        fs::rename(staging.path().join(name), &to).map_err(|e| io_error(&to, e))?;
    }
    Ok((evaluation, figures))
}

fn io_error(path: &Path, source: std::io::Error) -> EvaluateError {
    EvaluateError::Io {
        path: path.display().to_string(),
        source,
    }
}

type Drawn = (String, String, Figure);

/// The model outputs drawn against one space's truth.
type Candidates<'a> = Vec<(SeriesKind, &'a Option<Sample>)>;

/// One histogram per variable of each space that has a model output: z
/// (truth B, E(x)), x (truth B, D(z), D(E(x))). Masses are grouped apart.
fn histogram_figures(
    halves: &Halves,
    outputs: &ModelOutputs,
    settings: &ReportSettings,
) -> Result<Vec<Drawn>, EvaluateError> {
    let derived = &settings.evaluation.derived;
    let mut drawn = Vec::new();
    let spaces: [(&str, &Sample, Candidates); 2] = [
        (
            "z",
            &halves.z_b,
            vec![(SeriesKind::Encoded, &outputs.encoded)],
        ),
        (
            "x",
            &halves.x_b,
            vec![
                (SeriesKind::Simulated, &outputs.simulated),
                (SeriesKind::RoundTrip, &outputs.round_trip),
            ],
        ),
    ];
    for (space, truth, candidates) in spaces {
        let present: Vec<(SeriesKind, Vec<VariableColumn>)> = candidates
            .iter()
            .filter_map(|(kind, s)| s.as_ref().map(|s| (*kind, s)))
            .map(|(kind, s)| {
                let s = super::protocol::aligned(s, truth)?;
                Ok((kind, variables_of(&s, space, derived)))
            })
            .collect::<Result<_, EvaluateError>>()?;
        if present.is_empty() {
            continue;
        }
        let truth_vars = variables_of(truth, space, derived);
        for (k, t) in truth_vars.iter().enumerate() {
            let mut series = vec![Series {
                kind: SeriesKind::Truth,
                values: &t.values,
            }];
            series.extend(present.iter().map(|(kind, vars)| Series {
                kind: *kind,
                values: &vars[k].values,
            }));
            drawn.push(histogram(&t.variable, series, settings)?);
        }
    }
    Ok(drawn)
}

fn histogram(
    variable: &Variable,
    series: Vec<Series>,
    settings: &ReportSettings,
) -> Result<Drawn, EvaluateError> {
    let fig = HistogramFigure {
        label: variable.label.clone(),
        unit: variable.unit,
        process: settings.evaluation.process.clone(),
        series,
        bins: if settings.bins == 0 {
            HISTOGRAM_BINS
        } else {
            settings.bins
        },
        range: None,
    };
    let (svg, summary) = plots::histogram_svg(&fig)?;
    let file = format!("{}.svg", variable.name);
    let is_mass = variable.name.contains("_mass_");
    let space = if variable.name.starts_with("z_") {
        "z"
    } else {
        "x"
    };
    let group = match (is_mass, space) {
        (true, _) => "invariant masses",
        (false, "z") => "parton level (z): truth vs E(x)",
        _ => "detector level (x): truth vs D(z) and D(E(x))",
    };
    let figure = Figure {
        file: file.clone(),
        caption: format!("{} ({space})", axis_title(&variable.label, variable.unit)),
        group: group.to_string(),
        dropped: summary.dropped,
    };
    Ok((file, svg, figure))
}

/// The transport plots: learned (z, D(z)) where D(z) exists, and the true
/// pairing (z, x) of half A.
fn transport_figures(
    halves: &Halves,
    outputs: &ModelOutputs,
    settings: &ReportSettings,
) -> Result<Vec<Drawn>, EvaluateError> {
    let Some((z_col, x_col)) = settings
        .transport
        .clone()
        .or_else(|| default_transport(&halves.z_a, &halves.x_a))
    else {
        return Ok(Vec::new());
    };
    let derived = &settings.evaluation.derived;
    let label = |sample: &Sample, space: &str, column: &str| {
        variables_of(sample, space, derived)
            .into_iter()
            .find(|v| v.variable.name == column)
            .map(|v| v.variable)
            .ok_or_else(|| EvaluateError::MissingColumn(column.to_string()))
    };
    let zv = label(&halves.z_a, "z", &z_col)?;
    let xv = label(&halves.x_a, "x", &x_col)?;
    let z = halves.z_a.column(&z_col)?;
    let x_true = halves.x_a.column(&x_col)?;
    // Common ranges, so the two figures can be compared by eye.
    let ranges = Some((
        plots::quantile_range(&z, 0.01),
        plots::quantile_range(&x_true, 0.01),
    ));

    let mut pairs = Vec::new();
    if let Some(sim) = outputs
        .simulated
        .as_ref()
        .filter(|_| outputs.simulated_from.is_none())
    {
        let z_of_sim = match &outputs.simulated_rows {
            Some(rows) => rows.iter().map(|&i| z[i]).collect(),
            None => z.clone(),
        };
        pairs.push((
            "transport_learned.svg",
            "learned decoder: (z, D(z))",
            z_of_sim,
            sim.column(&x_col)?,
        ));
    }
    pairs.push((
        "transport_true.svg",
        "true pairing: (z, x)",
        z.clone(),
        x_true.clone(),
    ));

    pairs
        .into_iter()
        .map(|(file, title, z, x)| {
            let fig = TransportFigure {
                title: title.to_string(),
                process: settings.evaluation.process.clone(),
                z_label: zv.label.clone(),
                x_label: xv.label.clone(),
                unit: zv.unit,
                z: &z,
                x: &x,
                ranges,
            };
            let (svg, summary) = plots::transport_svg(&fig)?;
            let figure = Figure {
                file: file.to_string(),
                caption: format!("{title}: {} -> {}", zv.label, xv.label),
                group: "transport".to_string(),
                dropped: summary.dropped,
            };
            Ok((file.to_string(), svg, figure))
        })
        .collect()
}

/// The energy of the first object in both spaces, the positron's first.
fn default_transport(z: &Sample, x: &Sample) -> Option<(String, String)> {
    let mut objects = super::variables::objects_of(z, "z");
    objects.sort_by_key(|o| o != "ep");
    let xs = super::variables::objects_of(x, "x");
    objects
        .into_iter()
        .find(|o| xs.contains(o))
        .map(|o| (format!("z_{o}_e"), format!("x_{o}_e")))
}

/// One page with the metrics and every figure, grouped.
fn index_html(evaluation: &Evaluation, markdown: &str, figures: &[Figure]) -> String {
    let mut html = String::new();
    let title = if evaluation.process.is_empty() {
        "otus evaluation".to_string()
    } else {
        format!("otus evaluation: {}", escape(&evaluation.process))
    };
    html.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{title}</title>\n<style>\n\
         body {{ font-family: sans-serif; margin: 2em; }}\n\
         figure {{ display: inline-block; margin: 0.5em; }}\n\
         img {{ width: 480px; }}\n\
         pre {{ background: #f6f6f6; padding: 1em; overflow-x: auto; }}\n\
         </style>\n</head>\n<body>\n<h1>{title}</h1>\n\
         <p><a href=\"metrics.md\">metrics.md</a> · <a href=\"metrics.json\">metrics.json</a></p>\n\
         <pre>{}</pre>\n",
        escape(markdown)
    ));
    let mut groups: Vec<&str> = Vec::new();
    for f in figures {
        if !groups.contains(&f.group.as_str()) {
            groups.push(&f.group);
        }
    }
    for group in groups {
        html.push_str(&format!("<h2>{}</h2>\n", escape(group)));
        for f in figures.iter().filter(|f| f.group == group) {
            html.push_str(&format!(
                "<figure><a href=\"{0}\"><img src=\"{0}\" alt=\"{1}\"></a>\
                 <figcaption>{1}</figcaption></figure>\n",
                escape(&f.file),
                escape(&f.caption)
            ));
        }
    }
    html.push_str("</body>\n</html>\n");
    html
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        assert_eq!(escape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
    }
}
