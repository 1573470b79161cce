//! The `[train]` table of a run card: the loss weights and the schedule.
//!
//! Training runs a list of stages in order; each stage fixes the learning
//! rate, the loss weights, the batch size and the number of slices for a
//! number of epochs. A *profile* is a named stage list. Two are built in
//! for Z -> ee:
//!
//! - `paper`: the published schedule (Adam, lr 1e-3, batch 20,000, L = 1000,
//!   lambda = 1; 80 epochs with beta_E = beta_D = 50, then 800 epochs with
//!   betas 0). Hours on a CPU.
//! - `default`: a schedule tuned on the embedded Z -> ee sample (3,881
//!   training events) to train in a few minutes on two CPU cores: batch
//!   512, L = 128; 20 epochs at lr 2e-3 with beta_E = beta_D = 50, then
//!   betas 0 and a step decay of the learning rate: 1200 epochs at 2e-3,
//!   600 at 5e-4 and 180 at 1e-4 (2000 epochs, ~14,000 Adam steps on that
//!   sample, about as many as the paper's 880 epochs of batch 20,000). Small batches buy steps; the price is a noisier, biased
//!   training SW (the empirical W2 of 512-event samples), which the
//!   validation distances do not share. The step decay lets the last
//!   epochs settle instead of jumping around the minimum at lr 2e-3.
//!
//! A card may redefine these or add its own under `[train.profiles]`, and
//! selects one with `profile`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Error;

/// Which map a stage keeps fixed.
///
/// A frozen map keeps its weights. Where the stage still runs it (its loss
/// terms need it), the residual core's BatchNorm layers of that map see
/// the batches and their running statistics follow them (as a PyTorch
/// BatchNorm in training mode does); a stage that weights no term of the frozen encoder
/// (`recon = lambda = beta_e = 0`, the decoder-only fine-tune) does not run
/// it, so nothing of it changes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Freeze {
    /// Both maps train (default).
    #[default]
    None,
    /// The encoder keeps its weights (for example the ttbar decoder
    /// fine-tune).
    Encoder,
    /// The decoder keeps its weights.
    Decoder,
}

/// One stage of the schedule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    /// Number of epochs (passes over the training events). Required, 1 to
    /// 1,000,000.
    pub epochs: usize,
    /// Adam learning rate. Default 1e-3; range (0, 1].
    #[serde(default = "default_lr")]
    pub learning_rate: f64,
    /// Weight of the reconstruction term `mean ||x - D(E(x))||^2` (masked
    /// and divided by P_D(S) under an acceptance). Default 1; range
    /// [0, 1e6]. With `recon = 0`, `lambda = 0`, `decoder_sw > 0` and
    /// `freeze = "encoder"` a stage is the paper's decoder-only fine-tune.
    #[serde(default = "one")]
    pub recon: f64,
    /// Weight lambda of the latent term SW(z, E(x)). Default 1; range
    /// [0, 1e6].
    #[serde(default = "one")]
    pub lambda: f64,
    /// Weight beta_E of the encoder anchor `mean(1 - cos angle(p_a(x),
    /// p_a(E(x))))`. Default 0; range [0, 1e6].
    #[serde(default)]
    pub beta_e: f64,
    /// Weight beta_D of the decoder anchor `mean(1 - cos angle(p_a(z),
    /// p_a(D(z))))`. Default 0; range [0, 1e6].
    #[serde(default)]
    pub beta_d: f64,
    /// Weight of the auxiliary term SW(x, D(z)), which trains the decoder
    /// directly (paper: the ttbar decoder fine-tune). Default 0; range
    /// [0, 1e6].
    #[serde(default)]
    pub decoder_sw: f64,
    /// Events per batch M, drawn independently from z and from x. Capped at
    /// the smaller training split. Default 512; range 2 to 10,000,000.
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    /// Number of random directions L of the sliced Wasserstein terms, drawn
    /// anew for every batch. Default 128; range 1 to 100,000.
    #[serde(default = "default_slices")]
    pub slices: usize,
    /// Keep one map fixed: `"none"`, `"encoder"` or `"decoder"`. Default
    /// `"none"`.
    #[serde(default)]
    pub freeze: Freeze,
}

fn default_lr() -> f64 {
    1e-3
}
fn one() -> f64 {
    1.0
}
fn default_batch() -> usize {
    512
}
fn default_slices() -> usize {
    128
}

impl Stage {
    fn validate(&self, at: &str) -> Result<(), Error> {
        let bad = |key: &str, msg: String| Err(Error::Settings(format!("{at}.{key}: {msg}")));
        if !(1..=1_000_000).contains(&self.epochs) {
            return bad("epochs", format!("{} is outside 1..=1000000", self.epochs));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            return bad(
                "learning_rate",
                format!("{} is outside (0, 1]", self.learning_rate),
            );
        }
        for (key, w) in [
            ("recon", self.recon),
            ("lambda", self.lambda),
            ("beta_e", self.beta_e),
            ("beta_d", self.beta_d),
            ("decoder_sw", self.decoder_sw),
        ] {
            if !(0.0..=1e6).contains(&w) {
                return bad(key, format!("{w} is outside [0, 1e6]"));
            }
        }
        if self.recon + self.lambda + self.beta_e + self.beta_d + self.decoder_sw == 0.0 {
            return bad(
                "recon",
                "every loss weight (recon, lambda, beta_e, beta_d, decoder_sw) is 0: the stage would train nothing".into(),
            );
        }
        if !(2..=10_000_000).contains(&self.batch_size) {
            return bad(
                "batch_size",
                format!("{} is outside 2..=10000000", self.batch_size),
            );
        }
        if !(1..=100_000).contains(&self.slices) {
            return bad("slices", format!("{} is outside 1..=100000", self.slices));
        }
        Ok(())
    }
}

/// Training settings (`[train]` in the run card).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainSettings {
    /// Seed of every random draw (weights, noise, shuffles, directions).
    /// The same seed on the same machine gives the same losses. Default 0.
    pub seed: u64,
    /// Name of the profile (stage list) to run, built in (`default`,
    /// `paper`) or defined under `profiles`. Default `"default"`.
    pub profile: String,
    /// Named stage lists; an entry replaces the built-in profile of the same
    /// name. Default: none.
    pub profiles: BTreeMap<String, Vec<Stage>>,
    /// The anchor object of the angle terms (an object name present in both
    /// spaces, for example `em`). Default (absent): the first z object.
    pub anchor: Option<String>,
    /// Adam epsilon. Default 1e-8 (PyTorch's; burn's own default is 1e-5).
    /// Range (0, 1).
    pub adam_epsilon: f64,
    /// Adam beta_1. Default 0.9; range [0, 1).
    pub adam_beta1: f64,
    /// Adam beta_2. Default 0.999; range [0, 1).
    pub adam_beta2: f64,
    /// Number of fixed directions of the validation distances, computed at
    /// the end of every epoch. Default 256; range 1 to 100,000.
    pub validation_slices: usize,
    /// At most this many validation events enter the validation distances
    /// (the first ones of each split). Default 20,000; range 2 to
    /// 10,000,000.
    pub validation_events: usize,
    /// Events per forward pass when evaluating (validation, simulate,
    /// unfold); bounds memory. Default 65,536; range 1 to 10,000,000.
    pub inference_batch: usize,
}

impl Default for TrainSettings {
    fn default() -> Self {
        Self {
            seed: 0,
            profile: "default".into(),
            profiles: BTreeMap::new(),
            anchor: None,
            adam_epsilon: 1e-8,
            adam_beta1: 0.9,
            adam_beta2: 0.999,
            validation_slices: 256,
            validation_events: 20_000,
            inference_batch: 65_536,
        }
    }
}

impl TrainSettings {
    /// The built-in profiles: `default` and `paper` (see the module docs).
    pub fn builtin_profiles() -> BTreeMap<String, Vec<Stage>> {
        let stage = |epochs, lr, beta, batch, slices| Stage {
            epochs,
            learning_rate: lr,
            recon: 1.0,
            lambda: 1.0,
            beta_e: beta,
            beta_d: beta,
            decoder_sw: 0.0,
            batch_size: batch,
            slices,
            freeze: Freeze::None,
        };
        BTreeMap::from([
            (
                "paper".to_string(),
                vec![
                    stage(80, 1e-3, 50.0, 20_000, 1000),
                    stage(800, 1e-3, 0.0, 20_000, 1000),
                ],
            ),
            (
                "default".to_string(),
                vec![
                    stage(20, 2e-3, 50.0, 512, 128),
                    stage(1200, 2e-3, 0.0, 512, 128),
                    stage(600, 5e-4, 0.0, 512, 128),
                    stage(180, 1e-4, 0.0, 512, 128),
                ],
            ),
        ])
    }

    /// The stage list of the selected profile.
    pub fn stages(&self) -> Result<Vec<Stage>, Error> {
        if let Some(stages) = self.profiles.get(&self.profile) {
            return Ok(stages.clone());
        }
        let builtin = Self::builtin_profiles();
        builtin.get(&self.profile).cloned().ok_or_else(|| {
            let mut known: Vec<&String> = builtin.keys().chain(self.profiles.keys()).collect();
            known.sort();
            known.dedup();
            let known: Vec<&str> = known.iter().map(|s| s.as_str()).collect();
            Error::Settings(format!(
                "train.profile: no profile named {}; known: {}",
                self.profile,
                known.join(", ")
            ))
        })
    }

    /// Check ranges; the error names the offending key.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |key: &str, msg: String| Err(Error::Settings(format!("train.{key}: {msg}")));
        if !(self.adam_epsilon > 0.0 && self.adam_epsilon < 1.0) {
            return bad(
                "adam_epsilon",
                format!("{} is outside (0, 1)", self.adam_epsilon),
            );
        }
        for (key, b) in [
            ("adam_beta1", self.adam_beta1),
            ("adam_beta2", self.adam_beta2),
        ] {
            if !(0.0..1.0).contains(&b) {
                return bad(key, format!("{b} is outside [0, 1)"));
            }
        }
        if !(1..=100_000).contains(&self.validation_slices) {
            return bad(
                "validation_slices",
                format!("{} is outside 1..=100000", self.validation_slices),
            );
        }
        if !(2..=10_000_000).contains(&self.validation_events) {
            return bad(
                "validation_events",
                format!("{} is outside 2..=10000000", self.validation_events),
            );
        }
        if !(1..=10_000_000).contains(&self.inference_batch) {
            return bad(
                "inference_batch",
                format!("{} is outside 1..=10000000", self.inference_batch),
            );
        }
        for (name, stages) in &self.profiles {
            if stages.is_empty() {
                return bad(
                    &format!("profiles.{name}"),
                    "a profile needs a stage".into(),
                );
            }
            for (i, s) in stages.iter().enumerate() {
                s.validate(&format!("train.profiles.{name}[{i}]"))?;
            }
        }
        self.stages()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_profiles_validate() {
        let mut s = TrainSettings::default();
        s.validate().unwrap();
        s.profile = "paper".into();
        let stages = s.stages().unwrap();
        assert_eq!(stages.iter().map(|s| s.epochs).sum::<usize>(), 880);
        assert_eq!(stages[0].beta_e, 50.0);
        assert_eq!(stages[1].batch_size, 20_000);
    }

    #[test]
    fn card_profiles_override_and_unknown_keys_fail() {
        let s: TrainSettings = toml::from_str(
            "profile = \"quick\"\n[[profiles.quick]]\nepochs = 3\nbatch_size = 64\n",
        )
        .unwrap();
        s.validate().unwrap();
        assert_eq!(s.stages().unwrap()[0].slices, 128);
        assert!(toml::from_str::<TrainSettings>("sed = 1").is_err());
        let s: TrainSettings = toml::from_str("profile = \"nope\"").unwrap();
        let e = s.validate().unwrap_err().to_string();
        assert!(e.contains("default, paper"), "{e}");
        let s: TrainSettings = toml::from_str("[[profiles.default]]\nepochs = 0\n").unwrap();
        let e = s.validate().unwrap_err().to_string();
        assert!(e.contains("train.profiles.default[0].epochs"), "{e}");
    }
}
