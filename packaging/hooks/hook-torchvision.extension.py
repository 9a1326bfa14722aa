"""torchvision loads its compiled operators (nms, roi_align: `_C_stable`) and image codecs from
files beside its package with torch.ops.load_library: collect them there. The contributed
torchvision hook still looks for `_C`, the name before torchvision 0.29; without this hook the
frozen app stops with "operator torchvision::nms does not exist"."""

from pathlib import Path

from PyInstaller.utils.hooks import get_package_paths

_, _package = get_package_paths("torchvision")
binaries = [
    (str(path), "torchvision")
    for pattern in ("*.so", "*.pyd", "*.dll", "*.dylib")
    for path in sorted(Path(_package).glob(pattern))
]
