"""The seam that runs dependent writes as one statement (webapp.data.statements): the same parts give the same rows
and the same writes on PostgreSQL (one data-modifying WITH) and on SQLite (the parts in order in one transaction)."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.factories import UserFactory
from webapp.data.raw_rows import table_name
from webapp.data.statements import Part, statements_join, statements_run

pytestmark = pytest.mark.django_db
MEMBERSHIP = Group.user_set.through


def _join(*, user_id: int, name: str) -> list[tuple]:
    """A group named ``name`` and ``user_id`` in it; the membership only if the group was new."""
    return statements_run([
        Part("made", f"INSERT INTO {table_name(Group)} (name) VALUES (%s) ON CONFLICT DO NOTHING RETURNING id, name",
             [name]),
        Part("member", f"INSERT INTO {table_name(MEMBERSHIP)} (user_id, group_id) SELECT %s, id FROM made "
                       f"RETURNING id, group_id", [user_id]),
    ], result="SELECT made.name, member.group_id = made.id, %s FROM made LEFT JOIN member ON TRUE", params=["done"])


def test_later_parts_read_what_earlier_parts_returned_and_the_result_reads_them_all():
    user = UserFactory()
    with CaptureQueriesContext(connection) as captured:
        rows = _join(user_id=user.pk, name="readers")
    assert [(name, bool(same), tag) for name, same, tag in rows] == [("readers", True, "done")]
    assert list(user.groups.values_list("name", flat=True)) == ["readers"]
    # PostgreSQL: one statement; SQLite: each part, then the result
    assert len(captured.captured_queries) == (1 if statements_join() else 3)


def test_a_part_that_depends_on_an_empty_one_writes_nothing():
    first, second = UserFactory(username="first"), UserFactory(username="second")
    _join(user_id=first.pk, name="taken")
    assert _join(user_id=second.pk, name="taken") == []  # the group was there: no membership for the second
    assert not second.groups.exists() and Group.objects.count() == 1


def test_inside_a_callers_transaction_the_parts_roll_back_with_it():
    user = UserFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        _join(user_id=user.pk, name="undone")
        raise RuntimeError
    assert not Group.objects.exists() and not user.groups.exists()
