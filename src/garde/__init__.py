"""Garde keeps a hospital running through a cyberattack and helps it meet every obligation afterwards."""

__version__ = "0.1.0"
