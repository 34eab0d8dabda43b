"""Where the corpus package keeps its files: the bundled sample articles. Imports nothing else."""

from pathlib import Path

# The sample articles shipped with the package (the default corpus of the bot and the CLI).
BUNDLED_CORPUS = Path(__file__).parent / "articles"
