"""Readers and clients for the data sources a user brings (registers, StatBank, noegletal.dk)."""
