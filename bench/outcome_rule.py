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

Stacked MNIST (three digits an image, 1,000 modes) adds one rule after these, applied to the
channel digits' outcome: a seed whose samples cover fewer than STACKED_COLLAPSE_MODES of the
1,000 digit triples has collapsed, whatever each channel shows. The count is the thresholded one
(bench.evaluate.stacked: a mode needs 1 sample in 2,600), as misread digits add modes a collapsed
generator never made (10 real triples read as 77-107 modes by PacGAN's one-sample count, 15-16
thresholded). Why 100: a tenth of the modes, the order of what the literature reports for a
collapsing DCGAN (PacGAN's Table 2: 78.9 on average) and far below a healthy one (PacDCGAN2:
1,000); 26,000 real stacked digits read 1,000.

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
STACKED_COLLAPSE_MODES = 100
# The thresholded mode count's bar (bench.evaluate.stacked): a triple counts with one sample in
# this many (10 of PacGAN's 26,000).
MODE_MIN_SAMPLES_PER = 2600


def thresholds() -> dict:
    return {"outcome_min_confident_fraction": OUTCOME_MIN_CONFIDENT,
            "mode_collapse_max_classes": MODE_COLLAPSE_MAX_CLASSES,
            "mode_collapse_max_fraction": MODE_COLLAPSE_MAX_FRACTION,
            "stacked_collapse_modes": STACKED_COLLAPSE_MODES}


def coverage_to_outcome(confident_fraction: float, classes_covered: int,
                        max_class_fraction: float) -> str:
    """digits, mode_collapse or not_converged (see the module docstring for the rule)."""
    if confident_fraction < OUTCOME_MIN_CONFIDENT:
        return OUTCOME_NOT_CONVERGED
    if classes_covered <= MODE_COLLAPSE_MAX_CLASSES or max_class_fraction >= MODE_COLLAPSE_MAX_FRACTION:
        return OUTCOME_MODE_COLLAPSE
    return OUTCOME_DIGITS


def stacked_outcome(channel_outcome: str, modes: int) -> str:
    """A stacked-mnist seed's outcome: its channel digits' outcome, and mode_collapse when
    recognisable samples cover fewer than STACKED_COLLAPSE_MODES triples (`modes`: the
    thresholded count)."""
    if channel_outcome == OUTCOME_DIGITS and modes < STACKED_COLLAPSE_MODES:
        return OUTCOME_MODE_COLLAPSE
    return channel_outcome
