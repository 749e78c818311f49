"""Runs schemathesis' phases and checks over every API operation by hand, in the test's own thread and transaction.

Schemathesis' engine runs cases in worker threads (another database connection, outside the test's transaction)
and its pytest plugin does not run under pytest 9, so this drives its four phases itself: the schema's examples,
the coverage phase (boundary and missing values, each parameter made invalid in turn), Hypothesis fuzzing, positive
and negative, and the stateful phase (scenarios that chain operations along the links schemathesis infers from the
schema: a list's slug into the detail, a create's slug into its update, share and delete). Every response goes
through every check. Each case, and each scenario as a whole, runs in a savepoint rolled back afterwards, so a
DELETE that succeeds leaves the next one the same data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.stateful import run_state_machine_as_test
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode
from schemathesis.generation.drivers import CoverageGenerator, ExamplesGenerator
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.overrides import Override

# All of schemathesis' checks. use_after_free and ensure_resource_availability judge a case by the earlier steps of
# its scenario, so only the stateful phase gives them something to judge; object_level_authorization needs two
# configured identities, and the role tests ask the same of every operation for a second role.
CHECK_NAMES = (
    "not_a_server_error", "status_code_conformance", "content_type_conformance", "response_headers_conformance",
    "response_schema_conformance", "negative_data_rejection", "positive_data_acceptance", "missing_required_header",
    "unsupported_method", "allow_header_conformance", "use_after_free", "ensure_resource_availability",
    "ignored_auth", "object_level_authorization",
)


@dataclass(frozen=True)
class RealObjects:
    """Path parameter values naming a role's own objects: ``everywhere`` for every path, ``under`` for the paths
    starting with a prefix (an ``id`` is a job's under /api/jobs/, a model version's under /api/ml/models/);
    ``in_bodies`` for the same-named fields of a valid JSON body (an assignment id the server gave out)."""

    everywhere: dict
    under: dict[str, dict] = field(default_factory=dict)
    in_bodies: dict = field(default_factory=dict)

    def for_path(self, path: str) -> dict:
        values = dict(self.everywhere)
        for prefix, named in self.under.items():
            if path.startswith(prefix):
                values.update(named)
        return values


@dataclass(frozen=True)
class Budget:
    coverage_cases: int  # per operation, spread evenly over what the coverage phase would send
    fuzzed_cases: int  # per operation and generation mode (positive, negative)


@dataclass(frozen=True)
class StatefulBudget:
    scenarios: int  # Hypothesis examples of the state machine
    steps: int  # operations at most in one scenario


@dataclass
class Findings:
    cases: int = 0
    scenario_steps: int = 0  # cases sent by the stateful phase (counted in ``cases`` too)
    reached_by_link: set[str] = field(default_factory=set)  # operations called with a value an earlier step returned
    operations: set[str] = field(default_factory=set)
    failures: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (operation, check, title) -> reason
    answered: dict[str, set[int]] = field(default_factory=dict)  # operation -> the status codes its method got

    def succeeded(self) -> set[str]:
        return {operation for operation, codes in self.answered.items() if any(200 <= code < 300 for code in codes)}

    def add(self, operation: str, check: str, failure: Failure, sent: str) -> None:
        reason = " ".join(failure.message.split())[:240]
        self.failures.setdefault((operation, check, failure.title), f"{reason} [{sent}]")

    def report(self, role: str) -> str:
        lines = [f"{len(self.failures)} failing (operation, check) as {role}:"]
        for (operation, check, title), reason in sorted(self.failures.items()):
            lines.append(f"- {operation} | {check} | {title}: {reason}")
        return "\n".join(lines)


def all_checks() -> list[Callable]:
    load_all_checks()
    registered = set(CHECKS.get_all_names())
    missing = [name for name in CHECK_NAMES if name not in registered]
    assert not missing, f"schemathesis no longer has the checks {missing}"
    return [CHECKS.get_one(name) for name in CHECK_NAMES]


def spread(cases: list, limit: int) -> list:
    """At most ``limit`` of ``cases``, evenly spaced, first and last included: every parameter's turn is sampled."""
    if len(cases) <= limit:
        return cases
    step = (len(cases) - 1) / (limit - 1)
    return [cases[round(i * step)] for i in range(limit)]


def coverage_cases(operation, limit: int) -> list:
    config = operation.schema.config.generation_for(operation=operation, phase="coverage")
    generator = CoverageGenerator(operation=operation, generation_modes=list(GenerationMode), generation_config=config,
                                  auth_storage=None, override=Override(), feedback=FeedbackSources())
    return spread(list(generator), limit)


def example_cases(operation) -> list:
    return list(ExamplesGenerator(operation=operation, override=Override(), feedback=FeedbackSources(),
                                  fill_missing=False))


def fuzzed_cases(operation, per_mode: int) -> list:
    # with no parameter and no body there is nothing to make invalid (Hypothesis would search long to learn that)
    takes_input = bool(list(operation.iter_parameters())) or bool(list(operation.body))
    modes = list(GenerationMode) if takes_input else [GenerationMode.POSITIVE]
    return [case for mode in modes for case in _drawn(operation, mode, per_mode)]


def _drawn(operation, mode: GenerationMode, count: int) -> list:
    drawn: list = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=count, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate])
    def draw(case):
        drawn.append(case)

    try:
        draw()
    except Unsatisfiable:
        if mode.is_positive:
            raise
        # nothing in the operation can be made invalid (a path of slugs only): it has no negative cases
    return drawn


def run_operation(operation, *, budget: Budget, headers: dict, real_objects: RealObjects, checks: list,
                  findings: Findings) -> None:
    findings.operations.add(operation.label)
    cases = [*example_cases(operation), *coverage_cases(operation, budget.coverage_cases),
             *fuzzed_cases(operation, budget.fuzzed_cases)]
    for case in cases:
        _aim_at_real_objects(case, real_objects.for_path(operation.path), real_objects.in_bodies)
        findings.cases += 1
        with transaction.atomic():
            _call_and_check(case, headers=headers, checks=checks, findings=findings)
            transaction.set_rollback(True)


def _aim_at_real_objects(case, path_values: dict, body_values: dict) -> None:
    """Valid path parameters and body fields name the role's real objects; invalid ones are sent as generated."""
    if not _is_negative_at(case, ParameterLocation.PATH):
        for name, value in path_values.items():
            if name in (case.path_parameters or {}):
                case.path_parameters[name] = value
    if not _is_negative_at(case, ParameterLocation.BODY) and isinstance(case.body, dict):
        for name, value in body_values.items():
            if name in case.body:
                case.body[name] = value


def _is_negative_at(case, location: ParameterLocation) -> bool:
    return case.meta is not None and case.meta.is_negative_at(location)


def _call_and_check(case, *, headers: dict, checks: list, findings: Findings) -> None:
    _judge(case, case.call(headers=headers), headers=headers, checks=checks, findings=findings)


def _judge(case, response, *, headers: dict, checks: list, findings: Findings, recorder=None) -> None:
    if case.method.upper() == case.operation.method.upper():  # not a probe with another method (OPTIONS, TRACE)
        findings.answered.setdefault(case.operation.label, set()).add(response.status_code)
    sent = f"{case.method} {case.formatted_path} -> {response.status_code} {' '.join(response.text.split())[:160]}"
    for check in checks:
        try:
            case.validate_response(response, checks=[check], headers=headers, recorder=recorder)
        except FailureGroup as group:
            for failure in group.exceptions:
                findings.add(case.operation.label, check.__name__, failure, sent)


def run_stateful(schema, *, budget: StatefulBudget, headers: dict, checks: list, findings: Findings) -> None:
    """Schemathesis' stateful phase: ``budget.scenarios`` derandomized scenarios of at most ``budget.steps`` steps,
    each in a savepoint rolled back at its end, every step's answer judged by every check (with the scenario's
    earlier steps at hand for the checks that compare them)."""
    machine = schema.as_state_machine()

    class Scenario(machine):
        def setup(self):
            self._scenario = transaction.atomic()
            self._scenario.__enter__()

        def teardown(self):
            transaction.set_rollback(True)
            self._scenario.__exit__(None, None, None)

        def get_call_kwargs(self, case):
            return {"headers": headers}

        def step(self, input):
            if input.transition is not None and input.applied_parameters:
                findings.reached_by_link.add(input.case.operation.label)
            return super().step(input)

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            findings.cases += 1
            findings.scenario_steps += 1
            _judge(case, response, headers=headers, checks=checks, findings=findings, recorder=self.recorder)

    run_state_machine_as_test(Scenario, settings=settings(
        max_examples=budget.scenarios, stateful_step_count=budget.steps, deadline=None, derandomize=True,
        database=None, suppress_health_check=list(HealthCheck), phases=[Phase.generate]))
