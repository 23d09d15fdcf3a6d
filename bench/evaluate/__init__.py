"""The instrument and what it measures: the shipped classifier (classifier; its training in
training), TF-GAN's loader (tfgan), the metric math (metrics, prdc), cached reference statistics
(reference), and scoring an image set end to end (score)."""
