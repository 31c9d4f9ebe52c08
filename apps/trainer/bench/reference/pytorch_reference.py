"""Train the seed CNN and the VGG-style CNN in PyTorch on the CPU, one thread by default.

The figures give a machine-relative yardstick for `npm run bench:train`: the same layers, batch
sizes and optimizer as the trainer's models, so that a ratio of the two can be compared across
machines of different speed. Run it through `npm run bench:reference`, which finds a Python with
PyTorch (Debian: `apt-get install python3-torch`, PyTorch 1.13).

Prints one JSON object per line on stdout, as `bench:train --json` does, and progress on stderr.
"""

import argparse
import gzip
import json
import os
import sys
import time


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="seed-cnn,vgg-bn", help="comma-separated models")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per figure; the best counts")
    parser.add_argument("--threads", type=int, default=1, help="PyTorch and BLAS threads")
    return parser.parse_args()


ARGUMENTS = parse_arguments() if __name__ == "__main__" else None
if ARGUMENTS is not None:
    # OpenBLAS and OpenMP size their thread pools when torch loads, so the limit must come first.
    os.environ["OPENBLAS_NUM_THREADS"] = str(ARGUMENTS.threads)
    os.environ["OMP_NUM_THREADS"] = str(ARGUMENTS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

TRAIN_BATCH = 128
INFERENCE_BATCH = 512
TIMED_BATCHES = {"seed-cnn": {"train": 40, "inference": 20}, "vgg-bn": {"train": 6, "inference": 6}}


def build_seed_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 13 * 13, 128),
        nn.ReLU(),
        nn.Linear(128, 10),
    )


def build_vgg_bn(dropout: float = 0.25) -> nn.Module:
    def conv_bn_relu(in_channels: int, out_channels: int) -> list:
        return [
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels, eps=1e-3, momentum=0.01),
            nn.ReLU(),
        ]

    return nn.Sequential(
        *conv_bn_relu(1, 32),
        *conv_bn_relu(32, 32),
        nn.MaxPool2d(2),
        nn.Dropout(dropout),
        *conv_bn_relu(32, 64),
        *conv_bn_relu(64, 64),
        nn.MaxPool2d(2),
        nn.Dropout(dropout),
        nn.Flatten(),
        nn.Linear(64 * 7 * 7, 128, bias=False),
        nn.BatchNorm1d(128, eps=1e-3, momentum=0.01),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(128, 10),
    )


MODELS = {"seed-cnn": build_seed_cnn, "vgg-bn": build_vgg_bn}


def read_idx(path: str) -> np.ndarray:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as stream:
        data = stream.read()
    dimensions = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dimensions)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dimensions).reshape(shape)


def load_images(count: int) -> tuple[torch.Tensor, torch.Tensor, str]:
    """Return `count` MNIST training images scaled to [0, 1], or random ones without MNIST_DIR."""
    folder = os.environ.get("MNIST_DIR")
    if not folder:
        generator = torch.Generator().manual_seed(1)
        images = torch.rand(count, 1, 28, 28, generator=generator)
        labels = torch.randint(0, 10, (count,), generator=generator)
        return images, labels, "random"
    images = read_idx(os.path.join(folder, "train-images-idx3-ubyte.gz"))[:count]
    labels = read_idx(os.path.join(folder, "train-labels-idx1-ubyte.gz"))[:count]
    tensor = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    return tensor, torch.from_numpy(labels.astype(np.int64)), "mnist"


def measure_train(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batches: int) -> float:
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_function = nn.CrossEntropyLoss()
    model.train()

    def step(index: int) -> None:
        start = (index * TRAIN_BATCH) % (images.shape[0] - TRAIN_BATCH)
        x = images[start : start + TRAIN_BATCH]
        y = labels[start : start + TRAIN_BATCH]
        optimizer.zero_grad()
        loss_function(model(x), y).backward()
        optimizer.step()

    step(0)  # warm-up: allocates Adam's moments and the autograd buffers
    began = time.perf_counter()
    for index in range(1, batches + 1):
        step(index)
    return batches * TRAIN_BATCH / (time.perf_counter() - began)


def measure_inference(model: nn.Module, images: torch.Tensor, batches: int) -> float:
    model.eval()
    with torch.no_grad():
        model(images[:INFERENCE_BATCH])
        began = time.perf_counter()
        for index in range(batches):
            start = (index * INFERENCE_BATCH) % (images.shape[0] - INFERENCE_BATCH)
            model(images[start : start + INFERENCE_BATCH])
        return batches * INFERENCE_BATCH / (time.perf_counter() - began)


def loaded_blas() -> str:
    """Name the BLAS library this process loaded, which PyTorch's build info reports as "generic"."""
    try:
        with open("/proc/self/maps") as maps:
            libraries = maps.read()
    except OSError:
        return "unknown"
    for name in ("openblas", "mkl", "blis"):
        if name in libraries:
            return name
    return "reference BLAS" if "libblas" in libraries else "unknown"


def main(arguments: argparse.Namespace) -> None:
    names = arguments.models.split(",")
    unknown = [name for name in names if name not in MODELS]
    if unknown:
        sys.exit(f"Unknown model {', '.join(unknown)}: use one of {', '.join(MODELS)}.")

    torch.set_num_threads(arguments.threads)
    torch.manual_seed(1)
    images, labels, source = load_images(10_000)
    blas = loaded_blas()
    if blas == "reference BLAS":
        print(
            "Warning: PyTorch runs on the reference BLAS, several times slower than OpenBLAS, so "
            "these figures understate it. On Debian: apt-get install libopenblas0-pthread.",
            file=sys.stderr,
        )
    print(
        f"PyTorch {torch.__version__} with BLAS {blas}, {torch.get_num_threads()} thread(s), "
        f"{source} data",
        file=sys.stderr,
    )

    for name in names:
        for workload in ("train", "inference"):
            batches = TIMED_BATCHES[name][workload]
            rates = []
            for _ in range(arguments.rounds):
                model = MODELS[name]()
                if workload == "train":
                    rates.append(measure_train(model, images, labels, batches))
                else:
                    rates.append(measure_inference(model, images, batches))
            record = {
                "workload": workload,
                "model": name,
                "backend": "pytorch-cpu",
                "processes": 1,
                "threads": torch.get_num_threads(),
                "samplesPerSec": max(rates),
                "loadAverage": os.getloadavg()[0],
                "data": source,
                "torchVersion": torch.__version__,
                "blas": blas,
            }
            print(json.dumps(record), flush=True)
            print(f"{workload} {name}: {max(rates):,.0f} samples/s", file=sys.stderr)


if ARGUMENTS is not None:
    main(ARGUMENTS)
