"""Plain-Python model core of Resonance: generation, scoring, pair similarity.

Nothing in this package imports Django or Celery; tasks call into it with paths and
plain data, and it hands back plain data.
"""
