"""Translation of resolved Lean terms to Python source (see docs/ARCHITECTURE.md §3)."""
