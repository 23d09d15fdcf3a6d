"""docs/images/training-curves-cpu.png: the curves of docs/numbers.md's "How long the DCGAN takes to
draw digits", drawn from the numbers its table gives (FID on 2,000 samples, classes covered and
the confident share every 500 steps, batch 64: float32 seeds 0 and 1, mixed bfloat16 seed 0).
An image, so that the docs site needs no script and no network to show them.

    python docs/images/make_training_curves.py
"""

from pathlib import Path

STEPS = list(range(500, 10_000, 500))
RUNS = ("float32, seed 0", "float32, seed 1", "mixed bfloat16, seed 0")
FID = ([2176, 1207, 920, 511, 426, 1035, 431, 753, 510, 767, 523, 344, 324, 348, 241, 247, 225,
        191, 160],
       [1845, 748, 681, 715, 1222, 483, 694, 641, 594, 428, 301, 324, 411, 374, 405, 237, 162,
        227, 212],
       [1450, 1016, 1198, 670, 887, 840, 533, 442, 677, 556, 463, 412, 413, 306, 197, 206, 182,
        267, 175])
CLASSES = ([0, 2, 1, 4, 6, 3, 3, 4, 5, 4, 6, 6, 8, 7, 9, 9, 9, 9, 10],
           [0, 1, 2, 3, 1, 5, 2, 5, 4, 7, 7, 7, 5, 6, 6, 8, 10, 9, 8],
           [1, 3, 2, 4, 2, 4, 5, 4, 4, 3, 4, 6, 6, 8, 9, 10, 10, 9, 9])
CONFIDENT = ([0.00, 0.14, 0.17, 0.31, 0.26, 0.18, 0.33, 0.39, 0.36, 0.38, 0.37, 0.47, 0.47, 0.48,
              0.53, 0.52, 0.53, 0.57, 0.60],
             [0.00, 0.17, 0.20, 0.24, 0.08, 0.33, 0.39, 0.32, 0.49, 0.36, 0.41, 0.47, 0.51, 0.51,
              0.52, 0.54, 0.60, 0.56, 0.57],
             [0.82, 0.12, 0.16, 0.30, 0.23, 0.47, 0.38, 0.31, 0.24, 0.36, 0.34, 0.45, 0.38, 0.44,
              0.55, 0.56, 0.55, 0.49, 0.60])
OUT = Path(__file__).with_name("training-curves-cpu.png")


def main():
    from matplotlib.figure import Figure

    from bench.report import figures

    a, b = figures.style()
    with a, b:
        fig = Figure(figsize=(11, 3.4), layout="constrained")
        axes = fig.subplots(1, 3)
        panels = ((FID, "FID (n = 2,000), lower is better", (0, 2200)),
                  (CLASSES, "classes covered (of 10)", (0, 10.5)),
                  (CONFIDENT, "confident share", (0, 1)))
        for ax, (series, title, limits) in zip(axes, panels):
            for run, values in zip(RUNS, series):
                ax.plot(STEPS, values, marker="o", markersize=3, label=run)
            ax.set_title(title, fontsize=10, loc="left")
            ax.set_xlabel("training steps (batch 64)")
            ax.set_ylim(*limits)
        axes[0].legend(fontsize=8)
        fig.savefig(OUT, dpi=110)
    print(f"written: {OUT}")


if __name__ == "__main__":
    main()
