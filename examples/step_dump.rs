//! One OTUS training step on fixed inputs, for the side-by-side benchmark
//! against PyTorch (`scripts/bench_train_step.py`).
//!
//! - `step_dump DIR M L`: draw the Z -> ee synthetic data (M events), the
//!   three noise tensors `[M, 6]` and L unit directions `[L, 8]`, build the
//!   model (seed 0, default settings) and write to DIR raw little-endian f32
//!   files (`x.f32`, `z.f32`, `n1.f32`, `n2.f32`, `n3.f32`, `dirs.f32`,
//!   `params.f32`) and `meta.json` (shapes, parameter paths in visit order,
//!   statistics, masses, and the loss of one forward pass).
//! - `step_dump DIR M L --time STEPS`: rebuild the same data and model,
//!   load the noise and directions from DIR, then run STEPS + 1 steps
//!   (forward, backward, Adam at lr 1e-3); prints one JSON line with the
//!   first two losses and the median time of the last STEPS steps.
//!
//! Loss: `MSE(x, D(E(x))) + SW(z, E(x)) + 50 A(x, E(x)) + 50 A(z, D(z))`
//! (lambda = 1, beta_E = beta_D = 50, anchor object e- at index 0).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use otus::model::{ModelSettings, Otus};
use otus::train::loss::SortMode;
use otus::train::{Sample, Standardization, loss, synthetic};

/// The allocator of the `otus` binary, so the step is timed as `otus train`
/// runs it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Collect {
    path: Vec<String>,
    params: Vec<(String, Vec<usize>, Vec<f32>)>,
}

impl ModuleVisitor for Collect {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        let shape = t.dims().to_vec();
        let data = t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
        self.params.push((self.path.join("."), shape, data));
    }
}

struct Inputs {
    x: Tensor<2>,
    z: Tensor<2>,
    noise: [Tensor<2>; 3],
    dirs: Tensor<2>,
}

fn tensor(v: Vec<f32>, rows: usize, cols: usize, device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(v, [rows, cols]), device)
}

fn f32s(s: &Sample) -> Vec<f32> {
    s.values().iter().map(|&v| v as f32).collect()
}

fn write_f32(path: &Path, v: &[f32]) {
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(path, bytes).unwrap();
}

fn read_f32(path: &Path) -> Vec<f32> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn data(m: usize) -> (Sample, Sample) {
    let (z, _) = synthetic::zee(m, 1, 0.05, 1.0);
    let (_, x) = synthetic::zee(m, 2, 0.05, 1.0);
    (z, x)
}

fn total_loss(model: &Otus, i: &Inputs) -> Tensor<1> {
    let [n1, n2, n3] = i.noise.clone();
    let z_tilde = model.encoder.forward(i.x.clone(), n1);
    let x_tilde = model.decoder.forward(z_tilde.clone(), n2);
    let x_prime = model.decoder.forward(i.z.clone(), n3);
    loss::mse(i.x.clone(), x_tilde)
        + loss::sliced_w2_with(i.z.clone(), z_tilde.clone(), i.dirs.clone(), sort_mode())
        + loss::anchor(i.x.clone(), 0, z_tilde, 0).mul_scalar(50.0)
        + loss::anchor(i.z.clone(), 0, x_prime, 0).mul_scalar(50.0)
}

/// The sort the trainer uses on flex, or the one named by `OTUS_SORT`
/// (`native` or `host`) to compare the two.
fn sort_mode() -> SortMode {
    match std::env::var("OTUS_SORT").as_deref() {
        Ok("native") => SortMode::Native,
        Ok("host") => SortMode::Host,
        _ => SortMode::for_device(&Device::flex()),
    }
}

fn scalar(t: Tensor<1>) -> f64 {
    f64::from(t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()[0])
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(&args[1]);
    let m: usize = args[2].parse().unwrap();
    let l: usize = args[3].parse().unwrap();
    let steps: Option<usize> =
        (args.get(4).map(String::as_str) == Some("--time")).then(|| args[5].parse().unwrap());
    let device = Device::flex().autodiff();
    let (z, x) = data(m);
    let (zs, xs) = (Standardization::of(&z), Standardization::of(&x));
    let model = Otus::new(&ModelSettings::default(), &zs, &xs, 0, &device).unwrap();
    let k = model.encoder.noise_dim();
    match steps {
        None => dump(&dir, m, l, k, &model, &z, &x, &device),
        Some(steps) => time(&dir, m, l, k, model, &z, &x, steps, &device),
    }
}

#[allow(clippy::too_many_arguments)]
fn dump(
    dir: &Path,
    m: usize,
    l: usize,
    k: usize,
    model: &Otus,
    z: &Sample,
    x: &Sample,
    device: &Device,
) {
    use burn::tensor::Distribution;
    std::fs::create_dir_all(dir).unwrap();
    let host = Device::flex();
    let normal = |shape: [usize; 2]| {
        Tensor::<2>::random(shape, Distribution::Normal(0.0, 1.0), &host)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
    };
    let noise = [normal([m, k]), normal([m, k]), normal([m, k])];
    let dirs = Tensor::<2>::random([l, 8], Distribution::Normal(0.0, 1.0), &host);
    let dirs = (dirs.clone() / dirs.square().sum_dim(1).sqrt())
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    write_f32(&dir.join("x.f32"), &f32s(x));
    write_f32(&dir.join("z.f32"), &f32s(z));
    for (i, n) in noise.iter().enumerate() {
        write_f32(&dir.join(format!("n{}.f32", i + 1)), n);
    }
    write_f32(&dir.join("dirs.f32"), &dirs);
    let mut c = Collect {
        path: Vec::new(),
        params: Vec::new(),
    };
    model.visit(&mut c);
    let flat: Vec<f32> = c.params.iter().flat_map(|p| p.2.clone()).collect();
    write_f32(&dir.join("params.f32"), &flat);
    let inputs = Inputs {
        x: tensor(f32s(x), m, 8, device),
        z: tensor(f32s(z), m, 8, device),
        noise: noise.map(|n| tensor(n, m, k, device)),
        dirs: tensor(dirs, l, 8, device),
    };
    let value = scalar(total_loss(model, &inputs));
    let spec = |s: &otus::model::MapSpec| {
        serde_json::json!({
            "input_mean": s.input_mean, "input_std": s.input_std,
            "output_mean": s.output_mean, "output_std": s.output_std,
            "output_masses": s.output_masses,
        })
    };
    let meta = serde_json::json!({
        "m": m, "l": l, "noise_dim": k,
        "params": c.params.iter().map(|p| serde_json::json!({"path": p.0, "shape": p.1})).collect::<Vec<_>>(),
        "encoder": spec(model.encoder.spec()),
        "decoder": spec(model.decoder.spec()),
        "loss": value,
    });
    std::fs::write(
        dir.join("meta.json"),
        serde_json::to_string_pretty(&meta).unwrap(),
    )
    .unwrap();
    println!("wrote {} (loss {value})", dir.display());
}

#[allow(clippy::too_many_arguments)]
fn time(
    dir: &Path,
    m: usize,
    l: usize,
    k: usize,
    mut model: Otus,
    z: &Sample,
    x: &Sample,
    steps: usize,
    device: &Device,
) {
    let load = |name: &str, rows: usize, cols: usize| {
        tensor(read_f32(&dir.join(name)), rows, cols, device)
    };
    let inputs = Inputs {
        x: tensor(f32s(x), m, 8, device),
        z: tensor(f32s(z), m, 8, device),
        noise: [
            load("n1.f32", m, k),
            load("n2.f32", m, k),
            load("n3.f32", m, k),
        ],
        dirs: load("dirs.f32", l, 8),
    };
    let mut optim = AdamConfig::new().with_epsilon(1e-8).init();
    let mut times = Vec::new();
    let mut losses = Vec::new();
    for i in 0..steps + 1 {
        let start = Instant::now();
        let total = total_loss(&model, &inputs);
        let grads = GradientsParams::from_grads(total.backward(), &model);
        model = optim.step(1e-3, model, grads);
        let value = scalar(total);
        if i > 0 {
            times.push(start.elapsed().as_secs_f64());
        }
        losses.push(value);
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let line = serde_json::json!({
        "losses": losses, "times": times, "median": sorted[sorted.len() / 2],
    });
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").unwrap();
}
