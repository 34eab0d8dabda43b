"""Find the passage that answers a question: jieba tokens, BM25 over an inverted index.

Layers, each importing only those before it: `text` (tokens), `bm25` and `collector`
(scoring, the garbage collector), `index` (build, save, refresh), `search` (answer a
question), `evaluation` (measure it), `cli` (the `linli` commands). May import corpus;
never bot or telegram.
"""
