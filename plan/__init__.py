"""The offline plan: run a stack's real program under Pulumi's mock runtime and record what it would create."""
