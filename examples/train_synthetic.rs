//! Train on synthetic Z -> ee-like events and print the curve.
//!
//! `cargo run --example train_synthetic -- [events] [profile] [out]`
//! (defaults: 15000, default, a temporary directory). Validation uses a
//! further 20% of events from independent seeds.

use otus::model::ModelSettings;
use otus::train::{self, EpochRecord, Observer, TrainData, TrainOptions, TrainSettings, synthetic};

struct Print;

impl Observer for Print {
    fn epoch(&mut self, r: &EpochRecord) {
        println!(
            "epoch {:3} stage {} loss {:10.2} recon {:9.2} latent {:9.2} val SW(x,D(z)) {:9.3} val SW(z,E(x)) {:9.3} {:6.2} s",
            r.epoch, r.stage, r.loss, r.recon, r.latent_sw, r.val_sw_x, r.val_sw_z, r.seconds
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(15_000);
    let profile = args.get(2).cloned().unwrap_or_else(|| "default".into());
    let tmp = tempfile::tempdir().expect("temporary directory");
    let out = args
        .get(3)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    let n_val = n / 5;
    let (z_train, _) = synthetic::zee(n, 1, 0.05, 1.0);
    let (_, x_train) = synthetic::zee(n, 2, 0.05, 1.0);
    let (z_val, _) = synthetic::zee(n_val, 3, 0.05, 1.0);
    let (_, x_val) = synthetic::zee(n_val, 4, 0.05, 1.0);
    let data = TrainData {
        z_train,
        x_train,
        z_val,
        x_val,
    };
    let mut settings = TrainSettings {
        profile,
        ..Default::default()
    };
    // Optional overrides of every stage, for tuning: OTUS_BATCH, OTUS_LR,
    // OTUS_SLICES, OTUS_EPOCHS (comma-separated, one per stage).
    let env = |k: &str| std::env::var(k).ok();
    let mut stages = settings.stages().expect("profile");
    for (i, s) in stages.iter_mut().enumerate() {
        if let Some(b) = env("OTUS_BATCH") {
            s.batch_size = b.parse().expect("OTUS_BATCH");
        }
        if let Some(l) = env("OTUS_LR") {
            s.learning_rate = l.parse().expect("OTUS_LR");
        }
        if let Some(l) = env("OTUS_SLICES") {
            s.slices = l.parse().expect("OTUS_SLICES");
        }
        if let Some(e) = env("OTUS_EPOCHS") {
            s.epochs = e
                .split(',')
                .nth(i)
                .expect("one count per stage")
                .parse()
                .expect("OTUS_EPOCHS");
        }
    }
    settings.profiles.insert(settings.profile.clone(), stages);
    let start = std::time::Instant::now();
    let outcome = train::train(
        &data,
        &ModelSettings::default(),
        &settings,
        &TrainOptions::new(&out),
        &mut Print,
    )
    .expect("training");
    println!(
        "initial val SW(x,D(z)) {:.3}, best {:.3} at epoch {:?}, total {:.1} s",
        outcome.initial_val_sw_x.unwrap_or(f64::NAN),
        outcome.best_val_sw_x.unwrap_or(f64::NAN),
        outcome.best_epoch,
        start.elapsed().as_secs_f64()
    );
}
