//! Time one OTUS training step (forward, backward, Adam) at the paper's
//! size (batch 20,000, L = 1000) and at the default profile's size (batch
//! 2048, L = 128), on the Z -> ee model (8 columns per space).
//!
//! Run with `cargo bench --bench train_step`; prints the median of several
//! steps. Set `OTUS_BENCH_STEPS` to change the number of timed steps.

use std::time::Instant;

use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use otus::model::{ModelSettings, Otus};
use otus::train::{Standardization, loss, synthetic};

fn main() {
    let steps: usize = std::env::var("OTUS_BENCH_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let device = otus::train::select_device();
    for (batch, slices) in [(2048, 128), (20_000, 1000)] {
        let median = time_step(&device, batch, slices, steps);
        println!("train step, batch {batch}, L {slices}: median {median:.3} s over {steps} steps");
    }
}

fn time_step(device: &Device, m: usize, l: usize, steps: usize) -> f64 {
    let ad = device.clone().autodiff();
    let (z, _) = synthetic::zee(m, 1, 0.05, 1.0);
    let (_, x) = synthetic::zee(m, 2, 0.05, 1.0);
    let zs = Standardization::of(&z);
    let xs = Standardization::of(&x);
    let mut model = Otus::new(&ModelSettings::default(), &zs, &xs, 0, &ad).unwrap();
    let mut optim = AdamConfig::new().with_epsilon(1e-8).init();
    let tensor = |s: &otus::train::Sample| {
        let v: Vec<f32> = s.values().iter().map(|&v| v as f32).collect();
        Tensor::<2>::from_data(TensorData::new(v, [m, 8]), &ad)
    };
    let (xt, zt) = (tensor(&x), tensor(&z));
    let mut times = Vec::new();
    for i in 0..steps + 1 {
        let start = Instant::now();
        let n1 = Tensor::<2>::random([m, 6], Distribution::Normal(0.0, 1.0), &ad);
        let n2 = Tensor::<2>::random([m, 6], Distribution::Normal(0.0, 1.0), &ad);
        let n3 = Tensor::<2>::random([m, 6], Distribution::Normal(0.0, 1.0), &ad);
        let dirs = Tensor::<2>::random([l, 8], Distribution::Normal(0.0, 1.0), &ad);
        let dirs = dirs.clone() / dirs.square().sum_dim(1).sqrt();
        let z_tilde = model.encoder.forward(xt.clone(), n1);
        let x_tilde = model.decoder.forward(z_tilde.clone(), n2);
        let x_prime = model.decoder.forward(zt.clone(), n3);
        let total = loss::mse(xt.clone(), x_tilde)
            + loss::sliced_w2(zt.clone(), z_tilde.clone(), dirs)
            + loss::anchor(xt.clone(), 0, z_tilde, 0).mul_scalar(50.0)
            + loss::anchor(zt.clone(), 0, x_prime, 0).mul_scalar(50.0);
        let grads = GradientsParams::from_grads(total.backward(), &model);
        model = optim.step(1e-3, model, grads);
        let _ = total.into_data();
        if i > 0 {
            times.push(start.elapsed().as_secs_f64());
        }
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}
