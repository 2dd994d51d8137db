"""A linear intent classifier for Rasa: a linear SVM over the TF-IDF features, blended with DIET's ranking.

On this data DIET alone generalises worse than a linear margin classifier (nlu/rasa/README.md has the figures).
This component runs after DIETClassifier: it scores every intent with a linear SVM on the features of the
featurizers named in `featurizers`, turns the margins into probabilities (softmax, `temperature`), and blends them
with DIET's ranking (`diet_weight`). The blend is the parse Rasa answers with; FallbackClassifier follows it.
"""

# ruff: noqa: UP006, UP035, UP019, UP045  (typing.List & co.: the annotations Rasa's graph validation compares)
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Text

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.svm import LinearSVC

from fundguard_rasa.features import sentence_row

_FILE = "linear.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    """Linear SVM intents (softmax of margins), optionally blended with the ranking of an earlier classifier."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"featurizers": [], "C": 1.0, "temperature": 4.0, "diet_weight": 0.25, "ranking_length": 10}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 classes: Optional[List[str]] = None, coef: Optional[np.ndarray] = None,
                 intercept: Optional[np.ndarray] = None) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._classes = classes or []
        self._coef = coef
        self._intercept = intercept
        self._weights = None if coef is None else np.ascontiguousarray(coef.T)  # features × classes: rows gathered

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> LinearIntentClassifier:
        with model_storage.read_from(resource) as folder:
            saved = json.loads((folder / _FILE).read_text(encoding="utf-8"))
        return cls(config, model_storage, resource, saved["classes"], np.asarray(saved["coef"], dtype=np.float32),
                   np.asarray(saved["intercept"], dtype=np.float32))

    def _features(self, messages: List[Message]) -> scipy.sparse.csr_matrix:
        rows = []
        for message in messages:
            _, sentence = message.get_sparse_features(TEXT, self._config["featurizers"] or None)
            if sentence is None:
                raise ValueError("LinearIntentClassifier needs sparse sentence features (a featurizer before it)")
            rows.append(scipy.sparse.csr_matrix(sentence.features))
        return scipy.sparse.vstack(rows).tocsr()

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(INTENT) and m.get(TEXT)]
        svm = LinearSVC(C=self._config["C"], random_state=0)  # seeded: the same data trains the same model
        svm.fit(self._features(examples), [m.get(INTENT) for m in examples])
        self._classes = [str(c) for c in svm.classes_]
        self._coef, self._intercept = svm.coef_.astype(np.float32), svm.intercept_.astype(np.float32)
        self._weights = np.ascontiguousarray(self._coef.T)
        saved = {"classes": self._classes, "coef": self._coef.tolist(), "intercept": self._intercept.tolist()}
        with self._model_storage.write_to(self._resource) as folder:
            (folder / _FILE).write_text(json.dumps(saved, ensure_ascii=False), encoding="utf-8")
        return self._resource

    def _scores(self, messages: List[Message]) -> np.ndarray:
        """w·x + b per message, gathering the weight rows of its non-zero features (a parse has a few dozen)."""
        assert self._weights is not None and self._intercept is not None
        rows = []
        for message in messages:
            row = sentence_row(message, self._config["featurizers"])
            if row is None:
                raise ValueError("LinearIntentClassifier needs sparse sentence features (a featurizer before it)")
            rows.append(row[1] @ self._weights[row[0]])
        return np.vstack(rows) + self._intercept

    def process(self, messages: List[Message]) -> List[Message]:
        if self._weights is None or not messages:
            return messages
        scores = self._scores(messages)
        probs = np.exp((scores - scores.max(axis=1, keepdims=True)) * self._config["temperature"])
        probs /= probs.sum(axis=1, keepdims=True)
        weight = float(self._config["diet_weight"])
        for message, row in zip(messages, np.asarray(probs), strict=True):
            blended = dict(zip(self._classes, (1.0 - weight) * row, strict=True))
            earlier = message.get(INTENT_RANKING_KEY) or []
            if weight and earlier:
                for item in earlier:
                    if item.get(INTENT_NAME_KEY) in blended:
                        blended[item[INTENT_NAME_KEY]] += weight * float(item[PREDICTED_CONFIDENCE_KEY])
            else:
                blended = dict(zip(self._classes, row, strict=True))
            ranking = sorted(({INTENT_NAME_KEY: k, PREDICTED_CONFIDENCE_KEY: float(v)} for k, v in blended.items()),
                             key=lambda item: -item[PREDICTED_CONFIDENCE_KEY])[: self._config["ranking_length"]]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
