//! Run cards: a TOML file that says which events to read, which final state
//! to select and how to split, train and evaluate.
//!
//! A card deserializes into [`RunCard`]; unknown keys are errors with a
//! "did you mean" hint, and [`RunCard::load`] validates ranges and resolves
//! input paths (relative paths are taken from the card's folder, globs are
//! expanded) into a [`ResolvedInputs`]. Every key is documented on its field
//! below with its default and unit; `cards/*.toml` show them in use.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// An error in a run card, naming the card file.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    /// The card could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The card.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The TOML is malformed or holds an unknown key or a value of the wrong type.
    #[error("{path}: {message}")]
    Parse {
        /// The card.
        path: PathBuf,
        /// What is wrong, where, and a hint.
        message: String,
    },
    /// A value is out of its valid range or the inputs do not resolve.
    #[error("{path}: {message}")]
    Invalid {
        /// The card.
        path: PathBuf,
        /// What is wrong and what was expected.
        message: String,
    },
}

/// A run card (TOML).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunCard {
    /// Name of the study, used for output names. Required.
    pub name: String,
    /// Seed of every random choice (splits, training, evaluation). Default 0.
    #[serde(default)]
    pub seed: u64,
    /// Folder for outputs, relative to the card's folder. Default `../out/<name>`.
    #[serde(default)]
    pub output: Option<PathBuf>,
    /// Where the events come from.
    pub inputs: Inputs,
    /// Names of the Delphes collections (branches) to read.
    #[serde(default)]
    pub delphes: Collections,
    /// The parton-level (latent, z) particles, in the order of the z columns.
    pub partons: Vec<PartonSpec>,
    /// Detector-level cuts and conventions.
    #[serde(default)]
    pub detector: DetectorSpec,
    /// The detector-level (x) objects, in the order of the x columns.
    pub objects: Vec<ObjectSpec>,
    /// How aligned events are split into train, validation and test.
    #[serde(default)]
    pub splits: Splits,
    /// How `simulate` and `unfold` write ROOT files, and what `otus run`
    /// exports.
    #[serde(default)]
    pub export: ExportSpec,
    /// How `otus run` evaluates the trained model (metrics and figures).
    #[serde(default)]
    pub evaluate: EvaluateSpec,
    /// Model settings ([`crate::model::ModelSettings`]); read through
    /// [`RunCard::model_settings`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<toml::Table>,
    /// Training settings ([`crate::train::TrainSettings`]); read through
    /// [`RunCard::train_settings`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train: Option<toml::Table>,
}

/// The input files.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    /// Matched pairs: each LHE file with the Delphes file simulated from it.
    /// Either `pairs` or the two globs `lhe` and `delphes` must be given.
    #[serde(default)]
    pub pairs: Vec<InputPair>,
    /// Glob of LHE files (plain or gzipped), relative to the card's folder.
    /// Files are paired with the `delphes` glob's by their stem
    /// (`zee_3.lhe.gz` with `zee_3.root`).
    #[serde(default)]
    pub lhe: Option<String>,
    /// Glob of Delphes ROOT files, relative to the card's folder.
    #[serde(default)]
    pub delphes: Option<String>,
    /// Name of the Delphes tree. Default `Delphes`; the highest cycle is read.
    #[serde(default = "default_tree")]
    pub tree: String,
    /// How a Delphes entry finds its LHE event: `event-number` (default; the
    /// entry's `Event.Number` is the 0-based position of the event in the LHE
    /// file) or `entry` (entry i is LHE event i; allowed only when both files
    /// hold the same number of events).
    #[serde(default)]
    pub align: Align,
}

/// One LHE file and the Delphes file of the same events.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputPair {
    /// LHE file (plain or gzipped).
    pub lhe: PathBuf,
    /// Delphes ROOT file.
    pub delphes: PathBuf,
}

/// How Delphes entries are matched to LHE events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Align {
    /// By `Event.Number` (0-based LHE position).
    #[default]
    EventNumber,
    /// By entry index, only when the counts agree.
    Entry,
}

fn default_tree() -> String {
    "Delphes".into()
}

/// Settings of the ROOT export of `simulate` and `unfold` (see
/// [`crate::export`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportSpec {
    /// Name of the TTree written, and looked for when an exported file is
    /// read back as detector-level input. Default `otus`. Letters, digits
    /// and `_`, starting with a letter.
    #[serde(default = "default_export_tree")]
    pub tree: String,
    /// `otus run`: independent draws of D(z) per test event in the exported
    /// `simulated.root` (and of E(x) in `unfolded.lhe.gz`). Default 1; range
    /// 1 to 1000.
    #[serde(default = "default_repeat")]
    pub repeat: usize,
}

fn default_export_tree() -> String {
    "otus".into()
}

fn default_repeat() -> usize {
    1
}

impl Default for ExportSpec {
    fn default() -> Self {
        Self {
            tree: default_export_tree(),
            repeat: default_repeat(),
        }
    }
}

/// Which weights of a trained model the evaluation and the export use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weights {
    /// The last epoch's weights (what the paper evaluates). Default.
    #[default]
    Last,
    /// The epoch with the lowest validation SW(x, D(z)).
    Best,
}

/// Settings of the evaluation `otus run` makes (`otus evaluate` takes the
/// same as flags). Changing them re-runs the evaluation only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvaluateSpec {
    /// Random directions of the global sliced Wasserstein distance (paper:
    /// 1000). Default 1000; range 1 to 100,000.
    pub slices: usize,
    /// Bins of each histogram figure; 0 picks the report's default (50).
    /// Range 0 to 1000.
    pub bins: usize,
    /// The z and x columns of the transport plots, e.g.
    /// `["z_ep_e", "x_ep_e"]`. Default: the energy of the first object the
    /// two spaces share.
    pub transport: Option<[String; 2]>,
    /// `last` (default) or `best`: which weights are evaluated and exported.
    pub weights: Weights,
}

impl Default for EvaluateSpec {
    fn default() -> Self {
        Self {
            slices: 1000,
            bins: 0,
            transport: None,
            weights: Weights::Last,
        }
    }
}

/// Names of the Delphes collections; other Delphes cards use other names
/// (`JetPUPPI`, `PuppiMissingET`, `ElectronMedium`, ...).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Collections {
    /// Electrons. Default `Electron`.
    pub electron: String,
    /// Muons. Default `Muon`.
    pub muon: String,
    /// Photons. Default `Photon`.
    pub photon: String,
    /// Jets. Default `Jet`.
    pub jet: String,
    /// Missing transverse energy. Default `MissingET`.
    pub missing_et: String,
    /// Event records holding `Number`. Default `Event`.
    pub event: String,
}

impl Default for Collections {
    fn default() -> Self {
        Self {
            electron: "Electron".into(),
            muon: "Muon".into(),
            photon: "Photon".into(),
            jet: "Jet".into(),
            missing_et: "MissingET".into(),
            event: "Event".into(),
        }
    }
}

/// A parton-level particle of z, taken from the LHE record.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartonSpec {
    /// Column name stem: the columns are `z_<name>_px`, `_py`, `_pz`, `_e`.
    /// Lowercase letters, digits and `_`.
    pub name: String,
    /// PDG id to match: a number (11 e-, -11 e+, -12 nu_e~, 5 b, -5 b~, 2 u,
    /// -1 d~, ...) or a MadGraph particle name (`"e-"`, `"ve~"`, `"b~"`, `"t"`;
    /// see [`PDG_NAMES`]).
    #[serde(deserialize_with = "pdg_code")]
    pub pdg: i32,
    /// LHE status to match (ISTUP). Default 1 (outgoing final state).
    #[serde(default = "default_status")]
    pub status: i32,
    /// Mass in GeV used for the energy, E = sqrt(|p|^2 + m^2). Default 0;
    /// the reference code uses 4.7 for b quarks. Range: >= 0.
    #[serde(default)]
    pub mass: f64,
}

fn default_status() -> i32 {
    1
}

/// Cuts on one Delphes collection. An object passes when pT > `pt_min` and
/// |eta| < `eta_max`; `count` then demands an exact number of passing objects.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cuts {
    /// Lower pT threshold, GeV (strict). Default 0. Range: >= 0.
    #[serde(default)]
    pub pt_min: f64,
    /// Upper |eta| threshold (strict). Default: none. Range: > 0.
    #[serde(default)]
    pub eta_max: Option<f64>,
    /// Exact number of passing objects an event must have; 0 is a veto.
    /// Default: no requirement.
    #[serde(default)]
    pub count: Option<u32>,
}

impl Cuts {
    /// Whether an object with this pT (GeV) and eta passes.
    pub fn accepts(&self, pt: f64, eta: f64) -> bool {
        pt > self.pt_min && self.eta_max.is_none_or(|m| eta.abs() < m)
    }
}

/// Detector-level selection and conventions.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorSpec {
    /// Electron cuts. Default: none.
    #[serde(default)]
    pub electron: Option<Cuts>,
    /// Muon cuts (`count = 0` is the reference code's muon veto). Default: none.
    #[serde(default)]
    pub muon: Option<Cuts>,
    /// Photon cuts (`count = 0` is the reference code's photon veto). Default: none.
    #[serde(default)]
    pub photon: Option<Cuts>,
    /// Jet cuts (ttbar: `pt_min = 20`, `count = 4`). Default: none.
    #[serde(default)]
    pub jet: Option<Cuts>,
    /// How missing ET becomes a four-vector.
    #[serde(default)]
    pub met_convention: MetConvention,
}

/// Missing-ET four-vector convention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MetConvention {
    /// pz = 0, E = MET (the physical choice, default).
    #[default]
    Physical,
    /// The reference code's: pz = MET sinh(MissingET.Eta), E = MET cosh(Eta).
    Reference,
}

/// Which Delphes collection an object comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObjectKind {
    /// The `electron` collection.
    Electron,
    /// The `muon` collection.
    Muon,
    /// The `photon` collection.
    Photon,
    /// The `jet` collection.
    Jet,
    /// The `missing_et` collection (one per event).
    MissingEt,
}

/// A detector-level object of x.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectSpec {
    /// Column name stem: the columns are `x_<name>_px`, `_py`, `_pz`, `_e`.
    pub name: String,
    /// The collection it comes from.
    pub from: ObjectKind,
    /// For charged objects: the charge it must have (-1 or +1); the event
    /// must hold exactly one passing object of that charge. Default: any.
    #[serde(default)]
    pub charge: Option<i32>,
    /// 1-based rank in descending pT among the passing objects of the
    /// collection (jet1 = 1). Default 1.
    #[serde(default = "default_rank")]
    pub rank: u32,
}

fn default_rank() -> u32 {
    1
}

/// Train, validation and test splits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Splits {
    /// Fraction of events for validation. Default 0.1. Range: [0, 1).
    #[serde(default = "default_validation")]
    pub validation: f64,
    /// Fraction of events for testing. Default 0.2. Range: [0, 1),
    /// validation + test < 1. Ignored when `test_last` is set.
    #[serde(default = "default_test")]
    pub test: f64,
    /// If set, the last N aligned events (in input order) form the test
    /// split, as in the paper (N = 160,000). Default: unset.
    #[serde(default)]
    pub test_last: Option<u64>,
}

fn default_validation() -> f64 {
    0.1
}

fn default_test() -> f64 {
    0.2
}

impl Default for Splits {
    fn default() -> Self {
        Self {
            validation: default_validation(),
            test: default_test(),
            test_last: None,
        }
    }
}

/// Input pairs after globs and relative paths are resolved.
#[derive(Debug, Clone, Serialize)]
pub struct ResolvedInputs {
    /// The pairs, in natural order of their file names.
    pub pairs: Vec<InputPair>,
}

impl RunCard {
    /// Reads, parses and validates a card.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, CardError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| CardError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let card = Self::parse(&text).map_err(|message| CardError::Parse {
            path: path.to_path_buf(),
            message,
        })?;
        card.validate().map_err(|message| CardError::Invalid {
            path: path.to_path_buf(),
            message,
        })?;
        Ok(card)
    }

    /// Parses card text; unknown keys get a "did you mean" hint and type
    /// errors say what the key takes. The `[model]` and `[train]` tables are
    /// parsed from the text too, so their errors carry their line.
    pub fn parse(text: &str) -> Result<Self, String> {
        let card: RunCard = toml::from_str(text).map_err(|e| with_hint(&e.to_string()))?;
        #[derive(Deserialize)]
        #[allow(dead_code)]
        struct Tables {
            model: Option<crate::model::ModelSettings>,
            train: Option<crate::train::TrainSettings>,
        }
        toml::from_str::<Tables>(text).map_err(|e| with_hint(&e.to_string()))?;
        Ok(card)
    }

    /// Checks ranges and consistency.
    pub fn validate(&self) -> Result<(), String> {
        let stem_ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        };
        // The name becomes a folder (`out/<name>`), so it must be one plain
        // path component.
        let name_ok = !self.name.is_empty()
            && !self.name.starts_with('.')
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !name_ok {
            return Err(format!(
                "name {:?} must be a plain folder name: letters, digits, `_`, `-` and `.`, \
                 not starting with `.`",
                self.name
            ));
        }
        if self.partons.is_empty() || self.objects.is_empty() {
            return Err("`partons` and `objects` must each list at least one entry".into());
        }
        let mut seen = BTreeSet::new();
        for p in &self.partons {
            if !stem_ok(&p.name) || !seen.insert(&p.name) {
                return Err(format!(
                    "parton name {:?} must be unique and use lowercase letters, digits and `_`",
                    p.name
                ));
            }
            if !(p.mass >= 0.0 && p.mass.is_finite()) {
                return Err(format!(
                    "parton {:?}: mass must be >= 0 GeV, got {}",
                    p.name, p.mass
                ));
            }
        }
        let mut seen = BTreeSet::new();
        for o in &self.objects {
            if !stem_ok(&o.name) || !seen.insert(&o.name) {
                return Err(format!(
                    "object name {:?} must be unique and use lowercase letters, digits and `_`",
                    o.name
                ));
            }
            if o.rank == 0 {
                return Err(format!("object {:?}: rank is 1-based, got 0", o.name));
            }
            if let Some(q) = o.charge {
                if q != -1 && q != 1 {
                    return Err(format!(
                        "object {:?}: charge must be -1 or 1, got {q}",
                        o.name
                    ));
                }
                if matches!(
                    o.from,
                    ObjectKind::Jet | ObjectKind::Photon | ObjectKind::MissingEt
                ) {
                    return Err(format!("object {:?}: a {:?} has no charge", o.name, o.from));
                }
            }
        }
        for (name, cuts) in [
            ("electron", &self.detector.electron),
            ("muon", &self.detector.muon),
            ("photon", &self.detector.photon),
            ("jet", &self.detector.jet),
        ] {
            if let Some(c) = cuts {
                if c.pt_min.is_nan() || c.pt_min < 0.0 {
                    return Err(format!("detector.{name}.pt_min must be >= 0 GeV"));
                }
                if c.eta_max.is_some_and(|m| m.is_nan() || m <= 0.0) {
                    return Err(format!("detector.{name}.eta_max must be > 0"));
                }
            }
        }
        let s = &self.splits;
        if !(0.0..1.0).contains(&s.validation) || !(0.0..1.0).contains(&s.test) {
            return Err("splits.validation and splits.test must be in [0, 1)".into());
        }
        if s.test_last.is_none() && s.validation + s.test >= 1.0 {
            return Err("splits.validation + splits.test must be < 1".into());
        }
        let t = &self.export.tree;
        if !t.starts_with(|c: char| c.is_ascii_alphabetic())
            || !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(format!(
                "export.tree {t:?} must start with a letter and use letters, digits and `_`"
            ));
        }
        if !(1..=1000).contains(&self.export.repeat) {
            return Err(format!(
                "export.repeat: {} is outside 1..=1000",
                self.export.repeat
            ));
        }
        let e = &self.evaluate;
        if !(1..=100_000).contains(&e.slices) {
            return Err(format!(
                "evaluate.slices: {} is outside 1..=100000",
                e.slices
            ));
        }
        if e.bins > 1000 {
            return Err(format!("evaluate.bins: {} is outside 0..=1000", e.bins));
        }
        if let Some([z, x]) = &e.transport
            && (!z.starts_with("z_") || !x.starts_with("x_"))
        {
            return Err(format!(
                "evaluate.transport: [{z:?}, {x:?}] must name a z column and an x column, \
                 such as [\"z_ep_e\", \"x_ep_e\"]"
            ));
        }
        let i = &self.inputs;
        if i.pairs.is_empty() && (i.lhe.is_none() || i.delphes.is_none()) {
            return Err("inputs: give `pairs`, or both `lhe` and `delphes` globs".into());
        }
        if let Some([z, x]) = &e.transport {
            let zs = crate::frames::columns(crate::frames::Space::Parton, &self.parton_names());
            let xs = crate::frames::columns(crate::frames::Space::Detector, &self.object_names());
            for (column, all) in [(z, &zs), (x, &xs)] {
                if !all.contains(column) {
                    return Err(format!(
                        "evaluate.transport: no column {column:?}; the columns are {}",
                        all.join(" ")
                    ));
                }
            }
        }
        if let Some(n) = self.splits.test_last
            && n < 2
        {
            return Err(format!(
                "splits.test_last: {n} test events cannot be split into the two halves \
                 the evaluation compares; give at least 2"
            ));
        }
        // Names the model and training settings refer to, checked here (by
        // the same code training uses) so a typo is found when the card
        // loads, not after ingest and training.
        let model = self.model_settings()?;
        let train = self.train_settings()?;
        let layout = |space, names: &[String]| {
            crate::train::Layout::from_columns(&crate::frames::columns(space, names))
        };
        (|| {
            let z = layout(crate::frames::Space::Parton, &self.parton_names())?;
            let x = layout(crate::frames::Space::Detector, &self.object_names())?;
            crate::model::check_names(&model, &z, &x)?;
            crate::train::anchor_indices(&train, &z, &x).map(drop)
        })()
        .map_err(|e| e.to_string())?;
        Ok(())
    }

    /// The `[model]` table as typed settings. Parton masses of the card are
    /// used for the z energies unless `model.masses` names them.
    pub fn model_settings(&self) -> Result<crate::model::ModelSettings, String> {
        let table = self.model.clone().unwrap_or_default();
        let mut settings: crate::model::ModelSettings = toml::Value::Table(table)
            .try_into()
            .map_err(|e| with_hint(&format!("[model]: {e}")))?;
        for p in &self.partons {
            settings
                .masses
                .entry(format!("z_{}", p.name))
                .or_insert(p.mass);
        }
        settings.validate().map_err(|e| e.to_string())?;
        Ok(settings)
    }

    /// The `[train]` table as typed settings; `train.seed` defaults to the
    /// card's `seed`.
    pub fn train_settings(&self) -> Result<crate::train::TrainSettings, String> {
        let mut table = self.train.clone().unwrap_or_default();
        if !table.contains_key("seed") {
            let seed =
                i64::try_from(self.seed).map_err(|_| "seed must be below 2^63".to_string())?;
            table.insert("seed".into(), toml::Value::Integer(seed));
        }
        let settings: crate::train::TrainSettings = toml::Value::Table(table)
            .try_into()
            .map_err(|e| with_hint(&format!("[train]: {e}")))?;
        settings.validate().map_err(|e| e.to_string())?;
        settings.stages().map_err(|e| e.to_string())?;
        Ok(settings)
    }

    /// The z column stems, in order.
    pub fn parton_names(&self) -> Vec<String> {
        self.partons.iter().map(|p| p.name.clone()).collect()
    }

    /// The x column stems, in order.
    pub fn object_names(&self) -> Vec<String> {
        self.objects.iter().map(|o| o.name.clone()).collect()
    }

    /// The output folder: `output` relative to `card_dir`, or `out/<name>`
    /// beside the card's folder.
    pub fn output_dir(&self, card_dir: &Path) -> PathBuf {
        match &self.output {
            Some(p) => card_dir.join(p),
            None => match card_dir.parent() {
                Some(parent) => parent.join("out").join(&self.name),
                None => card_dir.join("..").join("out").join(&self.name),
            },
        }
    }

    /// Resolves the inputs against the card's folder: expands globs, pairs
    /// files by stem and checks that every file exists.
    pub fn resolve_inputs(&self, card_dir: &Path) -> Result<ResolvedInputs, String> {
        let mut pairs: Vec<InputPair> = self
            .inputs
            .pairs
            .iter()
            .map(|p| InputPair {
                lhe: card_dir.join(&p.lhe),
                delphes: card_dir.join(&p.delphes),
            })
            .collect();
        if let (Some(lhe), Some(delphes)) = (&self.inputs.lhe, &self.inputs.delphes) {
            let lhe_files = expand(card_dir, "inputs.lhe", lhe)?;
            let root_files = expand(card_dir, "inputs.delphes", delphes)?;
            for l in &lhe_files {
                let stem = file_stem(l);
                let partner = root_files
                    .iter()
                    .find(|r| file_stem(r) == stem)
                    .ok_or_else(|| {
                        format!(
                            "inputs: {} has no Delphes file with the stem {stem:?}",
                            l.display()
                        )
                    })?;
                pairs.push(InputPair {
                    lhe: l.clone(),
                    delphes: partner.clone(),
                });
            }
            if let Some(r) = root_files
                .iter()
                .find(|r| !lhe_files.iter().any(|l| file_stem(l) == file_stem(r)))
            {
                return Err(format!(
                    "inputs: {} has no LHE file with the same stem",
                    r.display()
                ));
            }
        }
        for p in &pairs {
            for f in [&p.lhe, &p.delphes] {
                if f.is_dir() {
                    return Err(format!(
                        "inputs: {} is a folder; expected a file",
                        f.display()
                    ));
                }
                if !f.is_file() {
                    return Err(format!("inputs: {} does not exist", f.display()));
                }
            }
        }
        pairs.sort_by_key(|p| natural_key(&p.lhe));
        Ok(ResolvedInputs { pairs })
    }
}

/// The files the glob `pattern` of card key `key` matches, relative to the
/// card's folder; none is an error naming the key.
fn expand(card_dir: &Path, key: &str, pattern: &str) -> Result<Vec<PathBuf>, String> {
    let full = card_dir.join(pattern);
    let full = full.to_string_lossy();
    let paths = glob::glob(&full).map_err(|e| format!("{key}: bad glob {pattern:?}: {e}"))?;
    let files: Vec<PathBuf> = paths
        .filter_map(Result::ok)
        .filter(|p| p.is_file())
        .collect();
    if files.is_empty() {
        return Err(format!(
            "{key}: the glob {pattern:?} matches no file (looked for {full:?})"
        ));
    }
    Ok(files)
}

/// The file name without `.lhe`, `.lhe.gz`, `.gz` or `.root`.
fn file_stem(p: &Path) -> String {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for ext in [".lhe.gz", ".lhef.gz", ".lhe", ".lhef", ".root", ".gz"] {
        if let Some(s) = name.strip_suffix(ext) {
            return s.to_string();
        }
    }
    name
}

/// Sorts `x_2` before `x_10`.
fn natural_key(p: &Path) -> Vec<(String, u64)> {
    let s = p.to_string_lossy();
    let mut key = Vec::new();
    let mut text = String::new();
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
        } else {
            if !num.is_empty() {
                key.push((std::mem::take(&mut text), num.parse().unwrap_or(u64::MAX)));
                num.clear();
            }
            text.push(c);
        }
    }
    key.push((text, num.parse().unwrap_or(0)));
    key
}

/// Adds "did you mean" to serde's "unknown field `x`, expected one of `a`, `b`".
pub fn with_hint(message: &str) -> String {
    let message = &plain_types(message);
    let Some(start) = message.find("unknown field `") else {
        return message.to_string();
    };
    let rest = &message[start + 15..];
    let Some(end) = rest.find('`') else {
        return message.to_string();
    };
    let unknown = &rest[..end];
    let candidates: Vec<&str> = rest[end..].split('`').skip(2).step_by(2).collect();
    let best = candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(unknown, c), *c))
        .min();
    match best {
        Some((d, c)) if d <= 3 || c.contains(unknown) || unknown.contains(c) => {
            format!("{}\nhint: did you mean `{c}`?", message.trim_end())
        }
        _ => message.to_string(),
    }
}

/// serde's Rust type names in an error, in words (`expected usize` becomes
/// `expected an integer >= 0`).
fn plain_types(message: &str) -> String {
    const WORDS: [(&str, &str); 11] = [
        (" as i128", " (too large)"),
        ("expected usize", "expected an integer >= 0"),
        ("expected u64", "expected an integer >= 0"),
        ("expected u32", "expected an integer >= 0"),
        ("expected u16", "expected an integer from 0 to 65535"),
        ("expected u8", "expected an integer from 0 to 255"),
        ("expected i64", "expected an integer"),
        ("expected i32", "expected an integer (at most 2^31 in size)"),
        ("expected f64", "expected a number"),
        ("expected f32", "expected a number"),
        ("expected a boolean", "expected true or false"),
    ];
    let mut out = message.to_string();
    for (rust, words) in WORDS {
        out = out.replace(rust, words);
    }
    out
}

/// The particle names a card's `pdg` may use, with their PDG numbers:
/// MadGraph's names, and the plain words `electron`, `positron`, `muon`,
/// `antimuon`, `photon`, `gluon`.
pub const PDG_NAMES: &[(&str, i32)] = &[
    ("d", 1),
    ("u", 2),
    ("s", 3),
    ("c", 4),
    ("b", 5),
    ("t", 6),
    ("d~", -1),
    ("u~", -2),
    ("s~", -3),
    ("c~", -4),
    ("b~", -5),
    ("t~", -6),
    ("e-", 11),
    ("e+", -11),
    ("ve", 12),
    ("ve~", -12),
    ("mu-", 13),
    ("mu+", -13),
    ("vm", 14),
    ("vm~", -14),
    ("ta-", 15),
    ("ta+", -15),
    ("vt", 16),
    ("vt~", -16),
    ("g", 21),
    ("a", 22),
    ("z", 23),
    ("w+", 24),
    ("w-", -24),
    ("h", 25),
    ("electron", 11),
    ("positron", -11),
    ("muon", 13),
    ("antimuon", -13),
    ("photon", 22),
    ("gluon", 21),
];

/// The PDG number of a particle name of [`PDG_NAMES`] (case-insensitive).
pub fn pdg_from_name(name: &str) -> Result<i32, String> {
    let lower = name.trim().to_ascii_lowercase();
    if lower.parse::<i64>().is_ok() {
        return Err(format!(
            "\"{name}\" is a PDG number in quotes; write it without them (pdg = {})",
            name.trim()
        ));
    }
    if let Some(&(_, code)) = PDG_NAMES.iter().find(|(n, _)| *n == lower) {
        return Ok(code);
    }
    let names: Vec<&str> = PDG_NAMES.iter().map(|(n, _)| *n).collect();
    let hint = names
        .iter()
        .map(|c| (strsim::damerau_levenshtein(&lower, c), *c))
        .filter(|(d, c)| *d <= 2 && c.len() > 1)
        .min()
        .map(|(_, c)| format!(" (did you mean \"{c}\"?)"))
        .unwrap_or_default();
    Err(format!(
        "unknown particle name \"{name}\"{hint}; give a PDG number (11 for e-, -5 for b~) or one of: {}",
        names.join(" ")
    ))
}

fn pdg_code<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Code {
        Number(i64),
        Name(String),
    }
    let code = Code::deserialize(d).map_err(|_| {
        serde::de::Error::custom("expected a PDG number (such as 11 or -5) or a particle name (such as \"e-\" or \"b~\")")
    })?;
    match code {
        Code::Number(n) if n != 0 && i32::try_from(n).is_ok() => Ok(n as i32),
        Code::Number(n) => Err(serde::de::Error::custom(format!(
            "{n} is not a PDG number (a non-zero integer below 2^31 in size)"
        ))),
        Code::Name(name) => pdg_from_name(&name).map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
name = "t"
[inputs]
pairs = [{ lhe = "a.lhe", delphes = "a.root" }]
[[partons]]
name = "em"
pdg = 11
[[objects]]
name = "em"
from = "electron"
charge = -1
"#;

    #[test]
    fn minimal_card_gets_defaults() {
        let card = RunCard::parse(MINIMAL).unwrap();
        card.validate().unwrap();
        assert_eq!(card.inputs.tree, "Delphes");
        assert_eq!(card.delphes.jet, "Jet");
        assert_eq!(card.partons[0].status, 1);
        assert_eq!(card.splits.validation, 0.1);
        assert_eq!(card.detector.met_convention, MetConvention::Physical);
        assert_eq!(card.export.tree, "otus");
    }

    #[test]
    fn unknown_key_gets_did_you_mean() {
        let text = MINIMAL.replace("pdg = 11", "pdg = 11\nstatsu = 1");
        let err = RunCard::parse(&text).unwrap_err();
        assert!(err.contains("hint: did you mean `status`?"), "{err}");
        assert!(err.contains("line"), "{err}");
    }

    #[test]
    fn out_of_range_values_are_rejected() {
        let text = MINIMAL.replace("charge = -1", "charge = 2");
        assert!(
            RunCard::parse(&text)
                .unwrap()
                .validate()
                .unwrap_err()
                .contains("charge")
        );
        let text = format!("{MINIMAL}\n[splits]\nvalidation = 0.6\ntest = 0.5\n");
        assert!(
            RunCard::parse(&text)
                .unwrap()
                .validate()
                .unwrap_err()
                .contains("< 1")
        );
    }

    #[test]
    fn stems_pair_and_sort_naturally() {
        assert_eq!(file_stem(Path::new("/d/zee_3.lhe.gz")), "zee_3");
        assert_eq!(file_stem(Path::new("zee_3.root")), "zee_3");
        let mut v = [PathBuf::from("z_10.lhe"), PathBuf::from("z_9.lhe")];
        v.sort_by_key(|p| natural_key(p));
        assert_eq!(v[0], PathBuf::from("z_9.lhe"));
    }

    #[test]
    fn pdg_takes_numbers_and_particle_names() {
        for (value, code) in [("11", 11), ("\"e-\"", 11), ("\"B~\"", -5), ("\"ve~\"", -12)] {
            let text = MINIMAL.replace("pdg = 11", &format!("pdg = {value}"));
            assert_eq!(
                RunCard::parse(&text).unwrap().partons[0].pdg,
                code,
                "{value}"
            );
        }
        let text = MINIMAL.replace("pdg = 11", "pdg = \"electrn\"");
        let err = RunCard::parse(&text).unwrap_err();
        assert!(err.contains("line 7"), "{err}");
        assert!(err.contains("unknown particle name \"electrn\""), "{err}");
        assert!(err.contains("did you mean \"electron\""), "{err}");
        assert!(err.contains("e- e+ ve ve~"), "lists the names: {err}");
        let text = MINIMAL.replace("pdg = 11", "pdg = \"11\"");
        let err = RunCard::parse(&text).unwrap_err();
        assert!(err.contains("a PDG number in quotes"), "{err}");
        let text = MINIMAL.replace("name = \"t\"", "name = \"t\"\nseed = 99999999999999999999");
        let err = RunCard::parse(&text).unwrap_err();
        assert!(!err.contains("i128") && err.contains("too large"), "{err}");
        for bad in ["0", "11.5", "99999999999", "[11]"] {
            let text = MINIMAL.replace("pdg = 11", &format!("pdg = {bad}"));
            let err = RunCard::parse(&text).unwrap_err();
            assert!(
                err.contains("line 7") && err.contains("PDG number"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn wrong_types_say_the_line_and_what_the_key_takes() {
        let text = MINIMAL.replace("name = \"t\"", "name = \"t\"\nseed = -3");
        let err = RunCard::parse(&text).unwrap_err();
        assert!(err.contains("line 3") && err.contains("seed = -3"), "{err}");
        assert!(err.contains("expected an integer >= 0"), "{err}");
        let text = MINIMAL.replace("charge = -1", "charge = \"minus\"");
        let err = RunCard::parse(&text).unwrap_err();
        assert!(
            err.contains("charge") && err.contains("expected an integer"),
            "{err}"
        );
        assert!(!err.contains("i32") && !err.contains("i8"), "{err}");
    }

    #[test]
    fn train_errors_carry_their_line_and_are_found_at_load() {
        let stage = "[[train.profiles.default]]\nepochs = 3\nbatch_size = -5\n";
        let text = format!("{MINIMAL}[train]\nprofile = \"default\"\n{stage}");
        let err = RunCard::parse(&text).unwrap_err();
        assert!(
            err.contains("line 16") && err.contains("batch_size = -5"),
            "{err}"
        );
        assert!(err.contains("expected an integer >= 0"), "{err}");
        let text = format!("{MINIMAL}[model]\ncore = \"MLP\"\n");
        let err = RunCard::parse(&text).unwrap_err();
        assert!(
            err.contains("line 13") && err.contains("core = \"MLP\""),
            "{err}"
        );
        let text = format!("{MINIMAL}[train]\nprofil = \"paper\"\n");
        let err = RunCard::parse(&text).unwrap_err();
        assert!(
            err.contains("line 13") && err.contains("did you mean"),
            "{err}"
        );
        // A value of the right type but out of range: found by `load`, which
        // every subcommand uses, not only when training starts.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("card.toml");
        let stage = "[[train.profiles.default]]\nepochs = 3\nbatch_size = 1\n";
        std::fs::write(&path, format!("{MINIMAL}[train]\n{stage}")).unwrap();
        let err = RunCard::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("card.toml") && err.contains("batch_size"),
            "{err}"
        );
        assert!(err.contains("outside 2..=10000000"), "{err}");
    }

    #[test]
    fn names_the_settings_refer_to_are_checked_when_the_card_loads() {
        let check = |extra: &str, want: &str| {
            let card = RunCard::parse(&format!("{MINIMAL}{extra}")).unwrap();
            let err = card.validate().unwrap_err();
            assert!(err.contains(want), "{extra}: {err}");
        };
        check(
            "[evaluate]\ntransport = [\"z_nope\", \"x_em_e\"]\n",
            "no column \"z_nope\"; the columns are z_em_px z_em_py z_em_pz z_em_e",
        );
        check(
            "[splits]\ntest_last = 1\n",
            "splits.test_last: 1 test events",
        );
        for bad in ["../../escape", "", ".hidden", "a/b"] {
            let text = MINIMAL.replace("name = \"t\"", &format!("name = {bad:?}"));
            let err = RunCard::parse(&text).unwrap().validate().unwrap_err();
            assert!(err.contains("must be a plain folder name"), "{bad}: {err}");
        }
        check(
            "[[model.acceptance]]\nobjects = [\"e+\"]\npt_min = 10.0\n",
            "model.acceptance[0].objects: no object e+ in the x space (em)",
        );
        check(
            "[model]\nmasses = { x_nope = 1.0 }\n",
            "model.masses.x_nope: no such object",
        );
        check(
            "[train]\nanchor = \"e-\"\n",
            "train.anchor: no object e- in the z space (em)",
        );
        let ok = "[evaluate]\ntransport = [\"z_em_e\", \"x_em_e\"]\n[train]\nanchor = \"em\"\n";
        RunCard::parse(&format!("{MINIMAL}{ok}"))
            .unwrap()
            .validate()
            .unwrap();
    }
}
