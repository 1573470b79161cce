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

/// The draw index of each output row of [`simulate`] or [`unfold`] for
/// `rows` input events: `0..repeat` repeated `rows` times.
pub fn draw_index(rows: usize, repeat: usize) -> Vec<usize> {
    (0..rows).flat_map(|_| 0..repeat).collect()
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
    let d_in = input.dim();
    let d_out = map.spec().output.dim();
    let noise_dim = map.noise_dim();
    let total = input.rows() * repeat;
    let mut out = Vec::with_capacity(total * d_out);
    // Noise for output rows [c * DEFAULT_BATCH, (c + 1) * DEFAULT_BATCH) comes
    // from one stream per chunk c.
    let mut start = 0;
    while start < total {
        let chunk = start / DEFAULT_BATCH;
        let chunk_end = ((chunk + 1) * DEFAULT_BATCH).min(total);
        let mut r = rng::stream(seed, &[rng::tag::SIMULATE, which, chunk as u64]);
        let noise = rng::normals(&mut r, (chunk_end - start) * noise_dim);
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
        start = chunk_end;
    }
    out
}

/// The layout of the rows [`simulate`] returns for `model`.
pub fn simulated_layout(model: &SavedModel) -> Layout {
    model.model.decoder.spec().output.clone()
}
