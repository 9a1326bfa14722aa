"""DFL-CNN's non-random filter-bank initialisation: k-means centres of high-energy patches.

For each class c the trunk runs on that class's images; at every conv4_3 position (a 92×92
patch at stride 8) the energy is the L2 norm of the 512-d feature. The highest-energy positions
of each image, kept apart by non-maximum suppression, give feature vectors that k-means groups
into k centres; the L2-normalised centres become filters c·k … c·k+k-1 of the bank, so each
filter starts as a detector of one recurring discriminative part of its class.

Public DFL-CNN code writes the result with `model.state_dict()[name] = centres`, which only
replaces an entry of a freshly built dict: the weights keep their random values. Here the
parameters themselves are written, in place, under `torch.no_grad()`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F

from engine.classification.dfl.torch_model import DFLVGG16

_CHUNK = 16  # images per trunk pass, to bound memory on large tensors
_NOISE = 0.01  # padding noise, as a share of the mean vector norm


class KMeansResult(NamedTuple):
    """Centres k×D, labels n (index of each vector's centre), inertia and Lloyd iterations."""

    centres: torch.Tensor
    labels: torch.Tensor
    inertia: float
    iterations: int


def _pad_with_noise(x: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """At least k rows: x repeated, the copies jittered so that k-means finds k centres."""
    n = x.shape[0]
    copies = x.repeat(-(-k // n), 1)
    scale = _NOISE * float(x.norm(dim=1).mean()) / x.shape[1] ** 0.5 or 1e-6
    noise = torch.randn(copies.shape, generator=generator, dtype=x.dtype) * scale
    noise[:n] = 0  # the original vectors stay as they were
    return copies + noise


def kmeans(
    x: torch.Tensor, k: int, *, seed: int = 0, iters: int = 100, tol: float = 1e-6
) -> KMeansResult:
    """Deterministic k-means of vectors n×D: scikit-learn's `KMeans` (k-means++ seeding from
    `seed`, one run of Lloyd), with centres and labels as tensors.

    With fewer than k vectors they are repeated with small noise, so k centres always come
    back. Runs on the CPU in float32 (small inputs: a few thousand vectors per class).
    """
    from sklearn.cluster import KMeans  # only the training start needs it, not inference

    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"kmeans needs a non-empty n×D tensor, got shape {tuple(x.shape)}")
    if k < 1:
        raise ValueError(f"k must be positive, got {k}")
    x = x.detach().to("cpu", torch.float32)
    if x.shape[0] < k:
        x = _pad_with_noise(x, k, torch.Generator().manual_seed(seed))
    fit = KMeans(n_clusters=k, n_init=1, max_iter=iters, tol=tol, random_state=seed)
    fit.fit(x.numpy())
    return KMeansResult(
        torch.from_numpy(fit.cluster_centers_).float(),
        torch.from_numpy(fit.labels_).long(),
        float(fit.inertia_),
        int(fit.n_iter_),
    )


def _batches(images: torch.Tensor | Iterable[torch.Tensor]) -> Iterator[torch.Tensor]:
    """N×3×S×S batches (a single 3×S×S image becomes 1×3×S×S), at most _CHUNK images each."""
    items = [images] if isinstance(images, torch.Tensor) else images
    for item in items:
        batch = item[None] if item.ndim == 3 else item
        if batch.ndim != 4:
            raise ValueError(f"images must be N×3×S×S or 3×S×S, got shape {tuple(batch.shape)}")
        yield from batch.split(_CHUNK)


def _peak_positions(energy: torch.Tensor, count: int, radius: int) -> tuple[torch.Tensor, ...]:
    """Greedy NMS on energy maps N×H×W: the `count` highest positions per map, each at least
    radius+1 positions (Chebyshev) from those picked before. Gives (image, row, col) indices.
    """
    n, h, w = energy.shape
    energy = energy.clone()
    device = energy.device
    rows = torch.arange(h, device=device)[None, :, None]
    cols = torch.arange(w, device=device)[None, None, :]
    picks = []
    for _ in range(count):
        best, flat = energy.view(n, -1).max(1)
        valid = best > float("-inf")  # a map with nothing left to pick
        r, c = flat // w, flat % w
        picks.append(torch.stack([torch.arange(n, device=device), r, c], 1)[valid])
        near = ((rows - r[:, None, None]).abs() <= radius) & (
            (cols - c[:, None, None]).abs() <= radius
        )
        energy[near] = float("-inf")
    found = torch.cat(picks)
    return found[:, 0], found[:, 1], found[:, 2]


@torch.no_grad()
def patch_features(
    model: DFLVGG16,
    images: torch.Tensor | Iterable[torch.Tensor],
    *,
    patches_per_image: int = 5,
    nms_radius: int = 3,
) -> torch.Tensor:
    """conv4_3 vectors V×512 (CPU, float32) at the highest-energy positions of each image.

    Call under eval mode: batch norm must use its running statistics.
    """
    ref = model.filter_bank.weight
    vectors = []
    for batch in _batches(images):
        features = model.trunk(batch.to(ref.device, ref.dtype)).float()  # N×512×h×w
        energy = features.norm(dim=1)  # N×h×w
        i, r, c = _peak_positions(energy, patches_per_image, nms_radius)
        vectors.append(features[i, :, r, c].cpu())  # V×512
    if not vectors:
        return torch.empty(0, model.filter_bank.in_channels)
    return torch.cat(vectors)


def init_filter_bank(
    model: DFLVGG16,
    images_by_class: Mapping[int, torch.Tensor | Iterable[torch.Tensor]],
    *,
    patches_per_image: int = 5,
    nms_radius: int = 3,
    seed: int = 0,
) -> dict[int, dict[str, Any]]:
    """Set the filter bank of each class given to the k-means centres of its patches.

    Args:
        model: the network; only `filter_bank` changes (weights in place, bias zero).
        images_by_class: class index -> its images, an N×3×S×S tensor or an iterable of such
            batches (or of single 3×S×S images), normalised as for training. Classes left out
            keep their filters.
        patches_per_image: high-energy conv4_3 positions taken per image.
        nms_radius: positions within this distance (rows and columns) of a picked one are
            suppressed: their 92×92 patches overlap it heavily.
        seed: k-means++ seed (class c uses seed + c).

    Returns:
        Per class: {"vectors": feature vectors clustered, "inertia": k-means inertia,
        "iterations": Lloyd iterations}.
    """
    if patches_per_image < 1 or nms_radius < 0:
        raise ValueError(
            f"need patches_per_image >= 1 and nms_radius >= 0, got "
            f"{patches_per_image} and {nms_radius}"
        )
    k, m = model.k, model.num_classes
    was_training = model.training
    model.eval()
    report: dict[int, dict[str, Any]] = {}
    try:
        for c, images in sorted(images_by_class.items()):
            if not 0 <= c < m:
                raise ValueError(f"class {c} outside 0..{m - 1}")
            vectors = patch_features(
                model, images, patches_per_image=patches_per_image, nms_radius=nms_radius
            )
            if len(vectors) == 0:
                raise ValueError(f"class {c}: no images to initialise its filters from")
            result = kmeans(vectors, k, seed=seed + c)
            centres = F.normalize(result.centres, dim=1)  # k×512, unit rows
            with torch.no_grad():  # write the parameters, not a state_dict() entry
                weight = model.filter_bank.weight  # kM×512×1×1
                weight[c * k : (c + 1) * k].copy_(centres.view(k, -1, 1, 1))
                model.filter_bank.bias[c * k : (c + 1) * k].zero_()
            report[c] = {
                "vectors": len(vectors),
                "inertia": result.inertia,
                "iterations": result.iterations,
            }
    finally:
        model.train(was_training)
    return report
