"""Text as the index and the questions see it: normalised jieba tokens and word lists.

Rooms: `tokenize` (normalisation and the private jieba tokenizer), `lexicon` (stopwords,
the user dictionary, synonyms, local names), `commonness` (how common a word is in
general Chinese), `typos` (homophone repair). May import corpus's text and
`retrieval.collector`; nothing else of retrieval/.
"""
