//! Apply a trained decoder (fast simulation, z -> x) or encoder (unfolding,
//! x -> z) to new events.
//!
//! Both maps are stochastic: each of the `repeat` draws of an input event
//! uses independent noise. Output rows are ordered event-major: row
//! `i * repeat + r` is draw `r` of input event `i`. The draws depend only on
//! the seed, the event's position and the draw index, not on the batch
//! size used to bound memory.

use burn::tensor::{Device, Tensor, TensorData};

use crate::model::MomentumMap;
use crate::model::rng;
use crate::train::{Error, Layout, Sample, SavedModel};

/// Events per forward pass when the caller does not say.
pub const DEFAULT_BATCH: usize = 65_536;

/// Simulated detector events: `repeat` draws of D(z) for every row of `z`.
///
/// `z` must have the columns of the model's z space. Returns
/// `z.rows() * repeat` rows in the x layout (GeV), event-major.
pub fn simulate(model: &SavedModel, z: &Sample, repeat: usize, seed: u64) -> Result<Sample, Error> {
    apply(
        &model.model.decoder,
        z,
        repeat,
        seed,
        0,
        model.inference_batch(),
        &model.device,
    )
}

/// Unfolded parton events: `repeat` draws of E(x) for every row of `x`.
///
/// `x` must have the columns of the model's x space. Returns
/// `x.rows() * repeat` rows in the z layout (GeV), event-major.
pub fn unfold(model: &SavedModel, x: &Sample, repeat: usize, seed: u64) -> Result<Sample, Error> {
    apply(
        &model.model.encoder,
        x,
        repeat,
        seed,
        1,
        model.inference_batch(),
        &model.device,
    )
}

/// The simulated draws that fall inside the decoder's detector acceptance
/// S (card `[[model.acceptance]]`), as real detector data would hold only
/// those: see [`accept`].
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The kept rows, x layout (GeV), in their original order.
    pub sample: Sample,
    /// Where S dropped draws: the place of each kept row among all draws
    /// (`i * repeat + r`, increasing). `None`: every draw was kept.
    pub source: Option<Vec<usize>>,
    /// Number of draws before the acceptance.
    pub total: usize,
}

impl Accepted {
    /// Fraction of the draws inside S, in [0, 1] (1 for no draws).
    pub fn fraction(&self) -> f64 {
        match &self.source {
            Some(s) if self.total > 0 => s.len() as f64 / self.total as f64,
            _ => 1.0,
        }
    }

    /// `"K of N draws inside S (f)"` where S dropped draws, for the log.
    pub fn dropped(&self) -> Option<String> {
        self.source.as_ref().map(|s| {
            format!(
                "{} of {} draws inside S ({:.4})",
                s.len(),
                self.total,
                self.fraction()
            )
        })
    }
}

/// The draws of `simulated` (output of [`simulate`] for `model`) inside
/// the decoder's acceptance S; all of them when the model has none.
pub fn accept(model: &SavedModel, simulated: Sample) -> Accepted {
    let total = simulated.rows();
    match model.model.decoder.spec().acceptance.keep(&simulated) {
        Some((sample, rows)) => Accepted {
            sample,
            source: Some(rows),
            total,
        },
        None => Accepted {
            sample: simulated,
            source: None,
            total,
        },
    }
}

fn apply(
    map: &MomentumMap,
    input: &Sample,
    repeat: usize,
    seed: u64,
    which: u64,
    batch: usize,
    device: &Device,
) -> Result<Sample, Error> {
    let spec = map.spec();
    let expected = spec.input.columns();
    if input.columns() != expected.as_slice() {
        return Err(Error::Data(format!(
            "the input columns ({}) are not the model's {} space ({})",
            input.columns().join(", "),
            spec.input.space,
            expected.join(", ")
        )));
    }
    if repeat == 0 {
        return Err(Error::Settings("repeat must be at least 1".into()));
    }
    let values = map_rows(map, input, repeat, seed, which, batch.max(1), device);
    Ok(Sample::new(
        spec.output.columns(),
        values.into_iter().map(f64::from).collect(),
    )?)
}

/// Run `map` over all rows of `input` with `repeat` draws each, in chunks
/// of at most `batch` output rows. Chunk `c` of draws uses the noise stream
/// `(seed, SIMULATE, which, c)`, with chunk boundaries fixed at
/// [`DEFAULT_BATCH`] output rows so that the result does not depend on
/// `batch`.
pub(crate) fn map_rows(
    map: &MomentumMap,
    input: &Sample,
    repeat: usize,
    seed: u64,
    which: u64,
    batch: usize,
    device: &Device,
) -> Vec<f32> {
    use rayon::prelude::*;
    let d_in = input.dim();
    let d_out = map.spec().output.dim();
    let noise_dim = map.noise_dim();
    let total = input.rows() * repeat;
    // Output rows [c * DEFAULT_BATCH, (c + 1) * DEFAULT_BATCH) form chunk c,
    // with its own noise stream, so chunks are independent and run in
    // parallel (burn's CPU kernels leave much of a small network's forward
    // pass on one thread).
    let chunks: Vec<Vec<f32>> = (0..total.div_ceil(DEFAULT_BATCH))
        .into_par_iter()
        .map(|chunk| {
            let start = chunk * DEFAULT_BATCH;
            let chunk_end = ((chunk + 1) * DEFAULT_BATCH).min(total);
            let mut r = rng::stream(seed, &[rng::tag::SIMULATE, which, chunk as u64]);
            let noise = rng::normals(&mut r, (chunk_end - start) * noise_dim);
            let mut out = Vec::with_capacity((chunk_end - start) * d_out);
            let mut s = start;
            while s < chunk_end {
                let e = (s + batch).min(chunk_end);
                let mut rows_in = Vec::with_capacity((e - s) * d_in);
                for row in s..e {
                    rows_in.extend(input.row(row / repeat).iter().map(|&v| v as f32));
                }
                let n = e - s;
                let x = Tensor::<2>::from_data(TensorData::new(rows_in, [n, d_in]), device);
                let off = (s - start) * noise_dim;
                let eps = noise[off..off + n * noise_dim].to_vec();
                let eps = Tensor::<2>::from_data(TensorData::new(eps, [n, noise_dim]), device);
                let y = map.forward(x, eps);
                out.extend(y.try_into_vec_as::<f32>().unwrap_or_default());
                s = e;
            }
            out
        })
        .collect();
    chunks.concat()
}

/// The layout of the rows [`simulate`] returns for `model`.
pub fn simulated_layout(model: &SavedModel) -> Layout {
    model.model.decoder.spec().output.clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ModelSettings, Otus};
    use crate::train::{Standardization, synthetic};

    /// Chunks of [`DEFAULT_BATCH`] output rows run in parallel; the draws
    /// of every row are those of its chunk's own noise stream, whatever the
    /// inference batch, and each chunk's rows come out in their place.
    #[test]
    fn parallel_chunks_give_the_rows_of_a_serial_pass_for_any_batch() {
        let device = Device::flex();
        let (z, x) = synthetic::zee(700, 3, 0.02, 0.5);
        let otus = Otus::new(
            &ModelSettings::default(),
            &Standardization::of(&z),
            &Standardization::of(&x),
            11,
            &device,
        )
        .unwrap();
        let map = &otus.decoder;
        // 700 events x 200 draws = 140,000 rows: three chunks, the last partial.
        let repeat = 200;
        let reference = map_rows(map, &z, repeat, 5, 0, DEFAULT_BATCH, &device);
        let d_out = map.spec().output.dim();
        assert_eq!(reference.len(), 700 * repeat * d_out);
        for batch in [1_000, 50_000, 1_000_000] {
            let got = map_rows(map, &z, repeat, 5, 0, batch, &device);
            assert!(got == reference, "batch {batch} changed the draws");
        }
        // Each chunk alone, computed serially from its own stream.
        let total = 700 * repeat;
        for chunk in 0..total.div_ceil(DEFAULT_BATCH) {
            let (start, end) = (
                chunk * DEFAULT_BATCH,
                ((chunk + 1) * DEFAULT_BATCH).min(total),
            );
            let mut r = rng::stream(5, &[rng::tag::SIMULATE, 0, chunk as u64]);
            let noise = rng::normals(&mut r, (end - start) * map.noise_dim());
            let rows: Vec<f32> = (start..end)
                .flat_map(|row| {
                    z.row(row / repeat)
                        .iter()
                        .map(|&v| v as f32)
                        .collect::<Vec<_>>()
                })
                .collect();
            let y = map.forward(
                Tensor::<2>::from_data(TensorData::new(rows, [end - start, z.dim()]), &device),
                Tensor::<2>::from_data(
                    TensorData::new(noise, [end - start, map.noise_dim()]),
                    &device,
                ),
            );
            let y = y.try_into_vec_as::<f32>().unwrap();
            assert!(
                y[..] == reference[start * d_out..end * d_out],
                "chunk {chunk} is not in its place"
            );
        }
        // Another seed, other draws.
        assert!(map_rows(map, &z, repeat, 6, 0, DEFAULT_BATCH, &device) != reference);
    }

    /// The paper's ttbar decoder (residual core, input-to-output residual)
    /// with small initial output weights is close to the identity before
    /// training: the decoded 3-momentum components are the parton's within
    /// 1% of each component's spread (rms; at most 10%), while the plain
    /// unstandardized output (no input residual) is far from them.
    #[test]
    fn untrained_residual_decoder_is_close_to_the_identity() {
        use crate::model::{CoreKind, NoiseKind};
        let device = Device::flex();
        let (z, x) = synthetic::zee(2_000, 8, 0.05, 1.0);
        let settings = ModelSettings {
            core: CoreKind::Residual,
            hidden: vec![64],
            noise: NoiseKind::Standard,
            input_residual: true,
            init_scale: 0.01,
            ..Default::default()
        };
        let far = |settings: &ModelSettings| {
            let otus = Otus::new(
                settings,
                &Standardization::of(&z),
                &Standardization::of(&x),
                3,
                &device,
            )
            .unwrap();
            let d = map_rows(&otus.decoder, &z, 1, 4, 0, DEFAULT_BATCH, &device);
            let stats = Standardization::of(&z);
            let (mut worst, mut squares, mut n) = (0.0f64, 0.0f64, 0.0f64);
            for i in 0..z.rows() {
                for (k, (&out, &inp)) in d[i * 8..i * 8 + 8].iter().zip(z.row(i)).enumerate() {
                    if k % 4 == 3 {
                        continue; // energies follow from the 3-momenta
                    }
                    let r = (f64::from(out) - inp).abs() / stats.std[k];
                    worst = worst.max(r);
                    squares += r * r;
                    n += 1.0;
                }
            }
            ((squares / n).sqrt(), worst)
        };
        // Measured: rms 0.0033, largest 0.050 of a spread (12,000 components).
        let (rms, worst) = far(&settings);
        assert!(
            rms < 0.01 && worst < 0.1,
            "deviation rms {rms}, largest {worst} of a spread"
        );
        let (rms, _) = far(&ModelSettings {
            input_residual: false,
            init_scale: 1.0,
            ..settings.clone()
        });
        assert!(
            rms > 0.5,
            "without the residual the map is not the identity: rms {rms}"
        );
    }
}
