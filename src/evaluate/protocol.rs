//! The evaluation protocol of the paper: the test events are split into two
//! independent halves A and B; the model runs on half A and its outputs are
//! compared with the truth of half B, for three comparisons:
//!
//! - unfolding: z of B against E(x) of A;
//! - round trip: x of B against D(E(x)) of A;
//! - simulation: x of B against D(z) of A (the one that matters).
//!
//! Beside each number stands the same metric for truth A against truth B
//! (the statistical floor: what two independent samples of this size give).

use serde::{Deserialize, Serialize};

use super::metrics::{self, CHI2_MAX_BINS};
use super::variables::{DerivedVariable, VariableColumn, default_derived, variables_of};
use super::{EvaluateError, Sample, Unit};

/// Settings of an evaluation.
#[derive(Debug, Clone)]
pub struct EvaluationSettings {
    /// Process label for tables and figures, e.g. `pp -> Z -> e+ e-`.
    pub process: String,
    /// Number of random directions of the global sliced Wasserstein distance
    /// (paper: 1000; at least 1).
    pub slices: usize,
    /// Seed of the directions.
    pub seed: u64,
    /// Largest number of chi-square bins before merging (see
    /// [`metrics::chi_square_two_sample`]; default 50).
    pub chi2_max_bins: usize,
    /// Derived quantities (invariant masses), each used in the spaces that
    /// have its objects. Default: [`default_derived`] (M_ee).
    pub derived: Vec<DerivedVariable>,
}

impl Default for EvaluationSettings {
    fn default() -> Self {
        Self {
            process: String::new(),
            slices: 1000,
            seed: 0,
            chi2_max_bins: CHI2_MAX_BINS,
            derived: default_derived(),
        }
    }
}

/// The matched test events split into two halves of equal size.
#[derive(Debug, Clone)]
pub struct Halves {
    /// Parton-level events of half A (the model's input).
    pub z_a: Sample,
    /// Detector-level events of half A (the model's input).
    pub x_a: Sample,
    /// Parton-level events of half B (the truth compared with).
    pub z_b: Sample,
    /// Detector-level events of half B (the truth compared with).
    pub x_b: Sample,
}

impl Halves {
    /// Events in each half.
    pub fn len(&self) -> usize {
        self.z_a.rows()
    }

    /// Whether the halves hold no events.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Splits matched test events (row i of `z` and of `x` is one event) into
/// the first and second half, in the given order (the test split is already
/// a random selection). With an odd count the last event is left out, so
/// both halves have the same size.
pub fn split_halves(z: &Sample, x: &Sample) -> Result<Halves, EvaluateError> {
    if z.rows() != x.rows() {
        return Err(EvaluateError::Mismatch(format!(
            "z has {} events, x has {}",
            z.rows(),
            x.rows()
        )));
    }
    let n = z.rows() / 2;
    if n == 0 {
        return Err(EvaluateError::TooFewEvents(z.rows()));
    }
    Ok(Halves {
        z_a: z.slice_rows(0..n),
        x_a: x.slice_rows(0..n),
        z_b: z.slice_rows(n..2 * n),
        x_b: x.slice_rows(n..2 * n),
    })
}

/// The model's outputs on half A; any may be absent (e.g. a decoder alone).
#[derive(Debug, Clone, Default)]
pub struct ModelOutputs {
    /// E(x) of half A, parton-level columns (`z_...`), GeV.
    pub encoded: Option<Sample>,
    /// D(z) of half A, detector-level columns (`x_...`), GeV.
    pub simulated: Option<Sample>,
    /// D(E(x)) of half A, detector-level columns (`x_...`), GeV.
    pub round_trip: Option<Sample>,
    /// Where `simulated` came from when it is not D(z) of half A but a
    /// sample read from files (`evaluate --simulated`): the simulation
    /// comparison is then titled `simulation: x vs <this>`, and the learned
    /// transport figure, which pairs D(z) with z of half A, is left out.
    pub simulated_from: Option<String>,
    /// Where the detector acceptance dropped draws of D(z): for each row of
    /// `simulated`, the row of z of half A it was decoded from. `None`:
    /// row `i` comes from row `i`.
    pub simulated_rows: Option<Vec<usize>>,
}

impl ModelOutputs {
    /// Runs an encoder and a decoder on half A: E(x_A), D(z_A), D(E(x_A)).
    pub fn compute(
        halves: &Halves,
        encode: impl Fn(&Sample) -> Sample,
        decode: impl Fn(&Sample) -> Sample,
    ) -> Self {
        let encoded = encode(&halves.x_a);
        let round_trip = decode(&encoded);
        Self {
            encoded: Some(encoded),
            simulated: Some(decode(&halves.z_a)),
            round_trip: Some(round_trip),
            simulated_from: None,
            simulated_rows: None,
        }
    }
}

/// Which comparison of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComparisonKind {
    /// z against E(x).
    Unfolding,
    /// x against D(E(x)).
    RoundTrip,
    /// x against D(z).
    Simulation,
}

impl ComparisonKind {
    /// Title for tables: `simulation: x vs D(z)`.
    pub fn title(self) -> &'static str {
        match self {
            ComparisonKind::Unfolding => "unfolding: z vs E(x)",
            ComparisonKind::RoundTrip => "round trip: x vs D(E(x))",
            ComparisonKind::Simulation => "simulation: x vs D(z)",
        }
    }

    /// The space compared: `"z"` or `"x"`.
    pub fn space(self) -> &'static str {
        match self {
            ComparisonKind::Unfolding => "z",
            _ => "x",
        }
    }
}

/// The metrics of one variable between two samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VariableMetrics {
    /// Squared 1-D Wasserstein-2 distance, in the variable's unit squared.
    pub w2: f64,
    /// Two-sample Kolmogorov-Smirnov statistic.
    pub ks: f64,
    /// Its two-sided p-value.
    pub ks_p_value: f64,
    /// Reduced chi-square, `None` with no degrees of freedom.
    pub chi2_ndf: Option<f64>,
    /// Degrees of freedom of the chi-square.
    pub ndf: usize,
}

impl VariableMetrics {
    /// All metrics of two samples of one variable.
    pub fn between(reference: &[f64], candidate: &[f64], chi2_max_bins: usize) -> Self {
        let ks = metrics::ks_two_sample(reference, candidate);
        let chi2 = metrics::chi_square_two_sample(reference, candidate, chi2_max_bins);
        Self {
            w2: metrics::wasserstein2(reference, candidate),
            ks: ks.statistic,
            ks_p_value: ks.p_value,
            chi2_ndf: chi2.reduced,
            ndf: chi2.ndf,
        }
    }
}

/// One row of a comparison table: a variable, the model's metrics and the
/// truth-vs-truth floor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariableComparison {
    /// Variable name (`x_ep_px`).
    pub name: String,
    /// Readable label (`e+ px`).
    pub label: String,
    /// Unit of the variable (W2 is in its square).
    pub unit: Unit,
    /// Truth of half B against the model on half A.
    pub model: VariableMetrics,
    /// Truth of half A against truth of half B.
    pub floor: VariableMetrics,
}

/// One of the three comparisons, with its floor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Which comparison.
    pub kind: ComparisonKind,
    /// Title: `simulation: x vs D(z)`.
    pub title: String,
    /// Global squared sliced Wasserstein distance over all columns, GeV^2.
    pub global_sw: f64,
    /// The same for truth A against truth B, GeV^2.
    pub floor_global_sw: f64,
    /// Per-variable metrics.
    pub variables: Vec<VariableComparison>,
}

/// The metrics of a whole evaluation (serialized as `metrics.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Process label.
    pub process: String,
    /// Events in each half.
    pub events_per_half: usize,
    /// Random directions of the sliced Wasserstein distance.
    pub slices: usize,
    /// Their seed.
    pub seed: u64,
    /// The comparisons whose model output was given, in the order
    /// unfolding, round trip, simulation.
    pub comparisons: Vec<Comparison>,
}

/// Computes every metric of the protocol for the model outputs that are
/// present.
pub fn evaluate(
    halves: &Halves,
    outputs: &ModelOutputs,
    settings: &EvaluationSettings,
) -> Result<Evaluation, EvaluateError> {
    let cases = [
        (ComparisonKind::Unfolding, &outputs.encoded),
        (ComparisonKind::RoundTrip, &outputs.round_trip),
        (ComparisonKind::Simulation, &outputs.simulated),
    ];
    let mut comparisons = Vec::new();
    for (kind, candidate) in cases {
        let Some(candidate) = candidate else {
            continue;
        };
        let (truth_a, truth_b) = match kind.space() {
            "z" => (&halves.z_a, &halves.z_b),
            _ => (&halves.x_a, &halves.x_b),
        };
        let mut c = compare(kind, truth_a, truth_b, candidate, settings)?;
        if let (ComparisonKind::Simulation, Some(from)) = (kind, &outputs.simulated_from) {
            c.title = format!("simulation: x vs {from}");
        }
        comparisons.push(c);
    }
    Ok(Evaluation {
        process: settings.process.clone(),
        events_per_half: halves.len(),
        slices: settings.slices,
        seed: settings.seed,
        comparisons,
    })
}

/// One comparison: truth B against the candidate, and truth A against B.
fn compare(
    kind: ComparisonKind,
    truth_a: &Sample,
    truth_b: &Sample,
    candidate: &Sample,
    settings: &EvaluationSettings,
) -> Result<Comparison, EvaluateError> {
    let candidate = aligned(candidate, truth_b)?;
    let dim = truth_b.columns().len();
    let sw = |a: &Sample, b: &Sample| {
        metrics::sliced_wasserstein2(a.values(), b.values(), dim, settings.slices, settings.seed)
    };

    let space = kind.space();
    let vars_a = variables_of(truth_a, space, &settings.derived);
    let vars_b = variables_of(truth_b, space, &settings.derived);
    let vars_c = variables_of(&candidate, space, &settings.derived);
    let variables = vars_b
        .iter()
        .zip(&vars_a)
        .zip(&vars_c)
        .map(|((b, a), c)| row(b, a, c, settings.chi2_max_bins))
        .collect();

    Ok(Comparison {
        kind,
        title: kind.title().to_string(),
        global_sw: sw(truth_b, &candidate),
        floor_global_sw: sw(truth_a, truth_b),
        variables,
    })
}

fn row(
    b: &VariableColumn,
    a: &VariableColumn,
    c: &VariableColumn,
    bins: usize,
) -> VariableComparison {
    VariableComparison {
        name: b.variable.name.clone(),
        label: b.variable.label.clone(),
        unit: b.variable.unit,
        model: VariableMetrics::between(&b.values, &c.values, bins),
        floor: VariableMetrics::between(&b.values, &a.values, bins),
    }
}

/// The candidate's columns reordered like the truth's; an error names a
/// missing column.
pub fn aligned(candidate: &Sample, truth: &Sample) -> Result<Sample, EvaluateError> {
    if candidate.columns() == truth.columns() {
        return Ok(candidate.clone());
    }
    let columns = truth
        .columns()
        .iter()
        .map(|name| {
            candidate
                .column(name)
                .map(|values| (name.clone(), values))
                .map_err(|_| EvaluateError::Mismatch(format!("model output lacks column {name:?}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Sample::from_columns(columns)
}

/// The evaluation as Markdown: the global distances, then one table per
/// comparison with the floor beside every number.
pub fn to_markdown(evaluation: &Evaluation) -> String {
    let mut md = String::new();
    let process = if evaluation.process.is_empty() {
        "evaluation"
    } else {
        &evaluation.process
    };
    md.push_str(&format!("# {process}\n\n"));
    md.push_str(&format!(
        "Test events: two independent halves of {} each; the model runs on half A \
         and is compared with the truth of half B. \"floor\" is truth A against \
         truth B. Sliced Wasserstein: {} directions, seed {}.\n\n",
        evaluation.events_per_half, evaluation.slices, evaluation.seed
    ));

    md.push_str("| comparison | global SW (GeV^2) | floor |\n|---|---:|---:|\n");
    for c in &evaluation.comparisons {
        md.push_str(&format!(
            "| {} | {} | {} |\n",
            c.title,
            number(c.global_sw),
            number(c.floor_global_sw)
        ));
    }

    for c in &evaluation.comparisons {
        md.push_str(&format!("\n## {}\n\n", c.title));
        md.push_str(
            "| variable | W2 | floor | unit of W2 | KS | floor | p-value | floor | \
             chi2/ndf | floor | ndf |\n\
             |---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        for v in &c.variables {
            let (m, f) = (&v.model, &v.floor);
            md.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                v.label,
                number(m.w2),
                number(f.w2),
                v.unit.squared_symbol(),
                number(m.ks),
                number(f.ks),
                number(m.ks_p_value),
                number(f.ks_p_value),
                m.chi2_ndf.map_or("n/a".into(), number),
                f.chi2_ndf.map_or("n/a".into(), number),
                m.ndf
            ));
        }
    }
    md
}

/// Four significant digits; `n/a` for NaN.
fn number(v: f64) -> String {
    if v.is_nan() {
        return "n/a".into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let magnitude = v.abs().log10().floor() as i32;
    if !(-3..6).contains(&magnitude) {
        format!("{v:.3e}")
    } else {
        let decimals = (3 - magnitude).max(0) as usize;
        format!("{v:.decimals$}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(space: &str, rows: usize, shift: f64) -> Sample {
        let names = ["em_px", "em_py", "em_pz", "em_e"];
        let cols = names
            .iter()
            .enumerate()
            .map(|(k, n)| {
                let v = (0..rows)
                    .map(|i| {
                        ((i * 7 + k * 13) % 97) as f64 + shift + if k == 3 { 200.0 } else { 0.0 }
                    })
                    .collect();
                (format!("{space}_{n}"), v)
            })
            .collect();
        Sample::from_columns(cols).unwrap()
    }

    #[test]
    fn halves_are_equal_and_disjoint() {
        let z = sample("z", 11, 0.0);
        let x = sample("x", 11, 0.0);
        let h = split_halves(&z, &x).unwrap();
        assert_eq!(h.len(), 5);
        assert_eq!(h.z_b.row(0), z.row(5));
        assert!(split_halves(&z, &sample("x", 10, 0.0)).is_err());
        assert!(split_halves(&z.slice_rows(0..1), &x.slice_rows(0..1)).is_err());
    }

    #[test]
    fn perfect_model_matches_its_floor() {
        let z = sample("z", 200, 0.0);
        let x = sample("x", 200, 1.0);
        let h = split_halves(&z, &x).unwrap();
        // A "model" that returns the other half's truth exactly.
        let outputs = ModelOutputs {
            encoded: Some(h.z_a.clone()),
            simulated: Some(h.x_a.clone()),
            simulated_rows: None,
            round_trip: None,
            simulated_from: None,
        };
        let settings = EvaluationSettings {
            slices: 20,
            ..Default::default()
        };
        let e = evaluate(&h, &outputs, &settings).unwrap();
        assert_eq!(e.comparisons.len(), 2);
        for c in &e.comparisons {
            assert_eq!(c.global_sw, c.floor_global_sw);
            for v in &c.variables {
                assert_eq!(v.model, v.floor);
            }
        }
        let md = to_markdown(&e);
        assert!(md.contains("## simulation: x vs D(z)"));
        assert!(md.contains("| e- pT |"));
    }

    #[test]
    fn numbers_keep_four_digits() {
        assert_eq!(number(3.0312), "3.031");
        assert_eq!(number(0.03125), "0.03125");
        assert_eq!(number(120.4), "120.4");
        assert_eq!(number(1.5e-5), "1.500e-5");
        assert_eq!(number(f64::NAN), "n/a");
    }
}
