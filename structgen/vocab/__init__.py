"""Vocabularies: token id → output bytes (:class:`Vocabulary`) and their byte trie (:class:`TokenTrie`)."""
from __future__ import annotations

from structgen.vocab.trie import TokenTrie
from structgen.vocab.vocabulary import END_TOKEN_CONTENTS, Vocabulary

__all__ = ["END_TOKEN_CONTENTS", "TokenTrie", "Vocabulary"]
