"""`carewatch train`: learned behaviour classifiers from generated data, labelled clips and the
station's own resolved alerts, with cross-validation against the rules."""
