"""Find the passage that answers a question: jieba tokens, BM25 over an inverted index."""
