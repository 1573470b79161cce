//! The encoder E: x -> z and the decoder D: z -> x (burn modules).
//!
//! Both are [`MomentumMap`]s built from one [`ModelSettings`]; see
//! [`net`] for the computation and [`config`] for the card keys.

pub mod acceptance;
pub mod config;
pub mod net;
pub(crate) mod rng;

use burn::module::Module;
use burn::tensor::Device;

pub use acceptance::{Acceptance, AcceptanceCut};
pub use config::{CoreKind, ModelSettings, NoiseKind};
pub use net::{MapSpec, MomentumMap};

use crate::train::Error;
use crate::train::data::{Layout, Standardization};

/// The pair of maps trained together.
#[derive(Module, Debug)]
pub struct Otus {
    /// E: x -> z, the unfolder.
    pub encoder: MomentumMap,
    /// D: z -> x, the fast detector simulator.
    pub decoder: MomentumMap,
}

impl Otus {
    /// Freshly initialized maps for the given spaces, with weights drawn
    /// from streams derived from `seed`.
    ///
    /// `z_stats` and `x_stats` are the training split's column statistics
    /// of each space; they must match the layouts.
    pub fn new(
        settings: &ModelSettings,
        z_stats: &Standardization,
        x_stats: &Standardization,
        seed: u64,
        device: &Device,
    ) -> Result<Self, Error> {
        settings.validate()?;
        let z = Layout::from_columns(&z_stats.columns)?;
        let x = Layout::from_columns(&x_stats.columns)?;
        let encoder_spec = map_spec(settings, &x, x_stats, &z, z_stats, false)?;
        let decoder_spec = map_spec(settings, &z, z_stats, &x, x_stats, true)?;
        let mut rng = rng::stream(seed, &[rng::tag::ENCODER_INIT]);
        let encoder = MomentumMap::new(settings, encoder_spec, &mut rng, device);
        let mut rng = rng::stream(seed, &[rng::tag::DECODER_INIT]);
        let decoder = MomentumMap::new(settings, decoder_spec, &mut rng, device);
        Ok(Self { encoder, decoder })
    }
}

/// Checks the object names the settings refer to against the two spaces:
/// every `model.masses` key and every `model.acceptance` object (of `x`).
/// Called when a card loads and again when a model is built.
pub fn check_names(settings: &ModelSettings, z: &Layout, x: &Layout) -> Result<(), Error> {
    check_masses(settings, z, x)?;
    Acceptance::resolve(&settings.acceptance, x).map(drop)
}

fn check_masses(settings: &ModelSettings, a: &Layout, b: &Layout) -> Result<(), Error> {
    for key in settings.masses.keys() {
        let known = [a, b]
            .iter()
            .any(|l| l.objects.iter().any(|o| *key == format!("{}_{o}", l.space)));
        if !known {
            return Err(Error::Settings(format!(
                "model.masses.{key}: no such object in the {} or {} space",
                a.space, b.space
            )));
        }
    }
    Ok(())
}

fn map_spec(
    settings: &ModelSettings,
    input: &Layout,
    input_stats: &Standardization,
    output: &Layout,
    output_stats: &Standardization,
    restricted: bool,
) -> Result<MapSpec, Error> {
    if settings.input_residual && input.objects.len() != output.objects.len() {
        return Err(Error::Settings(format!(
            "model.input_residual: the {} space has {} objects and the {} space {}; \
             the residual needs equal counts",
            input.space,
            input.objects.len(),
            output.space,
            output.objects.len()
        )));
    }
    check_masses(settings, input, output)?;
    Ok(MapSpec {
        input: input.clone(),
        output: output.clone(),
        input_mean: input_stats.mean.clone(),
        input_std: input_stats.std.clone(),
        output_mean: output_stats.mean.clone(),
        output_std: output_stats.std.clone(),
        output_masses: output
            .objects
            .iter()
            .map(|o| settings.mass(&output.space, o))
            .collect(),
        noise_dim: settings.noise_dim.unwrap_or(3 * output.objects.len()),
        noise: settings.noise,
        input_residual: settings.input_residual,
        output_constant: output_stats
            .constant
            .chunks(4)
            .flat_map(|c| c[..3].to_vec())
            .collect(),
        // S restricts the detector space only: the decoder's output.
        acceptance: if restricted {
            Acceptance::resolve(&settings.acceptance, output)?
        } else {
            Acceptance::default()
        },
    })
}
