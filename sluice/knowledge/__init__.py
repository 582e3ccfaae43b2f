"""Knowledge bases (issue 17): parse.py (a file's bytes to text, within a budget), chunk.py (OpenAI's
``static`` and ``auto`` chunking strategies, with offsets), rank.py (rank fusion, score threshold and
attribute filters, the same for every backend)."""
