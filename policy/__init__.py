"""llmfleet's CrossGuard policy pack (cost guards). `__main__.py` is the pack's entry point for the Pulumi CLI."""
