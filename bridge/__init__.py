"""torchlean-bridge: a Lean-to-Python conformance bridge for TorchLean."""

__version__ = "0.1.0"

# The runtime dtypes the checks cover, widest first (CLI choices, default cases, pytest plugin);
# here so that the pytest plugin can name them without importing numpy.
DTYPES: tuple[str, ...] = ("float64", "float32", "float16", "bfloat16")
