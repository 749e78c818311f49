"""Blinded A/B preference studies: studies, systems, prompts, responses, pairs, participants, judgments.

Blinding lives in the data model as much as in the views: a participant only ever holds
``Participant.token`` and ``Assignment.token`` (random, per participant, never a row id), and the
side a system was shown on is stored with every judgment.
"""

import secrets

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models

from webapp.people.journey import Step, stage_choices


def new_token() -> str:
    return secrets.token_urlsafe(18)


class Study(models.Model):
    slug = models.SlugField(max_length=60, unique=True)
    title = models.CharField(max_length=200)
    spec = models.JSONField(default=dict)  # the normalised spec (studies.spec.spec_parse)
    spec_hash = models.CharField(max_length=64)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_studies")
    collaborators = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="shared_studies")
    is_open = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    # the jobs run on this study (reports, model jobs): deleted with it
    jobs = GenericRelation("jobs.Job", content_type_field="target_type", object_id_field="target_id")

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "studies"

    def __str__(self) -> str:
        return self.slug


class System(models.Model):
    class Kind(models.TextChoices):
        MODEL = "model", "Model version"
        IMPORTED = "imported", "Imported responses"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="systems")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    model_version_id = models.IntegerField(null=True, blank=True)
    position = models.PositiveIntegerField()  # canonical order: "a" of a pair is the lower position

    class Meta:
        ordering = ["study", "position"]
        constraints = [
            models.UniqueConstraint(fields=["study", "name"], name="unique_system_name"),
            models.UniqueConstraint(fields=["study", "position"], name="unique_system_position"),
        ]

    def __str__(self) -> str:
        return f"{self.study.slug}:{self.name}"


class Prompt(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="prompts")
    external_id = models.CharField(max_length=200)
    context = models.JSONField()  # [{speaker, text}], the last turn the seeker's
    metadata = models.JSONField(default=dict, blank=True)  # e.g. the emotion label of an EmPO prompt; never shown

    class Meta:
        ordering = ["study", "id"]
        constraints = [models.UniqueConstraint(fields=["study", "external_id"], name="unique_prompt_id")]

    def __str__(self) -> str:
        return self.external_id


class Response(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="responses")
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="responses")
    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="responses")
    text = models.TextField()
    model_version_id = models.IntegerField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)  # never sent to a participant
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prompt", "system"], name="unique_response_per_system")]


class Pair(models.Model):
    """One prompt x one system pair: the unit that collects ``judgments_per_pair`` comparisons.

    ``taken`` counts reserved plus completed comparisons and never passes the quota: it only moves
    through conditional updates (``taken < quota``) or under a row lock.
    """

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="pairs")
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="pairs")
    system_a = models.ForeignKey(System, on_delete=models.CASCADE, related_name="+")
    system_b = models.ForeignKey(System, on_delete=models.CASCADE, related_name="+")
    response_a = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="+")
    response_b = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="+")
    taken = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prompt", "system_a", "system_b"], name="unique_pair"),
            models.CheckConstraint(condition=~models.Q(system_a=models.F("system_b")), name="pair_two_systems"),
        ]
        # serves "least-taken pair of this system pair in this study"
        indexes = [models.Index(fields=["study", "system_a", "system_b", "taken", "id"], name="pair_next_idx")]


class AttentionCheck(models.Model):
    """A pair with one plainly unsuitable reply; ``good`` is stored as side a, ``bad`` as side b."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="attention_checks")
    external_id = models.CharField(max_length=200)
    context = models.JSONField()
    good = models.TextField()
    bad = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study", "external_id"], name="unique_attention_id")]


class Participant(models.Model):
    # the journey's steps (webapp.people.journey) but the final survey, which a study has none of; and one value
    # of a participant's own: `imported`, a participant whose judgments came from elsewhere
    # (studies.services.importing) and who walks no journey here
    Stage = stage_choices("Stage", leave_out=(Step.FINAL,), extra=(("IMPORTED", "imported", "Imported"),), labels={
        Step.WORK: "Judging", Step.DONE: "Completed", Step.ENDED: "Ended (attention checks)",
        Step.DECLINED: "Declined consent"})

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="study_participations")
    token = models.CharField(max_length=40, unique=True, default=new_token)
    index = models.PositiveIntegerField()  # 0-based order of arrival; picks the design window
    seed = models.BigIntegerField()  # shuffles presentation order
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.CONSENT)
    position = models.PositiveIntegerField(default=0)  # the slot being shown
    total = models.PositiveIntegerField(default=0)  # slots in the plan
    consented_at = models.DateTimeField(null=True, blank=True)
    survey = models.JSONField(default=dict, blank=True)
    crowd = models.JSONField(default=dict, blank=True)  # platform, study/session ids from the link
    attention_failures = models.PositiveIntegerField(default=0)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)  # reservations lapse after this
    started_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "user"], name="unique_participant"),
            models.UniqueConstraint(fields=["study", "index"], name="unique_participant_index"),
        ]
        indexes = [models.Index(fields=["study", "stage", "expires_at"], name="participant_expiry_idx")]


class Assignment(models.Model):
    """One slot of a participant's sequence: a reserved pair (or attention check) and its side."""

    class Status(models.TextChoices):
        RESERVED = "reserved", "Reserved"
        DONE = "done", "Done"
        RELEASED = "released", "Released (expired)"

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="assignments")
    position = models.PositiveIntegerField()
    token = models.CharField(max_length=40, unique=True, default=new_token)
    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, null=True, blank=True, related_name="assignments")
    attention_check = models.ForeignKey(AttentionCheck, on_delete=models.CASCADE, null=True, blank=True)
    system_a = models.ForeignKey(System, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    system_b = models.ForeignKey(System, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    left = models.CharField(max_length=1, choices=[("a", "a"), ("b", "b")])
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RESERVED)
    attention_passed = models.BooleanField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["participant", "position"]
        constraints = [models.UniqueConstraint(fields=["participant", "position"], name="unique_slot")]


class Judgment(models.Model):
    """One answer to one criterion for one comparison. ``system_a`` is the canonically first system."""

    class Choice(models.TextChoices):
        A = "a", "a"
        B = "b", "b"
        TIE = "tie", "tie"

    class Source(models.TextChoices):
        PLATFORM = "platform", "Platform"
        IMPORT = "import", "Import"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="judgments")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="judgments")
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    pair = models.ForeignKey(Pair, on_delete=models.SET_NULL, null=True, blank=True, related_name="judgments")
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="judgments")
    system_a = models.ForeignKey(System, on_delete=models.CASCADE, related_name="+")
    system_b = models.ForeignKey(System, on_delete=models.CASCADE, related_name="+")
    choice = models.CharField(max_length=3, choices=Choice.choices)
    # which stored side was shown on the left; "" only for imported rows whose source did not record it
    left = models.CharField(max_length=1, choices=[("a", "a"), ("b", "b")], blank=True)
    criterion = models.CharField(max_length=40)
    strength = models.PositiveSmallIntegerField(null=True, blank=True)  # 1 = weakest label
    rationale = models.TextField(blank=True, default="")
    seconds = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.PLATFORM)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "criterion"],
                condition=models.Q(assignment__isnull=False),
                name="one_judgment_per_slot_criterion",
            ),
        ]
        indexes = [models.Index(fields=["study", "criterion"], name="judgment_study_idx")]
