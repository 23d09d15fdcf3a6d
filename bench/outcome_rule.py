"""The one definition of a seed's outcome, from its final evaluation's mode-coverage numbers.

Three outcomes, checked in this order:

- `not_converged`: fewer than OUTCOME_MIN_CONFIDENT of the samples are digits the instrument is
  sure of (top-class probability >= 0.9). The samples are not yet digits: black or grey squares,
  noise, blobs, half-formed strokes. Such a generator has not collapsed; it has not learned yet,
  and says nothing about collapse. Measured with the shipped MNIST instrument: real digits 0.98,
  digits blurred with sigma 1 0.82 and with sigma 2 0.05, uniform noise 0.00; the reference DCGAN
  on mnist-5k at batch 64 after 1,000 steps 0.17 (blobs), between 3,000 and 5,000 steps 0.3-0.5
  (half-formed digits of a few kinds, the stage where a low bar would call an undertrained
  generator collapsed), after 8,000-10,000 steps 0.54-0.61 (recognisable, rough digits).
- `mode_collapse`: recognisable samples, but few classes: at most MODE_COLLAPSE_MAX_CLASSES of
  the 10 classes covered, or one class with at least MODE_COLLAPSE_MAX_FRACTION of all samples.
- `digits`: recognisable and diverse.

Pure: numbers in, a word out. The evaluation stores the outcome and these thresholds with every
result; reports and claims read the stored word.
"""

OUTCOME_DIGITS = "digits"
OUTCOME_MODE_COLLAPSE = "mode_collapse"
OUTCOME_NOT_CONVERGED = "not_converged"
OUTCOMES = (OUTCOME_DIGITS, OUTCOME_MODE_COLLAPSE, OUTCOME_NOT_CONVERGED)

OUTCOME_MIN_CONFIDENT = 0.4
MODE_COLLAPSE_MAX_CLASSES = 5
MODE_COLLAPSE_MAX_FRACTION = 0.5


def thresholds() -> dict:
    return {"outcome_min_confident_fraction": OUTCOME_MIN_CONFIDENT,
            "mode_collapse_max_classes": MODE_COLLAPSE_MAX_CLASSES,
            "mode_collapse_max_fraction": MODE_COLLAPSE_MAX_FRACTION}


def coverage_to_outcome(confident_fraction: float, classes_covered: int,
                        max_class_fraction: float) -> str:
    """digits, mode_collapse or not_converged (see the module docstring for the rule)."""
    if confident_fraction < OUTCOME_MIN_CONFIDENT:
        return OUTCOME_NOT_CONVERGED
    if classes_covered <= MODE_COLLAPSE_MAX_CLASSES or max_class_fraction >= MODE_COLLAPSE_MAX_FRACTION:
        return OUTCOME_MODE_COLLAPSE
    return OUTCOME_DIGITS
