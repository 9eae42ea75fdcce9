"""Accuracy evaluation of the detection engine on the shared labelled datasets (``make eval``)."""
