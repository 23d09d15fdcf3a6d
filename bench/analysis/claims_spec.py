"""Claims files: a TOML file of statements about seeds, validated whole before anything is judged.

    level = 0.95                                   # optional: the default confidence level

    [[claims]]
    name = "bs64-rarely-collapses"
    kind = "collapse_rate"        # collapse_rate, coverage, no_worse, differs, equivalent,
                                  # mean_within
    config = { batch_size = 64, xla = false }      # part, data, device, precision, xla, batch_size
    max_rate = 0.1
    not_converged = "inconclusive"                 # or "exclude", "count_as_collapse",
                                                   # "count_as_not_collapsed"

Fields per kind (what each means and how it is judged: bench.analysis.claims_intervals for
one configuration against a bound, bench.analysis.claims_pairwise for B against A):

    collapse_rate   config, max_rate or min_rate, [not_converged]
    coverage        config, min_classes, min_share
    no_worse        a, b, metric, margin           metric: fid, classifier_score,
                                                   classes_covered, images_per_sec
    differs         a, b, metric, [not_converged]  metric: collapse_rate or one of the above
    equivalent      a, b, metric, margin           B within A x (1 +- margin): no difference
    mean_within     config, metric, low, high,     the mean across seeds lies in [low, high]
                    [source]                       (a published row's interval, say; source:
                                                   free text naming where it comes from)

Every claim may carry its own `level`. `load_claims` lists every problem of the file in one
BenchError (as bench.grid.spec does for grid specs) and returns the claims with their defaults
filled in. Pure: no TensorFlow, no records.
"""

from pathlib import Path

from bench import records, schema
from bench.errors import BenchError

KINDS = ("collapse_rate", "coverage", "no_worse", "differs", "equivalent", "mean_within")
# The coordinates a claim selects cells by; seeds are the sample, not a coordinate.
SELECTOR_KEYS = (schema.PART, *schema.CONFIG_COORDINATES)
# What a collapse claim does with seeds that did not converge: say it cannot tell (the default),
# leave them out, or count them as collapsed or as not collapsed. The last fits Stacked MNIST,
# whose rule reads diversity first (bench.outcome_rule): a stacked seed that did not converge
# spreads over at least 100 triples, so it has not collapsed, though it draws no digits yet.
NOT_CONVERGED_POLICIES = ("inconclusive", "exclude", "count_as_collapse", "count_as_not_collapsed")
# metric name in a claim -> (results column, higher is better)
METRICS = {**{m.key: (schema.final_column(m.key), m.higher_is_better)
              for m in schema.metrics_with(schema.CLAIMABLE)},
           "images_per_sec": (schema.IMAGES_PER_SEC_MEDIAN, True)}
DIFFERS_METRICS = ("collapse_rate", *METRICS)
COMMON = {"name", "kind", "level"}
FIELDS = {"collapse_rate": {"config", "max_rate", "min_rate", "not_converged"},
          "coverage": {"config", "min_classes", "min_share"},
          "no_worse": {"a", "b", "metric", "margin"},
          "differs": {"a", "b", "metric", "not_converged"},
          "equivalent": {"a", "b", "metric", "margin"},
          "mean_within": {"config", "metric", "low", "high", "source"}}
REQUIRED = {"collapse_rate": {"config"}, "coverage": {"config", "min_classes", "min_share"},
            "no_worse": {"a", "b", "metric", "margin"}, "differs": {"a", "b", "metric"},
            "equivalent": {"a", "b", "metric", "margin"},
            "mean_within": {"config", "metric", "low", "high"}}
DEFAULT_LEVEL = 0.95


def _selector_problems(where: str, selector) -> list[str]:
    if not isinstance(selector, dict) or not selector:
        return [f"{where}: expected a table of coordinates ({', '.join(SELECTOR_KEYS)}), found "
                f"{selector!r}"]
    return [f"{where}.{k}: unknown coordinate (expected one of {', '.join(SELECTOR_KEYS)}; seeds "
            "are the sample, not a coordinate)" for k in selector if k not in SELECTOR_KEYS]


def _fraction_problem(where, value, low_open=False) -> list[str]:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and \
        (0 < value < 1 if low_open else 0 <= value <= 1)
    bounds = "between 0 and 1 (exclusive)" if low_open else "between 0 and 1"
    return [] if ok else [f"{where}: expected a number {bounds}, found {value!r}"]


def _vacuous_rate_problem(where, key, value) -> list[str]:
    """A bound every set of seeds meets: min_rate = 0 or max_rate = 1 could never fail."""
    if (key, value) in (("min_rate", 0), ("max_rate", 1)):
        return [f"{where}: {key}: {value!r} holds for any seeds whatever they show, so the "
                f"claim could never fail; expected a number "
                f"{'above 0 and at most 1' if key == 'min_rate' else 'from 0 to below 1'}"]
    return []


def claim_problems(claim, index: int) -> list[str]:
    """Every problem of one claim, each naming the claim and the field."""
    if not isinstance(claim, dict):
        return [f"claims[{index}]: expected a table, found {claim!r}"]
    where = f"claim {claim.get('name', f'#{index + 1}')!r}"
    problems = []
    if not isinstance(claim.get("name"), str) or not claim.get("name"):
        problems.append(f"{where}: name: expected a non-empty string")
    kind = claim.get("kind")
    if kind not in KINDS:
        return problems + [f"{where}: kind: expected one of {', '.join(KINDS)}, found {kind!r}"]
    problems += [f"{where}: {k}: unknown field for kind {kind} (expected "
                 f"{', '.join(sorted(COMMON | FIELDS[kind]))})"
                 for k in claim if k not in COMMON | FIELDS[kind]]
    problems += [f"{where}: {k}: required for kind {kind}" for k in sorted(REQUIRED[kind])
                 if k not in claim]
    if "level" in claim:  # the file's default level is checked once, by load_claims
        problems += _fraction_problem(f"{where}: level", claim["level"], True)
    for key in ("config", "a", "b"):
        if key in claim:
            problems += _selector_problems(f"{where}: {key}", claim[key])
    if kind == "collapse_rate" and ("max_rate" in claim) == ("min_rate" in claim):
        problems.append(f"{where}: give one of max_rate (collapse is rare) and min_rate "
                        "(collapse is common)")
    for key in ("max_rate", "min_rate"):
        if key in claim:
            problems += _fraction_problem(f"{where}: {key}", claim[key]) or \
                _vacuous_rate_problem(where, key, claim[key])
    if kind == "mean_within":
        bounds = [claim.get(k) for k in ("low", "high")]
        if not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds):
            problems.append(f"{where}: low, high: expected two numbers, found {bounds!r}")
        elif bounds[0] > bounds[1]:
            problems.append(f"{where}: low, high: expected low <= high, found {bounds!r}")
    if "min_share" in claim:
        problems += _fraction_problem(f"{where}: min_share", claim["min_share"])
    if "min_classes" in claim and claim["min_classes"] not in range(1, schema.NUM_CLASSES + 1):
        problems.append(f"{where}: min_classes: expected an integer from 1 to "
                        f"{schema.NUM_CLASSES}, found {claim['min_classes']!r}")
    if "margin" in claim:
        problems += _fraction_problem(f"{where}: margin", claim["margin"])
    metrics = DIFFERS_METRICS if kind == "differs" else tuple(METRICS)
    if "metric" in claim and claim["metric"] not in metrics:
        problems.append(f"{where}: metric: expected one of {', '.join(metrics)}, found "
                        f"{claim['metric']!r}")
    if claim.get("not_converged", "inconclusive") not in NOT_CONVERGED_POLICIES:
        problems.append(f"{where}: not_converged: expected one of "
                        f"{', '.join(NOT_CONVERGED_POLICIES)}, found {claim['not_converged']!r}")
    return problems


def load_claims(path) -> list[dict]:
    """The claims of a TOML file, validated whole: BenchError listing every problem."""
    path = Path(path)
    data = records.read_toml(path, "claims file")
    problems = [f"{k}: unknown top-level key (expected level, claims)" for k in data
                if k not in ("level", "claims")]
    default_level = data.get("level", DEFAULT_LEVEL)
    problems += _fraction_problem("level", default_level, True)
    claims = data.get("claims")
    if not isinstance(claims, list) or not claims:
        problems.append("claims: expected at least one [[claims]] table")
        claims = []
    for i, claim in enumerate(claims):
        problems += claim_problems(claim, i)
    names = [c.get("name") for c in claims if isinstance(c, dict)]
    problems += [f"claim {n!r}: name: used more than once" for n in sorted(
        {n for n in names if names.count(n) > 1 and isinstance(n, str)})]
    if problems:
        raise BenchError(f"{len(problems)} problem(s):\n  " + "\n  ".join(problems), path=path)
    return [{"level": default_level, "not_converged": "inconclusive", **c} for c in claims]


def selector_label(selector: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in selector.items())
