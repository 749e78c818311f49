import random

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy

from webapp.people.journey import Step, stage_choices


class ItemKind(models.TextChoices):
    NARRATIVE = "narrative", "Narrative"
    PAIR = "pair", "Pair of narratives"
    DIALOGUE = "dialogue", "Dialogue"
    RESPONSE = "response", "Context and response"


def random_shuffle_key() -> int:
    return random.getrandbits(62)


class Project(models.Model):
    """An annotation project: its items, the validated spec (schema, surveys, limits) and who may see it."""

    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=ItemKind.choices)
    spec = models.JSONField(default=dict)
    spec_hash = models.CharField(max_length=64, blank=True, default="")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_projects")
    collaborators = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="shared_projects")
    overlap = models.PositiveIntegerField(default=3)
    is_open = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # the jobs run on this project (exports, reports, model jobs): deleted with it
    jobs = GenericRelation("jobs.Job", content_type_field="target_type", object_id_field="target_id")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.slug

    @property
    def dimensions(self) -> list[dict]:
        return self.spec.get("dimensions", [])


class Item(models.Model):
    """One unit to label. `taken` counts live reservations plus stored labels and never exceeds `needed`."""

    class Role(models.TextChoices):
        TASK = "task", "Task"
        GOLD = "gold", "Gold"
        ATTENTION = "attention", "Attention check"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="items")
    external_id = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=ItemKind.choices)
    data = models.JSONField(default=dict)
    metadata = models.JSONField(default=dict, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.TASK)
    gold = models.JSONField(null=True, blank=True)
    distressing = models.BooleanField(default=False)
    shuffle_key = models.BigIntegerField(default=random_shuffle_key)
    needed = models.PositiveIntegerField(default=3)
    taken = models.PositiveIntegerField(default=0)
    labels_count = models.PositiveIntegerField(default=0)
    is_full = models.BooleanField(default=False)
    # Above 0: served before the other open items (sent back for re-annotation); higher first is not implied.
    priority = models.PositiveSmallIntegerField(default=0, db_default=0)  # db_default: raw bulk loads omit it

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "external_id"], name="unique_item_id_per_project"),
            models.CheckConstraint(condition=Q(taken__lte=models.F("needed")), name="item_taken_within_needed"),
        ]
        indexes = [
            models.Index(fields=["project", "shuffle_key"], condition=Q(role="task", is_full=False),
                         name="item_open_pool"),
            models.Index(fields=["project", "shuffle_key"], condition=Q(role="task", is_full=False, priority__gt=0),
                         name="item_open_priority_pool"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id}:{self.external_id}"


class Enrollment(models.Model):
    """One annotator's journey through one project: consent → survey → instructions → work → final → done."""

    # the journey's steps (webapp.people.journey); a refused consent ends the enrollment with the reason said,
    # which its page words, so no enrollment is ever declined
    Stage = stage_choices("Stage", leave_out=(Step.DECLINED,), labels={Step.WORK: "Items"})

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="enrollments")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments")
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.CONSENT)
    consented_at = models.DateTimeField(null=True, blank=True)
    survey_before = models.JSONField(default=dict, blank=True)
    survey_after = models.JSONField(default=dict, blank=True)
    crowd = models.JSONField(default=dict, blank=True)
    labels_done = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    session_done = models.PositiveIntegerField(default=0)
    session_started_at = models.DateTimeField(null=True, blank=True)
    break_until = models.DateTimeField(null=True, blank=True)
    checkin = models.JSONField(default=dict, blank=True)
    since_control = models.PositiveIntegerField(default=0)
    attention_failures = models.PositiveIntegerField(default=0)
    ended_reason = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "annotator"], name="one_enrollment_per_project")]


class Assignment(models.Model):
    """A reservation of one item for one annotator. Never two for the same pair, and an annotator holds at most one
    reservation in a project at a time (so a script or many tabs cannot hold a project's items)."""

    class Status(models.TextChoices):
        RESERVED = "reserved", "Reserved"
        SUBMITTED = "submitted", "Submitted"
        SKIPPED = "skipped", "Skipped"
        DISTRESSING = "distressing", "Skipped: distressing"
        EXPIRED = "expired", "Expired"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="assignments")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="assignments")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RESERVED)
    reserved_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    # the assignment whose submit or skip reserved this one: a replayed submit finds its answer here instead of
    # reserving again (unique, so two concurrent copies of one submit cannot both reserve)
    follows = models.OneToOneField("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="followed_by")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "annotator"], name="one_assignment_per_item_annotator"),
            models.UniqueConstraint(fields=["project", "annotator"], condition=Q(status="reserved"),
                                    name="one_reservation_per_annotator"),
        ]
        indexes = [
            models.Index(fields=["project", "expires_at"], condition=Q(status="reserved"), name="assignment_live"),
            models.Index(fields=["annotator", "project", "status"], name="assignment_by_annotator"),
        ]


class Label(models.Model):
    """One annotator's answers for one item, all dimensions together.

    `values` maps dimension name to value; a per-turn dimension maps to {"<turn index>": value}."""

    class Source(models.TextChoices):
        PLATFORM = "platform", "Collected here"
        IMPORT = "import", "Imported"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="labels")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="labels")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="labels")
    assignment = models.OneToOneField(Assignment, on_delete=models.SET_NULL, null=True, blank=True)
    values = models.JSONField(default=dict)
    seconds = models.FloatField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.PLATFORM)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "annotator"], name="one_label_per_item_annotator")]
        indexes = [models.Index(fields=["project", "id"], name="label_export_order")]


class ItemNote(models.Model):
    """What an annotator told the researchers about one item they were given, beside their answer or their skip:
    a flag (something is wrong with the item) and/or a free comment. One per assignment, so a replayed turn
    stores it once."""

    class Flag(models.TextChoices):
        # labels in the language of the page that shows them (the annotator's project's)
        NONE = "", gettext_lazy("No problem")
        UNCLEAR = "unclear", gettext_lazy("Unclear or ambiguous")
        BROKEN = "broken", gettext_lazy("Text is broken or garbled")
        OFFENSIVE = "offensive", gettext_lazy("Offensive or harmful")
        OTHER = "other", gettext_lazy("Something else")

    COMMENT_MAX = 2000

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="notes")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="notes")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="item_notes")
    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="note")
    flag = models.CharField(max_length=16, choices=Flag.choices, blank=True, default=Flag.NONE)
    comment = models.TextField(blank=True, default="", max_length=COMMENT_MAX)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["project", "item"], name="note_by_item")]


class ControlResult(models.Model):
    """The outcome of one attention check or gold item for one annotator."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="control_results")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="control_results")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="control_results")
    kind = models.CharField(max_length=16, choices=Item.Role.choices)
    passed = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "annotator"], name="one_control_result")]


class Exclusion(models.Model):
    """A researcher's decision to leave an annotator out of analysis; reversible (revoked_at) and kept. At most one
    is active (not revoked) per annotator and project."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="exclusions")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exclusions")
    reason = models.CharField(max_length=500, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "annotator"], condition=Q(revoked_at__isnull=True),
                                    name="one_active_exclusion"),
        ]
        indexes = [models.Index(fields=["project", "annotator"], name="exclusion_lookup")]


class ProjectAnnotator(models.Model):
    """What one project knows of one annotator: the attributes an import gave them there.

    Attributes belong to the project that recorded them, so importing into project B never moves an
    annotator of project A to another group. Their effective attributes in a project are the account's
    (demographic survey answers) overlaid with these."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="annotator_records")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_records")
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "annotator"], name="one_record_per_project_annotator")]
