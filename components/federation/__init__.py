"""The global layer of a federation stack (docs/federation.md): routing table, hub Gateway objects, DNS."""
