"""Generate the figures of the documentation.

Run from anywhere (needs matplotlib, the ``plots`` extra)::

    python docs/figures.py

Writes ``docs/img/schedule_families.png``: one small plot per registered
schedule family, over a horizon of 20 epochs.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from tuneweights import schedules  # noqa: E402
from tuneweights.plots import weight_curves  # noqa: E402

HORIZON = 20
OUT = Path(__file__).resolve().parent / "img" / "schedule_families.png"

# Illustrative parameters; a family not listed here (a custom one) is drawn
# with its defaults.
EXAMPLES = {
    "constant": {"weight": 0.5},
    "linear": {"start": 1.0, "end": 0.2, "begin": 0.2, "stop": 0.8},
    "exponential": {"start": 1.0, "end": 0.01},
    "cosine": {"start": 1.0, "end": 0.0},
    "step": {"start": 1.0, "end": 0.0, "at": 0.4},
    "warmup": {"weight": 1.0, "length": 0.3},
    "sigmoid": {"start": 1.0, "end": 0.0, "at": 0.5, "width": 0.05},
    "cyclical": {"weight": 1.0, "cycles": 4, "ratio": 0.5},
}


def main() -> None:
    names = sorted(schedules.registered())
    columns = 4
    rows = -(-len(names) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.6 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):  # axes may outnumber families
        schedule = schedules.get({"name": name, **EXAMPLES.get(name, {})})
        epochs, curves = weight_curves({name: schedule}, horizon=HORIZON)
        ax.plot(epochs, curves[name])
        ax.set_title(name, fontsize=11)
        ax.text(
            0.5, -0.3, _wrap(schedule.describe()), transform=ax.transAxes, ha="center", va="top", fontsize=7
        )
        ax.set_xlim(0, HORIZON)
        ax.set_ylim(-0.05, 1.1 * max(1.0, float(curves[name].max())))
        ax.set_xlabel("epoch", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(names) :]:
        ax.set_visible(False)
    fig.suptitle(f"Schedule families, horizon = {HORIZON} epochs", fontsize=12)
    fig.tight_layout()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT, dpi=110)
    print(f"wrote {OUT}")


def _wrap(text: str, width: int = 40) -> str:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line])


if __name__ == "__main__":
    main()
