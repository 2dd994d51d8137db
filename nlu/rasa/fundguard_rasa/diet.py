"""Rasa's DIETClassifier, trained by Rasa, scoring a parse in numpy when its network is linear.

With no transformer layers, no hidden layers, intent classification only, inner-product similarity and softmax
confidences (nlu/rasa/config.yml), DIET's intent scores are linear in the sentence's sparse features: sparse-to-dense
layer, embedding layer and the dot product with the label embeddings fold into one features × intents matrix and a
bias. A parse is then a row gather and a softmax (~0.1 ms) instead of a TensorFlow call (~3-4 ms); the scores are
TensorFlow's to float32 rounding (docs/bench/rasa.md). Any other configuration parses with TensorFlow.
"""

# ruff: noqa: UP006, UP035, UP019, UP045  (typing.List & co.: the annotations Rasa's graph validation compares)
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.tensorflow.constants import SENTENCE, SEQUENCE

from fundguard_rasa.features import sentence_row

log = logging.getLogger(__name__)
_LINEAR = {"number_of_transformer_layers": 0, "entity_recognition": False, "intent_classification": True,
           "model_confidence": "softmax", "similarity_type": "inner"}


def _linear_config(config: Dict[Text, Any]) -> bool:
    layers = config["number_of_transformer_layers"]
    layers = layers.get(TEXT, 0) if isinstance(layers, dict) else layers
    hidden = config["hidden_layers_sizes"].get(TEXT, [])
    return (layers == 0 and not hidden and not config.get("use_masked_language_model")
            and all(config.get(k) == v for k, v in _LINEAR.items() if k != "number_of_transformer_layers"))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearDIETClassifier(DIETClassifier):
    """DIETClassifier; its parse is the folded linear map of the trained network when that network is linear."""

    _folded: Optional[tuple[np.ndarray, np.ndarray]] = None

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> LinearDIETClassifier:
        component = super().load(config, model_storage, resource, execution_context, **kwargs)
        if component.model is not None and _linear_config(component.component_config):
            component._folded = component._fold()
        return component

    def _fold(self) -> Optional[tuple[np.ndarray, np.ndarray]]:
        """(features × intents matrix, intents bias) of sentence → dense → embed → · label embeddings."""
        assert self.model is not None
        sequence = {w.name: w.numpy() for w in self.model._tf_layers[f"sequence_layer.{TEXT}"].weights}
        sentence = [name for name in sequence if "sparse_to_dense.text_sentence/" in name]
        signature = self.model.data_signature[TEXT]  # dense inputs (a language model's) would join unweighted
        dense = any(not s.is_sparse for key in (SEQUENCE, SENTENCE) for s in signature.get(key, []))
        if dense or len(sequence) != 4 or len(sentence) != 2:  # more than the two sparse-to-dense layers
            log.info("LinearDIETClassifier: network not linear, parsing with TensorFlow")
            return None
        kernel = next(sequence[n] for n in sentence if "kernel" in n)
        bias = next(sequence[n] for n in sentence if "bias" in n)
        embed = {w.name.rsplit("/", 1)[-1]: w.numpy() for w in self.model._tf_layers[f"embed.{TEXT}"].weights}
        labels = self.model.all_labels_embed.numpy().T  # embedding × intents
        matrix = np.ascontiguousarray((kernel @ embed["kernel:0"]) @ labels, dtype=np.float32)
        return matrix, ((bias @ embed["kernel:0"] + embed["bias:0"]) @ labels).astype(np.float32)

    def _scores(self, message: Message) -> Optional[np.ndarray]:
        assert self._folded is not None
        row = sentence_row(message, self.component_config["featurizers"])
        if row is None:
            return None
        matrix, bias = self._folded
        sim = row[1] @ matrix[row[0]] + bias
        probs = np.exp(sim - sim.max())
        return probs / probs.sum()

    def process(self, messages: List[Message]) -> List[Message]:
        if self._folded is None:
            return super().process(messages)
        for message in messages:
            scores = self._scores(message)
            if scores is None:  # no features (an empty text): DIET's own path decides
                super().process([message])
                continue
            label, ranking = self._predict_label({"i_scores": scores})
            message.set(INTENT, label, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
