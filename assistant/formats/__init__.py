"""Readers for article formats that need a parser of their own (Markdown, PDF)."""
