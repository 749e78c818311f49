"""Demo texts and specs for `manage.py demo`, written for Resonance (see README.md in this folder)."""
