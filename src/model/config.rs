//! The `[model]` table of a run card: the architecture of the encoder and
//! decoder.
//!
//! Both maps (E: x -> z and D: z -> x) are built from the same settings.
//! The defaults are the Z -> ee model of the paper (one hidden layer of 128
//! ReLU units for each of the core and noise networks, learned Gaussian
//! noise). The semileptonic ttbar model of the paper is
//!
//! ```toml
//! [model]
//! core = "residual"
//! hidden = [64]
//! noise = "standard"
//! input_residual = true
//! init_scale = 0.01
//! masses = { z_b = 4.7, z_bbar = 4.7 }
//!
//! [[model.acceptance]]
//! objects = ["jet1", "jet2", "jet3", "jet4"]
//! pt_min = 20.0
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::acceptance::AcceptanceCut;
use crate::train::Error;

/// The core network that maps `[standardized input, noise]` to the
/// standardized output 3-momenta.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CoreKind {
    /// A plain multilayer perceptron: `Linear -> ReLU` for each width in
    /// `hidden`, then a linear output layer (paper, Z -> ee).
    Mlp,
    /// `Linear(in -> w)`, then `residual_blocks` blocks of
    /// `residual_depth` times `[BatchNorm, ReLU, Linear(w -> w)]` each with
    /// a skip connection around the block, then `Linear(w -> out)`, with
    /// `w = hidden[0]` (paper, ttbar: one block of depth 2, `w = 64`).
    Residual,
}

/// The noise the core network receives next to its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoiseKind {
    /// `eps ~ N(mu(u), softplus(s(u))^2)`, where a noise network of widths
    /// `noise_hidden` computes `mu` and `s` from the standardized input `u`
    /// (paper, Z -> ee).
    Learned,
    /// `eps ~ N(0, I)` (paper, ttbar).
    Standard,
}

/// Architecture of the encoder and decoder (`[model]` in the run card).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelSettings {
    /// Core network type: `"mlp"` or `"residual"`. Default `"mlp"`.
    pub core: CoreKind,
    /// Hidden layer widths of the core network. For `mlp`, one entry per
    /// hidden layer (at least one, each 1 to 65536 units); for `residual`,
    /// exactly one entry, the width of the residual blocks. Default `[128]`.
    pub hidden: Vec<usize>,
    /// Number of residual blocks (`residual` core only). Default 1, range 1
    /// to 64.
    pub residual_blocks: usize,
    /// Number of `[BatchNorm, ReLU, Linear]` layers inside each residual
    /// block (`residual` core only). Default 2, range 1 to 64.
    pub residual_depth: usize,
    /// Noise type: `"learned"` or `"standard"`. Default `"learned"`.
    pub noise: NoiseKind,
    /// Hidden layer widths of the noise network (`learned` noise only; may
    /// be empty for a linear noise network). Default `[128]`.
    pub noise_hidden: Vec<usize>,
    /// Dimension of the noise vector. Default (absent): the number of
    /// output 3-momentum components (3 per output object), as in the paper.
    /// Range 1 to 4096.
    pub noise_dim: Option<usize>,
    /// Add the input's 3-momenta (GeV) to the output 3-momenta, so that the
    /// network learns a correction to the identity (paper, ttbar). Requires
    /// the input and output spaces to have the same number of objects.
    /// Default `false`.
    pub input_residual: bool,
    /// Factor on the initial weights and biases of the core network's last
    /// linear layer (PyTorch's uniform initialization times this). With
    /// `input_residual`, a small value (0.01) starts the map close to the
    /// identity on the 3-momenta, the architectural bias of the paper's
    /// ttbar model. Default 1; range (0, 1].
    pub init_scale: f64,
    /// The detector acceptance S of the decoder's output (see
    /// [`super::acceptance`]): cuts on named x objects, all of which an
    /// event inside S passes. Decoded events outside S are masked out of
    /// the data loss (rescaled by P_D(S)) and dropped by `simulate`.
    /// Default: none (S is everything, the Z -> ee model).
    pub acceptance: Vec<AcceptanceCut>,
    /// Rest masses (GeV) used to compute output energies,
    /// `E = sqrt(|p|^2 + m^2)`, keyed by `{space}_{object}` (for example
    /// `z_b = 4.7`). Objects not listed are massless. Each mass must be
    /// finite and at least 0. Default: empty (all massless).
    pub masses: BTreeMap<String, f64>,
}

impl Default for ModelSettings {
    fn default() -> Self {
        Self {
            core: CoreKind::Mlp,
            hidden: vec![128],
            residual_blocks: 1,
            residual_depth: 2,
            noise: NoiseKind::Learned,
            noise_hidden: vec![128],
            noise_dim: None,
            input_residual: false,
            init_scale: 1.0,
            acceptance: Vec::new(),
            masses: BTreeMap::new(),
        }
    }
}

impl ModelSettings {
    /// Check ranges and combinations; the error names the offending key.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |key: &str, msg: String| Err(Error::Settings(format!("model.{key}: {msg}")));
        let width_ok = |w: &usize| (1..=65536).contains(w);
        match self.core {
            CoreKind::Mlp if self.hidden.is_empty() => {
                return bad(
                    "hidden",
                    "an mlp core needs at least one hidden layer".into(),
                );
            }
            CoreKind::Residual if self.hidden.len() != 1 => {
                return bad(
                    "hidden",
                    format!(
                        "a residual core takes exactly one width, got {}",
                        self.hidden.len()
                    ),
                );
            }
            _ => {}
        }
        if let Some(w) = self.hidden.iter().find(|w| !width_ok(w)) {
            return bad("hidden", format!("width {w} is outside 1..=65536"));
        }
        if let Some(w) = self.noise_hidden.iter().find(|w| !width_ok(w)) {
            return bad("noise_hidden", format!("width {w} is outside 1..=65536"));
        }
        if !(1..=64).contains(&self.residual_blocks) {
            return bad(
                "residual_blocks",
                format!("{} is outside 1..=64", self.residual_blocks),
            );
        }
        if !(1..=64).contains(&self.residual_depth) {
            return bad(
                "residual_depth",
                format!("{} is outside 1..=64", self.residual_depth),
            );
        }
        if let Some(n) = self.noise_dim
            && !(1..=4096).contains(&n)
        {
            return bad("noise_dim", format!("{n} is outside 1..=4096"));
        }
        if !(self.init_scale > 0.0 && self.init_scale <= 1.0) {
            return bad(
                "init_scale",
                format!("{} is outside (0, 1]", self.init_scale),
            );
        }
        for (i, cut) in self.acceptance.iter().enumerate() {
            cut.validate(&format!("model.acceptance[{i}]"))?;
        }
        for (key, m) in &self.masses {
            if !m.is_finite() || *m < 0.0 {
                return bad(
                    &format!("masses.{key}"),
                    format!("{m} is not a mass >= 0 GeV"),
                );
            }
            if !key.contains('_') {
                return bad(
                    &format!("masses.{key}"),
                    "keys are {space}_{object}, for example z_b".into(),
                );
            }
        }
        Ok(())
    }

    /// The mass (GeV) of `object` in `space`, 0 if not listed.
    pub fn mass(&self, space: &str, object: &str) -> f64 {
        self.masses
            .get(&format!("{space}_{object}"))
            .copied()
            .unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_match_the_paper() {
        let s = ModelSettings::default();
        s.validate().unwrap();
        assert_eq!(s.hidden, vec![128]);
        assert_eq!(s.noise, NoiseKind::Learned);
    }

    #[test]
    fn ttbar_settings_parse() {
        let s: ModelSettings = toml::from_str(
            "core = \"residual\"\nhidden = [64]\nnoise = \"standard\"\n\
             input_residual = true\nmasses = { z_b = 4.7, z_bbar = 4.7 }\n",
        )
        .unwrap();
        s.validate().unwrap();
        assert_eq!(s.mass("z", "b"), 4.7);
        assert_eq!(s.mass("x", "jet1"), 0.0);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_rejected() {
        assert!(toml::from_str::<ModelSettings>("hiden = [3]").is_err());
        let s = ModelSettings {
            core: CoreKind::Residual,
            hidden: vec![64, 64],
            ..Default::default()
        };
        let e = s.validate().unwrap_err().to_string();
        assert!(e.contains("model.hidden"), "{e}");
        let mut s = ModelSettings::default();
        s.masses.insert("z_b".into(), -1.0);
        assert!(s.validate().is_err());
    }
}
