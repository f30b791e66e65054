"""torchlean-bridge: a Lean-to-Python conformance bridge for TorchLean."""

__version__ = "0.1.0"
