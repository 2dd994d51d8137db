"""Rasa's CountVectorsFeaturizer, counting one message's tokens with dictionary look-ups instead of sklearn calls.

CountVectorizer.transform costs ~0.15 ms a call whatever the text, and the featurizer calls it twice per message and
attribute (the tokens, then the joined sentence). This subclass counts with the fitted vectorizer's own analyzer and
vocabulary: the same sorted sparse rows (same columns, counts, dtype; `binary` honoured), trained and saved exactly
as Rasa's component is (training featurizes in sklearn batches, as Rasa does; only a parse counts here).
"""

# ruff: noqa: UP006, UP035, UP019, UP045  (typing.List & co.: the annotations Rasa's graph validation compares)
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Text, Tuple

import numpy as np
import scipy.sparse
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.nlu.training_data.message import Message
from sklearn.feature_extraction.text import CountVectorizer


class _Counter:
    """CountVectorizer.transform of a few documents, for a fitted vectorizer."""

    def __init__(self, vectorizer: CountVectorizer) -> None:
        if not hasattr(vectorizer, "vocabulary_"):  # built from a saved vocabulary: transform would set it
            vectorizer._validate_vocabulary()
        self._analyse: Callable[[str], List[str]] = vectorizer.build_analyzer()
        self._vocabulary: Dict[str, int] = vectorizer.vocabulary_
        self._binary = bool(vectorizer.binary)
        self._dtype = vectorizer.dtype

    def transform(self, documents: List[str]) -> scipy.sparse.coo_matrix:
        rows: List[int] = []
        cols: List[int] = []
        vals: List[int] = []
        for i, document in enumerate(documents):
            counts: Dict[int, int] = {}
            for token in self._analyse(document):
                j = self._vocabulary.get(token)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            for j in sorted(counts):
                rows.append(i)
                cols.append(j)
                vals.append(1 if self._binary else counts[j])
        return scipy.sparse.coo_matrix((np.asarray(vals, dtype=self._dtype), (rows, cols)),
                                       shape=(len(documents), len(self._vocabulary)))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class FastCountVectorsFeaturizer(CountVectorsFeaturizer):
    """CountVectorsFeaturizer whose features are counted in Python: same features, no per-call sklearn overhead."""

    _counters: Optional[Dict[int, _Counter]] = None

    def _counter(self, vectorizer: CountVectorizer) -> _Counter:
        if self._counters is None:
            self._counters = {}
        counter = self._counters.get(id(vectorizer))
        if counter is None or counter._vocabulary is not getattr(vectorizer, "vocabulary_", None):  # refitted
            counter = self._counters[id(vectorizer)] = _Counter(vectorizer)
        return counter

    def _features(self, attribute: Text, tokens: List[Text]) -> Tuple[Any, Any]:
        """(sequence, sentence) features of one message's tokens: CountVectorsFeaturizer._create_features's."""
        vectorizer = self.vectorizers.get(attribute)
        if not vectorizer or (getattr(vectorizer, "vocabulary_", None) is None and vectorizer.vocabulary is None):
            sequence, sentence = super()._create_features(attribute, [tokens])  # not fitted: Rasa's own answer
            return sequence[0], sentence[0]
        if not tokens:  # nothing to featurize
            return None, None
        counter = self._counter(vectorizer)
        dense = attribute in DENSE_FEATURIZABLE_ATTRIBUTES
        return counter.transform(tokens), counter.transform([" ".join(tokens)]) if dense else None

    def process(self, messages: List[Message]) -> List[Message]:
        """As CountVectorsFeaturizer.process; training (process_training_data) stays Rasa's, in sklearn batches."""
        if self.vectorizers is None:
            return super().process(messages)  # Rasa logs that it is untrained
        for message in messages:
            for attribute in self._attributes:
                tokens = self._get_processed_message_tokens_by_attribute(message, attribute)
                sequence, sentence = self._features(attribute, tokens)
                self.add_features_to_message(sequence, sentence, attribute, message)
        return messages
