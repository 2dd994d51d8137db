"""A message's sparse sentence features as one row (columns, values), without Rasa's combining copies.

Message.get_sparse_features deep-copies and hstacks the sequence and the sentence matrices of every featurizer; a
classifier scoring one parse needs only the sentence row. Same columns as that combination: the featurizers' blocks
side by side, in the order their features were added to the message (the pipeline's order).
"""

from __future__ import annotations

import numpy as np
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message


def sentence_row(message: Message, featurizers: list[str] | None) -> tuple[np.ndarray, np.ndarray] | None:
    """(column indices, values) of the message's combined sparse sentence features; None when it has none."""
    columns, values, offset = [], [], 0
    for f in message.features:
        if (f.attribute == TEXT and f.is_sparse() and f.type == FEATURE_TYPE_SENTENCE
                and (not featurizers or f.origin in featurizers)):
            matrix = f.features.tocoo()
            columns.append(matrix.col.astype(np.int64) + offset)
            values.append(matrix.data.astype(np.float32))
            offset += matrix.shape[1]
    if not columns:
        return None
    return np.concatenate(columns), np.concatenate(values)
