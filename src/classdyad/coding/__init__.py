"""Coding schemes (versioned codebooks), event streams, coder pairing and event matching."""
