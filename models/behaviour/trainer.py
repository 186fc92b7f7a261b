"""Train one learned behaviour classifier with torch and export it to ONNX (export env only).

Not imported by CareWatch: `carewatch train` (api/training) collects the training windows with
the detectors' own code, writes them to an .npz and runs this file with the export
environment's python, which has torch (models/acquire.py). Usage::

    python trainer.py --data windows.npz --out fight.onnx --seed 0

The .npz holds `windows` `(n, steps, features + 1)` (the last channel is `present`), `bag`
`(n,)` the clip each window came from, `bag_label` `(bags,)` 1 for a clip with the behaviour,
and `bag_weight` `(bags,)`. A clip says only *whether* it holds the behaviour, not which of its
windows do (a fight clip also has bystanders), so training is multiple-instance: a clip's score
is a soft maximum over its windows, and only that is asked to match the clip's label; every
window of a clip without the behaviour must score low on its own too.

The network is a small 1-D temporal CNN: the features standardised with the training set's
statistics (stored in the graph), two 3-step convolutions, a maximum and a mean over the steps
where the subject was present, one linear layer and a sigmoid. About 3,000 weights: a few
microseconds per window. Seeds, threads and algorithms are fixed, so the same data gives the
same model. Prints one JSON line with the training figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

SOFTMAX_SHARPNESS = 5.0
"""A clip's score is log-sum-exp(5 x window logits) / 5: close to the maximum, but every
window near the top gets some gradient."""


class TemporalCNN(nn.Module):  # type: ignore[misc]  # torch is untyped here
    def __init__(self, channels: int, mean: np.ndarray, std: np.ndarray, hidden: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32))
        self.conv1 = nn.Conv1d(channels, hidden, 3, padding=1)
        self.conv2 = nn.Conv1d(hidden, hidden, 3, padding=1)
        self.head = nn.Linear(2 * hidden, 1)
        self.drop = nn.Dropout(0.2)

    def logits(self, x: torch.Tensor, noise: float = 0.0) -> torch.Tensor:
        present = x[..., -1:]
        feats = (x[..., :-1] - self.mean) / self.std
        if noise > 0 and self.training:
            feats = feats + noise * torch.randn_like(feats)
        feats = feats * present
        z = torch.cat([feats, present], dim=-1).transpose(1, 2)
        h = torch.relu(self.conv1(z))
        h = torch.relu(self.conv2(self.drop(h)))
        m = present.transpose(1, 2)
        top = (h * m + (m - 1.0) * 1e4).amax(dim=-1)
        avg = (h * m).sum(dim=-1) / m.sum(dim=-1).clamp(min=1.0)
        return self.head(self.drop(torch.cat([top, avg], dim=-1))).squeeze(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(x))


def bag_logits(logits: torch.Tensor, bag: torch.Tensor, bags: int) -> torch.Tensor:
    """Soft maximum of the window logits per bag (bags without windows: -30)."""
    r = SOFTMAX_SHARPNESS
    top = torch.full((bags,), -30.0).scatter_reduce(
        0, bag, logits.detach(), reduce="amax", include_self=False
    )
    weights = torch.exp(r * (logits - top[bag]))
    summed = torch.zeros(bags, dtype=logits.dtype).index_add(0, bag, weights)
    return torch.log(summed.clamp(min=1e-30)) / r + top


def train(
    windows: np.ndarray,
    bag: np.ndarray,
    bag_label: np.ndarray,
    bag_weight: np.ndarray,
    *,
    seed: int,
    epochs: int,
    hidden: int,
    noise: float = 1.0,
) -> tuple[TemporalCNN, dict[str, float]]:
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    channels = windows.shape[-1]
    present = windows[..., -1] > 0
    feats = windows[..., :-1][present]
    mean = feats.mean(axis=0) if len(feats) else np.zeros(channels - 1)
    std = feats.std(axis=0) + 1e-3 if len(feats) else np.ones(channels - 1)
    net = TemporalCNN(channels, mean.astype(np.float32), std.astype(np.float32), hidden)
    x = torch.tensor(windows, dtype=torch.float32)
    b = torch.tensor(bag, dtype=torch.long)
    y = torch.tensor(bag_label, dtype=torch.float32)
    # A clip in which the detector judged nobody has nothing to learn from.
    seen = np.bincount(bag, minlength=len(bag_label)) > 0
    w = torch.tensor(np.where(seen, bag_weight, 0.0), dtype=torch.float32)
    negative_window = (y[b] == 0).float()
    pos = float((y * w).sum())
    neg = float(((1 - y) * w).sum())
    balance = torch.where(y > 0, neg / max(pos, 1e-6), torch.ones_like(y))
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-3)
    loss_fn = nn.BCEWithLogitsLoss(reduction="none")
    started = time.perf_counter()
    net.train()
    last = 0.0
    for _ in range(epochs):
        opt.zero_grad()
        logits = net.logits(x, noise)
        per_bag = loss_fn(bag_logits(logits, b, len(y)), y) * w * balance
        per_window = loss_fn(logits, torch.zeros_like(logits)) * negative_window * w[b]
        loss = per_bag.sum() / (w * balance).sum() + 0.5 * per_window.sum() / max(
            float((negative_window * w[b]).sum()), 1.0
        )
        loss.backward()
        opt.step()
        last = float(loss.detach())
    net.eval()
    with torch.no_grad():
        scores = torch.sigmoid(bag_logits(net.logits(x), b, len(y))).numpy()
    labels = bag_label[seen] > 0
    scores = scores[seen]
    return net, {
        "final_loss": round(last, 4),
        "train_seconds": round(time.perf_counter() - started, 2),
        "train_bag_accuracy": round(float(np.mean((scores >= 0.5) == labels)), 4),
        "weights": int(sum(p.numel() for p in net.parameters())),
    }


def export(net: TemporalCNN, steps: int, channels: int, out: Path) -> None:
    dummy = torch.zeros(1, steps, channels)
    # The TorchScript exporter: the graph is a few convolutions, and it needs no onnxscript.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    torch.onnx.export(
        net,
        (dummy,),
        str(out),
        input_names=["windows"],
        output_names=["score"],
        dynamic_axes={"windows": {0: "n"}, "score": {0: "n"}},
        opset_version=17,
        dynamo=False,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--hidden", type=int, default=24)
    parser.add_argument(
        "--noise", type=float, default=1.0, help="feature noise in training (standard deviations)"
    )
    args = parser.parse_args(argv)
    data = np.load(args.data)
    windows = data["windows"].astype(np.float32)
    if windows.ndim != 3 or len(windows) == 0:
        sys.stderr.write(f"no training windows in {args.data}\n")
        return 2
    net, figures = train(
        windows,
        data["bag"],
        data["bag_label"],
        data["bag_weight"],
        seed=args.seed,
        epochs=args.epochs,
        hidden=args.hidden,
        noise=args.noise,
    )
    export(net, windows.shape[1], windows.shape[2], args.out)
    sys.stdout.write(json.dumps({**figures, "torch": torch.__version__}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
