"""Custom Rasa components of FundGuard, loaded by Rasa from nlu/rasa (PYTHONPATH; /app in the Docker image)."""

from fundguard_rasa.counts import FastCountVectorsFeaturizer
from fundguard_rasa.diet import LinearDIETClassifier
from fundguard_rasa.linear import LinearIntentClassifier
from fundguard_rasa.tfidf import TfidfFeaturizer

__all__ = ["FastCountVectorsFeaturizer", "LinearDIETClassifier", "LinearIntentClassifier", "TfidfFeaturizer"]
