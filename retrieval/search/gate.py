"""The answer gate: how sure the searcher is that its best passage answers the question.

One logistic score over a few features of the ranking (fitted by `linli calibrate`
on CMRC 2018 split in halves, where questions about the missing half must not be
answered). The weights ship in `retrieval/data/gate.json`, not as constants here.
Imports only the standard library: the searcher's models and features import it.
"""

import json
import math
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path

GATE_FORMAT = 1
# Below this share of the question's information no passage is an answer, whatever
# the score says: on a corpus of a few articles the score gap is inflated.
COVERAGE_FLOOR = 0.5
# Below this share nothing is even shown as the closest match.
CLOSEST_FLOOR = 0.25


class GateFileError(ValueError):
    """The gate's weights file is missing a field or is not a gate file."""


@dataclass(frozen=True)
class Features:
    """What the gate looks at, for the best passage of one question."""

    gap: float  # lead of the best passage over the best of another article, / max score
    coverage: float  # share of the question's information found in the passage's window
    unseen: float  # share of the question's information in words the index has never seen
    rare_found: float  # share of the question's two rarest words found in the window
    words: float  # log(1 + number of meaningful words of the question)
    score: float  # the best passage's score / the question's maximum possible score
    missing: float  # IDF of the rarest word the window lacks / IDF of the rarest word
    runner_coverage: float  # coverage of the best passage of another article
    pairs: float  # share of the question words' character pairs found in the window
    run: float  # longest stretch of the question found in the window / the question's length
    size: float  # log of the number of passages: a small corpus inflates the gap and unseen
    unseen_size: float  # unseen * size
    gap_size: float  # gap * size
    coverage_size: float  # coverage * size
    kind_missing: float  # 1: asks when or how often, and the window holds no date or frequency
    detail_missing: float  # 1: asks a phone number, a price or opening hours the window lacks
    place_missing: float  # 1: names a place (港湾社区) the window does not

    @classmethod
    def names(cls) -> list[str]:
        """The feature names, in the order of the weights."""
        return [f.name for f in fields(cls)]

    def vector(self) -> list[float]:
        """The features as a list, in the order of `names()`."""
        return [getattr(self, name) for name in _NAMES]


_NAMES = tuple(Features.names())


@dataclass(frozen=True)
class Gate:
    """A logistic score over `Features`, and the confidence at which the bot answers."""

    weights: tuple[float, ...]
    bias: float
    threshold: float
    # The share of the corpus's self-test probes (retrieval/search/selftest.py) asked with
    # their article removed that this gate answers on the corpus it was fitted on; None: no
    # self-test (a gate file without it). A corpus raises the threshold until its own
    # absent probes are answered no more often.
    selftest_target: float | None = None

    def confidence(self, features: Features) -> float:
        """Return the probability-like confidence (0 to 1) that the passage answers."""
        z = self.bias + sum(w * x for w, x in zip(self.weights, features.vector(), strict=True))
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def to_json(self, **extra: object) -> str:
        """Serialise the gate, with `extra` facts about how it was fitted."""
        return json.dumps({"format": GATE_FORMAT, "features": Features.names(),
                           "weights": list(self.weights), "bias": self.bias,
                           "threshold": self.threshold,
                           **({} if self.selftest_target is None
                              else {"selftest_target": self.selftest_target}), **extra},
                          ensure_ascii=False, indent=1) + "\n"

    @classmethod
    def load(cls, path: Path | None = None) -> "Gate":
        """Read a gate file: the bundled `retrieval/data/gate.json`, or `path`."""
        if path is None:
            text = resources.files("retrieval").joinpath("data", "gate.json").read_text(
                encoding="utf-8")
            where = "retrieval/data/gate.json"
        else:
            text, where = path.read_text(encoding="utf-8"), str(path)
        try:
            data = json.loads(text)
            if data.get("format") != GATE_FORMAT or data.get("features") != Features.names():
                raise GateFileError(f"{where}: not a gate file of format {GATE_FORMAT} with "
                                    f"features {Features.names()}; re-run `linli calibrate`")
            target = data.get("selftest_target")
            return cls(tuple(float(w) for w in data["weights"]), float(data["bias"]),
                       float(data["threshold"]), None if target is None else float(target))
        except (ValueError, KeyError, TypeError) as err:
            if isinstance(err, GateFileError):
                raise
            raise GateFileError(f"{where}: unreadable gate file ({err}); "
                                "re-run `linli calibrate`") from None

    def answers(self, features: Features, threshold: float | None = None) -> bool:
        """True if the passage is an answer: confident, above the coverage floor, with a number.

        A question asking which number to call, what something costs or at what hours
        it opens is never answered by a passage without a number, a price or 免费, or
        an hour. (A date missing for a
        question asking when only lowers the confidence: a hard rule lost right answers
        on CMRC 2018, whose dates come in many forms.)
        """
        return (features.coverage >= COVERAGE_FLOOR and not features.detail_missing
                and not features.place_missing
                and self.confidence(features) >= (self.threshold if threshold is None
                                                  else threshold))

    def with_threshold(self, threshold: float | None) -> "Gate":
        """Return this gate with another threshold (None keeps the fitted one)."""
        if threshold is None:
            return self
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"answer threshold {threshold} is not between 0 and 1")
        return Gate(self.weights, self.bias, threshold, self.selftest_target)
