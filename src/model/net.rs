//! The stochastic map u -> v shared by the encoder and the decoder.
//!
//! For an input batch `u` (`[N, 4 K_in]`, GeV) and standard normal draws
//! `n` (`[N, noise_dim]`):
//!
//! 1. standardize: `u_s = (u - mean_u) / std_u` with the training split's
//!    statistics;
//! 2. noise: `eps = mu(u_s) + softplus(s(u_s)) * n` (learned) or `eps = n`
//!    (standard);
//! 3. core: `y = core([u_s, eps])`, the standardized output 3-momenta
//!    (`[N, 3 K_out]`);
//! 4. unstandardize: `p = y * std_v + mean_v` (GeV), or with
//!    `input_residual` `p = p_u + y * std_v`, the input's 3-momenta plus a
//!    correction (so `y = 0` is the identity on the 3-momenta);
//! 5. energies: `E_k = sqrt(|p_k|^2 + m_k^2)` for each output object `k`,
//!    giving `[N, 4 K_out]` ordered `(px, py, pz, E)` per object.

use burn::module::{Module, Param};
use burn::nn::{BatchNorm, BatchNormConfig, Linear};
use burn::tensor::{Device, Tensor, TensorData, activation};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::acceptance::Acceptance;
use super::config::{CoreKind, ModelSettings, NoiseKind};
use crate::train::data::Layout;

/// Added to `|p|^2 + m^2` under the square root of the energy (GeV^2), so
/// that the energy of a massless object at zero momentum has a finite
/// gradient. It is far below f32 resolution at any physical momentum.
pub const ENERGY_GUARD_GEV2: f32 = 1e-12;

/// What a map needs to know besides its weights: the layouts of its input
/// and output spaces, their training statistics and the output masses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MapSpec {
    /// Objects of the input space.
    pub input: Layout,
    /// Objects of the output space.
    pub output: Layout,
    /// Mean of each input column on the training split (GeV), `4 K_in`.
    pub input_mean: Vec<f64>,
    /// Standard deviation of each input column (GeV), `4 K_in`.
    pub input_std: Vec<f64>,
    /// Mean of each output column on the training split (GeV), `4 K_out`.
    pub output_mean: Vec<f64>,
    /// Standard deviation of each output column (GeV), `4 K_out`.
    pub output_std: Vec<f64>,
    /// Rest mass of each output object (GeV), `K_out`.
    pub output_masses: Vec<f64>,
    /// Dimension of the noise vector.
    pub noise_dim: usize,
    /// Noise type.
    pub noise: NoiseKind,
    /// Whether the input 3-momenta are added to the output 3-momenta.
    pub input_residual: bool,
    /// Output 3-momentum entries (`3 K_out`) that were constant in the
    /// training data (missing-ET pz): the map puts out that constant
    /// there, whatever the network says. Absent in older model files: none.
    #[serde(default)]
    pub output_constant: Vec<bool>,
    /// The acceptance S of the output (decoder only; the encoder's is
    /// everything). Absent in older model files: everything.
    #[serde(default)]
    pub acceptance: Acceptance,
}

impl MapSpec {
    fn row(values: &[f64]) -> Vec<f32> {
        values.iter().map(|&v| v as f32).collect()
    }

    fn momentum_entries(values: &[f64]) -> Vec<f32> {
        values
            .chunks(4)
            .flat_map(|c| c[..3].iter().map(|&v| v as f32))
            .collect()
    }
}

/// A multilayer perceptron: `Linear -> ReLU` for each hidden layer, then a
/// linear output layer.
#[derive(Module, Debug)]
pub struct Mlp {
    layers: Vec<Linear>,
}

impl Mlp {
    /// Layers of the given widths; the last one's initial weights and bias
    /// are multiplied by `last_scale`.
    fn new(widths: &[usize], last_scale: f64, rng: &mut ChaCha8Rng, device: &Device) -> Self {
        let n = widths.len().saturating_sub(1);
        let layers = widths
            .windows(2)
            .enumerate()
            .map(|(i, w)| {
                let f = if i + 1 == n { last_scale } else { 1.0 };
                scaled_linear(w[0], w[1], f, rng, device)
            })
            .collect();
        Self { layers }
    }

    /// `[N, in] -> [N, out]`.
    pub fn forward(&self, mut h: Tensor<2>) -> Tensor<2> {
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            h = layer.forward(h);
            if i < last {
                h = activation::relu(h);
            }
        }
        h
    }
}

/// `x + f(x)` with `f` a chain of `[BatchNorm, ReLU, Linear]` layers
/// ("full pre-activation" residual block).
#[derive(Module, Debug)]
pub struct ResBlock {
    norms: Vec<BatchNorm>,
    linears: Vec<Linear>,
}

impl ResBlock {
    /// `[N, w] -> [N, w]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let mut h = x.clone();
        for (norm, linear) in self.norms.iter().zip(&self.linears) {
            h = linear.forward(activation::relu(norm.forward(h)));
        }
        h + x
    }
}

/// `Linear(in -> w)`, residual blocks, `Linear(w -> out)`.
#[derive(Module, Debug)]
pub struct ResidualNet {
    input: Linear,
    blocks: Vec<ResBlock>,
    output: Linear,
}

impl ResidualNet {
    /// `[N, in] -> [N, out]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let mut h = self.input.forward(x);
        for block in &self.blocks {
            h = block.forward(h);
        }
        self.output.forward(h)
    }
}

/// The core network, chosen by [`CoreKind`].
// One value per map, so the size difference is irrelevant; `Box` is not a
// burn `Module` and cannot be used here.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Core {
    /// See [`CoreKind::Mlp`].
    Mlp(Mlp),
    /// See [`CoreKind::Residual`].
    Residual(ResidualNet),
}

impl Core {
    /// `[N, in] -> [N, out]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        match self {
            Core::Mlp(m) => m.forward(x),
            Core::Residual(r) => r.forward(x),
        }
    }
}

/// One stochastic map between momentum spaces: the encoder (x -> z) or the
/// decoder (z -> x). See the module documentation for the computation.
#[derive(Module, Debug)]
pub struct MomentumMap {
    core: Core,
    noise_net: Option<Mlp>,
    #[module(skip)]
    spec: MapSpec,
}

impl MomentumMap {
    /// A freshly initialized map.
    ///
    /// Linear layers are initialized as PyTorch does,
    /// `U(-1/sqrt(fan_in), 1/sqrt(fan_in))` for weights and biases, from
    /// `rng`. The noise network's last bias starts at 1 (so the noise scale
    /// starts at `softplus(1) = 1.31`), as in the reference code.
    pub fn new(
        settings: &ModelSettings,
        spec: MapSpec,
        rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> Self {
        let d_in = spec.input.dim();
        let d_out = 3 * spec.output.objects.len();
        let d_core_in = d_in + spec.noise_dim;
        let core = match settings.core {
            CoreKind::Mlp => {
                let mut widths = vec![d_core_in];
                widths.extend(&settings.hidden);
                widths.push(d_out);
                Core::Mlp(Mlp::new(&widths, settings.init_scale, rng, device))
            }
            CoreKind::Residual => {
                let w = settings.hidden[0];
                let input = linear(d_core_in, w, rng, device);
                let blocks = (0..settings.residual_blocks)
                    .map(|_| ResBlock {
                        norms: (0..settings.residual_depth)
                            .map(|_| BatchNormConfig::new(w).init(device))
                            .collect(),
                        linears: (0..settings.residual_depth)
                            .map(|_| linear(w, w, rng, device))
                            .collect(),
                    })
                    .collect();
                let output = scaled_linear(w, d_out, settings.init_scale, rng, device);
                Core::Residual(ResidualNet {
                    input,
                    blocks,
                    output,
                })
            }
        };
        let noise_net = match spec.noise {
            NoiseKind::Learned => {
                let mut widths = vec![d_in];
                widths.extend(&settings.noise_hidden);
                widths.push(2 * spec.noise_dim);
                let mut net = Mlp::new(&widths, 1.0, rng, device);
                if let Some(last) = net.layers.last_mut() {
                    let ones = Tensor::ones([2 * spec.noise_dim], device);
                    last.bias = Some(Param::from_tensor(ones));
                }
                Some(net)
            }
            NoiseKind::Standard => None,
        };
        Self {
            core,
            noise_net,
            spec,
        }
    }

    /// The layouts, statistics and masses this map was built with.
    pub fn spec(&self) -> &MapSpec {
        &self.spec
    }

    /// Dimension of the standard normal draws [`forward`](Self::forward)
    /// takes.
    pub fn noise_dim(&self) -> usize {
        self.spec.noise_dim
    }

    /// Map a batch.
    ///
    /// - `input`: `[N, 4 K_in]` four-momenta (GeV) in the input layout;
    /// - `normal`: `[N, noise_dim]` independent standard normal draws;
    /// - returns `[N, 4 K_out]` four-momenta (GeV) in the output layout,
    ///   with `E^2 = |p|^2 + m^2` for every object.
    pub fn forward(&self, input: Tensor<2>, normal: Tensor<2>) -> Tensor<2> {
        let device = input.device();
        let [n, d_in] = input.dims();
        let k_out = self.spec.output.objects.len();
        let k_in = self.spec.input.objects.len();
        let row = |v: Vec<f32>| {
            let len = v.len();
            Tensor::<2>::from_data(TensorData::new(v, [1, len]), &device)
        };

        let mean_in = row(MapSpec::row(&self.spec.input_mean));
        let std_in = row(MapSpec::row(&self.spec.input_std));
        let u = (input.clone() - mean_in) / std_in;

        let k = self.spec.noise_dim;
        let eps = match &self.noise_net {
            Some(net) => {
                let h = net.forward(u.clone());
                let mu = h.clone().slice([0..n, 0..k]);
                let s = h.slice([0..n, k..2 * k]);
                mu + activation::softplus(s, 1.0) * normal
            }
            None => normal,
        };

        let y = self.core.forward(Tensor::cat(vec![u, eps], 1));
        let mean_out = row(MapSpec::momentum_entries(&self.spec.output_mean));
        let std_out = row(MapSpec::momentum_entries(&self.spec.output_std));
        let p = if self.spec.input_residual {
            debug_assert_eq!(d_in, 4 * k_in);
            let p_in = input.reshape([n, k_in, 4]).slice([0..n, 0..k_in, 0..3]);
            p_in.reshape([n, 3 * k_out]) + y * std_out
        } else {
            y * std_out + mean_out
        };
        let p = if self.spec.output_constant.iter().any(|&c| c) {
            let means = MapSpec::momentum_entries(&self.spec.output_mean);
            let keep: Vec<f32> = self
                .spec
                .output_constant
                .iter()
                .map(|&c| if c { 0.0 } else { 1.0 })
                .collect();
            let fixed: Vec<f32> = self
                .spec
                .output_constant
                .iter()
                .zip(&means)
                .map(|(&c, &m)| if c { m } else { 0.0 })
                .collect();
            p * row(keep) + row(fixed)
        } else {
            p
        };
        minkowski(p, &self.spec.output_masses)
    }
}

/// Complete 3-momenta (`[N, 3K]`, GeV) with energies from the masses
/// (`K` entries, GeV): returns `[N, 4K]` as `(px, py, pz, E)` per object.
pub fn minkowski(p: Tensor<2>, masses: &[f64]) -> Tensor<2> {
    let device = p.device();
    let [n, d] = p.dims();
    let k = d / 3;
    let p3 = p.reshape([n, k, 3]);
    let m2: Vec<f32> = masses
        .iter()
        .map(|&m| (m * m) as f32 + ENERGY_GUARD_GEV2)
        .collect();
    let m2 = Tensor::<3>::from_data(TensorData::new(m2, [1, k, 1]), &device);
    let e = (p3.clone().square().sum_dim(2) + m2).sqrt();
    Tensor::cat(vec![p3, e], 2).reshape([n, 4 * k])
}

fn linear(d_in: usize, d_out: usize, rng: &mut ChaCha8Rng, device: &Device) -> Linear {
    scaled_linear(d_in, d_out, 1.0, rng, device)
}

/// A linear layer with PyTorch's uniform initialization of weights and
/// bias, `U(-1/sqrt(d_in), 1/sqrt(d_in))`, times `factor` (`init_scale`).
fn scaled_linear(
    d_in: usize,
    d_out: usize,
    factor: f64,
    rng: &mut ChaCha8Rng,
    device: &Device,
) -> Linear {
    let bound = 1.0 / (d_in as f32).sqrt();
    let f = factor as f32;
    let mut draw = |n: usize| -> Vec<f32> {
        (0..n)
            .map(|_| rng.random_range(-bound..bound) * f)
            .collect()
    };
    let w = draw(d_in * d_out);
    let b = draw(d_out);
    Linear {
        weight: Param::from_tensor(Tensor::from_data(TensorData::new(w, [d_in, d_out]), device)),
        bias: Some(Param::from_tensor(Tensor::from_data(
            TensorData::new(b, [d_out]),
            device,
        ))),
    }
}

#[cfg(test)]
mod tests {
    use burn::module::Module;

    use super::*;
    use crate::model::{CoreKind, ModelSettings, NoiseKind, Otus};
    use crate::train::{Standardization, synthetic};

    /// The residual core's BatchNorm layers normalize with the batch in
    /// training (autodiff) passes, which move their running statistics,
    /// and with those statistics at inference; the statistics are part of
    /// the saved record, so a reloaded map decodes exactly as the original
    /// and differently from one with fresh statistics.
    #[test]
    fn batchnorm_running_statistics_are_used_at_inference_and_saved() {
        let device = Device::flex();
        let ad = device.clone().autodiff();
        let (z, x) = synthetic::zee(256, 2, 0.05, 1.0);
        let settings = ModelSettings {
            core: CoreKind::Residual,
            hidden: vec![16],
            noise: NoiseKind::Standard,
            ..Default::default()
        };
        let (zs, xs) = (Standardization::of(&z), Standardization::of(&x));
        let build = |d: &Device| Otus::new(&settings, &zs, &xs, 5, d).unwrap();
        let rows = |d: &Device| {
            let v: Vec<f32> = z.values().iter().map(|&v| v as f32).collect();
            Tensor::<2>::from_data(TensorData::new(v, [z.rows(), z.dim()]), d)
        };
        let noise = |d: &Device, n: usize| Tensor::<2>::zeros([z.rows(), n], d);
        let decode = |map: &MomentumMap| {
            let y = map.forward(rows(&device), noise(&device, map.noise_dim()));
            y.try_into_vec_as::<f32>().unwrap()
        };

        let trained = build(&ad).decoder;
        // Training-mode passes on a shifted batch move the statistics.
        let shifted = rows(&ad).mul_scalar(3.0).add_scalar(40.0);
        for _ in 0..5 {
            let _ = trained.forward(shifted.clone(), noise(&ad, trained.noise_dim()));
        }
        let trained = trained.valid();
        let fresh = build(&device).decoder;
        let after = decode(&trained);
        assert_ne!(after, decode(&fresh), "running statistics did not move");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("decoder.bpk");
        trained.clone().save_file(&path).unwrap();
        let loaded = build(&device).decoder.try_load_file(&path).unwrap();
        assert_eq!(decode(&loaded), after);
    }
}
