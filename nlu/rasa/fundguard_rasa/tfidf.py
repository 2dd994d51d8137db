"""A TF-IDF sparse featurizer for Chinese: character n-grams across word boundaries plus jieba words.

Rasa's CountVectorsFeaturizer gives raw counts; with them DIET over-fits this data and misses paraphrases (held-out
figures in nlu/rasa/README.md). Sub-linear, L2-normalised TF-IDF of character 1-3-grams of the whole sentence (spaces
removed, so n-grams cross jieba's word boundaries) and of jieba words is what the embedded classifier learns from;
here it feeds DIET. Runs inside Rasa (Python 3.10, .venv-rasa or the rasa/rasa image), never in the app.
"""

# ruff: noqa: UP006, UP035, UP019, UP045  (typing.List & co.: the annotations Rasa's graph validation compares)
from __future__ import annotations

import json
from typing import Any, Callable, Dict, List, Optional, Text

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.sparse_featurizer.sparse_featurizer import SparseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer

_FILE = "tfidf.json"  # vocabularies and idf weights: a model file is data, never unpickled


def _chars(text: str) -> str:
    return "".join(text.split())


def _identity(words: List[str]) -> List[str]:
    """The word vectorizer's analyzer: the documents are jieba's tokens already."""
    return words


def _char_vectorizer(config: Dict[Text, Any], vocabulary: Optional[Dict[str, int]] = None) -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char", ngram_range=(config["min_ngram"], config["max_ngram"]), sublinear_tf=True,
                           min_df=config["min_df"], lowercase=False, vocabulary=vocabulary, dtype=np.float32)


def _word_vectorizer(vocabulary: Optional[Dict[str, int]] = None) -> TfidfVectorizer:
    return TfidfVectorizer(analyzer=_identity, sublinear_tf=True, lowercase=False, vocabulary=vocabulary,
                           dtype=np.float32)


def _restore(vectorizer: TfidfVectorizer, idf: List[float]) -> TfidfVectorizer:
    vectorizer._validate_vocabulary()
    vectorizer.idf_ = np.asarray(idf, dtype=np.float64)
    return vectorizer


class _Rows:
    """A fitted TfidfVectorizer's transform of one document, without scikit-learn's per-call overhead.

    Same arithmetic as TfidfVectorizer.transform (analyzer, counts, 1 + log tf, × idf, l2 norm), as dictionary
    look-ups: ~20× faster for the single short texts of a parse. `offset` shifts the columns (an hstack).
    """

    def __init__(self, vectorizer: TfidfVectorizer, offset: int = 0) -> None:
        self._analyse = vectorizer.build_analyzer()
        self._vocabulary = vectorizer.vocabulary_
        self._idf = vectorizer.idf_
        self._offset = offset
        self.width = len(self._vocabulary)

    def row(self, document: Any) -> tuple[List[int], List[float]]:
        counts: Dict[int, int] = {}
        for token in self._analyse(document):
            j = self._vocabulary.get(token)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        if not counts:
            return [], []
        idx = np.fromiter(counts, dtype=np.int64, count=len(counts))
        weights = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))) * self._idf[idx]
        weights /= np.sqrt(np.dot(weights, weights))
        return (idx + self._offset).tolist(), weights.tolist()


def _rows_of(vectorizers: Optional[tuple[TfidfVectorizer, TfidfVectorizer]]) -> Optional[tuple[_Rows, _Rows]]:
    if vectorizers is None:
        return None
    chars, words = vectorizers
    return _Rows(chars), _Rows(words, offset=len(chars.vocabulary_))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class TfidfFeaturizer(SparseFeaturizer, GraphComponent):
    """Sentence and token features: TF-IDF of character n-grams and of words."""

    @classmethod
    def required_components(cls) -> List[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**SparseFeaturizer.get_default_config(), "min_ngram": 1, "max_ngram": 3, "min_df": 1}

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if not 1 <= config["min_ngram"] <= config["max_ngram"]:
            raise ValueError("TfidfFeaturizer: need 1 <= min_ngram <= max_ngram")

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 execution_context: ExecutionContext,
                 vectorizers: Optional[tuple[TfidfVectorizer, TfidfVectorizer]] = None) -> None:
        super().__init__(execution_context.node_name, config)
        self._model_storage = model_storage
        self._resource = resource
        self._vectorizers = vectorizers
        self._rows = _rows_of(vectorizers)

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> TfidfFeaturizer:
        return cls(config, model_storage, resource, execution_context)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> TfidfFeaturizer:
        with model_storage.read_from(resource) as folder:
            saved = json.loads((folder / _FILE).read_text(encoding="utf-8"))
        vectorizers = (_restore(_char_vectorizer(config, saved["chars"]["vocabulary"]), saved["chars"]["idf"]),
                       _restore(_word_vectorizer(saved["words"]["vocabulary"]), saved["words"]["idf"]))
        return cls(config, model_storage, resource, execution_context, vectorizers)

    @staticmethod
    def _words(message: Message) -> List[str]:
        return [t.text for t in message.get(TOKENS_NAMES[TEXT], [])]  # one row per token, as Rasa expects

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.training_examples if m.get(TEXT)]
        chars = _char_vectorizer(self._config)
        words = _word_vectorizer()
        chars.fit([_chars(m.get(TEXT)) for m in examples])
        words.fit([self._words(m) for m in examples])
        self._vectorizers = (chars, words)
        self._rows = _rows_of(self._vectorizers)
        saved = {name: {"vocabulary": {k: int(v) for k, v in vec.vocabulary_.items()}, "idf": vec.idf_.tolist()}
                 for name, vec in (("chars", chars), ("words", words))}
        with self._model_storage.write_to(self._resource) as folder:
            (folder / _FILE).write_text(json.dumps(saved, ensure_ascii=False), encoding="utf-8")
        return self._resource

    def _reference(self, pieces: List[str], words: List[List[str]]) -> scipy.sparse.coo_matrix:
        """The vectorizers' own transforms, side by side: the features training learns from."""
        assert self._vectorizers is not None
        chars, vocab = self._vectorizers
        return scipy.sparse.hstack([chars.transform(pieces), vocab.transform(words)]).tocoo()

    def _matrix(self, pieces: List[str], words: List[List[str]]) -> scipy.sparse.coo_matrix:
        """_reference's rows, computed by _Rows: what a parse gets (the same values to float32 rounding)."""
        assert self._rows is not None
        chars, vocab = self._rows
        rows, cols, vals = [], [], []
        for i, (piece, tokens) in enumerate(zip(pieces, words, strict=True)):
            for columns, values in (chars.row(piece), vocab.row(tokens)):
                rows += [i] * len(columns)
                cols += columns
                vals += values
        shape = (len(pieces), chars.width + vocab.width)
        return scipy.sparse.coo_matrix((np.asarray(vals, dtype=np.float32), (rows, cols)), shape=shape)

    def _featurize(self, message: Message, matrix: Callable[[List[str], List[List[str]]], Any]) -> None:
        text = message.get(TEXT)
        words = self._words(message)
        if not text or not words or self._vectorizers is None:
            return
        sentence = matrix([_chars(text)], [words])
        sequence = matrix(words, [[w] for w in words])
        self.add_features_to_message(sequence, sentence, TEXT, message)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            self._featurize(message, self._reference)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._featurize(message, self._matrix)
        return messages

