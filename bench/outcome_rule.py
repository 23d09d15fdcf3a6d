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

Stacked MNIST (three digits an image, 1,000 modes) reads the same three outcomes from each
sample's three channels (`stacked_outcome`), diversity first, in this order:

- `mode_collapse`, by the triples: the samples fall in fewer than STACKED_COLLAPSE_MODES of the
  1,000 digit triples, whatever they look like. A generator that draws one blob for every z has
  collapsed (the instrument reads its one image as one triple), where an untrained one draws
  noise that the instrument scatters over hundreds of triples (measured: 238-384 thresholded
  triples from seeds 1,500 steps in). The count is the thresholded one (bench.evaluate.stacked:
  a mode needs 1 sample in 2,600), as misread digits add modes a collapsed generator never made
  (10 real triples read as 77-107 modes by PacGAN's one-sample count, 15-16 thresholded). Why
  100: a tenth of the modes, the order of what the literature reports for a collapsing DCGAN
  (PacGAN's Table 2: 78.9 on average) and far below a healthy one (PacDCGAN2: 1,000); 26,000
  real stacked digits read 1,000.
- `not_converged`: fewer than OUTCOME_MIN_CONFIDENT of the samples are confident digits in all
  three channels (bench.evaluate.stacked's `all_channels_confident`): blobs, noise, half-formed
  strokes in any channel, spread over many triples. Real stacked digits read about 0.94.
- `mode_collapse`, by a channel: recognisable samples, but a channel covers at most
  MODE_COLLAPSE_MAX_CLASSES of its 10 classes (the MNIST rule, channel by channel:
  `channel_classes_min`; a generator whose third channel always draws one digit covers 100
  triples and has collapsed).
- `digits`: recognisable and diverse in every channel and across them.

A claim about collapse counts `mode_collapse`; what it does with `not_converged` seeds its file
says (`not_converged = "inconclusive" | "exclude" | "count_as_collapse" |
"count_as_not_collapsed"`, bench.analysis.claims_spec). On MNIST they say nothing about collapse;
on Stacked MNIST, read diversity first, they spread over 100 triples or more: not collapsed.

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


def stacked_outcome(all_channels_confident: float, channel_classes_min: int,
                    modes_thresholded: int) -> str:
    """A stacked-mnist seed's outcome from its samples' channels (see the module docstring)."""
    if modes_thresholded < STACKED_COLLAPSE_MODES:
        return OUTCOME_MODE_COLLAPSE
    if all_channels_confident < OUTCOME_MIN_CONFIDENT:
        return OUTCOME_NOT_CONVERGED
    if channel_classes_min <= MODE_COLLAPSE_MAX_CLASSES:
        return OUTCOME_MODE_COLLAPSE
    return OUTCOME_DIGITS
