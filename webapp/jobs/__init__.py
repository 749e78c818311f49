"""The job system: the Job row, its queues, progress, heartbeat, cancel, retry and the stale-job sweep.

It knows no domain. Each app registers the kinds of job it owns (``webapp.jobs.registry``) from its
AppConfig.ready(), with the runner that does the work; arrows point from the apps to this package,
never back.

A job's target is a ``GenericForeignKey`` (``target_type``, ``target_id``) rather than one foreign key
per domain model, because this package may not name the models of the apps above it. An app whose
rows are job targets adds a ``GenericRelation`` to its model, so that deleting the target still
deletes its jobs, and registers the target (``target_register``) so that the job pages know who may
see a job on it. Fields that only one family of kinds needs (a model version, a study system) live on
that app's side, in a row of its own (``ml.ModelJob``), never here.
"""
