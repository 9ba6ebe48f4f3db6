"""Data sets shaped for the detectors, and the evaluation protocols' splits.

Nothing here downloads: the 8x8 digits ship with scikit-learn, and every other
loader reads files from a path the user gives (MNIST-style IDX files, folders
of images with one sub-folder per class, and the ``train/good``,
``test/<defect>`` layout of industrial data sets such as MVTec AD).

The protocol helpers build the two splits of the seed papers (GANomaly,
Skip-GANomaly) from any labelled train/test pair; their labels are 1 for an
anomaly and 0 for a normal sample. Leave-one-class-out takes its anomalies
from the test split only by default, unlike the papers (see
:func:`leave_one_class_out`).

The modules: ``_digits`` (the 8x8 digits), ``_optdigits`` (other digit images
made like them), ``_idx`` (MNIST-style IDX files), ``_folders`` (image folders
and their layouts), ``_protocols`` (the splits and their subsampling) and
``_synthetic`` (synthetic defects with masks on normal images, and the
development split they give a domain without labelled anomalies).
"""

from ._digits import digits_leave_one_out, load_digits_images
from ._folders import (
    IMAGE_EXTENSIONS,
    ImageFiles,
    class_folders,
    find_images,
    list_images,
    load_image_folder,
    load_industrial_folder,
    read_images,
)
from ._idx import load_idx, load_mnist
from ._optdigits import to_optdigits
from ._protocols import AnomalySplit, development_split, leave_one_class_out, one_class, subsample_indices
from ._synthetic import perlin_noise, synthetic_defect_split, synthetic_defects

__all__ = [
    "IMAGE_EXTENSIONS",
    "AnomalySplit",
    "ImageFiles",
    "class_folders",
    "development_split",
    "digits_leave_one_out",
    "find_images",
    "leave_one_class_out",
    "list_images",
    "load_digits_images",
    "load_idx",
    "load_image_folder",
    "load_industrial_folder",
    "load_mnist",
    "one_class",
    "perlin_noise",
    "read_images",
    "subsample_indices",
    "synthetic_defect_split",
    "synthetic_defects",
    "to_optdigits",
]
