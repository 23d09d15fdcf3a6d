"""Names in the run-record contract: file names, statuses, coordinates, metric keys, results
columns, verdict words.

Everything after training (results, reports, comparisons, claims, the history) reads records
through these names, and metric keys double as DataFrame column names. Each name is spelled here
once. The README's "Run records" section shows the layout of a run directory. Nothing here
imports TensorFlow or pandas.
"""

from typing import NamedTuple

from bench.errors import BenchError
from bench.frameworks import REFERENCE
from bench.protocols import DEFAULT_MODEL

# 2: peak memory split into training and process (with kinds), first_batch_seconds, throughput
#    `overall` and excluded windows, KID block sizes, per-optimizer skipped steps, and the
#    seed `outcome` (digits | mode_collapse | not_converged) in place of the boolean `collapsed`.
# 3: two words for two things: `framework` (tensorflow | jax: what a cell trains under) where
#    config.json, env.json and results rows said `backend`, the spec axis `frameworks`, and
#    `launcher` (local | ray: what ran the cell) in a summary's placement; results rows kept in
#    the history carry a schema_version.
# 4: every framework's version in one field, `framework_version` (env.json, results rows and the
#    history), where a results row held TensorFlow's as `tensorflow` (null under JAX); config.json
#    no longer repeats the resolved device (`tf_device`, `jax_device`: env.json's `device` says it).
# 5: the models (`model`, `packing_m`, `d_width` and their protocols' settings in config.json;
#    absent: the tutorial's, unpacked), `trainable_params` in a summary, and Stacked MNIST's
#    outcome by the three-channel rule (bench.outcome_rule), recomputed for older records.
SCHEMA_VERSION = 5

# Files of one cell directory.
CONFIG_FILE = "config.json"
ENV_FILE = "env.json"
STEPS_FILE = "steps.jsonl"
EVALS_FILE = "evals.jsonl"
MODES_FILE = "modes.jsonl"  # Stacked MNIST's modes during training (cheap: no FID, KID, PRDC)
SUMMARY_FILE = "summary.json"
SAMPLES_FILE = "samples.png"
GENERATOR_FILE = "generator.weights.h5"
TRACEBACK_FILE = "traceback.txt"
TENSORBOARD_DIR = "tb"

# Files of one run (grid) directory.
MANIFEST_FILE = "manifest.json"
RESULTS_FILE = "results.csv"
# Where grid runs and rendered pages go by default (relative to the working directory), and the
# link in runs/<spec stem>/ that points at the newest run of a spec.
RUNS_ROOT = "runs"
REPORTS_ROOT = "reports"
LATEST_LINK = "latest"

# A cell's coordinates, in the order reports and tables show them. A configuration is a cell's
# coordinates without the seed (its seeds are its repeats); a cell's key adds the grid part it
# belongs to, so that two parts training the same coordinates stay apart.
SEED = "seed"
PART = "part"
# the framework a cell trains under (bench.frameworks), and its version (env.json, results rows)
FRAMEWORK = "framework"
FRAMEWORK_VERSION = "framework_version"
# the model (bench.protocols), its packing and its discriminator's width (unrolled-dcgan)
MODEL, PACKING_M, D_WIDTH = "model", "packing_m", "d_width"
# how the steps reach the device (bench.config.PROGRAMS): the step-at-a-time loop or the study
# program
PROGRAM = "program"
COORDINATES = (MODEL, PACKING_M, D_WIDTH, FRAMEWORK, PROGRAM, "data", "device", "precision",
               "tf32", "xla", "batch_size", SEED)
CONFIG_COORDINATES = tuple(k for k in COORDINATES if k != SEED)
CELL_KEY = (PART, *COORDINATES)
# What a record from before a coordinate existed means by its absence: every cell trained under
# TensorFlow before the framework axis, the tutorial's model unpacked before the model axis.
COORDINATE_DEFAULTS = {FRAMEWORK: REFERENCE, MODEL: DEFAULT_MODEL, PACKING_M: 1, D_WIDTH: None,
                       PROGRAM: "step"}

# Cell statuses. Only "ok" means the numbers in the summary are complete.
STATUS_OK = "ok"
STATUS_DIVERGED = "diverged"
STATUS_FAILED = "failed"
STATUS_SKIPPED = "skipped"
STATUS_RUNNING = "running"
# Stopped from outside before it finished: Ctrl-C or SIGTERM of its grid, a kill signal to its
# process (a person, a job's time limit, or the kernel's out-of-memory killer: the reason says
# which signal), or a grid killed outright (read so once no grid holds the run's lock).
STATUS_INTERRUPTED = "interrupted"
STATUSES = (STATUS_OK, STATUS_DIVERGED, STATUS_FAILED, STATUS_SKIPPED, STATUS_INTERRUPTED,
            STATUS_RUNNING)
# Not statuses a cell writes: what readers report for a cell directory without summary.json,
# and for one whose records cannot be read (not UTF-8, truncated, not an object, wrong types):
# that cell alone, with the reason, while every other cell is read as usual.
STATUS_MISSING = "missing"
STATUS_UNREADABLE = "unreadable"

# One line of steps.jsonl.
STEP_KEYS = (
    "step", "images_seen", "gen_loss", "disc_loss", "d_real", "d_fake",
    "window_seconds", "images_per_sec",
)

# Metric keys: one evaluation record, and columns of the results DataFrame (prefixed "final_").
N = "n"
FID = "fid"
KID = "kid"
KID_STD = "kid_std"
KID_BLOCKS = "kid_blocks"
KID_BLOCK_SIZE_REAL = "kid_block_size_real"  # the smallest block of each side
KID_BLOCK_SIZE_FAKE = "kid_block_size_fake"
CLASSIFIER_SCORE = "classifier_score"
CLASSES_COVERED = "classes_covered"
KL_TO_UNIFORM = "kl_to_uniform"
MAX_CLASS_FRACTION = "max_class_fraction"
CONFIDENT_FRACTION = "confident_fraction"
OUTCOME = "outcome"  # digits | mode_collapse | not_converged (bench.outcome_rule)
PRECISION = "precision"
RECALL = "recall"
DENSITY = "density"
COVERAGE = "coverage"
CLASS_HISTOGRAM = "class_histogram"
RANK_DEFICIENT = "rank_deficient"
# Stacked MNIST only (bench.evaluate.stacked); absent from other data sets' records.
STACKED_N = "stacked_n"  # stacked samples behind the modes (`n` counts the channel digits)
MODES = "modes"  # digit triples with at least one sample, of 1,000 (PacGAN's count)
MODES_THRESHOLDED = "modes_thresholded"  # triples with 1 sample in 2,600 or more (the outcome's)
REVERSE_KL = "reverse_kl"  # KL(generated modes || uniform over 1,000), natural log
CHANNEL_CLASSES_MIN = "channel_classes_min"  # classes covered, the least of the three channels
ALL_CHANNELS_CONFIDENT = "all_channels_confident"  # share of samples confident in every channel
CHANNEL_CLASSES = "channel_classes"  # classes covered per channel (a list, like the histogram)

# Where a metric is used after training, each a role a metric may have (Metric.roles):
TABLE = "table"  # a column of the report's cell table
FIGURE = "figure"  # a panel of the report's final-metrics figure
SEED_SUMMARY = "seed summary"  # a column of the per-seed final metrics (report, seed outcomes)
REPEATED = "repeated"  # a repeated seed must reproduce it exactly (compare's numerics check)
TESTED = "tested"  # compared across seeds between two runs (compare's quality family)
CLAIMABLE = "claimable"  # a claim may test it across seeds (no_worse, differs, equivalent)
# The roles whose readers need to know which way is better: the figure titles each panel "higher
# (lower) is better", compare's quality family calls a change worse or better, and a claim's
# no_worse test shifts its margin up or down. Each reads `higher_is_better`, where None would
# pass as False ("lower is better") without a word: so a metric with one of these roles and no
# direction is refused when this module is imported (check_directions).
DIRECTED_ROLES = (FIGURE, TESTED, CLAIMABLE)


class Metric(NamedTuple):
    """One number of an evaluation record. Its results column is final_<key>; `label` is how
    tables, figures and verdicts name it; `higher_is_better` is None where neither way is
    better (a count of samples, a flag), refused for a metric with a role in DIRECTED_ROLES;
    `roles` say where it is used after training."""

    key: str
    label: str
    higher_is_better: bool | None = None
    roles: tuple = ()
    numeric: bool = True


# Every scalar of an evaluation, in the order records and tables show them: the one list the
# results table, the report, compare and claims read (adding a metric: docs/how-to/add-a-metric.md).
METRICS = (
    Metric(N, "final n", roles=(TABLE, SEED_SUMMARY)),
    Metric(FID, "FID", False, (TABLE, FIGURE, SEED_SUMMARY, REPEATED, TESTED, CLAIMABLE)),
    Metric(RANK_DEFICIENT, "rank deficient", roles=(TABLE,), numeric=False),
    Metric(KID, "KID", False, (TABLE, FIGURE, SEED_SUMMARY, REPEATED)),
    Metric(KID_STD, "KID std"),
    Metric(KID_BLOCKS, "KID blocks"),
    Metric(KID_BLOCK_SIZE_REAL, "KID block size (real)"),
    Metric(KID_BLOCK_SIZE_FAKE, "KID block size (generated)"),
    Metric(CLASSIFIER_SCORE, "classifier score", True,
           (TABLE, FIGURE, SEED_SUMMARY, REPEATED, TESTED, CLAIMABLE)),
    Metric(CLASSES_COVERED, "classes covered", True, (TABLE, SEED_SUMMARY, REPEATED, CLAIMABLE)),
    Metric(KL_TO_UNIFORM, "KL to uniform", False),
    Metric(MAX_CLASS_FRACTION, "largest class share", roles=(SEED_SUMMARY,)),
    Metric(CONFIDENT_FRACTION, "confident share", True, (SEED_SUMMARY, REPEATED)),
    Metric(OUTCOME, "outcome", roles=(TABLE, SEED_SUMMARY, REPEATED), numeric=False),
    Metric(PRECISION, "precision", True, (SEED_SUMMARY,)),
    Metric(RECALL, "recall", True, (SEED_SUMMARY,)),
    Metric(DENSITY, "density", True, (SEED_SUMMARY,)),
    Metric(COVERAGE, "coverage", True, (TABLE, SEED_SUMMARY)),
    Metric(STACKED_N, "stacked samples", roles=(TABLE, SEED_SUMMARY)),
    Metric(MODES, "modes (of 1,000)", True, (TABLE, SEED_SUMMARY, REPEATED, CLAIMABLE)),
    Metric(MODES_THRESHOLDED, "modes, 1 in 2,600", True,
           (TABLE, SEED_SUMMARY, REPEATED, CLAIMABLE)),
    Metric(REVERSE_KL, "reverse KL", False, (TABLE, SEED_SUMMARY, REPEATED, CLAIMABLE)),
    Metric(CHANNEL_CLASSES_MIN, "classes covered (least channel)", True, (SEED_SUMMARY,)),
    Metric(ALL_CHANNELS_CONFIDENT, "confident in all channels", True, (SEED_SUMMARY,)),
)
# Columns only a stacked-mnist record fills: tables leave them out when all are empty; the
# report's Stacked MNIST section draws the modes and the KL.
STACKED_METRICS = (STACKED_N, MODES, MODES_THRESHOLDED, REVERSE_KL, CHANNEL_CLASSES_MIN,
                   ALL_CHANNELS_CONFIDENT)
SCALAR_METRICS = tuple(m.key for m in METRICS)
# what every evaluation has: all but the Stacked MNIST numbers
DIGIT_METRICS = tuple(k for k in SCALAR_METRICS if k not in STACKED_METRICS)
NON_NUMERIC_METRICS = tuple(m.key for m in METRICS if not m.numeric)


def metrics_with(role: str) -> tuple:
    """The metrics that have `role`, in METRICS' order."""
    return tuple(m for m in METRICS if role in m.roles)


def check_directions(metrics):
    """BenchError naming each metric of `metrics` that has a role in DIRECTED_ROLES and no
    direction (`higher_is_better` neither True nor False), with those roles."""
    problems = [f"metric {m.key!r} has roles that need a direction ({', '.join(needing)}) but "
                f"higher_is_better={m.higher_is_better!r}: say True or False"
                for m in metrics
                if not isinstance(m.higher_is_better, bool)
                and (needing := [r for r in m.roles if r in DIRECTED_ROLES])]
    if problems:
        raise BenchError("; ".join(problems) + f" (roles that read which way is better: "
                         f"{', '.join(DIRECTED_ROLES)}; docs/how-to/add-a-metric.md)",
                         field="bench.schema.METRICS")


check_directions(METRICS)

# The instrument's feature dimension. FID needs a full-rank covariance estimate, so evaluations
# need at least this many samples (bench.config checks it before training).
FEATURE_DIM = 128
NUM_CLASSES = 10


# Columns of the results DataFrame and results.csv (bench.analysis.results) that are not plain
# config or summary keys: throughput statistics, memory, and the final evaluation's metrics.
def final_column(key: str) -> str:
    return f"final_{key}"


IMAGES_PER_SEC_MEDIAN = "images_per_sec_median"
IMAGES_PER_SEC_P10 = "images_per_sec_p10"
IMAGES_PER_SEC_P90 = "images_per_sec_p90"
IMAGES_PER_SEC_OVERALL = "images_per_sec_overall"
IMAGES_PER_SEC_WINDOWS = "images_per_sec_windows"
# column -> key of the summary's images_per_sec block
IMAGES_PER_SEC_COLUMNS = {IMAGES_PER_SEC_MEDIAN: "median", IMAGES_PER_SEC_P10: "p10",
                          IMAGES_PER_SEC_P90: "p90", IMAGES_PER_SEC_OVERALL: "overall",
                          IMAGES_PER_SEC_WINDOWS: "windows"}
WINDOWS_EXCLUDED = "windows_excluded"  # JSON: {reason: count}
# what else ran in the measured windows (bench.cell.contention): column -> key of the summary's
# contention block (None in records from before it was measured)
CONTENDED_WINDOWS = "contended_windows"
OTHERS_SHARE = "others_share"
CONTENTION_COLUMNS = {CONTENDED_WINDOWS: "contended_windows", "cpu_share": "cpu_share_median",
                      OTHERS_SHARE: "others_share_median", "others_share_max": "others_share_max",
                      "steal_share": "steal_share_median", "load_1m": "load_1m_median"}
WARNINGS = "warnings"  # the summary's warnings, joined with " | "
WARNINGS_COUNT = "warnings_count"
CLASSIFIER_SHA256 = "classifier_sha256"  # the instrument of the final evaluation
# The machine a cell ran on (bench.machine): throughput compares only within one fingerprint.
MACHINE_FINGERPRINT = "machine_fingerprint"
# native | emulated | unknown: whether the cell's precision ran natively on its device
PRECISION_SUPPORT = "precision_support"
# Peak memory, each with its kind (gpu_allocator | process_rss): two kinds never share a column.
PEAK_MEMORY_TRAIN_BYTES = "peak_memory_train_bytes"
PEAK_MEMORY_TRAIN_KIND = "peak_memory_train_kind"
PEAK_MEMORY_PROCESS_BYTES = "peak_memory_process_bytes"
PEAK_MEMORY_PROCESS_KIND = "peak_memory_process_kind"
BYTES_PER_MIB = 2 ** 20
# final_<metric key> for each metric a table or figure shows by name
(FINAL_N, FINAL_FID, FINAL_RANK_DEFICIENT, FINAL_KID, FINAL_CLASSIFIER_SCORE, FINAL_CLASSES_COVERED,
 FINAL_MAX_CLASS_FRACTION, FINAL_CONFIDENT_FRACTION, FINAL_OUTCOME, FINAL_PRECISION, FINAL_RECALL,
 FINAL_DENSITY, FINAL_COVERAGE, FINAL_CLASS_HISTOGRAM, FINAL_STACKED_N, FINAL_MODES,
 FINAL_MODES_THRESHOLDED, FINAL_REVERSE_KL) = map(final_column, (
    N, FID, RANK_DEFICIENT, KID, CLASSIFIER_SCORE, CLASSES_COVERED, MAX_CLASS_FRACTION,
    CONFIDENT_FRACTION, OUTCOME, PRECISION, RECALL, DENSITY, COVERAGE, CLASS_HISTOGRAM, STACKED_N,
    MODES, MODES_THRESHOLDED, REVERSE_KL))


# Verdicts. One test of a comparison (bench.analysis.compare) says regression, improvement,
# no change or inconclusive (a throughput test: contended, bench.analysis.throughput); a night,
# as the history keeps it, says ok, regression (found tonight), open (carried from an earlier
# night; bench.analysis.nights) or inconclusive (nothing found, and a configuration too
# contended to judge); `drift` is a word older histories hold. A claim
# (bench.analysis.claims) holds, fails or is inconclusive.
VERDICT_REGRESSION = "regression"
# a configuration's states on a night judged slow in it (bench.analysis.nights): new, or carried
NIGHT_SLOW_STATES = ("new", "open")
VERDICT_IMPROVEMENT = "improvement"
VERDICT_NO_CHANGE = "no change"
VERDICT_INCONCLUSIVE = "inconclusive"
VERDICT_OK = "ok"
VERDICT_OPEN = "open"
VERDICT_DRIFT = "drift"
BAD_VERDICTS = (VERDICT_REGRESSION, VERDICT_OPEN, VERDICT_DRIFT)
# a night that is no baseline for the next: a bad one, or one whose windows measured the machine
NOT_A_BASELINE = (*BAD_VERDICTS, VERDICT_INCONCLUSIVE)
# a configuration's state on a night too contended to judge it (bench.analysis.nights)
NIGHT_CONTENDED = "contended"
CLAIM_HOLDS = "holds"
CLAIM_FAILS = "fails"
CLAIM_INCONCLUSIVE = VERDICT_INCONCLUSIVE
