"""Per-stack composition: a validated StackSpec in, the stack's components out."""
