"""Names in the run-record contract: file names, statuses, metric keys.

Everything after training (results, reports, comparisons) reads records through these names, and
metric keys double as DataFrame column names. See DESIGN.md for the layout of a run directory.
"""

SCHEMA_VERSION = 1

# Files of one cell directory.
CONFIG_FILE = "config.json"
ENV_FILE = "env.json"
STEPS_FILE = "steps.jsonl"
EVALS_FILE = "evals.jsonl"
SUMMARY_FILE = "summary.json"
SAMPLES_FILE = "samples.png"
GENERATOR_FILE = "generator.weights.h5"
TRACEBACK_FILE = "traceback.txt"
TENSORBOARD_DIR = "tb"

# Files of one run (grid) directory.
MANIFEST_FILE = "manifest.json"
RESULTS_FILE = "results.csv"

# Cell statuses. Only "ok" means the numbers in the summary are complete.
STATUS_OK = "ok"
STATUS_DIVERGED = "diverged"
STATUS_FAILED = "failed"
STATUS_SKIPPED = "skipped"
STATUS_RUNNING = "running"
STATUSES = (STATUS_OK, STATUS_DIVERGED, STATUS_FAILED, STATUS_SKIPPED, STATUS_RUNNING)

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
CLASSIFIER_SCORE = "classifier_score"
CLASSES_COVERED = "classes_covered"
KL_TO_UNIFORM = "kl_to_uniform"
MAX_CLASS_FRACTION = "max_class_fraction"
CONFIDENT_FRACTION = "confident_fraction"
COLLAPSED = "collapsed"
PRECISION = "precision"
RECALL = "recall"
DENSITY = "density"
COVERAGE = "coverage"
CLASS_HISTOGRAM = "class_histogram"
RANK_DEFICIENT = "rank_deficient"
SCALAR_METRICS = (
    N, FID, KID, KID_STD, CLASSIFIER_SCORE, CLASSES_COVERED, KL_TO_UNIFORM, MAX_CLASS_FRACTION,
    CONFIDENT_FRACTION, COLLAPSED, PRECISION, RECALL, DENSITY, COVERAGE,
)
