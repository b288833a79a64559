"""Cablebot: the side-effecting half (store, mirror, Discord, terminal)."""
