"""Everything that talks to Discord: the only package that imports discord.py."""
