"""Adapters between the LSP wire types and the domain code; the server wiring lives in ../server.py."""
