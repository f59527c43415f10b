"""Reusable ComponentResources. Each takes validated spec objects and creates only Pulumi resources."""
