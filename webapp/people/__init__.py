"""The people kernel: accounts and roles, crowd identities, surveys and the crowd journey.

It imports no app (annotations, studies, ml) and nothing of the site part of webapp (settings are read through
django.conf), so every app may build on it."""
