"""The trusted vocabulary: Python values and primitives for TorchLean's base types.

`domains` (scalar domains), `registry` (which Lean names are hand-written, and why),
`prims` (their implementations), `runtime` (support for generated code),
`strategies` (hypothesis generators for generated tests).
"""
