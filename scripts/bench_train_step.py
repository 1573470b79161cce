#!/usr/bin/env python3
"""Side-by-side benchmark of one OTUS training step: otus (burn, flex CPU)
against a PyTorch CPU reference of the same step.

For each size (batch M, L directions) the script

1. runs `step_dump DIR M L` (examples/step_dump.rs), which writes the
   synthetic Z -> ee data, the three noise tensors, the unit directions, the
   initial encoder/decoder weights and the loss of one forward pass;
2. builds the same step in PyTorch from those files (same weights, same
   inputs) and checks that its loss equals otus's to 1e-4 relative, and that
   the loss after one Adam step agrees too;
3. times forward + backward + Adam (lr 1e-3, eps 1e-8) alternately in two
   fresh processes, otus (`step_dump DIR M L --time STEPS`) and PyTorch
   (this script with `--torch-worker`), each under `/usr/bin/time -f %M`
   for its peak resident memory; REPS repetitions, each the median of
   STEPS steps after one warm-up step.

Loss: MSE(x, D(E(x))) + SW(z, E(x)) + 50 A(x, E(x)) + 50 A(z, D(z)).

Usage:
  cargo build --example step_dump
  python scripts/bench_train_step.py --binary target/debug/examples/step_dump
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np


def load(dir_):
    with open(os.path.join(dir_, "meta.json")) as f:
        meta = json.load(f)
    m, l, k = meta["m"], meta["l"], meta["noise_dim"]

    def raw(name, shape):
        return np.fromfile(os.path.join(dir_, name), dtype="<f4").reshape(shape)

    arrays = {
        "x": raw("x.f32", (m, 8)),
        "z": raw("z.f32", (m, 8)),
        "n1": raw("n1.f32", (m, k)),
        "n2": raw("n2.f32", (m, k)),
        "n3": raw("n3.f32", (m, k)),
        "dirs": raw("dirs.f32", (l, 8)),
    }
    flat = np.fromfile(os.path.join(dir_, "params.f32"), dtype="<f4")
    params, at = {}, 0
    for p in meta["params"]:
        n = int(np.prod(p["shape"]))
        params[p["path"]] = flat[at : at + n].reshape(p["shape"])
        at += n
    assert at == flat.size
    return meta, arrays, params


def torch_step_setup(dir_):
    import torch

    meta, arrays, params = load(dir_)
    t = {k: torch.from_numpy(v.copy()) for k, v in arrays.items()}
    # burn's Linear weight is [in, out]: y = x W + b, kept as is.
    w = {k: torch.from_numpy(v.copy()).requires_grad_() for k, v in params.items()}
    k = meta["noise_dim"]

    def f32(v):
        return torch.tensor(np.asarray(v, dtype=np.float32))

    def three(v):
        return f32([c for i, c in enumerate(v) if i % 4 != 3])

    specs = {}
    for name in ("encoder", "decoder"):
        s = meta[name]
        masses = np.asarray(s["output_masses"], dtype=np.float64)
        m2 = (masses * masses).astype(np.float32) + np.float32(1e-12)
        specs[name] = dict(
            mean_in=f32(s["input_mean"]),
            std_in=f32(s["input_std"]),
            mean_out=three(s["output_mean"]),
            std_out=three(s["output_std"]),
            m2=torch.from_numpy(m2),
        )

    def mlp(prefix, h):
        i = 0
        while f"{prefix}.layers.{i}.weight" in w:
            if i > 0:
                h = torch.relu(h)
            h = h @ w[f"{prefix}.layers.{i}.weight"] + w[f"{prefix}.layers.{i}.bias"]
            i += 1
        return h

    def forward(name, u, normal):
        s = specs[name]
        us = (u - s["mean_in"]) / s["std_in"]
        h = mlp(f"{name}.noise_net", us)
        eps = h[:, :k] + torch.nn.functional.softplus(h[:, k:]) * normal
        y = mlp(f"{name}.core.Mlp", torch.cat([us, eps], 1))
        p = y * s["std_out"] + s["mean_out"]
        n = p.shape[0]
        p3 = p.reshape(n, -1, 3)
        e = ((p3 * p3).sum(2, keepdim=True) + s["m2"].reshape(1, -1, 1)).sqrt()
        return torch.cat([p3, e], 2).reshape(n, -1)

    def sliced_w2(a, b, dirs):
        pa = torch.sort(dirs @ a.T, dim=1).values
        pb = torch.sort(dirs @ b.T, dim=1).values
        return ((pa - pb) ** 2).mean(1).mean()

    def anchor(a, b):
        p, q = a[:, 0:3], b[:, 0:3]
        dot = (p * q).sum(1)
        norms = ((p * p).sum(1) * (q * q).sum(1) + 1e-12).sqrt()
        return (1.0 - dot / norms).mean()

    def loss():
        x, z = t["x"], t["z"]
        z_tilde = forward("encoder", x, t["n1"])
        x_tilde = forward("decoder", z_tilde, t["n2"])
        x_prime = forward("decoder", z, t["n3"])
        return (
            ((x - x_tilde) ** 2).mean()
            + sliced_w2(z, z_tilde, t["dirs"])
            + 50.0 * anchor(x, z_tilde)
            + 50.0 * anchor(z, x_prime)
        )

    optim = torch.optim.Adam(list(w.values()), lr=1e-3, eps=1e-8)

    def step():
        optim.zero_grad(set_to_none=True)
        total = loss()
        total.backward()
        optim.step()
        return float(total.item())

    return meta, step


def torch_worker(dir_, steps):
    import torch

    _, step = torch_step_setup(dir_)
    losses, times = [], []
    for i in range(steps + 1):
        start = time.perf_counter()
        losses.append(step())
        if i > 0:
            times.append(time.perf_counter() - start)
    print(
        json.dumps(
            {
                "losses": losses,
                "times": times,
                "median": statistics.median(times),
                "threads": torch.get_num_threads(),
                "torch": torch.__version__,
            }
        )
    )


def timed(cmd):
    """Run under /usr/bin/time; returns (JSON of the last stdout line, peak RSS in MiB)."""
    r = subprocess.run(
        ["/usr/bin/time", "-f", "MAXRSS %M"] + cmd, capture_output=True, text=True, check=True
    )
    rss = [ln for ln in r.stderr.splitlines() if ln.startswith("MAXRSS ")][-1]
    return json.loads(r.stdout.strip().splitlines()[-1]), int(rss.split()[1]) / 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default="target/debug/examples/step_dump")
    ap.add_argument("--sizes", default="512:128,20000:1000", help="M:L pairs")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--steps", default="20,3", help="timed steps per process, one per size")
    ap.add_argument("--torch-worker", nargs=2, metavar=("DIR", "STEPS"))
    a = ap.parse_args()
    if a.torch_worker:
        torch_worker(a.torch_worker[0], int(a.torch_worker[1]))
        return
    rows = []
    steps_list = [int(v) for v in a.steps.split(",")]
    for size, steps in zip(a.sizes.split(","), steps_list, strict=True):
        m, l = (int(v) for v in size.split(":"))
        with tempfile.TemporaryDirectory() as d:
            subprocess.run([a.binary, d, str(m), str(l)], check=True, capture_output=True)
            meta, step = torch_step_setup(d)
            ref0, ref1 = step(), step()
            ours_loss = meta["loss"]
            rel = abs(ref0 - ours_loss) / abs(ref0)
            print(f"M={m} L={l}: loss otus {ours_loss:.8g}, torch {ref0:.8g}, rel diff {rel:.2e}")
            assert rel < 1e-4, "losses differ by more than 1e-4 relative"
            ours_t, torch_t, ours_mem, torch_mem = [], [], [], []
            info = {}
            for rep in range(a.reps):
                runs = [
                    ("ours", [a.binary, d, str(m), str(l), "--time", str(steps)]),
                    ("torch", [sys.executable, __file__, "--torch-worker", d, str(steps)]),
                ]
                if rep % 2:
                    runs.reverse()
                for who, cmd in runs:
                    out, rss = timed(cmd)
                    info[who] = out
                    if who == "ours":
                        ours_t.append(out["median"])
                        ours_mem.append(rss)
                    else:
                        torch_t.append(out["median"])
                        torch_mem.append(rss)
            o1, t1 = info["ours"]["losses"][1], info["torch"]["losses"][1]
            print(
                f"  loss after one Adam step: otus {o1:.8g}, torch {t1:.8g} "
                f"(rel {abs(o1 - t1) / abs(t1):.2e}); torch threads {info['torch']['threads']}, "
                f"torch {info['torch']['torch']}"
            )
            mo, mt = statistics.median(ours_t), statistics.median(torch_t)
            rows.append((m, l, mo, mt, mo / mt, max(ours_mem), max(torch_mem), ours_loss, ref0))
            print(f"  otus step medians {['%.4f' % v for v in ours_t]}")
            print(f"  torch step medians {['%.4f' % v for v in torch_t]}")
    base = subprocess.run(
        ["/usr/bin/time", "-f", "MAXRSS %M", sys.executable, "-c", "import torch, numpy"],
        capture_output=True, text=True, check=True,
    ).stderr.split()[-1]
    print(f"\nbaseline peak RSS of `import torch, numpy` alone: {int(base) / 1024:.0f} MiB")
    print()
    print("| M | L | otus s/step | torch s/step | otus/torch | otus peak MiB | torch peak MiB | loss otus | loss torch |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %d | %d | %.4f | %.4f | %.2f | %.0f | %.0f | %.8g | %.8g |" % r)


if __name__ == "__main__":
    main()
