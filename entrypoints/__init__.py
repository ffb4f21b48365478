"""Entry points above every layer: what runs the whole project end to end (``naviyam demo``).

Nothing imports from here except the root CLI (``infra/cli.py``), by name, the way it mounts
each component's own commands; modules here may import any layer.
"""
